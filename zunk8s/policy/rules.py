"""Zun's default policy, as oslo.policy rule defaults: the same names and check strings as
Zun's ``zun/common/policies/`` (base, container, container_action, network, host,
zun_service), so a ``policy.yaml`` written for Zun works here unchanged.

As in Zun, the container rules spell ``is_admin:True or project_id:%(project_id)s`` and
``rule:context_is_admin`` out rather than pointing at ``rule:admin_or_owner`` and
``rule:admin_api``: overriding those two names in a file changes no container rule.
Descriptions are ours.
"""

from __future__ import annotations

from typing import Final

from oslo_policy.policy import DocumentedRuleDefault, Operation, RuleDefault

# Check strings (zun/common/policies/base.py).
ROLE_ADMIN: Final = "role:admin"
RULE_ADMIN_OR_OWNER: Final = "is_admin:True or project_id:%(project_id)s"
RULE_ADMIN_API: Final = "rule:context_is_admin"
RULE_DENY_EVERYBODY: Final = "rule:deny_everybody"

CONTAINERS: Final = "/v1/containers"
CONTAINER: Final = "/v1/containers/{container_ident}"


def _op(method: str, path: str) -> Operation:
    return {"method": method, "path": path}


def _rule(name: str, check_str: str, description: str, *operations: Operation) -> DocumentedRuleDefault:
    return DocumentedRuleDefault(name=name, check_str=check_str, description=description, operations=list(operations))


def _action(action: str, method: str, description: str) -> DocumentedRuleDefault:
    """``container:<action>``: owner or admin, on ``/v1/containers/{id}/<action>``."""
    return _rule(f"container:{action}", RULE_ADMIN_OR_OWNER, description, _op(method, f"{CONTAINER}/{action}"))


# The container view drops a key unless ``container:get_one:<key>`` passes (list filters on
# the key need it too); these keys have a rule, every other key shows.
ADMIN_ONLY_FIELDS: Final = ("host", "image_pull_policy", "privileged", "runtime")

_FIELD_OPERATIONS: Final = (
    _op("GET", CONTAINER),
    _op("GET", CONTAINERS),
    _op("POST", CONTAINERS),
    _op("PATCH", CONTAINER),
)

BASE: Final[tuple[RuleDefault, ...]] = (
    RuleDefault(name="context_is_admin", check_str=ROLE_ADMIN, description="Who counts as an administrator."),
    RuleDefault(
        name="admin_or_owner",
        check_str=RULE_ADMIN_OR_OWNER,
        description="An administrator, or a member of the project that owns the target.",
    ),
    RuleDefault(name="admin_api", check_str=RULE_ADMIN_API, description="Administrators only."),
    RuleDefault(name="deny_everybody", check_str="!", description="Nobody, administrators included."),
)

