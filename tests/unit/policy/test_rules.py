"""Zun's default rules, pinned: every name and check string against Zun's
``zun/common/policies/*.py`` (openstack/zun master, 2025-06), the file each comes from."""

from __future__ import annotations

import pytest
from oslo_policy.policy import DocumentedRuleDefault

from zunk8s.policy.rules import ADMIN_ONLY_FIELDS, BASE, DEFAULTS

OWNER = "is_admin:True or project_id:%(project_id)s"  # base.RULE_ADMIN_OR_OWNER
ADMIN = "rule:context_is_admin"  # base.RULE_ADMIN_API

# (rule name, check string, Zun's file under zun/common/policies/)
ZUN: list[tuple[str, str, str]] = [
    ("context_is_admin", "role:admin", "base.py"),
    ("admin_or_owner", OWNER, "base.py"),
    ("admin_api", ADMIN, "base.py"),
    ("deny_everybody", "!", "base.py"),
    ("container:create", OWNER, "container.py"),
    ("container:create:runtime", ADMIN, "container.py"),
    ("container:create:privileged", "rule:deny_everybody", "container.py"),
    ("container:create:requested_destination", ADMIN, "container.py"),
    ("container:create:image_pull_policy", ADMIN, "container.py"),
    ("container:delete", OWNER, "container.py"),
    ("container:delete_all_projects", ADMIN, "container.py"),
    ("container:delete_force", ADMIN, "container.py"),
    ("container:get_one", OWNER, "container.py"),
    ("container:get_one:host", ADMIN, "container.py"),
    ("container:get_one:image_pull_policy", ADMIN, "container.py"),
    ("container:get_one:privileged", ADMIN, "container.py"),
    ("container:get_one:runtime", ADMIN, "container.py"),
    ("container:get_one_all_projects", ADMIN, "container.py"),
    ("container:get_all", OWNER, "container.py"),
    ("container:get_all_all_projects", ADMIN, "container.py"),
    ("container:update", OWNER, "container.py"),
    ("container:start", OWNER, "container.py"),
    ("container:stop", OWNER, "container.py"),
    ("container:reboot", OWNER, "container.py"),
    ("container:pause", OWNER, "container.py"),
    ("container:unpause", OWNER, "container.py"),
    ("container:logs", OWNER, "container.py"),
    ("container:execute", OWNER, "container.py"),
    ("container:execute_resize", OWNER, "container.py"),
    ("container:kill", OWNER, "container.py"),
    ("container:rename", OWNER, "container.py"),
    ("container:attach", OWNER, "container.py"),
    ("container:resize", OWNER, "container.py"),
    ("container:top", OWNER, "container.py"),
    ("container:get_archive", OWNER, "container.py"),
    ("container:put_archive", OWNER, "container.py"),
    ("container:stats", OWNER, "container.py"),
    ("container:commit", OWNER, "container.py"),
    ("container:add_security_group", OWNER, "container.py"),
    ("container:network_detach", OWNER, "container.py"),
    ("container:network_attach", OWNER, "container.py"),
    ("container:remove_security_group", OWNER, "container.py"),
    ("container:rebuild", OWNER, "container.py"),
    ("container:resize_container", OWNER, "container.py"),
    ("image:pull", ADMIN, "image.py"),
    ("image:get_all", ADMIN, "image.py"),
    ("image:get_one", ADMIN, "image.py"),
    ("image:search", OWNER, "image.py"),
    ("image:delete", ADMIN, "image.py"),
    ("zun-service:delete", ADMIN, "zun_service.py"),
    ("zun-service:disable", ADMIN, "zun_service.py"),
    ("zun-service:enable", ADMIN, "zun_service.py"),
    ("zun-service:force_down", ADMIN, "zun_service.py"),
    ("zun-service:get_all", ADMIN, "zun_service.py"),
    ("host:get_all", ADMIN, "host.py"),
    ("host:get", ADMIN, "host.py"),
    ("capsule:create", OWNER, "capsule.py"),
    ("capsule:delete", OWNER, "capsule.py"),
    ("capsule:delete_all_projects", ADMIN, "capsule.py"),
    ("capsule:get", OWNER, "capsule.py"),
    ("capsule:get:host", ADMIN, "capsule.py"),
    ("capsule:get_one_all_projects", ADMIN, "capsule.py"),
    ("capsule:get_all", OWNER, "capsule.py"),
    ("capsule:get_all_all_projects", ADMIN, "capsule.py"),
    ("network:attach_external_network", "role:admin", "network.py"),
    ("network:create", "role:admin", "network.py"),
    ("network:delete", "role:admin", "network.py"),
    ("container:actions", OWNER, "container_action.py"),
    ("container:action:events", ADMIN, "container_action.py"),
    ("availability_zones:get_all", OWNER, "availability_zone.py"),
    ("quota:update", ADMIN, "quota.py"),
    ("quota:delete", ADMIN, "quota.py"),
    ("quota:get", OWNER, "quota.py"),
    ("quota:get_default", OWNER, "quota.py"),
    ("quota_class:update", ADMIN, "quota_class.py"),
    ("quota_class:get", ADMIN, "quota_class.py"),
    ("registry:create", OWNER, "registry.py"),
    ("registry:delete", OWNER, "registry.py"),
    ("registry:get_one", OWNER, "registry.py"),
    ("registry:get_all", OWNER, "registry.py"),
    ("registry:get_all_all_projects", ADMIN, "registry.py"),
    ("registry:update", OWNER, "registry.py"),
]

