#!/usr/bin/env python3
"""Write a single-layer docker-archive image tar (what `ctr images import` and `docker load` read).

No registry and no image tools are needed: the layer is built from files on this machine.
The output is byte-for-byte reproducible for the same inputs (fixed mtimes, sorted entries),
so deploy/local-cluster can cache it under a hash of the inputs.

usage:
  mkimage.py --tag localhost/x:1 --out x.tar [--file SRC:DST[:MODE]] [--symlink DST:TARGET]
             [--dir DST[:MODE]] [--text DST:CONTENT] [--entrypoint JSON] [--cmd JSON]
             [--env K=V] [--workdir DIR]
  mkimage.py busybox --tag ... --out ...   (busybox-static rootfs with every applet linked)
  mkimage.py ... --print-key                (print the cache key of that build; writes nothing)
"""
import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

MTIME = 0  # reproducible layers
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Layer:
    def __init__(self):
        self.entries = {}  # path -> (TarInfo, bytes or None)

    def _info(self, path, kind, mode):
        ti = tarfile.TarInfo(path.lstrip("/"))
        ti.type = kind
        ti.mode = mode
        ti.mtime = MTIME
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        return ti

    def _parents(self, path):
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/" + "/".join(parts[:i])
            if d not in self.entries:
                self.dir(d)

    def dir(self, path, mode=0o755):
        self._parents(path)
        self.entries[path] = (self._info(path, tarfile.DIRTYPE, mode), None)

    def data(self, path, content, mode=0o644):
        self._parents(path)
        ti = self._info(path, tarfile.REGTYPE, mode)
        ti.size = len(content)
        self.entries[path] = (ti, content)

    def file(self, src, path, mode=None):
        with open(src, "rb") as f:
            content = f.read()
        if mode is None:
            mode = os.stat(src).st_mode & 0o7777
        self.data(path, content, mode)

    def symlink(self, path, target):
        self._parents(path)
        ti = self._info(path, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.entries[path] = (ti, None)

    def tar(self):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            for path in sorted(self.entries):
                ti, content = self.entries[path]
                t.addfile(ti, io.BytesIO(content) if content is not None else None)
        return buf.getvalue()


def base_files(layer):
    """Directories and files every image gets: /tmp, /etc/passwd with root, mount points."""
    for d in ("/bin", "/dev", "/etc", "/proc", "/root", "/sys", "/usr/bin", "/var"):
        layer.dir(d, 0o700 if d == "/root" else 0o755)
    layer.dir("/tmp", 0o1777)
    layer.dir("/var/tmp", 0o1777)
    layer.data("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    layer.data("/etc/group", b"root:x:0:\nnogroup:x:65534:\n")


def busybox_files(layer, busybox):
    base_files(layer)
    layer.file(busybox, "/bin/busybox", 0o755)
    applets = subprocess.run([busybox, "--list"], check=True, capture_output=True, text=True).stdout.split()
    for a in applets:
        if a != "busybox" and "/" not in a:
            layer.symlink("/bin/" + a, "busybox")
    # env, which some tools call by absolute path
    layer.symlink("/usr/bin/env", "/bin/busybox")


def write_archive(layer, out, tag, config_extra):
    layer_tar = layer.tar()
    diff_id = "sha256:" + hashlib.sha256(layer_tar).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": config_extra,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "zunk8s deploy/images/mkimage.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_dir = diff_id.split(":", 1)[1]
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [layer_dir + "/layer.tar"]}]
    outer = Layer()
    outer.data("/" + config_name, config_bytes)
    outer.dir("/" + layer_dir)
    outer.data("/" + layer_dir + "/layer.tar", layer_tar)
    outer.data("/manifest.json", json.dumps(manifest).encode())
    outer.data("/repositories", json.dumps({tag.rsplit(":", 1)[0]: {tag.rsplit(":", 1)[1]: layer_dir}}).encode())
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(outer.tar())
    os.replace(tmp, out)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", nargs="?", default="plain", choices=["plain", "busybox"])
    p.add_argument("--tag", required=True)
    p.add_argument("--out")
    p.add_argument("--busybox", default="/bin/busybox")
    p.add_argument("--file", action="append", default=[])
    p.add_argument("--symlink", action="append", default=[])
    p.add_argument("--dir", action="append", default=[])
    p.add_argument("--text", action="append", default=[])
    p.add_argument("--entrypoint")
    p.add_argument("--cmd")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--workdir", default="/")
    p.add_argument("--print-key", action="store_true")
    return p.parse_args(argv)


def build_layer(a, mode):
    layer = Layer()
    if mode == "busybox":
        busybox_files(layer, a.busybox)
    else:
        base_files(layer)
    for spec in a.dir:
        path, _, m = spec.partition(":")
        layer.dir(path, int(m, 8) if m else 0o755)
    for spec in a.file:
        parts = spec.split(":")
        layer.file(parts[0], parts[1], int(parts[2], 8) if len(parts) > 2 else None)
    for spec in a.symlink:
        path, target = spec.split(":", 1)
        layer.symlink(path, target)
    for spec in a.text:
        path, content = spec.split(":", 1)
        layer.data(path, content.encode())
    return layer


def main(argv):
    a = parse(argv)
    cfg = {"Env": [PATH_ENV] + a.env, "WorkingDir": a.workdir}
    if a.entrypoint:
        cfg["Entrypoint"] = json.loads(a.entrypoint)
    if a.cmd:
        cfg["Cmd"] = json.loads(a.cmd)
    if a.print_key:
        # Cache key: this script, the arguments, and every input file's content.
        h = hashlib.sha256()
        with open(__file__, "rb") as f:
            h.update(f.read())
        h.update(json.dumps([x for x in argv if x != "--print-key"]).encode())
        srcs = [s.split(":")[0] for s in a.file] + ([a.busybox] if a.mode == "busybox" else [])
        for s in srcs:
            with open(s, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
        print(h.hexdigest()[:16])
        return 0
    if not a.out:
        sys.exit("--out is required")
    write_archive(build_layer(a, a.mode), a.out, a.tag, cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
