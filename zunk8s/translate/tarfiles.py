"""Tar for get_archive / put_archive: the tar command lines run in the container, Docker's path
stat from an archive's first header, and whether some bytes can be a tar archive at all.

Pure: bytes in, values out (tarfile reads from memory here, never from disk).
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from typing import Any

from zunk8s.clock import epoch_to_rfc3339
from zunk8s.errors import Invalid

# Go's os.FileMode type bits, which Docker's path stat reports in `mode`.
GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27
# What tar reads from stdin besides a plain archive (busybox tar detects these itself).
COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd", b"\x5d\x00\x00")


def absolute_path(path: str) -> str:
    """``path`` normalised (``/a/b/../c/`` is ``/a/c``); Invalid unless it is absolute."""
    clean = posixpath.normpath(path)
    if not clean.startswith("/"):
        raise Invalid(f"The path {path!r} must be absolute.")
    return clean


def tar_argv_for(path: str) -> list[str]:
    """tar -c of one path, named by its last component as Docker's archive does."""
    clean = absolute_path(path)
    if clean == "/":
        return ["tar", "-c", "-f", "-", "-C", "/", "."]
    return ["tar", "-c", "-f", "-", "-C", posixpath.dirname(clean), posixpath.basename(clean)]


def untar_argv(directory: str) -> list[str]:
    """tar -x of the archive on stdin into ``directory`` (already an ``absolute_path``)."""
    return ["tar", "-x", "-f", "-", "-C", directory]


def writable_dir_argv(directory: str) -> list[str]:
    """A command that exits 1 when ``directory`` is no directory or not writable."""
    return ["test", "-d", directory, "-a", "-w", directory]


def stat_from_tar(head: bytes) -> dict[str, Any]:
    """Docker's X-Docker-Container-Path-Stat, from the archive's first member's header
    (``head`` is the start of the archive; the stream reader reads headers only)."""
    with tarfile.open(fileobj=io.BytesIO(head), mode="r|") as tar:
        member = tar.next()
    if member is None:
        return {"name": "", "size": 0, "mode": 0, "mtime": "", "linkTarget": ""}
    mode = member.mode & 0o7777
    if member.isdir():
        mode |= GO_MODE_DIR
    elif member.issym():
        mode |= GO_MODE_SYMLINK
    return {
        "name": posixpath.basename(member.name.rstrip("/")) or "/",
        "size": member.size,
        "mode": mode,
        "mtime": epoch_to_rfc3339(member.mtime),
        "linkTarget": member.linkname,
    }


def looks_like_archive(head: bytes) -> bool:
    """Whether the first block is one tar can read: a tar header (its checksum holds), the zero
    block of an empty archive, or a compressed stream (tar decides on those)."""
    block = head[: tarfile.BLOCKSIZE]
    if head.startswith(COMPRESSED_MAGIC) or (len(block) == tarfile.BLOCKSIZE and not block.strip(b"\0")):
        return True
    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True
