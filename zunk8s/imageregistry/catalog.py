"""A registry's catalog and tags, read without credentials (image search): the distribution
API's ``/v2/_catalog`` (followed page by page, as its ``Link`` header says, up to a bound) and
``/v2/<name>/tags/list``."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urljoin

import aiohttp

# Repositories per catalog page, and pages read at most (a registry of 10,000 repositories).
PAGE = 1000
MAX_PAGES = 10
# Tag lists read at once.
TAG_READS = 8
TIMEOUT = aiohttp.ClientTimeout(total=10)
_NEXT = re.compile(r"<([^>]+)>\s*;\s*rel=\"?next\"?")


class CatalogError(Exception):
    """The registry could not be read; ``detail`` says why, for the user."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _Missing(CatalogError):
    """A 404: a repository gone meanwhile, or a registry without a catalog."""


class Catalog:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def _get(self, session: aiohttp.ClientSession, url: str) -> tuple[dict[str, Any], str | None]:
        try:
            async with session.get(url, allow_redirects=False) as resp:
                if resp.status in (401, 403):
                    raise CatalogError(f"the registry {self.base_url} asks for credentials, which zunk8s does not hold")
                if resp.status == 404:
                    raise _Missing(f"the registry {self.base_url} has no {url[len(self.base_url):]}")
                if resp.status != 200:
                    raise CatalogError(f"the registry {self.base_url} answered {resp.status}")
                body = await resp.json(content_type=None)
                link = resp.headers.get("Link")
        except aiohttp.ClientError as e:
            raise CatalogError(f"the registry {self.base_url} cannot be reached: {e}") from None
        except TimeoutError:
            raise CatalogError(f"the registry {self.base_url} did not answer in time") from None
        except ValueError:
            raise CatalogError(f"the registry {self.base_url} answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise CatalogError(f"the registry {self.base_url} answered something that is not a catalog")
        found = _NEXT.search(link or "")
        return body, urljoin(url, found.group(1)) if found else None

    async def repositories(self) -> list[str]:
        out: list[str] = []
        url: str | None = f"{self.base_url}/v2/_catalog?n={PAGE}"
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            for _ in range(MAX_PAGES):
                if url is None:
                    break
                try:
                    body, url = await self._get(session, url)
                except _Missing:
                    raise CatalogError(f"the registry {self.base_url} does not list its repositories "
                                       "(no /v2/_catalog)") from None
                repos = body.get("repositories")
                out += [r for r in repos if isinstance(r, str)] if isinstance(repos, list) else []
        return out

    async def tags(self, repositories: list[str]) -> dict[str, list[str]]:
        """Each repository's tags, read a few at a time; one gone meanwhile has none."""
        gate = asyncio.Semaphore(TAG_READS)

        async def one(session: aiohttp.ClientSession, repo: str) -> list[str]:
            async with gate:
                try:
                    body, _ = await self._get(session, f"{self.base_url}/v2/{repo}/tags/list")
                except _Missing:
                    return []
            tags = body.get("tags") or []
            return sorted(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else []

        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            found = await asyncio.gather(*(one(session, r) for r in repositories))
        return dict(zip(repositories, found, strict=True))
