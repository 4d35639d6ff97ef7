"""The service layer, assembled: one object per group of verbs, each built with exactly the
collaborators it needs. Handlers reach every operation as ``services.<group>.<verb>(...)``.

    registry   lookups and lists (service/registry.py)
    creation   create / run (service/creating.py)
    power      start, stop, reboot, kill (service/power.py)
    deletion   delete (service/deleting.py)
    updates    rename, update (service/updating.py)
    logs       logs (service/logs.py)
    commands   execute, top, signals (service/commands.py)
    archives   get_archive, put_archive (service/archives.py)
    sessions   attach / interactive exec URLs, resizes (service/sessions.py)
    connections  the websocket side: tokens taken, streams opened (service/connections.py)
    health     dependency checks and capabilities (service/health.py)
    hosts      Zun's hosts: the Nodes containers may go to (service/hosts.py)
    replicas   this replica's heartbeat and the service list (service/replicas.py)
    reconciler + recovery: the leader's background work (service/reconciler.py, recovery.py)
    podwork    the Pod work the actions share (service/podwork.py), here for shutdown
    secgroups, networks   the /network API's groups and networks (service/secgroups.py, networks.py)
    isolation  each container's NetworkPolicy (service/isolation.py)
    attachments  a container's groups and networks changed and listed (service/attachments.py)
    rebuilds   rebuild (service/rebuilding.py)
    freezer    pause / unpause through the node agent (service/freezing.py)
    stats      stats, measured by the node agent (service/stats.py)
    images     /v1/images: a project's committed and pulled images (service/images.py)
    quotas     Zun's quotas and quota classes, and the check at create (service/quotas.py)
    registries Zun's registries: a project's pull Secrets (service/pullsecrets.py)
    capsules   Zun's capsules: Pods of several containers (service/capsules.py)
    committer  commit through the node agent; committed images found again by name (service/committing.py, images.py)
    actions    Zun's action log: read, and appended by actions that claim nothing (service/actionlog.py)
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable
from dataclasses import dataclass

from zunk8s.kube.gateway import KubeGateway
from zunk8s.service.actionlog import ActionLog
from zunk8s.service.archives import Archives
from zunk8s.service.attachments import Attachments
from zunk8s.service.capsules import Capsules
from zunk8s.service.commands import Commands
from zunk8s.service.committing import Committer
from zunk8s.service.connections import Connections
from zunk8s.service.creating import Creation
from zunk8s.service.deleting import Deletion
from zunk8s.service.freezing import Freezer
from zunk8s.service.health import Health
from zunk8s.service.hosts import Hosts
from zunk8s.service.images import CommittedImages, Images
from zunk8s.service.isolation import Isolation
from zunk8s.service.logs import Logs
from zunk8s.service.mounts import Mounts
from zunk8s.service.networks import Networks
from zunk8s.service.operations import Operations
from zunk8s.service.podsync import PodSync
from zunk8s.service.podwork import PodWork
from zunk8s.service.power import Power
from zunk8s.service.pullsecrets import Registries
from zunk8s.service.quotas import Quotas
from zunk8s.service.rebuilding import Rebuilds
from zunk8s.service.reconciler import Reconciler
from zunk8s.service.recovery import Recovery
from zunk8s.service.registry import Registry
from zunk8s.service.replicas import Replicas
from zunk8s.service.secgroups import SecurityGroups
from zunk8s.service.sessions import Sessions
from zunk8s.service.stats import Stats
from zunk8s.service.tasks import TaskRunner
from zunk8s.service.updating import Updates
from zunk8s.settings import Settings
from zunk8s.state.protocol import StateStore
from zunk8s.translate.pods import PodOptions
from zunk8s.translate.secgroups import PodRanges


@dataclass(frozen=True)
class Services:
    registry: Registry
    creation: Creation
    power: Power
    deletion: Deletion
    updates: Updates
    logs: Logs
    commands: Commands
    archives: Archives
    sessions: Sessions
    connections: Connections
    health: Health
    hosts: Hosts
    replicas: Replicas
    reconciler: Reconciler
    recovery: Recovery
    podwork: PodWork
    secgroups: SecurityGroups
    networks: Networks
    isolation: Isolation
    attachments: Attachments
    rebuilds: Rebuilds
    freezer: Freezer
    stats: Stats
    committer: Committer
    quotas: Quotas
    images: Images
    registries: Registries
    capsules: Capsules
    actions: ActionLog

    def reconcile_forever(self) -> Awaitable[None]:
        """The leader election and, while leading, Pod-event reconciliation and the sweep."""
        return self.reconciler.run(self.recovery.sweep)

    def closing(self) -> None:
        """Shutdown begins: background work that waits only to report better (a start waiting
        for its Pod to run) ends now, so every task ends with its final write."""
        self.podwork.close()


def build_services(*, gateway: KubeGateway, store: StateStore, settings: Settings, tasks: TaskRunner) -> Services:
    k = settings.kube
    registry = Registry(gateway, namespace_prefix=k.namespace_prefix)
    ops = Operations(gateway=gateway, store=store, registry=registry, tasks=tasks, lock_ttl=settings.lock_ttl)
    logs = Logs(gateway)
    options = PodOptions(
        instance=gateway.instance,
        request_ratio=k.request_ratio,
        stop_timeout=k.stop_timeout,
        node_selector=dict(k.node_selector),
        tolerations=list(k.tolerations),
        helper_image=settings.images.helper_image,
    )
    pods = PodWork(gateway=gateway, ops=ops, logs=logs, options=options)
    power = Power(gateway=gateway, ops=ops, pods=pods, stop_timeout=k.stop_timeout)
    deletion = Deletion(gateway=gateway, ops=ops)
    podsync = PodSync(gateway=gateway, ops=ops, registry=registry, heal=power.heal)
    reconciler = Reconciler(
        gateway=gateway,
        registry=registry,
        store=store,
        tasks=tasks,
        podsync=podsync,
        power=power,
        deletion=deletion,
        sweep_interval=settings.sweep_interval,
        lock_ttl=settings.lock_ttl,
    )
    pod_ranges = PodRanges.of(settings.network.pod_cidrs)
    committed = CommittedImages(gateway=gateway, registry=settings.images.commit_registry)
    mounts = Mounts(gateway=gateway, helper_image=settings.images.helper_image)
    quotas = Quotas(gateway=gateway, registry=registry, namespace_prefix=k.namespace_prefix, defaults=settings.quota)
    isolation = Isolation(gateway=gateway, store=store, registry=registry, pods=pod_ranges, lock_ttl=settings.lock_ttl)
    registries = Registries(gateway=gateway, namespace_prefix=k.namespace_prefix)
    networks = Networks(gateway=gateway, namespace_prefix=k.namespace_prefix)
    capsules = Capsules(gateway=gateway, isolation=isolation, networks=networks, namespace_prefix=k.namespace_prefix,
                        request_ratio=k.request_ratio, node_selector=k.node_selector, tolerations=k.tolerations)
    recovery = Recovery(
        gateway=gateway,
        ops=ops,
        pods=pods,
        registry=registry,
        store=store,
        recovery_after=settings.recovery_after,
        stop_timeout=k.stop_timeout,
        reconcile=reconciler.reconcile,
        isolation=isolation,
        mounts=mounts,
        capsules=capsules,
    )
    actions = ActionLog(gateway=gateway, registry=registry)
    commands = Commands(gateway, exec_timeout=settings.exec_timeout, actions=actions)
    hosts = Hosts(gateway=gateway, registry=registry, node_selector=k.node_selector, tolerations=k.tolerations)
    secgroups = SecurityGroups(
        gateway=gateway, namespace_prefix=k.namespace_prefix, pods=pod_ranges, isolation=isolation
    )
    creation = Creation(
        gateway=gateway, ops=ops, registry=registry, pods=pods, hosts=hosts, secgroups=secgroups,
        networks=networks, isolation=isolation, images=committed, mounts=mounts, quotas=quotas,
        registries=registries, namespace_prefix=k.namespace_prefix,
    )
    return Services(
        registry=registry,
        creation=creation,
        power=power,
        deletion=deletion,
        updates=Updates(
            gateway=gateway, ops=ops, registry=registry, power=power, request_ratio=k.request_ratio, actions=actions,
            quotas=quotas,
        ),
        logs=logs,
        commands=commands,
        archives=Archives(
            commands,
            max_bytes=settings.max_archive_bytes,
            timeout=settings.archive_timeout,
            exec_timeout=settings.exec_timeout,
            actions=actions,
        ),
        sessions=Sessions(store, token_ttl=settings.ws_token_ttl, actions=actions),
        connections=Connections(gateway=gateway, store=store, registry=registry),
        health=Health(gateway=gateway, store=store, redis=bool(settings.redis_url)),
        hosts=hosts,
        # In a Pod the host name is the Pod's name.
        replicas=Replicas(store=store, gateway=gateway, host=socket.gethostname(), interval=settings.report_interval),
        reconciler=reconciler,
        recovery=recovery,
        podwork=pods,
        secgroups=secgroups,
        networks=networks,
        isolation=isolation,
        freezer=Freezer(gateway=gateway, ops=ops, pods=pods, lease_namespace=settings.agent.lease_namespace),
        stats=Stats(gateway=gateway, pods=pods, lease_namespace=settings.agent.lease_namespace),
        rebuilds=Rebuilds(gateway=gateway, ops=ops, pods=pods, images=committed, registries=registries,
                          stop_timeout=k.stop_timeout),
        images=Images(gateway=gateway, pods=pods, hosts=hosts, tasks=tasks, namespace_prefix=k.namespace_prefix,
                      search_registry=settings.images.search_registry,
                      commit_registry=settings.images.commit_registry),
        quotas=quotas,
        registries=registries,
        capsules=capsules,
        committer=Committer(gateway=gateway, ops=ops, pods=pods, lease_namespace=settings.agent.lease_namespace,
                            registry=settings.images.commit_registry),
        attachments=Attachments(
            ops=ops, registry=registry, isolation=isolation, secgroups=secgroups, creation=creation, instance=gateway.instance
        ),
        actions=actions,
    )
