"""How fast a security-group change shows in packets: zunk8s against the same work done directly
on Kubernetes, in one run.

    eval "$(deploy/local-cluster env)"; python3 -m bench.isolation [--runs 10]

Prints, with ratios zunk8s/direct, the median (min, max) over ``--runs`` cycles of:
1. add -> allowed: from sending `add_security_group?name=web` (zunk8s: a client container joins
   the group "web" that a server's group "srv" admits on TCP 80) or the PATCH that labels the
   client Pod ``group=web`` (direct: a NetworkPolicy admits TCP 80 to the server from
   ``group=web``) to the first probe that gets through;
2. remove -> refused: from sending `remove_security_group?name=web`, or the PATCH removing the
   label, to the first probe that is refused.

The probe: one HTTP request from the client to the server (busybox httpd answering "ok"), run in
the client as ``sh -c "cat /proc/uptime; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 1 IP 80"``;
it passes when it exits 0 with output ending in "ok". The /proc/uptime line stamps when nc
started, on the clock the bench reads too (CLOCK_BOOTTIME: the Pods run on this host's kernel),
to 10 ms (/proc/uptime's resolution, rounded down): an exec takes some 35 ms to set up, a good
part of what the changes take, so the time a probe is launched says little. A refused probe lasts
nc's 1 s timeout (kube-router drops the packets), a passing one some 50 ms, so probes do not wait
for each other: from the moment a change is sent (not only once it is answered), one is launched
every 50 ms (at most 40 at once; when waiting for a refusal, none while one has run for 0.4 s)
until one shows the new state, and the others are let finish. A transition's time is the
earliest nc start among the probes showing the new state; the change being sent, or a later nc
start that still showed the old state, bounds it from below, and the median gap between the two
is printed as the resolution. No time below the exec set-up (some 35 ms) can be seen.

On the zunk8s side the probe goes through zunk8s's `execute` (run=true); on the direct side it
is the same command through the same exec stream code zunk8s's `execute` uses
(zunk8s.kube.streams), straight to the API server. The exec set-up times (launch to nc start) of
both are printed; they are not part of the times measured.
Both sides' cycles are interleaved, so drift in the node's load hits both alike.
Not a test: nothing here asserts; numbers go in the issue notes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.support import cluster_env, delete_namespace, direct_pod, say, start_zunk8s, wait_sa
from zunk8s.kube.http import KubeHTTP
from zunk8s.kube.streams import STDERR, STDOUT, open_stream
from zunk8s.settings import KubeSettings
from zunk8s.translate.commandline import split_command

NET = "/network/v2.0"
SERVE = ["sh", "-c", "echo ok > /tmp/index.html && httpd -p 80 -h /tmp && exec sleep 3600"]
NC_TIMEOUT = 1  # seconds (nc -w)
# After a change, a probe starts this often, whether or not the earlier ones have finished.
INTERVAL = 0.05
MAX_INFLIGHT = 40
# While a probe has run this long, no more are launched (see ``until``).
REFUSING_AFTER = 0.4
# A transition not seen within this long ends the cycles (the run stays bounded).
TRANSITION_TIMEOUT = 30.0
# The cycles stop (with what they measured) once this much time has gone since the first.
CYCLES_BUDGET = 200.0
PROJECT = "bench-iso"
USER = "bench"
PORT = 9614

Obj = dict[str, Any]
# A probe's exit code (None: unknown) and output.
Prober = Callable[[], Awaitable[tuple[int | None, str]]]


def now() -> float:
    """The clock /proc/uptime shows (in the containers too: same kernel, no time namespace)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def probe_command(ip: str) -> str:
    return f"sh -c \"cat /proc/uptime; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w {NC_TIMEOUT} {ip} 80\""


@dataclass(frozen=True)
class Result:
    ok: bool
    at: float  # when nc started (the container's /proc/uptime; the launch time when not shown)
    launched: float


def result(exit_code: int | None, output: str, launched: float) -> Result:
    first, _, _ = output.partition("\n")
    try:
        at = float(first.split()[0])
    except (IndexError, ValueError):
        at = launched
    return Result(ok=exit_code == 0 and output.rstrip().endswith("\nok"), at=at, launched=launched)


