"""Hypothesis strategies for bad (and some good) Zun API input.

Everything is drawn as raw wire material: header strings, percent-encoded query strings and
request bodies as bytes, so that what the server receives is exactly what was drawn (NaN,
duplicate keys, 5,000-digit numbers and 2,000 ``[`` cannot be produced by ``json.dumps``).

Safety: images that can validate are always under ``localhost/`` (the local registry name,
so the real node never pulls from the network), and commands that can run in a container
are either from a harmless list or start with ``echo`` or a binary that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

# --- weighted choice -----------------------------------------------------------------------


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """one_of with weights; shrinks towards the first choice."""
    table: list[st.SearchStrategy[Any]] = []
    for weight, strategy in choices:
        table.extend([strategy] * weight)
    return st.integers(0, len(table) - 1).flatmap(lambda i: table[i])


# The common case first: hypothesis draws index 0 most often (and shrinks towards it).
usually = weighted((9, st.just(True)), (1, st.just(False)))
rarely = weighted((9, st.just(False)), (1, st.just(True)))
often = weighted((3, st.just(True)), (1, st.just(False)))

# --- scalar nastiness ----------------------------------------------------------------------

# str.isdigit() is True for all of these; int() accepts only some (Nd yes, superscripts no).
UNICODE_DIGITS = ["²", "1²", "¹²", "١٢٣", "𝟙", "１２", "①", "߁", "٣"]
HUGE_NUMBERS = ["9" * 5000, "1" + "0" * 4400, "-" + "9" * 5000, "9" * 5000 + ".5", "0." + "1" * 5000]
NASTY = [
    "", "None", "none", "null", "0", "-0", "1", "-1", "+1", "01", "1.5", "1e3", "1_000", "0x10",
    "NaN", "nan", "inf", "Infinity", "-Infinity", "123\n", "\n123", " 1", "1 ", "\t", "\x00",
    "true", "True", "FALSE", "yes", "on", "all", "%", "\ufffd", "\U0001f600", "../..", "$(id)",
    "'", '"', "a" * 10000, "2147483648", "18446744073709551616", "-9223372036854775809",
    *UNICODE_DIGITS, *HUGE_NUMBERS,
]
BOOLISH = ["true", "True", "TRUE", "false", "False", "1", "0", "yes", "no", "on", "off", "None", "", "tRuE", "2"]
DATES = [
    "2024-01-01 00:00:00,123", "2024-13-45 99:99:99,999", "9999-12-31 23:59:59,999",
    "0001-01-01 00:00:00,000", "2024-02-30 00:00:00,1", "2024-01-01 00:00:00", "2024-01-01T00:00:00Z",
    "xx2024-01-01 00:00:00,123", "2024-01-01 00:00:00,123xyz", "١٩٧٠-01-01 00:00:00,000",
]


def nasty_text(*extra: str) -> st.SearchStrategy[str]:
    return weighted(
        (4, st.sampled_from([*extra, *NASTY] if extra else NASTY)),
        (2, st.text(max_size=30)),
        (1, st.integers().map(str)),
        (1, st.integers(1, 6000).map(lambda n: "9" * n)),
        (1, st.floats(allow_nan=True, allow_infinity=True).map(repr)),
    )


def header_safe(text: str) -> str:
    # aiohttp's client refuses control characters other than TAB in header values.
    return "".join(c for c in text if c == "\t" or not (ord(c) < 0x20 or ord(c) == 0x7F))


# --- raw JSON ------------------------------------------------------------------------------


class Raw(str):
    """A JSON token written as is: NaN, Infinity, 1e999, a 5,000-digit number."""


class Pairs(list[tuple[str, Any]]):
    """A JSON object written pair by pair, duplicate keys kept."""


RAW_NUMBERS = [
    Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e999"), Raw("-1e999"), Raw("1e-400"),
    Raw("-0"), Raw("0.0"), Raw("9" * 5000), Raw("-" + "9" * 5000), Raw("1." + "0" * 5000 + "1"),
]


def dump(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Pairs):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dump(v)}" for k, v in value) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return json.dumps(value, allow_nan=True)


json_leaf: st.SearchStrategy[Any] = weighted(
    (1, st.none()),
    (1, st.booleans()),
    (2, st.integers()),
    (1, st.floats(allow_nan=True, allow_infinity=True)),
    (2, st.text(max_size=20)),
    (2, st.sampled_from(NASTY)),
    (2, st.sampled_from(RAW_NUMBERS)),
)

json_any: st.SearchStrategy[Any] = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8,
)


def deep(n: int, kind: int) -> bytes:
    if kind == 0:
        return b"[" * n + b"]" * n
    if kind == 1:
        return b'{"a":' * n + b"1" + b"}" * n
    if kind == 2:
        return b"[" * n
    return b'{"image": "localhost/zunk8s-busybox:1", "labels": ' + b'{"a":' * n + b'"b"' + b"}" * n + b"}"


deep_body = st.builds(deep, st.sampled_from([100, 999, 1000, 2000, 5000, 100_000]), st.integers(0, 3))

huge_body = st.sampled_from([64 * 1024, 1024 * 1024, 17 * 1024 * 1024]).flatmap(
    lambda n: st.sampled_from([
        b'{"image": "' + b"a" * n + b'"}',
        b'{"name": "' + b"a" * n + b'"}',
        b"x" * n,
        b"[" + b"1," * (n // 2) + b"1]",
    ])
)

garbage_body = weighted(
    (2, st.binary(max_size=200)),
    (2, st.text(max_size=200).map(lambda t: t.encode("utf-8"))),
    (1, st.sampled_from([
        b"", b"null", b"true", b"1", b'"x"', b"[]", b"{}", b"{", b"}", b"{'a': 1}", b"image=x&name=y",
        b'{"a":1,}', b'{"a":1}{"b":2}', b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00", b"\x00", b"NaN", b"Infinity",
        b'{"image": "\xff\xfe"}', b'{"image": "\\ud800"}', b'{"\\u0000": 1}',
    ])),
)

CONTENT_TYPES = [
    "application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
    "APPLICATION/JSON", "application/jsonx", "application/vnd.openstack.zun.v1+json", "text/plain",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=xx", "*/*", "", "application/json;;;",
    "application/octet-stream", "text/html; charset=\u00e9",
]
content_type: st.SearchStrategy[str | None] = weighted(
    (6, st.just("application/json")),
    (1, st.none()),
    (3, st.sampled_from(CONTENT_TYPES)),
)


# --- headers -------------------------------------------------------------------------------

VERSIONS_NASTY = [
    "container latest", "container LATEST", "container Latest", "container", "container 1", "container 1.",
    "container .1", "container 1.2.3", "container 1.41", "container 1.0", "container 0.9", "container 2.0",
    "container 01.010", "container -1.5", "container 1.-5", "container +1.5", "compute 1.2", "Container 1.2",
    "container  1.2", " container 1.2 ", "container 1.2 x", "container\t1.2", "container 1.²", "container ¹.²",
    "container ١.٢", "container １.２", "container 1." + "9" * 5000, "container " + "1" * 5000 + ".1",
    "container 1.1e1", "container NaN", "container 1.NaN", "latest", "", "container\u00a01.2",
    "container 1.5\u2003", "container 1.٣", "container 1.0x1", "container 1_0.1",
]


def valid_version(lo: int = 1, hi: int = 40) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(lambda m: f"container 1.{m}")


version_header: st.SearchStrategy[str | None] = weighted(
    (10, valid_version()),
    (2, st.none()),
    (3, st.sampled_from(VERSIONS_NASTY)),
    (1, st.text(max_size=30).map(header_safe)),
    (1, st.text(max_size=10).map(lambda t: header_safe(f"container 1.{t}"))),
)

TARGET_PROJECT = "fuzz"
projects: st.SearchStrategy[str | None] = weighted(
    (8, st.just(TARGET_PROJECT)),
    (1, st.none()),
    (2, st.sampled_from(["other", "", " ", "FUZZ", "a" * 300, "proj/../x", "\u00e9t\u00e9", "%2F", "None"])),
    (1, st.text(max_size=20).map(header_safe)),
)
roles: st.SearchStrategy[str | None] = weighted(
    (4, st.none()),
    (3, st.just("admin")),
    (1, st.just("member")),
    (2, st.sampled_from(["admin,member", "ADMIN", " admin ", ",", ",,admin,,", "reader", "", "adm\u0131n"])),
    (1, st.text(max_size=20).map(header_safe)),
)


# Host feeds the links zunk8s writes and the websocket Origin check.
HOSTS: st.SearchStrategy[str | None] = weighted(
    (12, st.none()),
    (1, st.sampled_from(["", "[::1", "[::1]:9517", "a b", "\u00e9vil.example", "h:abc", "127.0.0.1:99999", "x" * 300])),
)


# The header each Identity field is sent as, in field order (a version may be sent twice).
IDENTITY_HEADERS = (
    "OpenStack-API-Version", "OpenStack-API-Version", "X-Project-Id", "X-Roles", "X-User-Id",
    "X-Openstack-Request-Id", "Host",
)


@dataclass(frozen=True)
class Identity:
    version: str | None
    project: str | None
    roles: str | None
    repeat_version: str | None = None
    user: str | None = None
    request_id: str | None = None
    host: str | None = None

    def headers(self) -> list[tuple[str, str]]:
        values = (self.version, self.repeat_version, self.project, self.roles, self.user, self.request_id, self.host)
        return [(name, value) for name, value in zip(IDENTITY_HEADERS, values, strict=True) if value is not None]


def identity(version: st.SearchStrategy[str | None] = version_header) -> st.SearchStrategy[Identity]:
    return st.builds(
        Identity,
        version=version,
        project=projects,
        roles=roles,
        repeat_version=weighted((12, st.none()), (1, version_header)),
        user=weighted((6, st.none()), (1, st.sampled_from(["user-1", "", "a" * 300, "\u00e9"])),
                      (1, st.text(max_size=20).map(header_safe))),
        request_id=weighted((8, st.none()), (1, st.sampled_from(["req-" + "0" * 8 + "-0000-0000-0000-" + "0" * 12, "x", ""]))),
        host=HOSTS,
    )


# --- query strings -------------------------------------------------------------------------


def encode_query(pairs: list[tuple[str, str]], raw_tail: str) -> str:
    parts = [f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs]
    if raw_tail:
        parts.append(raw_tail)
    return "&".join(parts)


RAW_QUERY_TAILS = ["", "", "", "", "", "", "", "", "flag", "=", "&&", "a=b=c", "%", "%zz", "x=%ff%fe", "run", "x=%00", "%3D=%26"]


@st.composite
def query(draw: st.DrawFn, known: dict[str, st.SearchStrategy[str]]) -> str:
    """Each known key (usually) with a value that is usually sensible and often nasty; sometimes
    a key twice (the last one wins in pecan), an unknown key, or a malformed tail."""
    pairs: list[tuple[str, str]] = []
    for key in sorted(known):
        if draw(often):
            # Kept under aiohttp's 8,190-byte request line, so that zunk8s sees the request.
            pairs.append((key, draw(known[key])[:4500]))
    if pairs and draw(rarely):
        key = draw(st.sampled_from([k for k, _ in pairs]))
        pairs.insert(draw(st.integers(0, len(pairs))), (key, draw(known[key])[:4500]))
    if draw(rarely):
        pairs.append((draw(st.sampled_from(["foo", "", "None", "all_projects", "RUN"]) | st.text(max_size=8)),
                      draw(nasty_text())))
    return encode_query(pairs, draw(st.sampled_from(RAW_QUERY_TAILS)))


def param(*extra: str) -> st.SearchStrategy[str]:
    return weighted((5, st.sampled_from(extra)), (2, nasty_text())) if extra else nasty_text()


INT_PARAM = param("0", "1", "2", "5", "10", "3600", "-1", "1.0", "²", "١", "123\n", "9" * 5000)
BOOL_PARAM = param(*BOOLISH)

# --- idents --------------------------------------------------------------------------------

# Resolved by the Targets pool at run time: a container the test created, by uuid or name.
TARGET_TOKENS = ["@created", "@running", "@stopped", "@extra"]


@dataclass(frozen=True)
class Ident:
    text: str
    raw: bool = False  # already percent-encoded (or deliberately not)

    def is_target(self) -> bool:
        return self.text.split(":")[0] in TARGET_TOKENS


RAW_IDENTS = ["%2F", "a%2Fb", "%", "%zz", "..", ".", "%2e%2e", "a/b", "%00", "%20", "%E2%82%AC", "%ff", "a?b"]
target_ident = st.builds(
    lambda t, by_name: Ident(f"{t}:name" if by_name else t),
    st.sampled_from(TARGET_TOKENS),
    weighted((4, st.just(False)), (1, st.just(True))),
)
idents: st.SearchStrategy[Ident] = weighted(
    (10, target_ident),
    (2, st.uuids().map(lambda u: Ident(str(u)))),
    (1, st.uuids().map(lambda u: Ident(str(u).upper()))),
    (1, st.uuids().map(lambda u: Ident(u.hex))),
    (2, st.sampled_from([
        "x", "a" * 300, "a" * 5000, "None", " ", "\u00e9", "\U0001f600", "{uuid}", "00000000-0000-0000-0000-000000000000",
        "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", "\u0661" * 36,
    ]).map(Ident)),
    (1, st.sampled_from(RAW_IDENTS).map(lambda t: Ident(t, raw=True))),
    (1, st.text(min_size=1, max_size=40).map(Ident)),
)


def path_segment(ident: str, raw: bool) -> str:
    return ident if raw else quote(ident, safe="")


# --- container fields ----------------------------------------------------------------------

LOCAL_IMAGES = ["localhost/zunk8s-busybox:1", "localhost/zunk8s-minimal:1"]
image_value: st.SearchStrategy[Any] = weighted(
    (8, st.sampled_from(LOCAL_IMAGES)),
    (2, st.sampled_from([
        "localhost/nope:1", "localhost/zunk8s-busybox:1 ", "localhost/ZUNK8S-BUSYBOX:1", "localhost/zunk8s-busybox:" + "9" * 200,
        "localhost/zunk8s-busybox:1@sha256:" + "0" * 64, "localhost/a b", "localhost/\u00e9", "localhost/" + "a" * 245,
        "a", "", "!!", "a" * 256, 5, None, ["localhost/x"], {"a": 1}, True, Raw("NaN"),
    ])),
    (1, st.text(max_size=30).map(lambda t: "localhost/" + t)),
)
SAFE_ARGV = [["true"], ["sleep", "1"], ["echo", "hi"], ["sh", "-c", "exit 3"], ["zunk8s-fuzz-nonexistent"]]


def command_value(legacy: bool) -> st.SearchStrategy[Any]:
    valid: st.SearchStrategy[Any] = (
        st.sampled_from(["true", "sleep 1", "echo hi", "sh -c 'exit 3'"]) if legacy else st.sampled_from(SAFE_ARGV)
    )
    return weighted(
        (12, valid),
        (1, st.sampled_from(["'unbalanced", "", "echo \x00", "echo " + "a" * 5000, "None"])),
        (1, st.text(max_size=20).map(lambda t: "echo " + t)),
        (1, st.lists(st.text(max_size=10), max_size=3).map(lambda a: ["echo", *a])),
        (1, st.sampled_from([[], [1, None, {"a": 1}], ["echo", ["nested"]], ["\x00"], [Raw("NaN")], 5, {"cmd": "x"}])),
    )


def _any(*values: Any) -> st.SearchStrategy[Any]:
    return weighted((5, st.sampled_from(values)), (1, json_leaf), (1, json_any))


healthcheck_value = weighted(
    (3, st.fixed_dictionaries(
        {},
        optional={
            "cmd": st.sampled_from(["echo ok", "true", "exit 1", ""]) | json_leaf,
            "test": st.sampled_from(["echo ok", ["CMD", "true"]]) | json_leaf,
            "interval": st.sampled_from([1, 10, 0, -1, 2**31, 10**12, "5", 1.5]) | json_leaf,
            "timeout": st.sampled_from([1, 0, -5, 2**40, "1", 0.5]) | json_leaf,
            "retries": st.sampled_from([1, 3, 0, -1, 2**31, "2", 2.5]) | json_leaf,
            "start_period": json_leaf,
        },
    )),
    (1, json_any),
)

FIELD_VALUES: dict[str, Callable[[bool], st.SearchStrategy[Any]]] = {
    "name": lambda legacy: _any("fuzz-c", "a", "a" * 64, "a" * 256, "a b", "-a", "a.b", "a_b", "\u00e9t\u00e9", 1, None),
    "command": command_value,
    "entrypoint": lambda legacy: weighted((3, st.sampled_from([["sh", "-c"], ["echo"], ["true"], []])), (1, command_value(False))),
    "cpu": lambda legacy: _any(0.1, 16, 0.05, 17, "1.5", "1.", ".5", "", "1e1", "0.1234567", 0.30000000000000004,
                               Raw("NaN"), Raw("Infinity"), -1, True, "NaN", "\u0661", 1e-300, Raw("9" * 5000)),
    "memory": lambda legacy: _any(4, 8192, 3, 8193, "512", "512M", "4.0", 4.0, 4.5, Raw("NaN"), "", "\u00b2", "\u0661\u0662",
                                  True, 10**20),
    "disk": lambda legacy: _any(1, 160, 0, 161, "10", 10.5, Raw("NaN"), "\u00b2", "1\n"),
    "cpu_policy": lambda legacy: _any("shared", "dedicated", "x", None, 1),
    "workdir": lambda legacy: _any("/tmp", "", "relative", "/" + "a" * 300, "/a\x00b", 5, "/\u00e9"),
    "environment": lambda legacy: _any({"A": "b"}, {"": "x"}, {"A=B": "c"}, {"1A": "x"}, {"A": 1}, {"A": None}, [], "A=b",
                                       {"\u00fc": "x"}, {"A" * 300: "x"}, {"A": "\x00"}),
    "labels": lambda legacy: _any({"a": "b"}, {"": "x"}, {"a/b/c": "x"}, {"a": 1}, {"k" * 300: "v"}, [],
                                  {"app.kubernetes.io/managed-by": "evil"}, {"zunk8s.openstack.org/uuid": "x"},
                                  {"a": "v" * 64}, {"\u00e9": "x"}, {"a": None}),
    "restart_policy": lambda legacy: _any({"Name": "no"}, {"Name": "on-failure", "MaximumRetryCount": 3},
                                          {"Name": "always", "MaximumRetryCount": "0"}, {"Name": "x"},
                                          {"Name": "on-failure", "MaximumRetryCount": Raw("NaN")},
                                          {"Name": "on-failure", "MaximumRetryCount": -1},
                                          {"Name": "on-failure", "MaximumRetryCount": "\u00b2"},
                                          {"Name": "on-failure", "MaximumRetryCount": 2**31 + 1},
                                          {"Name": "on-failure", "MaximumRetryCount": Raw("9" * 5000)},
                                          "always", {}, {"Name": "no", "Extra": 1}, {"Name": None}),
    "interactive": lambda legacy: _any(True, False, "true", "True", 1, "yes", None),
    "tty": lambda legacy: _any(True, False, "false", 0, None),
    "image_driver": lambda legacy: _any("docker", "glance", "None", None, "x"),
    "image_pull_policy": lambda legacy: _any("ifnotpresent", "never", "IfNotPresent", "Always", "x", None),
    "security_groups": lambda legacy: _any(["default"], [], "default", [1], [""], None),
    "exposed_ports": lambda legacy: _any({"80/tcp": {}}, {"abc": {}}, {"99999/tcp": {}}, {"80/sctp": {}}, {"\u00b2/tcp": {}},
                                         {"\u0661/udp": {}}, {"": {}}, {"9" * 5000: {}}, [], "80"),
    "nets": lambda legacy: _any([{"network": "x"}], [], ["x"], {}, None),
    "mounts": lambda legacy: _any([{"source": "v", "destination": "/d"}], [], ["x"], None,
                                  [{"type": "bind", "source": "aGk=", "destination": "/etc/x"}],
                                  [{"type": "bind", "source": "\u00b2==", "destination": "/etc/x"}],
                                  [{"type": "bind", "source": "aGk=", "destination": "/\x00"}],
                                  [{"size": "\u0661", "destination": "/d"}], [{"size": 10**30, "destination": "/d"}],
                                  [{"type": "volume", "source": "A" * 300, "destination": "/d"}],
                                  [{"source": "aGk=", "destination": "/d", "type": "bind"}] * 2),
    "runtime": lambda legacy: _any("runc", "", "x y", "a" * 300, "kata"),
    "hostname": lambda legacy: _any("abc", "a.b", "A", "-a", "a" * 64, "", 1, None, "a_b"),
    "auto_remove": lambda legacy: _any(True, False, "true", None),
    "auto_heal": lambda legacy: _any(True, False, "false", None),
    "availability_zone": lambda legacy: _any("nova", "", "a b", "a" * 300, "zone/1", "\u00e9", None),
    "privileged": lambda legacy: _any(False, True, "false", None),
    "healthcheck": lambda legacy: healthcheck_value,
    "hints": lambda legacy: _any({}, {"a": "b"}, [], None),
    "registry": lambda legacy: _any("reg", "", None),
    "host": lambda legacy: _any("zun-real-0", "", None),
}
UNKNOWN_FIELDS = ["foo", "", "Image", "uuid", "status", "project_id", "links"]


@st.composite
def create_body(draw: st.DrawFn, legacy: bool) -> Any:
    """A mostly valid create body with a few fields drawn from their nasty values."""
    body: dict[str, Any] = {}
    if draw(usually):
        body["image"] = draw(image_value)
    if draw(usually):
        body["command"] = draw(command_value(legacy))
    for field in draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), max_size=3, unique=True)):
        body[field] = draw(FIELD_VALUES[field](legacy))
    if draw(rarely):
        body[draw(st.sampled_from(UNKNOWN_FIELDS) | st.text(max_size=8))] = draw(json_leaf)
    if body and draw(rarely):
        # Duplicate keys: json.loads keeps the last one; other parsers keep the first.
        key = draw(st.sampled_from(sorted(body)))
        pairs = Pairs([(key, draw(json_leaf)), *body.items()])
        return pairs
    return body


@st.composite
def update_body(draw: st.DrawFn) -> Any:
    keys = ["name", "cpu", "memory", "auto_heal"]
    body: dict[str, Any] = {}
    for field in draw(st.lists(st.sampled_from(keys), min_size=0, max_size=3, unique=True)):
        body[field] = draw(FIELD_VALUES[field](False))
    if draw(rarely):
        body[draw(st.sampled_from(UNKNOWN_FIELDS + ["image", "command"]))] = draw(json_leaf)
    return body


def bodies(structured: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """Request bodies: mostly structured JSON, then anything else a client could send."""
    return weighted(
        (10, structured.map(lambda v: dump(v).encode("utf-8"))),
        (2, json_any.map(lambda v: dump(v).encode("utf-8"))),
        (1, deep_body),
        (1, huge_body),
        (2, garbage_body),
    )


# --- create bodies that pass validation: what does Kubernetes make of them? ----------------

any_text = weighted(
    (4, st.text(max_size=20)),
    (2, st.sampled_from(["", " ", " a", "a ", "a\n", "\x00", "\t", "=", "a=b", "-", ".", "..", "/", "a/b", "A", "\u00e9",
                         "\U0001f600", "$", "${A}", "a" * 64, "a" * 254, "a" * 10000])),
    (1, st.text(st.characters(codec="ascii"), max_size=20)),
)
ECHO = ["echo"]


@st.composite
def accepted_create_body(draw: st.DrawFn) -> dict[str, Any]:
    """Bodies zunk8s's schema accepts, with values at the edges of what Kubernetes allows.

    Commands only ever run ``echo`` (or a binary that does not exist) with drawn arguments."""
    body: dict[str, Any] = {
        "image": draw(weighted((6, st.just(LOCAL_IMAGES[0])), (1, st.text(min_size=1, max_size=30).map(lambda t: "localhost/" + t)),
                               (1, st.sampled_from(["localhost/zunk8s-busybox:1 ", "localhost/zunk8s-busybox:1\n",
                                                    " localhost/zunk8s-busybox:1", "localhost/zunk8s-busybox:1\t"])))),
        "command": [draw(st.sampled_from(["echo", "zunk8s-fuzz-nonexistent"])), *draw(st.lists(any_text, max_size=3))],
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "name": st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{1,80}", fullmatch=True) | st.sampled_from(["a" * 255, "a..", "A_b.-"]),
        "entrypoint": st.sampled_from([ECHO, ["zunk8s-fuzz-nonexistent"], []]),
        "cpu": st.floats(0.1, 16) | st.sampled_from([0.1, 16, "0.1", "16", "1.", ".5", "0.12345678901234567890", 0.30000000000000004]),
        "memory": st.integers(4, 8192) | st.sampled_from(["4", "8192", 4.0, "0004"]),
        "disk": st.integers(1, 160) | st.sampled_from(["1", "160"]),
        "workdir": any_text,
        "environment": st.dictionaries(any_text, any_text, max_size=3),
        "labels": st.dictionaries(any_text, any_text, max_size=3),
        "restart_policy": st.builds(
            lambda n, c: {"Name": n} if c is None else {"Name": n, "MaximumRetryCount": c},
            st.sampled_from(["no", "on-failure"]), st.none() | st.integers(0, 2**31) | st.sampled_from(["0", "3"])),
        "interactive": st.booleans(),
        "tty": st.booleans(),
        "auto_remove": st.booleans(),
        "auto_heal": st.booleans(),
        "hostname": st.from_regex(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True),
        "availability_zone": any_text.filter(lambda t: 1 <= len(t) <= 255),
        "healthcheck": st.fixed_dictionaries(
            {"cmd": any_text.filter(lambda t: t.strip() != "").map(lambda t: "echo " + t)},
            optional={k: st.integers(0, 2**31 - 1) | st.sampled_from([0, 1]) for k in ("interval", "timeout", "retries")},
        ),
        "image_pull_policy": st.sampled_from(["ifnotpresent", "never", "IfNotPresent", "Never"]),
        "runtime": any_text.filter(lambda t: len(t) <= 255),
        "image_driver": st.sampled_from(["docker", None, "None"]),
        "cpu_policy": st.just("shared"),
        "privileged": st.just(False),
    }
    for field in draw(st.lists(st.sampled_from(sorted(optional)), min_size=1, max_size=4, unique=True)):
        body[field] = draw(optional[field])
    return body