BY_NAME = {d.name: d for d in DEFAULTS}


def test_exactly_zuns_rules_in_zuns_order() -> None:
    assert [d.name for d in DEFAULTS] == [name for name, _, _ in ZUN]
    assert len(BY_NAME) == len(DEFAULTS)  # no name twice


@pytest.mark.parametrize(("name", "check_str", "source"), ZUN, ids=[row[0] for row in ZUN])
def test_check_string_is_zuns(name: str, check_str: str, source: str) -> None:
    assert BY_NAME[name].check_str == check_str, f"zun/common/policies/{source}"


def test_base_rules_are_plain_defaults_and_the_rest_are_documented() -> None:
    assert [d.name for d in BASE] == ["context_is_admin", "admin_or_owner", "admin_api", "deny_everybody"]
    for default in DEFAULTS[len(BASE) :]:
        assert isinstance(default, DocumentedRuleDefault)
        assert default.description
        assert default.operations
        assert all(op["path"].startswith("/v1/") for op in default.operations)
        assert all(op["method"] in {"GET", "POST", "PUT", "PATCH", "DELETE"} for op in default.operations)


def test_every_default_has_a_description_and_no_scope() -> None:
    for default in DEFAULTS:
        assert default.description, default.name
        assert default.scope_types is None, default.name


def test_admin_only_fields_are_the_get_one_rules() -> None:
    fields = {name.removeprefix("container:get_one:") for name in BY_NAME if name.startswith("container:get_one:")}
    assert fields == set(ADMIN_ONLY_FIELDS) == {"host", "image_pull_policy", "privileged", "runtime"}


@pytest.mark.parametrize(
    ("name", "method", "path"),
    [
        ("container:create", "POST", "/v1/containers"),
        ("container:get_all", "GET", "/v1/containers"),
        ("container:delete_force", "DELETE", "/v1/containers/{container_ident}"),
        ("container:logs", "GET", "/v1/containers/{container_ident}/logs"),
        ("container:put_archive", "POST", "/v1/containers/{container_ident}/put_archive"),
        ("container:resize_container", "POST", "/v1/containers/{container_ident}/resize_container"),
        ("container:actions", "GET", "/v1/containers/{container_ident}/container_actions/{request_id}"),
        ("host:get", "GET", "/v1/hosts/{host_ident}"),
        ("zun-service:get_all", "GET", "/v1/services"),
    ],
)
def test_operations(name: str, method: str, path: str) -> None:
    default = BY_NAME[name]
    assert isinstance(default, DocumentedRuleDefault)
    assert {"method": method, "path": path} in default.operations


def test_field_rules_document_every_endpoint_that_shows_a_container() -> None:
    default = BY_NAME["container:get_one:host"]
    assert isinstance(default, DocumentedRuleDefault)
    assert {(op["method"], op["path"]) for op in default.operations} == {
        ("GET", "/v1/containers/{container_ident}"),
        ("GET", "/v1/containers"),
        ("POST", "/v1/containers"),
        ("PATCH", "/v1/containers/{container_ident}"),
    }
