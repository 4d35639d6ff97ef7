"""``zunk8s inject SRC DST``: the init container of a container with injected files (create's bind
mounts, translate/mounts.py) copies them from the Secret volume at SRC (symlinks, as the kubelet
lays a Secret out) into the emptyDir at DST, as plain files the container may write: mode 0644,
owned by whoever runs it (root, as Zun's host writes them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def inject(src: str, dst: str) -> int:
    """Copy every file of ``src`` (not its dot entries: the kubelet's own) to ``dst``; the count."""
    count = 0
    for entry in sorted(Path(src).iterdir()):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        target = Path(dst) / entry.name
        shutil.copyfile(entry, target)  # follows the symlink: the content, not the link
        os.chmod(target, 0o644)
        count += 1
    return count