@dataclass
class Transition:
    """One change and the probes that saw it take effect (times from sending the change)."""

    seen: float  # when the earliest new-state probe's nc started
    gap: float  # from the change sent, or the last old-state probe's nc start after it, to ``seen``
    probes: int  # probes started after the change
    late_old: int  # of those, probes whose nc started after ``seen`` yet showed the old state


@dataclass
class Side:
    name: str
    allowed: list[Transition] = field(default_factory=list)
    refused: list[Transition] = field(default_factory=list)
    probe_ok: list[float] = field(default_factory=list)  # durations of passing probes
    probe_fail: list[float] = field(default_factory=list)  # durations of refused probes
    setup: list[float] = field(default_factory=list)  # from launching a probe to its nc starting
    unstamped: int = 0  # probes without a readable /proc/uptime line
    # A probe before the next change still showed the state before the last one.
    flaps: int = 0
    requests: list[float] = field(default_factory=list)  # how long the changes took to answer

    async def change(self, send: Awaitable[Any], probe: Prober, *, allowed: bool) -> Transition:
        """Send a change and probe until it shows: probes are launched from the moment it is
        sent, not only once it is answered (the answer itself takes 10-30 ms)."""
        t0 = now()
        watch = asyncio.create_task(until(self, probe, allowed=allowed, t0=t0))
        try:
            await send
        except BaseException:
            watch.cancel()
            raise
        self.requests.append(now() - t0)
        return await watch

    async def probe(self, probe: Prober) -> Result:
        launched = now()
        code, output = await probe()
        r = result(code, output, launched)
        (self.probe_ok if r.ok else self.probe_fail).append(now() - launched)
        if r.at == launched:
            self.unstamped += 1
        else:
            self.setup.append(r.at - launched)
        return r


