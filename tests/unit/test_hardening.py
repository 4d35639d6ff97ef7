"""Regression tests for issue #13's classes of bad input, on the pure code that handles them:
every bad value is a Zun-shaped 4xx (never a 500), echoed bounded, and nothing is silently
accepted."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from zunk8s import microversions as mv
from zunk8s.errors import InvalidValue, NotAcceptable, NotImplementedOnKubernetes, SchemaValidationError, ZunError
from zunk8s.handlers.actions import _since_seconds
from zunk8s.microversions import APIVersion
from zunk8s.records import Record, RecordStatus
from zunk8s.schemas.containers import validate_create, validate_update
from zunk8s.schemas.jsonbody import loads_json
from zunk8s.schemas.params import ascii_int, parse_non_negative_int
from zunk8s.schemas.views import container_view
from zunk8s.service.context import Caller
from zunk8s.service.creating import build_record, check_supported
from zunk8s.service.logs import keep_newest
from zunk8s.service.sessions import check_exec_id, parse_size
from zunk8s.translate.pods import build_probe, pod_restart_policy, retry_limit
from zunk8s.translate.status import observe_pod

V40 = APIVersion(1, 40)
HUGE = "9" * 5000
NASTY_NUMBERS = ["²", "1²", "٣", HUGE, "1\n", " 1", "-1", "1.5", "0x10", "", "1e3", "١٢"]


# --- class 1: numbers ---------------------------------------------------------------------

# (A header value cannot hold a newline; split() drops the other whitespace, as Zun's does.)
@pytest.mark.parametrize(
    "header", [f"container 1.{n}" for n in NASTY_NUMBERS if n.strip() == n] + ["container ².1", f"container {HUGE}.1"]
)
def test_version_header_numbers_are_406(header: str) -> None:
    with pytest.raises(NotAcceptable):
        mv.parse_header(header)


@pytest.mark.parametrize("value", [n for n in NASTY_NUMBERS if n])  # "" is unset, as in Zun
def test_query_integers_are_400(value: str) -> None:
    with pytest.raises(SchemaValidationError) as err:
        parse_non_negative_int("timeout", value)
    assert len(err.value.detail) < 300  # a 5,000-digit value is not echoed whole
    assert ascii_int(value) is None


def test_query_integers_accept_ascii_digits() -> None:
    assert parse_non_negative_int("timeout", "10") == 10
    assert parse_non_negative_int("timeout", 7) == 7
    assert ascii_int("0123") == 123


@pytest.mark.parametrize("w", [*NASTY_NUMBERS, "0", "70000", None, 1.5, True])
def test_terminal_sizes(w: Any) -> None:
    with pytest.raises(InvalidValue):
        parse_size({"w": w, "h": "24"})
    assert parse_size({"w": "80", "h": 24}) == (80, 24)


def test_exec_id_must_be_a_string_of_hex() -> None:
    with pytest.raises(InvalidValue):
        check_exec_id(["a" * 64])
    assert check_exec_id("a" * 64) == "a" * 64


# --- class 2: since -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "since",
    ["123\n", "x2020-01-01 00:00:00,000", "2020-99-99 99:99:99,999", "2020-01-01 00:00:00,000x", HUGE, "²", "-5", "1.5"],
)
def test_since_is_400(since: str) -> None:
    with pytest.raises(SchemaValidationError):
        _since_seconds(since, now=1_000_000.0)


def test_since_values() -> None:
    assert _since_seconds("999990", now=1_000_000.0) == 11
    assert _since_seconds("2026-01-01 00:00:00,5", now=datetime(2026, 1, 1, 0, 0, 10, tzinfo=timezone.utc).timestamp()) == 10
    assert _since_seconds(None, now=0) is None
    assert _since_seconds("9" * 12, now=0) == 1  # the future: Kubernetes needs >= 1


# --- classes 3 and 4: JSON --------------------------------------------------------------------

@pytest.mark.parametrize(
    "raw",
    [b"[" * 2000, b'{"a":' * 2000, b"NaN", b'{"cpu": NaN}', b'{"cpu": Infinity}', b'{"cpu": -Infinity}', b"\xff\xfe", b"{", b"1" * 5000],
)
def test_bad_json_is_400(raw: bytes) -> None:
    with pytest.raises(SchemaValidationError):
        loads_json(raw)


@pytest.mark.parametrize("cpu", [float("nan"), float("inf"), -float("inf"), 10**400, "1" * 5000, "1\n", "²"])
def test_non_finite_and_huge_numbers(cpu: Any) -> None:
    for body in ({"image": "ab", "cpu": cpu}, {"image": "ab", "memory": cpu}, {"image": "ab", "disk": cpu},
                 {"image": "ab", "restart_policy": {"Name": "on-failure", "MaximumRetryCount": cpu}}):
        with pytest.raises(SchemaValidationError) as err:
            validate_create(body, V40)
        assert len(err.value.detail) < 400
    with pytest.raises(SchemaValidationError):
        validate_update({"cpu": cpu})


@pytest.mark.parametrize("port", ["²/tcp", "1²", f"{HUGE}/tcp", "0", "65536", "-1/udp"])
def test_exposed_port_numbers(port: str) -> None:
    with pytest.raises(InvalidValue):
        validate_create({"image": "ab", "exposed_ports": {port: {}}}, V40)


# --- class 5: healthcheck ------------------------------------------------------------------------

@pytest.mark.parametrize(
    "hc",
    [
        {"test": 5},
        {"cmd": ""},
        {"interval": 3},
        {"cmd": "true", "interval": "abc"},
        {"cmd": "true", "interval": -1},
        {"cmd": "true", "retries": 1.5},
        {"cmd": "true", "timeout": True},
        {"cmd": "true", "timeout": 2**40},
        {"cmd": "true", "bogus": 1},
        {"cmd": "true", "test": "true"},
        "cmd=true",
    ],
)
def test_bad_healthchecks_are_400(hc: Any) -> None:
    with pytest.raises(SchemaValidationError):
        validate_create({"image": "ab", "healthcheck": hc}, V40)


def test_healthcheck_as_the_client_sends_it() -> None:
    spec = validate_create({"image": "ab", "healthcheck": {"cmd": "stat /x || exit 1", "interval": 3, "retries": 2, "timeout": 0}}, V40)
    record = build_record(Caller("p", "u", frozenset(), "r"), spec, uuid="u1", now="2026-01-01 00:00:00.000000")
    assert record.healthcheck == {"test": "stat /x || exit 1", "interval": 3, "retries": 2, "timeout": 0}
    # 0 means Docker's default: no field, so Kubernetes' default applies.
    assert build_probe(record.healthcheck) == {
        "exec": {"command": ["/bin/sh", "-c", "stat /x || exit 1"]}, "periodSeconds": 3, "failureThreshold": 2,
    }


# --- class 10: no silent success --------------------------------------------------------------

def test_glance_is_refused() -> None:
    with pytest.raises(NotImplementedOnKubernetes) as err:
        check_supported(validate_create({"image": "ab", "image_driver": "glance"}, V40))
    assert "glance" in err.value.detail
    check_supported(validate_create({"image": "ab", "image_driver": "docker"}, V40))


def test_kube_errors_carry_zun_codes() -> None:
    from zunk8s.kube.errors import error_for

    for status, body in ((404, {"kind": "Status", "reason": "NotFound"}), (409, {"kind": "Status", "reason": "AlreadyExists"}),
                         (409, {"kind": "Status", "reason": "Conflict"}), (410, {}), (503, {}), (422, {})):
        err: ZunError = error_for(status, body)
        assert not err.code.startswith("kube"), (status, err.code)


# --- class 11: wire shapes -------------------------------------------------------------------

def _record(**kw: Any) -> Record:
    return Record(uuid="u1", name="n1", project_id="p", user_id="u", image="busybox", created_at="2026-01-01 00:00:00.000000", **kw)


def test_addresses_is_an_object_even_without_an_ip() -> None:
    view = container_view(_record(), RecordStatus(status="Created"), now=datetime.now(timezone.utc), base_url=None, is_admin=False)
    assert view["addresses"] == {}


def test_updated_at_is_the_latest_change() -> None:
    st = RecordStatus(status="Running", updated_at="2026-01-02 00:00:00.000000")
    now = datetime.now(timezone.utc)
    later = _record(updated_at="2026-01-03 00:00:00.000000")
    assert container_view(later, st, now=now, base_url=None, is_admin=False)["updated_at"] == "2026-01-03 00:00:00.000000"
    earlier = _record(updated_at="2026-01-01 12:00:00.000000")
    assert container_view(earlier, st, now=now, base_url=None, is_admin=False)["updated_at"] == "2026-01-02 00:00:00.000000"


# --- class 12: lifecycle ----------------------------------------------------------------------

def _pod(policy: str, state: dict[str, Any], phase: str = "Running") -> dict[str, Any]:
    return {
        "spec": {"restartPolicy": policy},
        "status": {"phase": phase, "containerStatuses": [{"name": "main", "restartCount": 0, "state": state}]},
    }


def test_an_exit_that_will_not_be_restarted_is_stopped_at_once() -> None:
    # The kubelet reports the container terminated before the Pod's phase says so.
    assert observe_pod(_pod("Never", {"terminated": {"exitCode": 1}})).status == "Stopped"
    assert observe_pod(_pod("OnFailure", {"terminated": {"exitCode": 0}})).status == "Stopped"
    assert observe_pod(_pod("OnFailure", {"terminated": {"exitCode": 1}})).status == "Restarting"
    assert observe_pod(_pod("Always", {"terminated": {"exitCode": 0}})).status == "Restarting"


def test_on_failure_with_a_limit_is_retried_by_zunk8s() -> None:
    limited = _record(restart_policy={"Name": "on-failure", "MaximumRetryCount": "2"})
    assert retry_limit(limited) == 2 and pod_restart_policy(limited) == "Never"
    unlimited = _record(restart_policy={"Name": "on-failure", "MaximumRetryCount": "0"})
    assert retry_limit(unlimited) == 0 and pod_restart_policy(unlimited) == "OnFailure"


def test_saved_logs_keep_the_newest_whole_lines() -> None:
    data = b"".join(b"line %d\n" % i for i in range(100))
    kept = keep_newest(data, 50)
    assert kept.endswith(b"line 99\n") and kept.startswith(b"line ") and len(kept) <= 50
    assert keep_newest(b"short\n", 50) == b"short\n"


@pytest.mark.parametrize("limit", [" 5", "٣", "+5", "0", "-1", HUGE, "5\n", "1.0"])
def test_list_limits(limit: str) -> None:
    from zunk8s.service.listing import parse_list_query

    with pytest.raises(InvalidValue):
        parse_list_query({"limit": limit})
    assert parse_list_query({"limit": "5"}).limit == 5
