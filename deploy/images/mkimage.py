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
  mkimage.py layers --tag ... --out X.tar --layer-dir DIR[=COMMENT] [--layer-dir ...] [--oci-dir D]
             [--user UID:GID] [--entrypoint ...] [--cmd ...] [--env K=V] [--workdir DIR]
             (one layer per directory tree, bottom first, each a reproducible tar of that tree;
              --oci-dir also writes an OCI image layout with the same layers and config;
              prints a JSON summary: image id, layer digests and sizes)
"""
import argparse
import hashlib
import io
import json
import os
import stat
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


class _HashingWriter:
    """A file wrapper that hashes and counts what tarfile writes, so a layer is read once."""

    def __init__(self, f):
        self.f, self.h, self.size = f, hashlib.sha256(), 0

    def write(self, b):
        self.h.update(b)
        self.size += len(b)
        return self.f.write(b)

    def tell(self):
        return self.size


def _dir_entries(root, rel=""):
    """(relative path, lstat) of every entry under root, parents first, names sorted."""
    for name in sorted(os.listdir(os.path.join(root, rel) if rel else root)):
        path = f"{rel}/{name}" if rel else name
        st = os.lstat(os.path.join(root, path))
        yield path, st
        if stat.S_ISDIR(st.st_mode):
            yield from _dir_entries(root, path)


def write_dir_layer(root, out):
    """Write the tree under root as a reproducible layer tar: sorted, mtime 0, owner 0:0 (numeric,
    no names), permission bits kept but never setuid/setgid, hard links stored as plain files.
    Returns (sha256 hex, size)."""
    with open(out, "wb") as f:
        w = _HashingWriter(f)
        with tarfile.open(fileobj=w, mode="w", format=tarfile.PAX_FORMAT) as t:
            for path, st in _dir_entries(root):
                ti = tarfile.TarInfo(path)
                ti.mtime = MTIME
                ti.uid = ti.gid = 0
                ti.uname = ti.gname = ""
                ti.mode = stat.S_IMODE(st.st_mode) & ~0o6000
                full = os.path.join(root, path)
                if stat.S_ISDIR(st.st_mode):
                    ti.type = tarfile.DIRTYPE
                    t.addfile(ti)
                elif stat.S_ISLNK(st.st_mode):
                    ti.type = tarfile.SYMTYPE
                    ti.linkname = os.readlink(full)
                    t.addfile(ti)
                elif stat.S_ISREG(st.st_mode):
                    ti.type = tarfile.REGTYPE
                    ti.size = st.st_size
                    with open(full, "rb") as src:
                        t.addfile(ti, src)
                else:
                    raise SystemExit(f"mkimage: {full}: not a file, directory or symlink")
    return w.h.hexdigest(), w.size


def _add_bytes(t, name, content):
    ti = tarfile.TarInfo(name)
    ti.mtime = MTIME
    ti.mode = 0o644
    ti.size = len(content)
    t.addfile(ti, io.BytesIO(content))


def _add_file(t, name, path):
    ti = tarfile.TarInfo(name)
    ti.mtime = MTIME
    ti.mode = 0o644
    ti.size = os.path.getsize(path)
    with open(path, "rb") as f:
        t.addfile(ti, f)


def write_layers_image(a, cfg):
    """The `layers` mode: a docker-archive (and optionally an OCI layout) from directory trees."""
    out_dir = os.path.dirname(os.path.abspath(a.out))
    tmp = os.path.join(out_dir, ".layers-" + os.path.basename(a.out))
    os.makedirs(tmp, exist_ok=True)
    layers = []  # (sha256 hex, size, tmp path, comment)
    for i, spec in enumerate(a.layer_dir):
        root, _, comment = spec.partition("=")
        path = os.path.join(tmp, f"{i}.tar")
        digest, size = write_dir_layer(root, path)
        layers.append((digest, size, path, comment or os.path.basename(root.rstrip("/"))))
    history = [{"created": "1970-01-01T00:00:00Z", "created_by": "zunk8s deploy/build-image: " + c} for *_, c in layers]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + d for d, *_ in layers]},
        "history": history,
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_digest = hashlib.sha256(config_bytes).hexdigest()
    repo, _, tag = a.tag.rpartition(":")
    # docker-archive: <config digest>.json, <layer digest>/layer.tar, manifest.json, repositories
    manifest = [
        {"Config": config_digest + ".json", "RepoTags": [a.tag], "Layers": [d + "/layer.tar" for d, *_ in layers]}
    ]
    with open(a.out + ".tmp", "wb") as f, tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as t:
        _add_bytes(t, config_digest + ".json", config_bytes)
        done = set()
        for digest, _, path, _ in layers:
            if digest in done:
                continue
            done.add(digest)
            ti = tarfile.TarInfo(digest)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, MTIME
            t.addfile(ti)
            _add_file(t, digest + "/layer.tar", path)
        _add_bytes(t, "manifest.json", json.dumps(manifest).encode())
        _add_bytes(t, "repositories", json.dumps({repo: {tag: layers[-1][0]}}).encode())
    os.replace(a.out + ".tmp", a.out)
    summary = {
        "tag": a.tag,
        "image_id": "sha256:" + config_digest,
        "archive": a.out,
        "archive_size": os.path.getsize(a.out),
        "layers": [{"digest": "sha256:" + d, "size": s, "comment": c} for d, s, _, c in layers],
    }
    if a.oci_dir:
        # OCI image layout: uncompressed layer blobs (hard links of the layer tars just written).
        blobs = os.path.join(a.oci_dir, "blobs", "sha256")
        os.makedirs(blobs, exist_ok=True)
        for digest, _, path, _ in layers:
            dst = os.path.join(blobs, digest)
            if not os.path.exists(dst):
                os.link(path, dst)
        with open(os.path.join(blobs, config_digest), "wb") as f:
            f.write(config_bytes)
        oci_manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + config_digest,
                "size": len(config_bytes),
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + d, "size": s}
                for d, s, *_ in layers
            ],
        }
        mbytes = json.dumps(oci_manifest, sort_keys=True).encode()
        mdigest = hashlib.sha256(mbytes).hexdigest()
        with open(os.path.join(blobs, mdigest), "wb") as f:
            f.write(mbytes)
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": "sha256:" + mdigest,
                    "size": len(mbytes),
                    "platform": {"architecture": "amd64", "os": "linux"},
                    "annotations": {"org.opencontainers.image.ref.name": tag, "io.containerd.image.name": a.tag},
                }
            ],
        }
        with open(os.path.join(a.oci_dir, "index.json"), "w") as f:
            json.dump(index, f, sort_keys=True)
        with open(os.path.join(a.oci_dir, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        summary["oci_dir"] = a.oci_dir
        summary["manifest_digest"] = "sha256:" + mdigest
    for *_, path, _ in layers:
        os.unlink(path)
    os.rmdir(tmp)
    print(json.dumps(summary, indent=1))


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", nargs="?", default="plain", choices=["plain", "busybox", "layers"])
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
    p.add_argument("--layer-dir", action="append", default=[], help="layers mode: DIR[=COMMENT], bottom first")
    p.add_argument("--oci-dir", help="layers mode: also write an OCI image layout here")
    p.add_argument("--user", help="layers mode: the image's User, e.g. 10001:10001")
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
    if a.print_key and a.mode == "layers":
        sys.exit("--print-key: not for layers mode (key the build on the trees' inputs instead)")
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
    if a.mode == "layers":
        # An --env K=V replaces the default of the same name (PATH) instead of adding a second one.
        env = {}
        for kv in [PATH_ENV] + a.env:
            env[kv.split("=", 1)[0]] = kv
        cfg["Env"] = list(env.values())
        if a.user:
            cfg["User"] = a.user
        if not a.layer_dir:
            sys.exit("layers mode needs at least one --layer-dir")
        write_layers_image(a, cfg)
        return 0
    write_archive(build_layer(a, a.mode), a.out, a.tag, cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
