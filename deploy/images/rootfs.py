#!/usr/bin/env python3
"""Assemble a minimal root filesystem from a bigger one (a debootstrap tree), for deploy/build-image.

usage:
  rootfs.py copy SRC-ROOT DEST-ROOT [--exclude GLOB]... PATH...
      Copy each PATH (absolute inside SRC-ROOT) into DEST-ROOT at the same place. Symlinks met on
      the way (/lib -> usr/lib, /usr/bin/python3 -> python3.11, ...) are recreated as symlinks and
      their targets copied too, so every copied path resolves inside DEST-ROOT. A directory is copied
      whole, minus the entries whose absolute path matches an --exclude glob.
  rootfs.py closure SRC-ROOT DEST-ROOT [--optional PREFIX]... [--skip PREFIX]... PATH...
      Find the ELF files in PATH... (files or directories; listed in DEST-ROOT where it has them,
      else in SRC-ROOT), ask `ldd` inside
      SRC-ROOT (chroot) for their shared libraries, and copy those libraries (and ld-linux) into
      DEST-ROOT as `copy` does. Libraries under a --skip prefix are left out (they come in another
      layer). An ELF under an --optional prefix whose libraries are not all found is removed from
      DEST-ROOT (a stdlib extension module nobody here needs); any other unresolved library fails.
Paths that are not ELF files are ignored. Run as root (chroot).
"""

import argparse
import fnmatch
import os
import shutil
import stat
import subprocess
import sys


def _ensure_dir(src_root, dest_root, rel):
    """Create the directory rel (absolute, already free of symlinks) in dest with src's modes."""
    parts = rel.strip("/").split("/") if rel.strip("/") else []
    cur = ""
    for p in parts:
        cur += "/" + p
        d = dest_root + cur
        if not os.path.lexists(d):
            os.mkdir(d)
            os.chmod(d, stat.S_IMODE(os.lstat(src_root + cur).st_mode))


class Copier:
    def __init__(self, src_root, dest_root, excludes=()):
        self.src = os.path.abspath(src_root)
        self.dest = os.path.abspath(dest_root)
        self.excludes = list(excludes)
        self.done = set()

    def excluded(self, path):
        return any(fnmatch.fnmatch(path, g) for g in self.excludes)

    def copy(self, path, depth=0):
        """Copy the absolute path (inside src) into dest, resolving symlinks component by component."""
        if depth > 40:
            raise SystemExit(f"rootfs: too many levels of symlinks at {path}")
        path = os.path.normpath("/" + path.lstrip("/"))
        if path in self.done:
            return
        parts = path.strip("/").split("/")
        cur = ""
        for i, p in enumerate(parts):
            parent, cur = cur, cur + "/" + p
            st = os.lstat(self.src + cur)
            rest = "/".join(parts[i + 1 :])
            if stat.S_ISLNK(st.st_mode):
                target = os.readlink(self.src + cur)
                _ensure_dir(self.src, self.dest, parent)
                if not os.path.lexists(self.dest + cur):
                    os.symlink(target, self.dest + cur)
                base = target if target.startswith("/") else (parent or "/") + "/" + target
                self.copy(base + ("/" + rest if rest else ""), depth + 1)
                self.done.add(path)
                return
            if i < len(parts) - 1:
                if not stat.S_ISDIR(st.st_mode):
                    raise SystemExit(f"rootfs: {self.src + cur} is not a directory")
                continue
            _ensure_dir(self.src, self.dest, parent)
            if stat.S_ISDIR(st.st_mode):
                self._tree(cur, depth)
            else:
                self._file(cur, st)
        self.done.add(path)

    def _file(self, rel, st):
        if not stat.S_ISREG(st.st_mode):
            raise SystemExit(f"rootfs: {self.src + rel}: not a regular file")
        d = self.dest + rel
        if os.path.lexists(d):
            os.unlink(d)
        shutil.copyfile(self.src + rel, d)
        os.chmod(d, stat.S_IMODE(st.st_mode))

    def _tree(self, rel, depth):
        _ensure_dir(self.src, self.dest, rel)
        for name in sorted(os.listdir(self.src + rel)):
            child = rel + "/" + name
            if self.excluded(child):
                continue
            st = os.lstat(self.src + child)
            if stat.S_ISDIR(st.st_mode):
                self._tree(child, depth)
            elif stat.S_ISLNK(st.st_mode):
                # The link and what it points at (e.g. _sysconfigdata__linux_... -> _sysconfigdata__...).
                self.copy(child, depth + 1)
            else:
                self._file(child, st)


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_files(root, paths):
    out = []
    for p in paths:
        full = root + p
        if os.path.isdir(full) and not os.path.islink(full):
            for dirpath, _, files in os.walk(full):
                for n in sorted(files):
                    f = os.path.join(dirpath, n)
                    if not os.path.islink(f) and is_elf(f):
                        out.append(f[len(root) :])
        elif os.path.isfile(full) and is_elf(os.path.realpath(full)):
            out.append(p)
    return sorted(set(out))