CONTAINER_RULES: Final[tuple[DocumentedRuleDefault, ...]] = (
    _rule("container:create", RULE_ADMIN_OR_OWNER, "Create a container.", _op("POST", CONTAINERS)),
    _rule(
        "container:create:runtime",
        RULE_ADMIN_API,
        "Create a container with a chosen runtime.",
        _op("POST", CONTAINERS),
    ),
    _rule(
        "container:create:privileged",
        RULE_DENY_EVERYBODY,
        "Create a privileged container. Such a container can take over its host: enable with care.",
        _op("POST", CONTAINERS),
    ),
    _rule(
        "container:create:requested_destination",
        RULE_ADMIN_API,
        "Create a container on a chosen host.",
        _op("POST", CONTAINERS),
    ),
    _rule(
        "container:create:image_pull_policy",
        RULE_ADMIN_API,
        "Create a container with a chosen image pull policy.",
        _op("POST", CONTAINERS),
    ),
    _rule("container:delete", RULE_ADMIN_OR_OWNER, "Delete a container.", _op("DELETE", CONTAINER)),
    _rule(
        "container:delete_all_projects",
        RULE_ADMIN_API,
        "Delete a container of any project.",
        _op("DELETE", CONTAINER),
    ),
    _rule("container:delete_force", RULE_ADMIN_API, "Delete a container forcibly.", _op("DELETE", CONTAINER)),
    _rule("container:get_one", RULE_ADMIN_OR_OWNER, "Show a container.", _op("GET", CONTAINER)),
    *(
        _rule(
            f"container:get_one:{field}",
            RULE_ADMIN_API,
            f"See the {field} field of containers (and filter lists by it).",
            *_FIELD_OPERATIONS,
        )
        for field in ADMIN_ONLY_FIELDS
    ),
    _rule(
        "container:get_one_all_projects",
        RULE_ADMIN_API,
        "Show a container of any project.",
        _op("GET", CONTAINER),
    ),
    _rule("container:get_all", RULE_ADMIN_OR_OWNER, "List containers.", _op("GET", CONTAINERS)),
    _rule(
        "container:get_all_all_projects",
        RULE_ADMIN_API,
        "List the containers of every project.",
        _op("GET", CONTAINERS),
    ),
    _rule("container:update", RULE_ADMIN_OR_OWNER, "Update a container.", _op("PATCH", CONTAINER)),
    _action("start", "POST", "Start a container."),
    _action("stop", "POST", "Stop a container."),
    _action("reboot", "POST", "Restart a container."),
    _action("pause", "POST", "Pause a container."),
    _action("unpause", "POST", "Unpause a container."),
    _action("logs", "GET", "Read a container's logs."),
    _action("execute", "POST", "Run a command in a running container."),
    _action("execute_resize", "POST", "Resize the terminal of a command run in a container."),
    _action("kill", "POST", "Send a signal to a running container."),
    _action("rename", "POST", "Rename a container."),
    _action("attach", "GET", "Attach to a running container's console."),
    _action("resize", "POST", "Resize a container's terminal."),
    _action("top", "GET", "List the processes running in a container."),
    _action("get_archive", "GET", "Read a path of a container as a tar archive."),
    # Zun documents PUT for this one; its API (and python-zunclient) use POST.
    _action("put_archive", "POST", "Extract a tar archive into a path of a container."),
    _action("stats", "GET", "Read a container's resource usage."),
    _action("commit", "POST", "Save a container as an image."),
    _action("add_security_group", "POST", "Add a security group to a container."),
    _action("network_detach", "POST", "Detach a network from a container."),
    _action("network_attach", "POST", "Attach a network to a container."),
    _action("remove_security_group", "POST", "Remove a security group from a container."),
    _action("rebuild", "POST", "Rebuild a container from its image."),
    _action("resize_container", "POST", "Change a container's CPU and memory."),
)

CONTAINER_ACTION_RULES: Final[tuple[DocumentedRuleDefault, ...]] = (
    _rule(
        "container:actions",
        RULE_ADMIN_OR_OWNER,
        "List a container's actions and show one of them.",
        _op("GET", f"{CONTAINER}/container_actions"),
        _op("GET", f"{CONTAINER}/container_actions/{{request_id}}"),
    ),
    _rule(
        "container:action:events",
        RULE_ADMIN_API,
        "Include the events (with their tracebacks) when showing a container action.",
        _op("GET", f"{CONTAINER}/container_actions/{{request_id}}"),
    ),
)

NETWORK_RULES: Final[tuple[DocumentedRuleDefault, ...]] = (
    _rule(
        "network:attach_external_network",
        ROLE_ADMIN,
        "Attach a container to an external network that is not shared.",
        _op("POST", CONTAINERS),
    ),
    _rule("network:create", ROLE_ADMIN, "Create a network.", _op("POST", "/v1/networks")),
    _rule("network:delete", ROLE_ADMIN, "Delete a network.", _op("DELETE", "/v1/networks")),
)

# zun/common/policies/availability_zone.py, quota.py, quota_class.py, in that order.
QUOTA_RULES: Final[tuple[DocumentedRuleDefault, ...]] = (
    _rule("availability_zones:get_all", RULE_ADMIN_OR_OWNER, "List the availability zones.",
          _op("GET", "/v1/availability_zones")),
    _rule("quota:update", RULE_ADMIN_API, "Update a project's quotas.", _op("PUT", "/v1/quotas/{project_id}")),
    _rule("quota:delete", RULE_ADMIN_API, "Delete a project's quotas.", _op("DELETE", "/v1/quotas/{project_id}")),
    _rule("quota:get", RULE_ADMIN_OR_OWNER, "Show a project's quotas.", _op("GET", "/v1/quotas/{project_id}")),
    _rule("quota:get_default", RULE_ADMIN_OR_OWNER, "Show the default quotas.", _op("GET", "/v1/quotas/defaults")),
    _rule("quota_class:update", RULE_ADMIN_API, "Update a quota class.", _op("PUT", "/v1/quota_classes/{quota_class_name}")),
    _rule("quota_class:get", RULE_ADMIN_API, "Show a quota class.", _op("GET", "/v1/quota_classes/{quota_class_name}")),
)

