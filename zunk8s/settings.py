"""Settings, read once from the environment (prefix ``ZUNK8S_``) or a ``.env``-style file.

Built in ``cli.main`` and passed down explicitly; nothing reads a global configuration.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KubeSettings(BaseModel):
    model_config = {"frozen": True, "extra": "forbid"}

    # "kubeconfig" reads KUBECONFIG / ~/.kube/config; "incluster" reads the mounted ServiceAccount.
    config: Literal["kubeconfig", "incluster"] = "kubeconfig"
    kubeconfig: str | None = None
    context: str | None = None
    namespace_prefix: str = "zun-"
    # Create the ZunContainer CRD at start. The Helm chart installs the CRD itself and turns
    # this off, so that zunk8s needs no write access to CustomResourceDefinitions.
    manage_crd: bool = True
    request_timeout: float = 30.0
    # Scheduling knobs applied to every Pod, e.g. to steer benchmarks onto kwok nodes.
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[dict[str, Any]] = Field(default_factory=list)
    # requests = limits * ratio. 1.0 gives Guaranteed QoS; a small ratio lets a tiny test node
    # hold many containers that each ask Zun's default of 1 CPU.
    request_ratio: float = Field(default=1.0, gt=0.0, le=1.0)
    # Docker's default stop timeout; also the Pod's terminationGracePeriodSeconds.
    stop_timeout: int = Field(default=10, ge=0)


class NetworkSettings(BaseModel):
    """Security groups and networks (the /network API and NetworkPolicies)."""

    model_config = {"frozen": True, "extra": "forbid"}

    # The cluster's Pod address ranges. A security-group rule's remote CIDR that contains them
    # also means "Pods on the container's networks"; one that covers only part of them is
    # refused (Pod addresses are not stable). Empty: every CIDR is taken as outside the cluster.
    pod_cidrs: list[str] = Field(default_factory=list)

    @field_validator("pod_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        return [str(ipaddress.ip_network(c)) for c in v]


class AgentSettings(BaseModel):
    """The node agent (``zunk8s agent``) and where zunk8s finds it."""

    model_config = {"frozen": True, "extra": "forbid"}

    # The Node this agent serves (in a DaemonSet: spec.nodeName through the downward API).
    node_name: str = ""
    # The node's containerd socket and the namespace the kubelet's containers are in.
    containerd_socket: str = "/run/containerd/containerd.sock"
    containerd_namespace: str = "k8s.io"
    # Where agents keep their Leases (zunk8s reads them to know which nodes an agent serves).
    lease_namespace: str = "kube-node-lease"
    # For stats (node/metrics.py): the node's processes (a DaemonSet Pod sees them with hostPID)
    # and the node's cgroup filesystem (a Pod mounts the host's elsewhere: its own /sys/fs/cgroup
    # shows only its own cgroups).
    proc_root: str = "/proc"
    cgroup_root: str = "/sys/fs/cgroup"
    # commit: registries (host[:port]) pushed to over plain HTTP besides loopback ones, and where
    # a commit's layer is written before it is pushed (None: the system's temporary directory).
    insecure_registries: list[str] = Field(default_factory=list)
    workdir: str | None = None


class QuotaSettings(BaseModel):
    """Zun's [quota] defaults: a project's limits when neither it nor the ``default`` quota class
    sets them (-1: unlimited)."""

    model_config = {"frozen": True, "extra": "forbid"}

    containers: int = Field(default=40, ge=-1)
    memory: int = Field(default=51200, ge=-1)  # MiB
    disk: int = Field(default=100, ge=-1)  # GiB
    cpu: int = Field(default=20, ge=-1)


class ImageSettings(BaseModel):
    """Images zunk8s makes (commit) and finds again by name (create, rebuild)."""

    model_config = {"frozen": True, "extra": "forbid"}

    # Where committed images are pushed, as the nodes pull them: host[:port][/path]. Each project's
    # go under its namespace there. Empty: commit answers 409 saying no registry is configured.
    commit_registry: str = ""
    # The image of the init container that copies a container's injected files (create's bind
    # mounts) into place with ``zunk8s inject``: zunk8s's own image, as the nodes pull it (the
    # chart gives its own). Empty: bind mounts answer 409 saying so.
    helper_image: str = ""
    # The registry image search reads (its catalog), as the API replicas reach it:
    # http[s]://host[:port][/path]. Empty: the commit registry (plain HTTP when on loopback).
    search_registry: str = Field(default="", pattern=r"^(https?://[^/\s]+(/[^\s]*)?)?$")


class KeystoneSettings(BaseModel):
    """zunk8s's own service user, with which it validates the tokens clients send."""

    model_config = {"frozen": True, "extra": "forbid"}

    auth_url: str  # e.g. http://keystone:5000/v3
    username: str
    # The password itself, or a file holding it (a mounted Secret; read again whenever zunk8s
    # logs in, so a rotated Secret is picked up).
    password: SecretStr | None = None
    password_file: str | None = None
    project_name: str
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    # A validated token is trusted this long (at most until it expires): a token revoked in
    # Keystone keeps working here for up to this many seconds (keystonemiddleware's
    # token_cache_time has the same trade-off, default 300).
    cache_ttl: float = Field(default=300.0, ge=0)
    # A refused token is refused again without asking Keystone for this long.
    negative_cache_ttl: float = Field(default=5.0, ge=0)
    cache_size: int = Field(default=10000, ge=1)
    # Each call to Keystone gives up after this long (then 503).
    timeout: float = Field(default=5.0, gt=0)

    @field_validator("auth_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @model_validator(mode="after")
    def _one_password(self) -> KeystoneSettings:
        if (self.password is None) == (self.password_file is None):
            raise ValueError("set exactly one of auth.keystone.password and auth.keystone.password_file")
        return self


class AuthSettings(BaseModel):
    model_config = {"frozen": True, "extra": "forbid"}

    # keystone: tokens validated by Keystone (the production mode); static: tokens listed
    # (hashed) in ``tokens_file``; noauth (development): identity from request headers.
    mode: Literal["noauth", "keystone", "static"] = "noauth"
    keystone: KeystoneSettings | None = None
    tokens_file: str | None = None
    # noauth: project, user and roles come from X-Project-Id / X-User-Id / X-Roles headers,
    # as in Zun's noauth pipeline, with these defaults when a header is absent. It trusts
    # whoever can reach it, so it serves on loopback only unless this says otherwise.
    allow_noauth_remote: bool = False
    default_project: str = "default"
    default_user: str = "default"
    default_roles: list[str] = Field(default_factory=lambda: ["member"])

    @model_validator(mode="after")
    def _mode_is_configured(self) -> AuthSettings:
        if self.mode == "keystone" and self.keystone is None:
            raise ValueError("auth.mode keystone needs auth.keystone (auth_url, username, password, project_name)")
        if self.mode == "static" and not self.tokens_file:
            raise ValueError("auth.mode static needs auth.tokens_file")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ZUNK8S_",
        env_nested_delimiter="__",
        env_file=None,
        extra="forbid",
        frozen=True,
    )

    host: str = "127.0.0.1"
    port: int = 9517
    # Base URL clients reach us at; used for links, Location and websocket URLs.
    # Empty means "derive from the request's Host header".
    public_url: str = ""
    redis_url: str | None = None
    log_format: Literal["console", "json"] = "console"
    log_level: str = "info"
    kube: KubeSettings = Field(default_factory=KubeSettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    images: ImageSettings = Field(default_factory=ImageSettings)
    quota: QuotaSettings = Field(default_factory=QuotaSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    # A policy.yaml overriding Zun's default rules (`zunk8s policy` prints the effective ones);
    # read again when it changes.
    policy_file: str | None = None
    # Websocket tokens (attach / interactive exec) expire after this many seconds.
    ws_token_ttl: int = Field(default=60, ge=1)
    # Per-container locks expire this long after their holder dies (renewed while it lives).
    lock_ttl: float = Field(default=10.0, gt=0)
    # Recovery re-drives a task (or finishes a create) this long after the last write to it,
    # when no live replica holds the container's lock.
    recovery_after: float = Field(default=30.0, gt=0)
    sweep_interval: float = Field(default=15.0, gt=0)
    # Each replica's heartbeat for GET /v1/services (Zun's periodic_interval_max); a replica
    # not heard from for three intervals is "down" (Zun's service_down_time).
    report_interval: float = Field(default=10.0, gt=0)
    # `execute` with run=true gives up (409, as Zun does) after this many seconds.
    exec_timeout: float = Field(default=60.0, gt=0)
    archive_timeout: float = Field(default=600.0, gt=0)
    max_archive_bytes: int = Field(default=256 * 1024 * 1024, ge=1)
    # Every JSON request body but put_archive's (413 past it): Zun's bodies are a few KB.
    max_json_bytes: int = Field(default=256 * 1024, ge=1024)
    # On SIGTERM zunk8s stops accepting connections, closes websocket sessions (1001) and lets
    # requests in flight (a long exec, an archive) finish for at most this many seconds.
    shutdown_timeout: float = Field(default=30.0, ge=0)

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @model_validator(mode="after")
    def _noauth_on_loopback(self) -> Settings:
        if self.auth.mode == "noauth" and not self.auth.allow_noauth_remote and not is_loopback(self.host):
            raise ValueError(
                f"auth.mode noauth trusts identity headers from anyone who can connect, so zunk8s "
                f"will not serve it on {self.host}: use auth.mode keystone or static, listen on "
                "127.0.0.1, or set ZUNK8S_AUTH__ALLOW_NOAUTH_REMOTE=true to accept the risk"
            )
        return self


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost, or 0.0.0.0 / "" (every address)
