"""What Keystone mode adds to a request: `GET /v1/containers/<id>` through a zunk8s in Keystone
mode vs the same through one in noauth mode, in the same run, against the test bed's Keystone.

    eval "$(deploy/local-cluster env)"; deploy/keystone up; python3 -m bench.auth [--requests 500]

Warm: one token, validated once and then cached. Miss: a token zunk8s has not seen (issued
beforehand), so every request asks Keystone. Prints medians and p90s, and the added latency.
Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time
from typing import Any

import aiohttp

from bench.support import HEADERS, Zunk8s, cluster_env, delete_namespace, deploy_env, say, start_zunk8s
from zunk8s.kube.http import KubeHTTP
from zunk8s.settings import KubeSettings
from zunk8s.translate.names import namespace_for

IMAGE = "localhost/zunk8s-busybox:1"


async def issue(session: aiohttp.ClientSession, ks: dict[str, str], user: str) -> tuple[str, str]:
    """A project-scoped token of a test user, and its project id."""
    u = user.upper()
    auth = {
        "identity": {
            "methods": ["password"],
            "password": {
                "user": {
                    "name": ks[f"ZUNK8S_TEST_KEYSTONE_{u}_USER"],
                    "domain": {"name": "Default"},
                    "password": ks[f"ZUNK8S_TEST_KEYSTONE_{u}_PASSWORD"],
                }
            },
        },
        "scope": {"project": {"name": ks[f"ZUNK8S_TEST_KEYSTONE_{u}_PROJECT"], "domain": {"name": "Default"}}},
    }
    async with session.post(f"{ks['ZUNK8S_KEYSTONE_URL']}/auth/tokens", json={"auth": auth}) as r:
        body: dict[str, Any] = await r.json()
        return r.headers["X-Subject-Token"], str(body["token"]["project"]["id"])


async def timed_gets(session: aiohttp.ClientSession, url: str, headers_for: list[dict[str, str]]) -> list[float]:
    out = []
    for headers in headers_for:
        t0 = time.perf_counter()
        async with session.get(url, headers={**HEADERS, **headers}) as r:
            await r.read()
            if r.status != 200:
                raise RuntimeError(f"GET {url}: {r.status}")
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def make_container(session: aiohttp.ClientSession, zun: Zunk8s, headers: dict[str, str]) -> str:
    body = {"image": IMAGE, "command": ["sleep", "60"]}
    async with session.post(f"{zun.url}/v1/containers", data=json.dumps(body), headers={**HEADERS, **headers}) as r:
        made: dict[str, Any] = await r.json()
        if r.status != 202:
            raise RuntimeError(f"create: {r.status} {made}")
        return str(made["uuid"])


def summary(ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=10)
    return f"median {statistics.median(ms):.2f} ms, p90 {q[-1]:.2f} ms (n={len(ms)})"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--misses", type=int, default=60)
    args = parser.parse_args()
    env = cluster_env()
    ks = deploy_env("keystone")
    prefix_noauth, prefix_ks = f"ba{secrets.token_hex(2)}-", f"bk{secrets.token_hex(2)}-"
    noauth = start_zunk8s(env, prefix=prefix_noauth, port=9651, extra={})
    keystone = start_zunk8s(
        env,
        prefix=prefix_ks,
        port=9652,
        extra={
            "ZUNK8S_AUTH__MODE": "keystone",
            "ZUNK8S_AUTH__KEYSTONE__AUTH_URL": ks["ZUNK8S_KEYSTONE_URL"],
            "ZUNK8S_AUTH__KEYSTONE__USERNAME": ks["ZUNK8S_TEST_KEYSTONE_SERVICE_USER"],
            "ZUNK8S_AUTH__KEYSTONE__PASSWORD": ks["ZUNK8S_TEST_KEYSTONE_SERVICE_PASSWORD"],
            "ZUNK8S_AUTH__KEYSTONE__PROJECT_NAME": ks["ZUNK8S_TEST_KEYSTONE_SERVICE_PROJECT"],
        },
    )
    http = await KubeHTTP.connect(KubeSettings(kubeconfig=env["KUBECONFIG"]))
    project = ""
    try:
        async with aiohttp.ClientSession() as session:
            token, project = await issue(session, ks, "alice")
            plain = {"X-Project-Id": project, "X-User-Id": "bench"}
            with_token = {"X-Auth-Token": token}
            uuid_noauth = await make_container(session, noauth, plain)
            uuid_ks = await make_container(session, keystone, with_token)
            n = args.requests
            # Interleaved rounds, so both see the same machine load.
            base: list[float] = []
            warm: list[float] = []
            for _ in range(5):
                base += await timed_gets(session, f"{noauth.url}/v1/containers/{uuid_noauth}", [plain] * (n // 5))
                warm += await timed_gets(session, f"{keystone.url}/v1/containers/{uuid_ks}", [with_token] * (n // 5))
            fresh = [{"X-Auth-Token": (await issue(session, ks, "alice"))[0]} for _ in range(args.misses)]
            miss = await timed_gets(session, f"{keystone.url}/v1/containers/{uuid_ks}", fresh)
            say(f"noauth:            {summary(base)}")
            say(f"keystone, cached:  {summary(warm)}")
            say(f"keystone, miss:    {summary(miss)}")
            added_warm = statistics.median(warm) - statistics.median(base)
            added_miss = statistics.median(miss) - statistics.median(base)
            say(f"added by Keystone mode: {added_warm:+.3f} ms cached ({statistics.median(warm) / statistics.median(base):.2f}x), "
                f"{added_miss:+.2f} ms on a cache miss ({statistics.median(miss) / statistics.median(base):.1f}x)")
    finally:
        noauth.stop()
        keystone.stop()
        await delete_namespace(http, namespace_for(project, prefix_noauth), timeout=30)
        await delete_namespace(http, namespace_for(project, prefix_ks), timeout=30)
        await http.close()


if __name__ == "__main__":
    asyncio.run(main())
