"""A thin JSON client over kubernetes_asyncio's configured aiohttp session.

We reuse the library's configuration (kubeconfig / in-cluster, client certificates, token
refresh hook) and connection pool, but send plain dicts and read raw bytes: the generated
models decode strictly as UTF-8 and cost time on every list of 1,000 objects.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import aiohttp
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config

from zunk8s.kube.errors import KubeUnavailable, error_for
from zunk8s.settings import KubeSettings

Query = Mapping[str, str | int | bool | list[str]]


def _encode_query(params: Query | None) -> str:
    if not params:
        return ""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            pairs.append((key, ("true" if v else "false") if isinstance(v, bool) else str(v)))
    return "?" + urlencode(pairs)


class KubeHTTP:
    def __init__(self, api_client: Any, *, timeout: float) -> None:
        self._api = api_client
        self._cfg = api_client.configuration
        self.timeout = timeout

    @classmethod
    async def connect(cls, settings: KubeSettings) -> KubeHTTP:
        cfg = k8s_client.Configuration()
        if settings.config == "incluster":
            k8s_config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
        else:
            await k8s_config.load_kube_config(
                config_file=settings.kubeconfig, context=settings.context, client_configuration=cfg
            )
        # Watches, log follows and exec streams each hold a connection for their lifetime.
        cfg.connection_pool_maxsize = 256
        return cls(k8s_client.ApiClient(configuration=cfg), timeout=settings.request_timeout)

    async def close(self) -> None:
        await self._api.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        session: aiohttp.ClientSession = self._api.rest_client.pool_manager
        return session

    @property
    def host(self) -> str:
        return str(self._cfg.host)

    async def auth_headers(self) -> dict[str, str]:
        # Read per request: auth_settings() runs the token refresh hook (in-cluster tokens rotate).
        headers: dict[str, str] = {}
        for setting in (await self._cfg.auth_settings()).values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[setting["key"]] = setting["value"]
        return headers

    def url(self, path: str, params: Query | None = None) -> str:
        return self.host + path + _encode_query(params)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | None = None,
    ) -> Any:
        headers = await self.auth_headers()
        headers["Accept"] = "application/json"
        data = None
        if body is not None:
            headers["Content-Type"] = content_type
            data = json.dumps(body)
        try:
            async with self.session.request(
                method,
                self.url(path, params),
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout or self.timeout),
            ) as resp:
                raw = await resp.read()
                if resp.status >= 400:
                    raise error_for(resp.status, _loads(raw))
                return _loads(raw) if raw else None
        except (aiohttp.ClientError, TimeoutError) as e:
            raise KubeUnavailable(f"Kubernetes API unreachable: {type(e).__name__}: {e}") from e

    @asynccontextmanager
    async def stream(
        self, path: str, *, params: Query | None = None, read_timeout: float | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A GET whose body is read incrementally (watches, log follows)."""
        headers = await self.auth_headers()
        try:
            async with self.session.get(
                self.url(path, params),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeout, sock_read=read_timeout),
            ) as resp:
                if resp.status >= 400:
                    raise error_for(resp.status, _loads(await resp.read()))
                yield resp
        except (aiohttp.ClientError, TimeoutError) as e:
            raise KubeUnavailable(f"Kubernetes API stream failed: {type(e).__name__}: {e}") from e

    async def ws_connect(self, path: str, params: Query, protocols: tuple[str, ...]) -> aiohttp.ClientWebSocketResponse:
        headers = await self.auth_headers()
        url = self.url(path, params).replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        try:
            return await self.session.ws_connect(
                url,
                protocols=protocols,
                headers=headers,
                heartbeat=30,
                max_msg_size=0,
                timeout=aiohttp.ClientWSTimeout(ws_close=5),
            )
        except aiohttp.WSServerHandshakeError as e:
            raise error_for(e.status, e.message) from e
        except (aiohttp.ClientError, TimeoutError) as e:
            raise KubeUnavailable(f"Kubernetes stream could not be opened: {type(e).__name__}: {e}") from e


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")
