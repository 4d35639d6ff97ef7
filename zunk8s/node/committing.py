"""commit on the node: a container's changes made an image and pushed (translate/commit.py says
what the image is; this does it).

1. The base image's manifest and config from the node's content store (the runtime pulled
   them), before anything is paused: an image whose layers the node no longer has fails here.
2. The container paused (if it runs) only while containerd diffs its snapshot against the
   snapshot's parent; resumed whatever happens. A lease keeps the diff's view and blob from
   containerd's garbage collector while the agent works, and lets them go if it dies.
3. The diff rewritten without mount stubs, hashed (its digest is its diff id: it is not
   compressed), and pushed with the base's layers (from the content store, unless the registry
   has them), the new config and an OCI manifest under the asked tag.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import platform
import tarfile
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from zunk8s.clock import now_utc
from zunk8s.node.containerd import Containerd, ContainerdError
from zunk8s.node.registrypush import Pusher, RegistryError
from zunk8s.translate import commit

Obj = dict[str, Any]
SNAPSHOTTER = "overlayfs"
# Manifests and configs are small; more is not one.
SMALL_BLOB = 4 << 20
# The lease outlives any commit the agent finishes; a dead agent's goes after this.
LEASE_SECONDS = 3600.0
_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


class CommitError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Base:
    manifest: Obj
    config: Obj


@dataclass(frozen=True)
class Layer:
    path: Path
    digest: str  # of the uncompressed tar: also its diff id
    size: int


class NodeCommitter:
    def __init__(self, containerd: Containerd, *, insecure_registries: Sequence[str] = (), workdir: str | None = None) -> None:
        self._ctr = containerd
        self._insecure = tuple(insecure_registries)
        self._workdir = workdir
        self._arch = _ARCH.get(platform.machine(), platform.machine())

    async def make_image(self, pod: Obj, ask: commit.Ask) -> tuple[str, int]:
        """Make and push the image; (manifest digest, bytes pushed in config and layers)."""
        cid, images = commit.container_id(pod), commit.image_names(pod)
        if cid is None or not images:
            raise CommitError("the container has not run on this node, so it has no filesystem to commit")
        try:
            base = await self._any_base(images)
            with tempfile.TemporaryDirectory(prefix="zunk8s-commit-", dir=self._workdir) as tmp:
                layer = await self._layer(cid, commit.mount_points(pod), Path(tmp))
                return await self._push(ask, base, layer)
        except ContainerdError as e:
            raise CommitError(e.detail) from None
        except RegistryError as e:
            raise CommitError(e.detail) from None

    async def _any_base(self, images: list[str]) -> Base:
        """The first of the image's names whose manifest, config and layers are all on the node."""
        for image in images[:-1]:
            try:
                return await self._base(image)
            except (CommitError, ContainerdError):
                continue
        return await self._base(images[-1])  # its error is the one told

    async def _base(self, image: str) -> Base:
        target = await self._ctr.image_target(image)
        if target.media_type in commit.INDEXES:
            index = json.loads(await self._ctr.read_all(target.digest, limit=SMALL_BLOB))
            chosen = commit.platform_manifest(index, architecture=self._arch)
            if chosen is None:
                raise CommitError(f"the image {image} has no manifest for linux/{self._arch}")
            digest = str(chosen["digest"])
        elif target.media_type in commit.MANIFESTS:
            digest = target.digest
        else:
            raise CommitError(f"the image {image} is a {target.media_type}, not an image manifest")
        manifest = json.loads(await self._ctr.read_all(digest, limit=SMALL_BLOB))
        config = json.loads(await self._ctr.read_all(str(manifest["config"]["digest"]), limit=SMALL_BLOB))
        for layer in manifest.get("layers") or []:
            if not await self._ctr.has_content(str(layer["digest"])):
                raise CommitError(
                    f"the layer {layer['digest']} of the image {image} is not on this node any more "
                    "(the runtime dropped it after unpacking), and the committed image cannot be made without it"
                )
        return Base(manifest=manifest, config=config)

    async def _layer(self, cid: str, points: list[str], tmp: Path) -> Layer:
        raw = tmp / "diff.tar"
        async with self._ctr.lease(expire=LEASE_SECONDS) as lease:
            parent = await self._ctr.snapshot_parent(SNAPSHOTTER, cid)
            paused_here = False
            if await self._ctr.running(cid):
                await self._ctr.pause(cid)
                paused_here = True
            view = f"zunk8s-commit-{cid}-{uuid.uuid4().hex[:8]}"
            try:
                lower = await self._ctr.view(SNAPSHOTTER, view, parent, lease=lease)
                upper = await self._ctr.snapshot_mounts(SNAPSHOTTER, cid)
                blob = await self._ctr.diff(lower, upper, commit.OCI_LAYER, lease=lease)
            finally:
                try:
                    if paused_here:
                        await self._ctr.resume(cid)
                finally:
                    try:
                        await self._ctr.remove_snapshot(SNAPSHOTTER, view)
                    except ContainerdError:
                        pass  # made under the lease: collected with it
            with raw.open("wb") as f:
                async for chunk in self._ctr.read(blob.digest):
                    await asyncio.to_thread(f.write, chunk)
            try:
                await self._ctr.delete_content(blob.digest)
            except ContainerdError:
                pass  # made under the lease: collected with it
        return await asyncio.to_thread(_without_stubs, raw, tmp / "layer.tar", points)

    async def _push(self, ask: commit.Ask, base: Base, layer: Layer) -> tuple[str, int]:
        config = commit.image_config(base.config, diff_id=layer.digest, changes=ask.config,
                                     created=now_utc().strftime("%Y-%m-%dT%H:%M:%S.%fZ"), comment=ask.comment)
        config_bytes = json.dumps(config, separators=(",", ":")).encode()
        config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
        base_layers = list(base.manifest.get("layers") or [])
        layers = [*(commit.layer_descriptor(d) for d in base_layers),
                  {"mediaType": commit.OCI_LAYER, "digest": layer.digest, "size": layer.size}]
        manifest = commit.manifest(config_digest=config_digest, config_size=len(config_bytes), layers=layers)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60)) as s:
            pusher = Pusher(s, ask.reference, insecure=self._insecure)
            for d in base_layers:
                if not await pusher.has_blob(str(d["digest"])):
                    await pusher.upload(str(d["digest"]), int(d["size"]), self._ctr.read(str(d["digest"])))
            if not await pusher.has_blob(layer.digest):
                await pusher.upload(layer.digest, layer.size, layer.path)
            if not await pusher.has_blob(config_digest):
                await pusher.upload(config_digest, len(config_bytes), config_bytes)
            digest = await pusher.put_manifest(json.dumps(manifest, separators=(",", ":")).encode(), commit.OCI_MANIFEST)
        return digest, len(config_bytes) + sum(int(x["size"]) for x in layers)



def _without_stubs(raw: Path, out: Path, points: list[str]) -> Layer:
    """The diff without what mounts left in it; streamed through, hashed as written."""
    with tarfile.open(raw, "r:") as src:
        members = src.getmembers()
        kept = commit.kept_entries([(m.name, m.isdir()) for m in members], points)
        with tarfile.open(out, "w:", format=tarfile.PAX_FORMAT) as dst:
            for m in members:
                if commit.entry_name(m.name) in kept:
                    dst.addfile(m, src.extractfile(m) if m.isreg() else None)
    digest = hashlib.sha256()
    with out.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return Layer(path=out, digest="sha256:" + digest.hexdigest(), size=out.stat().st_size)
