import base64
import io
import json
import tarfile

import pytest

from zunk8s.errors import Base64Exception
from zunk8s.kube.streams import decode_frame, encode_frame, parse_status, resize_frame, stream_params
from zunk8s.microversions import APIVersion
from zunk8s.service.archives import GO_MODE_DIR, decode_archive, read_upload, stat_from_tar, tar_argv_for
from zunk8s.service.commands import parse_ps, split_command
from zunk8s.wsproxy.bridge import Utf8Framer, origin_allowed


def test_frames() -> None:
    assert decode_frame(b"\x01hello") == (1, b"hello")
    assert encode_frame(0, b"\x00\xff") == b"\x00\x00\xff"
    assert resize_frame(80, 24) == b"\x04" + json.dumps({"Width": 80, "Height": 24}).encode()
    with pytest.raises(ValueError):
        decode_frame(b"")


@pytest.mark.parametrize(
    ("status", "code", "failed"),
    [
        ({"metadata": {}, "status": "Success"}, 0, False),
        (
            {
                "status": "Failure",
                "reason": "NonZeroExitCode",
                "message": "command terminated with non-zero exit code: error executing command [sh -c exit 42]: exit status 42",
                "details": {"causes": [{"reason": "ExitCode", "message": "42"}]},
            },
            42,
            False,
        ),
        ({"status": "Failure", "reason": "InternalError", "message": "exec: \"nope\": executable file not found"}, 126, True),
    ],
)
def test_parse_status(status: dict[str, object], code: int, failed: bool) -> None:
    parsed = parse_status(json.dumps(status).encode())
    assert parsed.exit_code == code
    assert (parsed.failure is not None) is failed


def test_stream_params_one_param_per_argv_element() -> None:
    p = stream_params(command=["sh", "-c", "echo a b"], container="main", stdin=False, stdout=True, stderr=True, tty=True)
    assert p["command"] == ["sh", "-c", "echo a b"]
    assert p["stderr"] is False  # tty: everything on stdout


def test_utf8_framer_never_splits_a_character() -> None:
    text = "héllo wörld ✓".encode()
    framer = Utf8Framer()
    out = b"".join(framer.feed(text[i : i + 1]) for i in range(len(text))) + framer.flush()
    assert out == text
    f2 = Utf8Framer()
    first = f2.feed(b"a\xc3")
    assert first == b"a"
    assert f2.feed(b"\xa9") == "é".encode()
    assert Utf8Framer().feed(b"\xff\xfeok") == "\ufffd\ufffdok".encode()


@pytest.mark.parametrize(
    ("origin", "host", "ok"),
    [(None, "h:9517", True), ("http://h:1234", "h:9517", True), ("http://evil", "h:9517", False), ("null", "h", False)],
)
def test_origin(origin: str | None, host: str, ok: bool) -> None:
    assert origin_allowed(origin, host) is ok


def _tar(name: str, data: bytes, *, directory: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.mtime = 1_500_000_000
        if directory:
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        else:
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_stat_from_tar() -> None:
    st = stat_from_tar(_tar("ip.sh", b"x" * 129))
    assert st == {"name": "ip.sh", "size": 129, "mode": 0o644, "mtime": "2017-07-14T02:40:00Z", "linkTarget": ""}
    assert stat_from_tar(_tar("etc/", b"", directory=True))["mode"] == GO_MODE_DIR | 0o755


def test_tar_argv() -> None:
    assert tar_argv_for("/etc/hosts") == ["tar", "-c", "-f", "-", "-C", "/etc", "hosts"]
    assert tar_argv_for("/") == ["tar", "-c", "-f", "-", "-C", "/", "."]
    assert tar_argv_for("/a/b/../c/") == ["tar", "-c", "-f", "-", "-C", "/a", "c"]


def test_archive_decoding() -> None:
    blob = bytes(range(256))
    assert decode_archive(base64.b64encode(blob).decode(), APIVersion(1, 25)) == blob
    assert decode_archive(blob.decode("latin-1"), APIVersion(1, 24)) == blob
    with pytest.raises(Base64Exception):
        decode_archive("not base64!", APIVersion(1, 40))


def test_parse_ps() -> None:
    out = "PID   USER     TIME  COMMAND\n    1 root      0:00 sleep 3600\n   12 root      0:00 ps -ef\n"
    assert parse_ps(out) == {
        "Titles": ["PID", "USER", "TIME", "COMMAND"],
        "Processes": [["1", "root", "0:00", "sleep 3600"], ["12", "root", "0:00", "ps -ef"]],
    }


def test_split_command() -> None:
    assert split_command('"sh" "-c" "echo fail; exit 3"') == ["sh", "-c", "echo fail; exit 3"]


@pytest.mark.parametrize("size", [0, 1, 2, 3, 1000, 3 * 1024 * 1024 + 7])
def test_read_upload_fast_path(size: int) -> None:
    blob = bytes(i % 256 for i in range(size))
    raw = json.dumps({"data": base64.b64encode(blob).decode()}).encode()
    upload, rest = read_upload(raw, APIVersion(1, 40))
    assert upload is not None and rest == {}
    assert upload.size == size
    assert b"".join(upload.chunks()) == blob


def test_read_upload_general_json() -> None:
    blob = bytes(range(256))
    raw = json.dumps({"path": "/tmp", "data": base64.b64encode(blob).decode()}).encode()
    upload, rest = read_upload(raw, APIVersion(1, 40))
    assert upload is not None and b"".join(upload.chunks()) == blob and rest == {"path": "/tmp"}
    upload, rest = read_upload(json.dumps({"data": blob.decode("latin-1")}).encode(), APIVersion(1, 24))
    assert upload is not None and b"".join(upload.chunks()) == blob
    upload, rest = read_upload(b"", APIVersion(1, 40))
    assert upload is None


@pytest.mark.parametrize("text", ["%%%%", "abc", "ab=c", "YWJj\\n"])
def test_read_upload_refuses_bad_base64(text: str) -> None:
    with pytest.raises(Base64Exception):
        read_upload(('{"data": "' + text + '"}').encode(), APIVersion(1, 40))