async def until(side: Side, probe: Prober, *, allowed: bool, t0: float) -> Transition:
    """Start a probe every INTERVAL (at most MAX_INFLIGHT at once) until one gives ``allowed``,
    then let the others finish; times are from ``t0`` (the change sent)."""
    pending: set[asyncio.Task[Result]] = set()
    launched: dict[asyncio.Task[Result], float] = {}
    results: list[Result] = []
    next_at = now()
    try:
        while not any(r.ok == allowed for r in results) or pending:
            if now() - t0 > TRANSITION_TIMEOUT:
                raise TimeoutError(
                    f"{side.name}: not {'allowed' if allowed else 'refused'} within {TRANSITION_TIMEOUT:.0f} s"
                )
            if not any(r.ok == allowed for r in results):
                # Waiting for a refusal, a probe this old is being refused (a passing one takes some
                # 50 ms): no more are launched while it runs out nc's timeout; what it shows decides.
                refusing = not allowed and any(now() - launched[task] > REFUSING_AFTER for task in pending)
                held = refusing or len(pending) >= MAX_INFLIGHT
                if not held and now() >= next_at:
                    task = asyncio.create_task(side.probe(probe))
                    pending.add(task)
                    launched[task] = now()
                    next_at = launched[task] + INTERVAL
                # Held: until a probe ends. Else until the next launch.
                wait: float | None = None if held else max(next_at - now(), 0.0)
            else:  # the rest were launched earlier: bounded by nc's timeout
                wait = None
            if not pending:
                await asyncio.sleep(wait or 0.0)
                continue
            done, pending = await asyncio.wait(pending, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            results += [task.result() for task in done]
    finally:
        for task in pending:
            task.cancel()
    seen = min(r.at for r in results if r.ok == allowed)
    lower = max([t0, *(r.at for r in results if r.ok != allowed and r.at < seen)])
    late = [r for r in results if r.ok != allowed and r.at > seen]
    return Transition(seen=seen - t0, gap=seen - lower, probes=len(results), late_old=len(late))


async def settle(side: Side, probe: Prober, *, allowed: bool) -> None:
    """Probe until the state is ``allowed`` (before a change is sent). A probe showing the other
    state is counted as a flap (the state before the last change came back)."""
    deadline = now() + TRANSITION_TIMEOUT
    while now() < deadline:
        if (await side.probe(probe)).ok == allowed:
            return
        side.flaps += 1
    raise TimeoutError(f"{side.name}: the probe is not {'allowed' if allowed else 'refused'} before the change")


# --- zunk8s -------------------------------------------------------------------------------


class Zun:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.s = session
        self.url = url

    async def call(
        self, method: str, path: str, *, body: Any = None, params: dict[str, str] | None = None,
        version: str | None = "1.40", roles: str | None = None,
    ) -> tuple[int, Any]:
        headers = {"X-Project-Id": PROJECT, "X-User-Id": USER, "Accept": "application/json"}
        if version is not None:
            headers["OpenStack-API-Version"] = f"container {version}"
        if roles is not None:
            headers["X-Roles"] = roles
        async with self.s.request(method, self.url + path, json=body, params=params, headers=headers) as r:
            raw = await r.read()
            return r.status, (json.loads(raw) if raw and r.content_type == "application/json" else raw.decode())

    async def expect(self, status: int, method: str, path: str, **kw: Any) -> Any:
        got, body = await self.call(method, path, **kw)
        if got != status:
            raise RuntimeError(f"{method} {path} {kw.get('params') or ''} {kw.get('body') or ''}: expected {status}, "
                               f"got {got}: {body}")
        return body

    async def group(self, name: str) -> str:
        body = await self.expect(201, "POST", f"{NET}/security-groups", body={"security_group": {"name": name}},
                                 version=None, roles="member")
        return str(body["security_group"]["id"])

    async def running(self, **fields: Any) -> Obj:
        body = {"image": fields.pop("image"), "command": ["sleep", "3600"], **fields}
        made = await self.expect(202, "POST", "/v1/containers", body=body, params={"run": "true"})
        return await self.idle(str(made["uuid"]), "Running")

    async def idle(self, uuid: str, status: str = "Running", timeout: float = 120) -> Obj:
        deadline = time.monotonic() + timeout
        shown: Obj = {}
        while time.monotonic() < deadline:
            shown = await self.expect(200, "GET", f"/v1/containers/{uuid}")
            if shown["status"] == status and shown["task_state"] is None:
                return shown
            await asyncio.sleep(0.05)
        raise RuntimeError(f"container {uuid} not {status} and idle in {timeout:.0f} s: {shown.get('status')} "
                           f"{shown.get('status_reason')} task={shown.get('task_state')}")

    def prober(self, uuid: str, ip: str) -> Prober:
        params = {"command": probe_command(ip), "run": "true"}

        async def probe() -> tuple[int | None, str]:
            body = await self.expect(200, "POST", f"/v1/containers/{uuid}/execute", params=params)
            return body["exit_code"], str(body["output"])

        return probe


def address(c: Obj) -> str:
    (first,) = {a["addr"] for entries in c["addresses"].values() for a in entries}
    return str(first)


# --- direct -------------------------------------------------------------------------------


def direct_prober(http: KubeHTTP, namespace: str, pod: str, ip: str) -> Prober:
    argv = split_command(probe_command(ip))  # as zunk8s's execute splits it

    async def probe() -> tuple[int | None, str]:
        stream = await open_stream(http, kind="exec", namespace=namespace, pod=pod, container="main", command=argv)
        out: list[bytes] = []
        try:
            async with asyncio.timeout(NC_TIMEOUT + 30):
                async for channel, payload in stream.frames():
                    if channel in (STDOUT, STDERR):
                        out.append(payload)
        finally:
            await stream.close()
        code = stream.status.exit_code if stream.status is not None else None
        return code, b"".join(out).decode("utf-8", errors="replace")

    return probe


def policy(namespace: str, name: str, app: str, ingress: list[Obj]) -> Obj:
    """Like zunk8s's policy per container: Ingress and Egress, egress anywhere."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Ingress", "Egress"],
                 "ingress": ingress, "egress": [{}]},
    }


async def direct_running(http: KubeHTTP, namespace: str, name: str, image: str, app: str, *, serve: bool) -> Obj:
    pod = direct_pod(namespace, name, image)
    pod["metadata"]["labels"] = {"bench": "isolation", "app": app}
    if serve:
        pod["spec"]["containers"][0]["args"] = SERVE
    await http.request("POST", f"/api/v1/namespaces/{namespace}/pods", body=pod)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        obj: Obj = await http.request("GET", f"/api/v1/namespaces/{namespace}/pods/{name}")
        status = obj.get("status") or {}
        states = [cs.get("state") or {} for cs in status.get("containerStatuses") or []]
        if status.get("podIP") and any("running" in state for state in states):
            return obj
        await asyncio.sleep(0.1)
    raise RuntimeError(f"pod {namespace}/{name} not Running in 120 s")


async def label(http: KubeHTTP, namespace: str, pod: str, value: str | None) -> None:
    await http.request("PATCH", f"/api/v1/namespaces/{namespace}/pods/{pod}",
                       body={"metadata": {"labels": {"group": value}}}, content_type="application/merge-patch+json")


# --- the run ------------------------------------------------------------------------------


def stats(values: list[float]) -> str:
    if not values:
        return "no samples"
    ms = [v * 1000 for v in values]
    return f"median {statistics.median(ms):.0f} ms (min {min(ms):.0f}, max {max(ms):.0f})"


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms" if values else "n/a"


def report(zun: Side, direct: Side, runs: int) -> None:
    for what, attr in (("add -> allowed", "allowed"), ("remove -> refused", "refused")):
        z: list[Transition] = getattr(zun, attr)
        d: list[Transition] = getattr(direct, attr)
        zs, ds = [t.seen for t in z], [t.seen for t in d]
        ratio = f"{statistics.median(zs) / statistics.median(ds):.2f}" if zs and ds else "n/a"
        print(f"{what}, {len(zs)}/{runs} cycles: zunk8s {stats(zs)}; direct {stats(ds)}; ratio {ratio}")
        print(f"    resolution (median gap from the change, or the last old-state probe after it, to the first "
              f"new-state probe; times at nc's start): zunk8s {median_ms([t.gap for t in z])}, "
              f"direct {median_ms([t.gap for t in d])}")
        print(f"    probes launched after the change: zunk8s {sum(t.probes for t in z)}, direct "
              f"{sum(t.probes for t in d)}; of those, showing the old state after the first new-state one: "
              f"zunk8s {sum(t.late_old for t in z)}, direct {sum(t.late_old for t in d)}")
    print(f"probe duration (nc -w {NC_TIMEOUT}): passing zunk8s execute {median_ms(zun.probe_ok)}, direct exec stream "
          f"{median_ms(direct.probe_ok)}; refused zunk8s execute {median_ms(zun.probe_fail)}, direct exec stream "
          f"{median_ms(direct.probe_fail)}")
    print(f"the change answered in (part of the times above): zunk8s {stats(zun.requests)}, "
          f"direct PATCH {stats(direct.requests)}")
    print(f"probe launch to nc start (exec set-up, not counted above): zunk8s execute {median_ms(zun.setup)}, "
          f"direct exec stream {median_ms(direct.setup)}; probes without a timestamp: zunk8s {zun.unstamped}, "
          f"direct {direct.unstamped}")
    print(f"flaps (a probe before the next change showing the state before the last one): zunk8s {zun.flaps}, "
          f"direct {direct.flaps}")


async def bench_isolation(env: dict[str, str], runs: int) -> None:
    prefix = f"bi{secrets.token_hex(2)}-"
    image = env["ZUNK8S_TEST_IMAGE"]
    extra = {"ZUNK8S_NETWORK__POD_CIDRS": env["ZUNK8S_NETWORK__POD_CIDRS"]}
    server = start_zunk8s(env, prefix=prefix, port=PORT, extra=extra)
    http = await KubeHTTP.connect(KubeSettings(kubeconfig=env["KUBECONFIG"]))
    direct_ns = f"{prefix}direct"
    zside, dside = Side("zunk8s"), Side("direct")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as s:
            zun = Zun(s, server.url)
            # zunk8s: "srv" admits TCP 80 from "web"; the server in srv, the client in none.
            web, srv = await zun.group("web"), await zun.group("srv")
            rule = {"security_group_id": srv, "direction": "ingress", "protocol": "tcp", "port_range_min": 80,
                    "port_range_max": 80, "remote_group_id": web}
            await zun.expect(201, "POST", f"{NET}/security-group-rules", body={"security_group_rule": rule},
                             version=None, roles="member")
            zserver = await zun.running(image=image, command=SERVE, security_groups=[srv], name="iso-server")
            zclient = await zun.running(image=image, name="iso-client")
            zprobe = zun.prober(str(zclient["uuid"]), address(zserver))
            cuuid = str(zclient["uuid"])
            say(f"zunk8s: server {address(zserver)} in srv, client {address(zclient)} ({cuuid})")

            # direct: the same with a NetworkPolicy admitting TCP 80 to the server from group=web.
            await http.request("POST", "/api/v1/namespaces", body={"metadata": {"name": direct_ns}})
            await wait_sa(http, direct_ns)
            web_80 = [{"from": [{"podSelector": {"matchLabels": {"group": "web"}}}],
                       "ports": [{"protocol": "TCP", "port": 80}]}]
            policies = f"/apis/networking.k8s.io/v1/namespaces/{direct_ns}/networkpolicies"
            for body in (policy(direct_ns, "server", "server", web_80), policy(direct_ns, "client", "client", [])):
                await http.request("POST", policies, body=body)
            dserver = await direct_running(http, direct_ns, "server", image, "server", serve=True)
            await direct_running(http, direct_ns, "client", image, "client", serve=False)
            dprobe = direct_prober(http, direct_ns, "client", str(dserver["status"]["podIP"]))
            say(f"direct: server {dserver['status']['podIP']} in {direct_ns}")

            async def zun_cycle(record: bool) -> None:
                await settle(zside, zprobe, allowed=False)
                add = zun.expect(202, "POST", f"/v1/containers/{cuuid}/add_security_group", params={"name": "web"},
                                 version="1.14")
                allowed = await zside.change(add, zprobe, allowed=True)
                await zun.idle(cuuid)  # the action's task over: the next one would be refused as busy
                await settle(zside, zprobe, allowed=True)
                remove = zun.expect(202, "POST", f"/v1/containers/{cuuid}/remove_security_group",
                                    params={"name": "web"}, version="1.14")
                refused = await zside.change(remove, zprobe, allowed=False)
                await zun.idle(cuuid)
                if record:
                    zside.allowed.append(allowed)
                    zside.refused.append(refused)

            async def direct_cycle(record: bool) -> None:
                await settle(dside, dprobe, allowed=False)
                allowed = await dside.change(label(http, direct_ns, "client", "web"), dprobe, allowed=True)
                await settle(dside, dprobe, allowed=True)
                refused = await dside.change(label(http, direct_ns, "client", None), dprobe, allowed=False)
                if record:
                    dside.allowed.append(allowed)
                    dside.refused.append(refused)

            # One unrecorded cycle each (first policy writes, exec connections), then interleaved.
            await zun_cycle(False)
            await direct_cycle(False)
            for side in (zside, dside):
                side.probe_ok.clear()
                side.probe_fail.clear()
                side.flaps = 0
                side.setup.clear()
                side.requests.clear()
            t_start = time.monotonic()
            for i in range(runs):
                if time.monotonic() - t_start > CYCLES_BUDGET:
                    say(f"stopping after {i} cycles: the {CYCLES_BUDGET:.0f} s budget is spent")
                    break
                try:
                    await zun_cycle(True)
                    await direct_cycle(True)
                except TimeoutError as e:
                    say(f"cycle {i + 1}: {e}; stopping")
                    break
                z, d = zside.allowed[-1], dside.allowed[-1]
                zr, dr = zside.refused[-1], dside.refused[-1]
                say(f"cycle {i + 1}: add->allowed zunk8s {z.seen * 1000:.0f} ms, direct {d.seen * 1000:.0f} ms; "
                    f"remove->refused zunk8s {zr.seen * 1000:.0f} ms, direct {dr.seen * 1000:.0f} ms")
    finally:
        server.stop()
        listed = await http.request("GET", "/api/v1/namespaces")
        mine = [str(n["metadata"]["name"]) for n in listed.get("items") or []
                if str(n["metadata"]["name"]).startswith(prefix)]
        await asyncio.gather(*(delete_namespace(http, ns, timeout=120) for ns in mine))
        await http.close()
    report(zside, dside, runs)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    await bench_isolation(cluster_env(), args.runs)


if __name__ == "__main__":
    asyncio.run(main())
