"""A thin JSON client over kubernetes_asyncio's configured aiohttp session.

We reuse the library's configuration (kubeconfig / in-cluster, client certificates, token
refresh hook) and connection pool, but send plain dicts and read raw bytes: the generated
models decode strictly as UTF-8 and cost time on every list of 1,000 objects.

Every call goes through ``Reachability`` (kube/reachability.py): while a probe finds the API
server unreachable, calls fail at once with a 503 that says so, instead of each waiting out
its own timeout; the informers' list and watch wait for it to come back instead.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import aiohttp
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config

from zunk8s.kube.errors import KubeQuotaUncounted, KubeUnavailable, error_for
from zunk8s.kube.reachability import ProbeFailed, Reachability, describe
from zunk8s.settings import KubeSettings

Query = Mapping[str, str | int | bool | list[str]]

# TCP + TLS handshake of a new connection. A live API server on a sane network takes
# milliseconds; the request timeout (30 s) is for slow answers, not for a dead peer.
CONNECT_TIMEOUT = 5.0
# How long a create waits out a ResourceQuota not counted yet (kube/errors.py KubeQuotaUncounted).
QUOTA_WAIT = 10.0
# The exec/attach websocket upgrade: the API server opens the kubelet's stream (and the
# kubelet the runtime's) before it answers 101. Without a bound, aiohttp's session default
# (300 s) applies.
WS_CONNECT_TIMEOUT = 10.0
# The reachability probe: every ServiceAccount may read /readyz (system:public-info-viewer).
PROBE_PATH = "/readyz"
PROBE_TIMEOUT = 2.0
PROBE_INTERVAL = 1.0
# A call with no answer after this long makes the probe check the API server.
SUSPECT_AFTER = 2.0


def resource_of(path: str) -> str:
    """The resource a request path names, as the API server's metrics name it: ``pods``,
    ``pods/exec``, ``zuncontainers/status``, ``namespaces``; ``version`` for /version."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if parts[:1] == ["api"]:
        rest = parts[2:]
    elif parts[:1] == ["apis"]:
        rest = parts[3:]
    else:
        return "/".join(parts) or "/"
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) != 2:
        rest = rest[2:]  # a namespaced resource, not the namespace object itself
    if not rest:
        return "/"
    return rest[0] + (f"/{rest[2]}" if len(rest) >= 3 else "")


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
    def __init__(
        self,
        api_client: Any,
        *,
        timeout: float,
        connect_timeout: float = CONNECT_TIMEOUT,
        ws_connect_timeout: float = WS_CONNECT_TIMEOUT,
        probe_timeout: float = PROBE_TIMEOUT,
        probe_interval: float = PROBE_INTERVAL,
        suspect_after: float = SUSPECT_AFTER,
    ) -> None:
        self._api = api_client
        self._cfg = api_client.configuration
        self.timeout = timeout
        self.connect_timeout = min(connect_timeout, timeout)
        self.ws_connect_timeout = min(ws_connect_timeout, timeout)
        self.probe_timeout = probe_timeout
        # Requests sent, by "VERB resource" (exported at /metrics as zunk8s_kube_requests_total;
        # bench/requests.py counts what one action costs).
        self.calls: Counter[tuple[str, str]] = Counter()
        # Seconds spent in those requests (request() only: streams last as long as they are
        # open), for the latency of Kubernetes calls at /metrics.
        self.seconds: defaultdict[tuple[str, str], float] = defaultdict(float)
        # Owns the probe task (started on the first suspicion, cancelled by close()).
        self.reachability = Reachability(self._probe, interval=probe_interval, suspect_after=suspect_after)

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
        await self.reachability.close()
        await self._api.close()

    @property
    def reachable(self) -> bool:
        """False while the probe finds the API server unreachable (actions then answer 503)."""
        return self.reachability.reachable

    def unavailable_error(self) -> KubeUnavailable:
        """The 503 that says since when and why the API server is unreachable."""
        return self.reachability.error()

    async def _probe(self) -> None:
        """Return if the API server answers at all, raise ProbeFailed saying why if not.

        Any answer below 500 counts (401/403 still prove it is there); 5xx from /readyz means
        it is up but cannot serve (etcd unreachable, shutting down)."""
        headers = await self.auth_headers()
        try:
            async with self.session.get(
                self.url(PROBE_PATH), headers=headers, timeout=aiohttp.ClientTimeout(total=self.probe_timeout)
            ) as resp:
                if resp.status >= 500:
                    raise ProbeFailed(f"GET {PROBE_PATH} answered {resp.status}")
        except TimeoutError:
            raise ProbeFailed(f"GET {PROBE_PATH}: no answer within {self.probe_timeout:g} s") from None
        except aiohttp.ClientError as e:
            raise ProbeFailed(f"GET {PROBE_PATH}: {describe(e)}") from e

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
        wait_for_api: bool = False,
    ) -> Any:
        """One call. While the API server is unreachable: KubeUnavailable at once, or with
        ``wait_for_api`` (the informers' list) wait until it is back."""
        key = (method, resource_of(path))
        self.calls[key] += 1
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            while True:
                try:
                    return await self._request(method, path, params=params, body=body, content_type=content_type,
                                               timeout=timeout, wait_for_api=wait_for_api)
                except KubeQuotaUncounted:
                    # Usually counted in moments: wait a little, then answer 503 (errors.py).
                    if loop.time() - started > QUOTA_WAIT:
                        raise
                    await asyncio.sleep(0.2)
        finally:
            self.seconds[key] += loop.time() - started

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Query | None,
        body: Any,
        content_type: str,
        timeout: float | None,
        wait_for_api: bool,
    ) -> Any:
        async with self.reachability.guard(f"{method} {path}", wait=wait_for_api):
            headers = await self.auth_headers()
            headers["Accept"] = "application/json"
            data = None
            if body is not None:
                headers["Content-Type"] = content_type
                data = json.dumps(body)
            total = timeout or self.timeout
            try:
                async with self.session.request(
                    method,
                    self.url(path, params),
                    data=data,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=total, sock_connect=self.connect_timeout),
                ) as resp:
                    raw = await resp.read()
                    if resp.status >= 400:
                        raise error_for(resp.status, _loads(raw))
                    return _loads(raw) if raw else None
            except (aiohttp.ClientError, TimeoutError) as e:
                why = _why(e, total)
                self.reachability.suspect(f"{method} {path}: {why}")
                raise KubeUnavailable(f"Kubernetes API unreachable: {why}") from e

    @asynccontextmanager
    async def stream(
        self,
        path: str,
        *,
        params: Query | None = None,
        read_timeout: float | None = None,
        wait_for_api: bool = False,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A GET whose body is read incrementally (watches, log follows).

        An outage aborts the stream (KubeUnavailable from the reading loop), so a watch on a
        dead connection is re-established when the API server is back rather than minutes
        later. ``wait_for_api`` (the informers' watch): wait for the API server while it is
        unreachable; other streams (logs) fail fast."""
        self.calls[("WATCH" if (params or {}).get("watch") else "GET", resource_of(path))] += 1
        async with self.reachability.guard(f"GET {path}", wait=wait_for_api) as watchdog:
            headers = await self.auth_headers()
            try:
                async with self.session.get(
                    self.url(path, params),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(
                        total=None, sock_connect=self.connect_timeout, sock_read=read_timeout
                    ),
                ) as resp:
                    # The server answered: a quiet stream from now on is not a sign of an outage.
                    watchdog.settle()
                    if resp.status >= 400:
                        raise error_for(resp.status, _loads(await resp.read()))
                    yield resp
            except (aiohttp.ClientError, TimeoutError) as e:
                why = _why(e, read_timeout)
                self.reachability.suspect(f"GET {path}: {why}")
                raise KubeUnavailable(f"Kubernetes API stream failed: {why}") from e

    async def ws_connect(self, path: str, params: Query, protocols: tuple[str, ...]) -> aiohttp.ClientWebSocketResponse:
        """Open an exec/attach websocket; bounded by ``ws_connect_timeout`` (aiohttp's
        ws_connect takes no per-call connect timeout: the session's 300 s would apply)."""
        self.calls[("CONNECT", resource_of(path))] += 1
        async with self.reachability.guard(f"GET {path}"):
            headers = await self.auth_headers()
            url = self.url(path, params).replace("https://", "wss://", 1).replace("http://", "ws://", 1)
            try:
                async with asyncio.timeout(self.ws_connect_timeout):
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
                why = _why(e, self.ws_connect_timeout)
                self.reachability.suspect(f"GET {path}: {why}")
                raise KubeUnavailable(f"Kubernetes stream could not be opened: {why}") from e


def _why(e: BaseException, timeout: float | None) -> str:
    if isinstance(e, TimeoutError) and not str(e) and timeout:
        return f"no answer within {timeout:g} s"
    return describe(e)


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")