# zun/common/policies/image.py: only search is for any project member.
IMAGE_RULES: Final[tuple[DocumentedRuleDefault, ...]] = (
    _rule("image:pull", RULE_ADMIN_API, "Pull an image onto a host.", _op("POST", "/v1/images")),
    _rule("image:get_all", RULE_ADMIN_API, "List a project's images.", _op("GET", "/v1/images")),
    _rule("image:get_one", RULE_ADMIN_API, "Show an image.", _op("GET", "/v1/images/{image_id}")),
    _rule("image:search", RULE_ADMIN_OR_OWNER, "Search for an image.", _op("GET", "/v1/images/{image_ident}/search")),
    _rule("image:delete", RULE_ADMIN_API, "Delete an image.", _op("DELETE", "/v1/images/{image_id}")),
)

# zun/common/policies/capsule.py (get_one_all_projects and get_all_all_projects are Zun's, never
# checked by it: admins see every project's capsules).
CAPSULE: Final = "/v1/capsules/{capsule_ident}"
CAPSULE_RULES: Final[tuple[DocumentedRuleDefault, ...]] = (
    _rule("capsule:create", RULE_ADMIN_OR_OWNER, "Create a capsule.", _op("POST", "/v1/capsules")),
    _rule("capsule:delete", RULE_ADMIN_OR_OWNER, "Delete a capsule.", _op("DELETE", CAPSULE)),
    _rule("capsule:delete_all_projects", RULE_ADMIN_API, "Delete a capsule of any project.", _op("DELETE", CAPSULE)),
    _rule("capsule:get", RULE_ADMIN_OR_OWNER, "Show a capsule.", _op("GET", CAPSULE)),
    _rule("capsule:get:host", RULE_ADMIN_API, "See the host a capsule runs on.", _op("GET", CAPSULE)),
    _rule("capsule:get_one_all_projects", RULE_ADMIN_API, "Show a capsule of any project.", _op("GET", CAPSULE)),
    _rule("capsule:get_all", RULE_ADMIN_OR_OWNER, "List a project's capsules.", _op("GET", "/v1/capsules")),
    _rule("capsule:get_all_all_projects", RULE_ADMIN_API, "List every project's capsules.", _op("GET", "/v1/capsules")),
)

# zun/common/policies/registry.py.
REGISTRY_RULES: Final[tuple[DocumentedRuleDefault, ...]] = (
    _rule("registry:create", RULE_ADMIN_OR_OWNER, "Create a registry.", _op("POST", "/v1/registries")),
    _rule("registry:delete", RULE_ADMIN_OR_OWNER, "Delete a registry.", _op("DELETE", "/v1/registries/{registry_ident}")),
    _rule("registry:get_one", RULE_ADMIN_OR_OWNER, "Show a registry.", _op("GET", "/v1/registries/{registry_ident}")),
    _rule("registry:get_all", RULE_ADMIN_OR_OWNER, "List a project's registries.", _op("GET", "/v1/registries")),
    _rule("registry:get_all_all_projects", RULE_ADMIN_API, "List the registries of every project.",
          _op("GET", "/v1/registries")),
    _rule("registry:update", RULE_ADMIN_OR_OWNER, "Update a registry.", _op("PATCH", "/v1/registries/{registry_ident}")),
)

HOST_RULES: Final[tuple[DocumentedRuleDefault, ...]] = (
    _rule("host:get_all", RULE_ADMIN_API, "List the compute hosts.", _op("GET", "/v1/hosts")),
    _rule("host:get", RULE_ADMIN_API, "Show a compute host.", _op("GET", "/v1/hosts/{host_ident}")),
)

ZUN_SERVICE_RULES: Final[tuple[DocumentedRuleDefault, ...]] = (
    _rule("zun-service:delete", RULE_ADMIN_API, "Delete a service.", _op("DELETE", "/v1/services")),
    _rule("zun-service:disable", RULE_ADMIN_API, "Disable a service.", _op("PUT", "/v1/services/disable")),
    _rule("zun-service:enable", RULE_ADMIN_API, "Enable a service.", _op("PUT", "/v1/services/enable")),
    _rule(
        "zun-service:force_down",
        RULE_ADMIN_API,
        "Mark a service as down.",
        _op("PUT", "/v1/services/force_down"),
    ),
    _rule("zun-service:get_all", RULE_ADMIN_API, "List the services and their state.", _op("GET", "/v1/services")),
)

# In Zun's order (zun/common/policies/__init__.py list_rules, less the modules left out).
DEFAULTS: Final[tuple[RuleDefault, ...]] = (
    *BASE,
    *CONTAINER_RULES,
    *IMAGE_RULES,
    *ZUN_SERVICE_RULES,
    *HOST_RULES,
    *CAPSULE_RULES,
    *NETWORK_RULES,
    *CONTAINER_ACTION_RULES,
    *QUOTA_RULES,
    *REGISTRY_RULES,
)
