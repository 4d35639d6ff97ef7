"""`zunk8s inject`: injected files from a Secret volume's layout into place (zunk8s/node/inject.py)."""

import os
import stat
from pathlib import Path

from zunk8s.node.inject import inject


def test_files_are_copied_as_plain_writable_files(tmp_path: Path) -> None:
    # A Secret volume as the kubelet lays it out: ..data -> a timestamped dir, each key a symlink.
    src, dst = tmp_path / "src", tmp_path / "dst"
    data = src / "..2026_12_02"
    data.mkdir(parents=True)
    dst.mkdir()
    (data / "f0").write_bytes(b"hello\n")
    (data / "f1").write_bytes(b"\x00\xffbinary")
    (src / "..data").symlink_to(data.name)
    for key in ("f0", "f1"):
        (src / key).symlink_to(f"..data/{key}")
    assert inject(str(src), str(dst)) == 2
    assert sorted(p.name for p in dst.iterdir()) == ["f0", "f1"]
    assert (dst / "f0").read_bytes() == b"hello\n" and (dst / "f1").read_bytes() == b"\x00\xffbinary"
    for key in ("f0", "f1"):
        st = os.lstat(dst / key)
        assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o644