def ldd(root, files):
    """{file: ([library paths], [unresolved sonames])} from `ldd` run inside root."""
    result = {}
    for i in range(0, len(files), 200):
        batch = files[i : i + 200]
        r = subprocess.run(
            [shutil.which("chroot") or "/usr/sbin/chroot", root, "/usr/bin/ldd", *batch],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "LANG": "C"},
        )
        current = batch[0] if len(batch) == 1 else None
        for line in r.stdout.splitlines():
            if not line.startswith("\t") and line.endswith(":") and len(batch) > 1:
                current = line[:-1]
                result.setdefault(current, ([], []))
                continue
            line = line.strip()
            entry = result.setdefault(current, ([], []))
            if "=> not found" in line:
                entry[1].append(line.split()[0])
            elif "=>" in line:
                target = line.split("=>", 1)[1].strip().split(" (")[0]
                if target.startswith("/"):
                    entry[0].append(target)
            elif line.startswith("/"):
                entry[0].append(line.split(" (")[0])
    result.pop(None, None)
    return result


def cmd_copy(a):
    c = Copier(a.src_root, a.dest_root, a.exclude)
    for p in a.paths:
        c.copy(p)


def cmd_closure(a):
    root = os.path.abspath(a.src_root)
    dest = os.path.abspath(a.dest_root)
    # What is already in DEST (a filtered copy) is what ships: list the ELF files there when it has
    # the path, else in SRC-ROOT. ldd runs in SRC-ROOT, where all of them exist at the same place.
    files = []
    for p in a.paths:
        files += elf_files(dest if os.path.lexists(dest + p) else root, [p])
    files = sorted(set(files))
    deps = ldd(root, files)
    libs, failed = set(), []
    for f in files:
        found, missing = deps.get(f, ([], []))
        if missing:
            if any(f.startswith(p.rstrip("/") + "/") for p in a.optional):
                print(f"rootfs: dropping {f} (needs {', '.join(missing)}, not installed)", file=sys.stderr)
                d = os.path.join(a.dest_root, f.lstrip("/"))
                if os.path.lexists(d):
                    os.unlink(d)
                continue
            failed.append(f"{f}: {', '.join(missing)}")
        libs.update(found)
    if failed:
        raise SystemExit("rootfs: unresolved libraries:\n  " + "\n  ".join(failed))
    c = Copier(root, a.dest_root)
    for lib in sorted(libs):
        if any(lib.startswith(p.rstrip("/") + "/") for p in a.skip):
            continue
        c.copy(lib)
    print(f"rootfs: {len(files)} ELF files, {len(libs)} libraries", file=sys.stderr)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("copy")
    c.add_argument("src_root")
    c.add_argument("dest_root")
    c.add_argument("--exclude", action="append", default=[])
    c.add_argument("paths", nargs="+")
    c.set_defaults(func=cmd_copy)
    c = sub.add_parser("closure")
    c.add_argument("src_root")
    c.add_argument("dest_root")
    c.add_argument("--optional", action="append", default=[])
    c.add_argument("--skip", action="append", default=[])
    c.add_argument("paths", nargs="+")
    c.set_defaults(func=cmd_closure)
    a = p.parse_args(argv)
    os.makedirs(a.dest_root, exist_ok=True)
    a.func(a)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
