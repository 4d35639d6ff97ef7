"""How many Kubernetes requests one `stop` and one `start` cost, now and at an earlier commit.

    eval "$(deploy/local-cluster env)"; python3 -m bench.requests [--runs 5] [--baseline REV]

Each zunk8s reports the requests it sent to the Kubernetes API at /metrics
(``zunk8s_kube_requests_total{verb,resource}``). A container runs on the real node; each
round stops it and starts it again, waiting each time until the action is over (status
reached, task_state cleared) and the reconciler has written what the Pod watch showed, and
counts the requests sent meanwhile. ``--baseline REV`` runs the same rounds with the code of
REV (checked out into a temporary worktree; it needs the same metric, i.e. a commit from the
reshape on) and prints both, side by side. Kubernetes' own work (the kubelet's status
writes) is not counted: only what zunk8s asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

from bench.support import HEADERS, ROOT, Zunk8s, cluster_env, delete_namespace, say, start_zunk8s
from zunk8s.kube.http import KubeHTTP
from zunk8s.settings import AuthSettings, KubeSettings
from zunk8s.translate.names import namespace_for

IMAGE = "localhost/zunk8s-busybox:1"
# A shell that ends at SIGTERM, so a stop takes as long as Kubernetes needs, not the grace period.
COMMAND = ["sh", "-c", 'trap "exit 0" TERM; while :; do sleep 1; done']
# After an action ends, the reconciler may still write what the Pod watch shows; counts are
# read once nothing has been sent for this long.
QUIET = 1.5


async def kube_counts(session: aiohttp.ClientSession, url: str) -> Counter[str]:
    async with session.get(f"{url}/metrics") as r:
        text = await r.text()
    out: Counter[str] = Counter()
    for line in text.splitlines():
        if line.startswith("zunk8s_kube_requests_total{"):
            labels, _, value = line.rpartition(" ")
            verb = labels.split('verb="', 1)[1].split('"', 1)[0]
            resource = labels.split('resource="', 1)[1].split('"', 1)[0]
            out[f"{verb} {resource}"] = int(float(value))
    return out


async def container(session: aiohttp.ClientSession, url: str, uuid: str) -> dict[str, object]:
    async with session.get(f"{url}/v1/containers/{uuid}", headers=HEADERS) as r:
        body: dict[str, object] = await r.json()
        return body


async def settle(session: aiohttp.ClientSession, url: str, uuid: str, status: str) -> Counter[str]:
    """Wait until the container shows ``status`` with no task, then until zunk8s sends nothing."""
    deadline = time.monotonic() + 60
    while True:
        c = await container(session, url, uuid)
        if c.get("status") == status and c.get("task_state") is None:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"container {uuid} did not reach {status}: {c.get('status')} {c.get('task_state')}")
        await asyncio.sleep(0.05)
    counts = await kube_counts(session, url)
    while True:
        await asyncio.sleep(QUIET)
        later = await kube_counts(session, url)
        if later == counts:
            return counts
        counts = later


def pure(counts: Counter[str]) -> Counter[str]:
    """Without the informers' own watches (they restart on their own schedule)."""
    return Counter({k: v for k, v in counts.items() if not k.startswith("WATCH ") and v})


async def measure(zun: Zunk8s, runs: int) -> dict[str, list[Counter[str]]]:
    out: dict[str, list[Counter[str]]] = {"stop": [], "start": []}
    async with aiohttp.ClientSession() as session:
        body = {"image": IMAGE, "command": COMMAND}
        async with session.post(f"{zun.url}/v1/containers?run=true", data=json.dumps(body), headers=HEADERS) as r:
            uuid = str((await r.json())["uuid"])
        before = await settle(session, zun.url, uuid, "Running")
        for _ in range(runs):
            for action, reached in (("stop", "Stopped"), ("start", "Running")):
                async with session.post(f"{zun.url}/v1/containers/{uuid}/{action}", headers=HEADERS) as r:
                    if r.status != 202:
                        raise RuntimeError(f"{action}: {r.status} {await r.text()}")
                after = await settle(session, zun.url, uuid, reached)
                out[action].append(pure(after - before))
                before = after
    return out


def report(label: str, results: dict[str, list[Counter[str]]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for action, rounds in results.items():
        keys = sorted({k for c in rounds for k in c})
        per = {k: statistics.median(c[k] for c in rounds) for k in keys}
        total = statistics.median(sum(c.values()) for c in rounds)
        totals[action] = total
        detail = ", ".join(f"{k} {v:g}" for k, v in per.items())
        say(f"{label}: {action}: {total:g} requests (median of {len(rounds)}): {detail}")
    return totals


async def run_one(env: dict[str, str], runs: int, src: Path | None, label: str, port: int) -> dict[str, float]:
    prefix = f"br{secrets.token_hex(2)}-"
    zun = start_zunk8s(env, prefix=prefix, port=port, extra={}, src=src)
    http = await KubeHTTP.connect(KubeSettings(kubeconfig=env["KUBECONFIG"]))
    try:
        return report(label, await measure(zun, runs))
    finally:
        zun.stop()
        await delete_namespace(http, namespace_for(AuthSettings().default_project, prefix), timeout=60)
        await http.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", help="a git revision to compare with (same metric needed)")
    args = parser.parse_args()
    env = cluster_env()
    totals: dict[str, dict[str, float]] = {}
    if args.baseline:
        with tempfile.TemporaryDirectory(prefix="zunk8s-baseline-") as tmp:
            tree = Path(tmp) / "src"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.baseline], check=True)
            try:
                totals[args.baseline] = await run_one(env, args.runs, tree, f"at {args.baseline}", 9631)
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    totals["now"] = await run_one(env, args.runs, None, "now", 9632)
    if args.baseline:
        for action in ("stop", "start"):
            old, new = totals[args.baseline][action], totals["now"][action]
            say(f"{action}: {old:g} -> {new:g} Kubernetes requests ({new / old:.2f}x)")


if __name__ == "__main__":
    asyncio.run(main())
