"""A file's identity for "has it changed?" checks of files zunk8s reads again on change (the
policy file, the static tokens file)."""

from __future__ import annotations

import os

FileStamp = tuple[int, int, int]


def file_stamp(path: str) -> FileStamp | None:
    """(mtime, size, inode), or None if the file cannot be read. A Kubernetes ConfigMap or
    Secret volume swaps a symlink on update: the inode changes even when mtime does not."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)
