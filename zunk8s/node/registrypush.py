"""Pushing an image to a registry, as the OCI distribution spec has it: each blob uploaded unless
the repository has it (a HEAD), then the manifest under its tag. Only what commit needs.

Plain HTTP is used for a registry on this node's loopback (the local cluster's) and for the hosts
the agent is told are plain (``agent.insecure_registries``); HTTPS otherwise. A registry that asks
for credentials is refused with the reason: the agent holds none.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from urllib.parse import urljoin

import aiohttp

from zunk8s.imageregistry.hosts import plain_http

CHUNK = 1 << 20


class RegistryError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def split_reference(reference: str) -> tuple[str, str, str]:
    """``host[:port]/name:tag`` -> (host, name, tag)."""
    host, _, rest = reference.partition("/")
    name, _, tag = rest.rpartition(":")
    if not host or not name or not tag:
        raise RegistryError(f"not an image reference with a registry and a tag: {reference}")
    return host, name, tag


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


class Pusher:
    """Pushes into one repository of one registry."""

    def __init__(self, session: aiohttp.ClientSession, reference: str, *, insecure: Iterable[str] = ()) -> None:
        host, self.name, self.tag = split_reference(reference)
        self.base = f"{'http' if plain_http(host, insecure) else 'https'}://{host}"
        self._session = session

    def _url(self, path: str) -> str:
        return f"{self.base}/v2/{self.name}/{path}"

    async def _check(self, response: aiohttp.ClientResponse, what: str, ok: tuple[int, ...]) -> None:
        if response.status in ok:
            return
        if response.status == 401:
            raise RegistryError(f"{self.base} asks for credentials to {what}; the zunk8s agent pushes only to a registry "
                                "that lets it (the chart's images.commitRegistry)")
        body = (await response.text(errors="replace"))[:300]
        raise RegistryError(f"{self.base} answered {response.status} to {what}: {' '.join(body.split())}")

    async def has_blob(self, digest: str) -> bool:
        try:
            async with self._session.head(self._url(f"blobs/{digest}")) as r:
                if r.status == 404:
                    return False
                await self._check(r, f"look up blob {digest}", (200,))
                return True
        except aiohttp.ClientError as e:
            raise RegistryError(f"cannot reach the registry {self.base}: {e}") from None

    async def upload(self, digest: str, size: int, data: bytes | Path | AsyncIterator[bytes]) -> None:
        """One blob, in one PUT (monolithic upload); its digest is checked by the registry."""
        body: bytes | AsyncIterator[bytes] = _file_chunks(data) if isinstance(data, Path) else data
        try:
            async with self._session.post(self._url("blobs/uploads/")) as r:
                await self._check(r, f"start uploading blob {digest}", (202,))
                location = r.headers.get("Location")
            if not location:
                raise RegistryError(f"{self.base} gave no upload location for blob {digest}")
            url = urljoin(self.base + "/", location)
            url += ("&" if "?" in url else "?") + f"digest={digest}"
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
            async with self._session.put(url, data=body, headers=headers) as r:
                await self._check(r, f"upload blob {digest}", (201, 204))
        except aiohttp.ClientError as e:
            raise RegistryError(f"cannot push to the registry {self.base}: {e}") from None

    async def put_manifest(self, data: bytes, media_type: str) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        try:
            async with self._session.put(self._url(f"manifests/{self.tag}"), data=data,
                                         headers={"Content-Type": media_type}) as r:
                await self._check(r, f"store the manifest of {self.name}:{self.tag}", (200, 201))
        except aiohttp.ClientError as e:
            raise RegistryError(f"cannot push to the registry {self.base}: {e}") from None
        return digest
