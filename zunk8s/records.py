"""The durable Zun container record and its status, as stored on the ZunContainer object.

``Record`` is the Zun view's data (what the user asked for); ``RecordStatus`` is what
zunk8s observed and decided. Both round-trip through JSON unchanged: the spec of the
custom resource *is* ``Record.model_dump()``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Desired = Literal["created", "running", "stopped"]
# Zun's container statuses (zun/common/consts.py) and task states: the only values a record
# holds, so a typo is a type error, not a container stuck in a status no table knows.
Status = Literal[
    "Creating", "Created", "Running", "Stopped", "Paused", "Restarting", "Rebuilding",
    "Error", "Deleting", "Deleted", "Dead", "Unknown",
]
TaskState = Literal[
    "image_pulling", "container_creating", "container_starting", "container_stopping",
    "container_rebooting", "container_pausing", "container_unpausing", "container_killing",
    "container_deleting", "container_rebuilding", "sg_adding", "sg_removing",
    "network_attaching", "network_detaching", "container_committing",
]


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore")

    uuid: str
    name: str
    project_id: str
    user_id: str
    image: str
    # What the Pods run when it is not ``image`` as given: a project's committed image (found by
    # its name, kept by digest: translate/commit.py).
    image_ref: str | None = None
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    cpu: float = 1.0
    memory: str | None = "512"
    disk: int = 0
    cpu_policy: str = "shared"
    workdir: str | None = None
    environment: dict[str, str] | None = None
    labels: dict[str, str] | None = None
    restart_policy: dict[str, str] | None = None
    interactive: bool = False
    tty: bool = False
    image_driver: str = "docker"
    image_pull_policy: str | None = None
    security_groups: list[str] | None = None
    # The ids of the networks the container is on (None: a record from before networks, on its
    # project's default network), and its exposed ports as Zun keeps them ("80/tcp").
    networks: list[str] | None = None
    exposed_ports: list[str] | None = None
    # create's mounts as translate/mounts.py keeps them (a bind mount's content included: never
    # shown, Zun's view has no mounts).
    mounts: list[dict[str, Any]] | None = None
    auto_remove: bool = False
    auto_heal: bool = False
    runtime: str | None = None
    hostname: str | None = None
    privileged: bool = False
    healthcheck: dict[str, Any] | None = None
    registry_id: str | None = None
    availability_zone: str | None = None
    # create's ``host`` (1.39): every Pod of the container goes to this Node.
    requested_host: str | None = None
    created_at: str
    updated_at: str | None = None


class RecordStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Status = "Creating"
    status_reason: str | None = None
    task_state: TaskState | None = None
    # What the user last asked for; tells a Pod that ended on its own from one we stopped.
    desired: Desired = "created"
    pod: str | None = None
    generation: int = 0
    host: str | None = None
    pod_ip: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    # Restarts of the current run: the kubelet's (always, on-failure without a limit) or, for
    # on-failure:N, the new Pods zunk8s made after failures.
    restart_count: int = 0
    # Logs of earlier Pods are saved on the ConfigMap zun-logs-<uuid> (service/logs.py).
    logs_saved: bool = False
    # The node agent froze the container (pause): the kubelet still says running, so zunk8s
    # keeps Paused itself (translate/statuschanges.py).
    paused: bool = False
    # Request id of the operation that set task_state (for container actions / recovery).
    task_request_id: str | None = None
    updated_at: str | None = None
    # Zun's action log: request id -> the action and its events, the newest MAX_ACTIONS
    # (translate/actionlog.py; kept as JSON, shared with the watch cache's copy).
    actions: dict[str, Any] = Field(default_factory=dict)
