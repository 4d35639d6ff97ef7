"""The scale run: N containers (10,000 by default) on kwok nodes through one zunk8s.

    eval "$(deploy/local-cluster env)"; python3 -m bench.run --only scale --scale-size 10000

Prints, with ratios against doing the same on Kubernetes directly:
1. create throughput: containers Running per second through zunk8s (run=true) vs the same
   Pods created directly (the direct run uses --scale-direct Pods, by default as many);
2. list p50 over N containers (Zun's first page of 1,000, and a full walk by marker) vs
   listing the same Pods directly (limit=1000, and all of them);
3. show p50 (one container by uuid) vs reading its Pod directly;
4. zunk8s RSS (idle, holding N, peak) — goal < 300 MB;
5. the time a fresh replica (same prefix, same Redis) takes to be ready with N records.
Containers that ended in Error and Pods deleted during the run are counted, with who is likely
to have deleted them (the grace period asked, zunk8s's orphan-sweep log lines).

Bounded: at most --scale-concurrency requests in flight, at most --scale-window containers
(or Pods) accepted but not yet Running or in Error, progress every 10 s, every wait under one
deadline (--scale-timeout); the namespaces are deleted at the end whatever happened.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import re
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.support import (
    HEADERS,
    KWOK_EXTRA,
    RECORDS_API,
    Tally,
    Zunk8s,
    delete_namespace,
    direct_pod,
    pod_state,
    record_reason,
    record_state,
    say,
    start_zunk8s,
    wait_sa,
)
from zunk8s.kube.http import KubeHTTP
from zunk8s.settings import KubeSettings
from zunk8s.translate.names import pod_name

POD_NAME = re.compile(r"zun-[0-9a-f-]{36}-[0-9]+")
PAGE = 1000  # Zun's max_limit: a list answers at most this many containers
CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=120)


@dataclass
class Options:
    size: int
    direct: int
    concurrency: int
    window: int
    samples: int
    timeout: float
    src: Path | None
    port: int = 9621


@dataclass
class Results:
    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)
        say(line)


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0


def p50_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000 if values else float("nan")


async def timed(fn: Callable[[], Awaitable[Any]], samples: int, deadline: Deadline) -> list[float]:
    """Latencies of ``samples`` sequential calls (failed calls are counted, not timed)."""
    out: list[float] = []
    failed = 0
    for _ in range(samples):
        if deadline.passed():
            break
        t = time.perf_counter()
        try:
            await fn()
        except Exception as e:
            failed += 1
            if failed <= 3:
                say(f"sample failed: {type(e).__name__}: {e}")
            continue
        out.append(time.perf_counter() - t)
    if failed:
        say(f"{failed} of {samples} samples failed")
    return out


async def create_all(
    label: str,
    total: int,
    submit: Callable[[int], Awaitable[None]],
    tally: Tally,
    *,
    opts: Options,
    deadline: Deadline,
) -> tuple[float, float, int]:
    """Submit ``total`` creations (bounded in flight and by the settle window) and wait until
    each is Running or in Error. Returns (seconds until all accepted, seconds until settled,
    how many were submitted)."""
    t0 = time.perf_counter()
    sem = asyncio.Semaphore(opts.concurrency)
    submitted = 0
    failed = 0
    accepted_at = 0.0
    last = time.monotonic()

    def settled() -> int:
        return tally.count("Running", "Error", "Ended")

    def progress(force: bool = False) -> None:
        nonlocal last
        if force or time.monotonic() - last >= 10:
            last = time.monotonic()
            states = collections.Counter(tally.states.values())
            say(
                f"{label}: {time.perf_counter() - t0:5.0f} s, submitted {submitted}/{total} ({failed} refused), "
                f"{dict(sorted(states.items()))}"
            )

    async def one(i: int) -> None:
        nonlocal failed
        async with sem:
            try:
                await submit(i)
            except Exception as e:
                failed += 1
                if failed <= 3:
                    say(f"{label}: request {i} failed: {type(e).__name__}: {e}")

    pending: set[asyncio.Task[None]] = set()
    while submitted < total and not deadline.passed():
        # Window: no more than opts.window accepted but not settled (or waiting to be sent).
        if submitted - failed - settled() >= opts.window or len(pending) >= opts.concurrency * 2:
            await asyncio.sleep(0.05)
            pending = {t for t in pending if not t.done()}
            progress()
            continue
        pending.add(asyncio.create_task(one(submitted)))
        submitted += 1
    if pending:
        await asyncio.wait(pending, timeout=max(deadline.left(), 1))
    accepted_at = time.perf_counter() - t0
    while settled() < submitted - failed and not deadline.passed():
        await asyncio.sleep(0.2)
        progress()
    progress(force=True)
    return accepted_at, time.perf_counter() - t0, submitted - failed


async def direct_phase(http: KubeHTTP, env: dict[str, str], *, prefix: str, opts: Options, deadline: Deadline, res: Results) -> float:
    """Create opts.direct Pods directly; their Running rate (Pods/s), then remove them."""
    namespace = f"{prefix}direct"
    await http.request("POST", "/api/v1/namespaces", body={"metadata": {"name": namespace}})
    await wait_sa(http, namespace)
    tally = Tally(http, f"/api/v1/namespaces/{namespace}/pods", pod_state)
    watcher = asyncio.create_task(tally.run())
    path = f"/api/v1/namespaces/{namespace}/pods"

    async def submit(i: int) -> None:
        await http.request("POST", path, body=direct_pod(namespace, f"direct-{i}", env["ZUNK8S_TEST_IMAGE"], kwok=True))

    try:
        accepted, settled, n = await create_all("direct", opts.direct, submit, tally, opts=opts, deadline=deadline)
        running = tally.count("Running")
        rate = running / settled if settled else 0.0
        res.add(
            f"direct: {n} Pods created in {accepted:.1f} s ({n / accepted:.0f}/s accepted), {running} Running after "
            f"{settled:.1f} s: {rate:.1f} Pods/s"
        )
        return rate
    finally:
        watcher.cancel()
        # Gone before zunk8s is measured, so that their deletion does not load the cluster then.
        await delete_namespace(http, namespace, timeout=300)


def summarize(res: Results, records: Tally, pods: Tally, log_path: Path) -> None:
    """What went wrong, and who deleted Pods behind zunk8s."""
    states = collections.Counter(records.states.values())
    res.add(f"final container states: {dict(sorted(states.items()))}")
    reasons = collections.Counter(
        POD_NAME.sub("<pod>", r)[:100] for name, r in records.reasons.items() if records.states.get(name) == "Error"
    )
    for reason, count in reasons.most_common(3):
        res.add(f"  Error x{count}: {reason}")
    graces = collections.Counter(g for _, g in pods.deleted)
    orphans = log_path.read_text(errors="replace").count("deleting_orphan_pod") if log_path.exists() else 0
    res.add(
        f"Pods deleted during the run: {len(pods.deleted)} by grace asked {dict(graces)} "
        f"(None/0: immediate, zunk8s or PodGC; 10: graceful, garbage collector or eviction); "
        f"zunk8s orphan-sweep deletions logged: {orphans}"
    )


async def bench_scale(env: dict[str, str], opts: Options) -> None:
    deadline = Deadline(opts.timeout)
    prefix = f"zs{secrets.token_hex(2)}-"
    namespace = f"{prefix}default"
    log_path = Path(f"/tmp/{prefix}zunk8s.log")
    res = Results()
    say(f"scale run: {opts.size} containers, prefix {prefix}, zunk8s log {log_path}, deadline {opts.timeout:.0f} s")
    http = await KubeHTTP.connect(KubeSettings(kubeconfig=env["KUBECONFIG"], request_timeout=60))
    replicas: list[Zunk8s] = []
    watchers: list[asyncio.Task[None]] = []
    direct_rate = 0.0
    records: Tally | None = None
    pods: Tally | None = None
    try:
        if opts.direct > 0:
            direct_rate = await direct_phase(http, env, prefix=prefix, opts=opts, deadline=deadline, res=res)

        zun = start_zunk8s(env, prefix=prefix, port=opts.port, extra=KWOK_EXTRA, log_path=log_path, src=opts.src)
        replicas.append(zun)
        idle_rss = zun.rss()
        records = Tally(http, f"{RECORDS_API}/namespaces/{namespace}/zuncontainers", record_state, reason_of=record_reason)
        pods = Tally(http, f"/api/v1/namespaces/{namespace}/pods", pod_state)
        watchers += [asyncio.create_task(records.run()), asyncio.create_task(pods.run())]

        async with aiohttp.ClientSession(timeout=CLIENT_TIMEOUT) as s:
            image = env["ZUNK8S_TEST_IMAGE"]

            async def submit(i: int) -> None:
                body = {"image": image, "command": ["sleep", "3600"], "name": f"sc-{i}"}
                async with s.post(f"{zun.url}/v1/containers?run=true", data=json.dumps(body), headers=HEADERS) as r:
                    if r.status != 202:
                        raise RuntimeError(f"{r.status} {(await r.text())[:200]}")

            accepted, settled, n = await create_all("zunk8s", opts.size, submit, records, opts=opts, deadline=deadline)
            running = records.count("Running")
            rate = running / settled if settled else 0.0
            ratio = f", ratio to direct {rate / direct_rate:.2f}" if direct_rate else ""
            res.add(
                f"zunk8s: {n} containers accepted in {accepted:.1f} s ({n / accepted:.0f}/s), {running} Running after "
                f"{settled:.1f} s: {rate:.1f} containers/s{ratio}"
            )
            res.add(f"zunk8s RSS: {idle_rss:.0f} MiB idle, {zun.rss():.0f} MiB holding {len(records.states)} containers")

            # List: Zun's first page (sort and filter over all N), and a full walk by marker.
            list_url = f"{zun.url}/v1/containers"
            uuids: list[str] = []

            async def zun_list() -> None:
                async with s.get(list_url, headers=HEADERS) as r:
                    items = (await r.json())["containers"]
                if not uuids:
                    uuids.extend(c["uuid"] for c in items)

            async def zun_walk() -> None:
                marker, count = "", 0
                while True:
                    q = f"?limit={PAGE}" + (f"&marker={marker}" if marker else "")
                    async with s.get(list_url + q, headers=HEADERS) as r:
                        items = (await r.json())["containers"]
                    count += len(items)
                    if len(items) < PAGE:
                        break
                    marker = items[-1]["uuid"]

            pods_path = f"/api/v1/namespaces/{namespace}/pods"
            zl = await timed(zun_list, opts.samples, deadline)
            kl = await timed(lambda: http.request("GET", pods_path, params={"limit": PAGE}), opts.samples, deadline)
            zw = await timed(zun_walk, 3, deadline)
            kw = await timed(lambda: http.request("GET", pods_path, timeout=300), 3, deadline)
            res.add(
                f"list ({n} containers, first page of {PAGE}), {len(zl)} samples: zunk8s p50 {p50_ms(zl):.1f} ms "
                f"(goal < 200 ms), direct Pod list limit={PAGE} p50 {p50_ms(kl):.1f} ms, ratio {p50_ms(zl) / p50_ms(kl):.2f}"
            )
            res.add(
                f"list all {n} containers (by marker, {-(-n // PAGE)} pages), {len(zw)} samples: zunk8s p50 "
                f"{p50_ms(zw):.0f} ms, direct Pod list (one request) p50 {p50_ms(kw):.0f} ms, ratio {p50_ms(zw) / p50_ms(kw):.2f}"
            )

            # Show: one container by uuid vs its Pod (containers whose first Pod exists).
            alive = [u for u in uuids if pod_name(u, 1) in pods.states]
            picks = [random.choice(alive) for _ in range(opts.samples * 10)] if alive else []
            zun_picks, kube_picks = iter(picks), iter(picks)

            async def zun_show() -> None:
                async with s.get(f"{list_url}/{next(zun_picks)}", headers=HEADERS) as r:
                    await r.read()

            async def kube_show() -> None:
                await http.request("GET", f"{pods_path}/{pod_name(next(kube_picks), 1)}")

            zs = await timed(zun_show, len(picks), deadline)
            ks = await timed(kube_show, len(picks), deadline)
            res.add(
                f"show, {len(zs)} samples: zunk8s p50 {p50_ms(zs):.2f} ms (goal < 5 ms), direct Pod GET p50 "
                f"{p50_ms(ks):.2f} ms, ratio {p50_ms(zs) / p50_ms(ks):.2f}"
            )
            res.add(f"zunk8s RSS after list and show: {zun.rss():.0f} MiB (peak {zun.peak():.0f} MiB; goal < 300 MB)")

        # A fresh replica: same prefix and Redis, ready (caches synced) with N records.
        if not deadline.passed():
            second = start_zunk8s(
                env,
                prefix=prefix,
                port=opts.port + 1,
                extra=KWOK_EXTRA,
                log_path=log_path.with_suffix(".replica2.log"),
                src=opts.src,
                timeout=max(min(deadline.left(), 300.0), 30.0),
            )
            replicas.append(second)
            res.add(
                f"fresh replica ready with {len(records.states)} records in {second.ready_after:.1f} s "
                f"(RSS {second.rss():.0f} MiB, peak {second.peak():.0f} MiB)"
            )

    finally:
        for w in watchers:
            w.cancel()
        if records is not None and pods is not None:
            summarize(res, records, pods, log_path)
        for r in replicas:
            r.stop()
        say("cleaning up")
        await delete_namespace(http, namespace, timeout=300)
        await http.close()
        print("\n".join(["", "=== scale run ===", *res.lines]), flush=True)
