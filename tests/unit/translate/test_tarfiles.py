import io
import tarfile

import pytest

from zunk8s.errors import Invalid
from zunk8s.translate.tarfiles import (
    GO_MODE_DIR,
    GO_MODE_SYMLINK,
    absolute_path,
    looks_like_archive,
    stat_from_tar,
    tar_argv_for,
    untar_argv,
    writable_dir_argv,
)


def _tar(name: str, data: bytes = b"", *, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, link: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.mtime = 1_500_000_000
        info.type = kind
        info.mode = mode
        info.linkname = link
        if kind == tarfile.REGTYPE:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        else:
            tar.addfile(info)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("archive", "stat"),
    [
        (
            _tar("ip.sh", b"x" * 129),
            {"name": "ip.sh", "size": 129, "mode": 0o644, "mtime": "2017-07-14T02:40:00Z", "linkTarget": ""},
        ),
        (
            _tar("etc/", kind=tarfile.DIRTYPE, mode=0o755),
            {"name": "etc", "size": 0, "mode": GO_MODE_DIR | 0o755, "mtime": "2017-07-14T02:40:00Z", "linkTarget": ""},
        ),
        (
            _tar("lnk", kind=tarfile.SYMTYPE, mode=0o777, link="/etc/hosts"),
            {
                "name": "lnk",
                "size": 0,
                "mode": GO_MODE_SYMLINK | 0o777,
                "mtime": "2017-07-14T02:40:00Z",
                "linkTarget": "/etc/hosts",
            },
        ),
        (
            _tar("./", kind=tarfile.DIRTYPE, mode=0o755)[:512],  # only the first header is needed
            {"name": ".", "size": 0, "mode": GO_MODE_DIR | 0o755, "mtime": "2017-07-14T02:40:00Z", "linkTarget": ""},
        ),
        (b"\0" * 1024, {"name": "", "size": 0, "mode": 0, "mtime": "", "linkTarget": ""}),  # an empty archive
    ],
)
def test_stat_from_tar(archive: bytes, stat: dict[str, object]) -> None:
    assert stat_from_tar(archive) == stat


@pytest.mark.parametrize(
    ("path", "argv"),
    [
        ("/etc/hosts", ["tar", "-c", "-f", "-", "-C", "/etc", "hosts"]),
        ("/", ["tar", "-c", "-f", "-", "-C", "/", "."]),
        ("/a/b/../c/", ["tar", "-c", "-f", "-", "-C", "/a", "c"]),
        ("//x", ["tar", "-c", "-f", "-", "-C", "//", "x"]),  # POSIX keeps a leading '//'
    ],
)
def test_tar_argv_for(path: str, argv: list[str]) -> None:
    assert tar_argv_for(path) == argv


@pytest.mark.parametrize("path", ["etc", "./etc", "", "../x"])
def test_relative_paths_are_refused(path: str) -> None:
    with pytest.raises(Invalid) as info:
        absolute_path(path)
    assert info.value.detail == f"The path {path!r} must be absolute."
    with pytest.raises(Invalid):
        tar_argv_for(path)


def test_extract_argvs() -> None:
    assert absolute_path("/tmp/x/..") == "/tmp"
    assert untar_argv("/tmp") == ["tar", "-x", "-f", "-", "-C", "/tmp"]
    assert writable_dir_argv("/tmp") == ["test", "-d", "/tmp", "-a", "-w", "/tmp"]


@pytest.mark.parametrize(
    ("head", "ok"),
    [
        (_tar("f", b"x" * 100), True),
        (b"\0" * 1024, True),  # an empty archive
        (b"\x1f\x8b\x08" + bytes(600), True),  # gzip: tar decides
        (b"BZh9" + bytes(10), True),
        (b"\xfd7zXZ\x00" + bytes(10), True),
        (bytes(range(256)) * 4, False),
        (b"hello world\n" * 100, False),
        (b"", False),
        (b"\0" * 100, False),  # zeros, but not a whole block
    ],
)
def test_looks_like_archive(head: bytes, ok: bool) -> None:
    assert looks_like_archive(head) is ok
