from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from pathlib import Path

import pytest
from oslo_config import cfg

from zunk8s.errors import PolicyNotAuthorized
from zunk8s.policy import DEFAULTS, PolicyEnforcer, PolicyFileError, read_policy_file
from zunk8s.service.context import Caller

MEMBER_A = Caller(project_id="alpha", user_id="ann", roles=frozenset({"member", "reader"}), request_id="req-1")
READER_A = Caller(project_id="alpha", user_id="rob", roles=frozenset({"reader"}), request_id="req-2")
MEMBER_B = Caller(project_id="beta", user_id="bea", roles=frozenset({"member", "reader"}), request_id="req-3")
# Keystone expands implied roles into the token: admin comes with member and reader.
ADMIN_B = Caller(project_id="beta", user_id="root", roles=frozenset({"admin", "member", "reader"}), request_id="req-4")
NO_ROLES_A = Caller(project_id="alpha", user_id="nobody", roles=frozenset(), request_id="req-5")
CALLERS = [MEMBER_A, READER_A, MEMBER_B, ADMIN_B, NO_ROLES_A]

OF_ALPHA = {"project_id": "alpha", "user_id": "ann", "uuid": "c-1", "host": "node-1"}

OWNER_RULES = [d.name for d in DEFAULTS if d.check_str == "is_admin:True or project_id:%(project_id)s"]
ADMIN_RULES = [d.name for d in DEFAULTS if d.check_str in ("rule:context_is_admin", "role:admin")]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def write(path: Path, text: str) -> None:
    """Write, and move the mtime on, so that even a same-size rewrite is a change."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


@pytest.fixture
def enforcer() -> PolicyEnforcer:
    return PolicyEnforcer()


# -- Zun's defaults ---------------------------------------------------------------------------


@pytest.mark.parametrize("rule", OWNER_RULES)
def test_admin_or_owner_rules(enforcer: PolicyEnforcer, rule: str) -> None:
    assert enforcer.allowed(rule, MEMBER_A, OF_ALPHA)
    # Zun's defaults know no reader: any role in the owning project is the owner.
    assert enforcer.allowed(rule, READER_A, OF_ALPHA)
    assert enforcer.allowed(rule, NO_ROLES_A, OF_ALPHA)
    assert not enforcer.allowed(rule, MEMBER_B, OF_ALPHA)
    assert enforcer.allowed(rule, ADMIN_B, OF_ALPHA)


@pytest.mark.parametrize("rule", ADMIN_RULES)
def test_admin_rules(enforcer: PolicyEnforcer, rule: str) -> None:
    assert enforcer.allowed(rule, ADMIN_B, OF_ALPHA)
    assert enforcer.allowed(rule, ADMIN_B)
    for caller in (MEMBER_A, READER_A, MEMBER_B, NO_ROLES_A):
        assert not enforcer.allowed(rule, caller, OF_ALPHA)
        assert not enforcer.allowed(rule, caller)


@pytest.mark.parametrize("rule", ["container:create:privileged", "deny_everybody"])
def test_deny_everybody_denies_the_admin_too(enforcer: PolicyEnforcer, rule: str) -> None:
    for caller in CALLERS:
        assert not enforcer.allowed(rule, caller, {"project_id": caller.project_id})
    with pytest.raises(PolicyNotAuthorized):
        enforcer.enforce(rule, ADMIN_B)


def test_the_whole_matrix_has_a_verdict_for_every_rule(enforcer: PolicyEnforcer) -> None:
    covered = set(OWNER_RULES) | set(ADMIN_RULES) | {"container:create:privileged", "deny_everybody"}
    assert covered == {d.name for d in DEFAULTS}


def test_enforce_raises_zuns_403(enforcer: PolicyEnforcer) -> None:
    enforcer.enforce("container:delete", MEMBER_A, OF_ALPHA)  # passes: returns None
    with pytest.raises(PolicyNotAuthorized) as caught:
        enforcer.enforce("container:delete_force", MEMBER_A, OF_ALPHA)
    assert caught.value.status == 403
    assert caught.value.code == "policy-not-authorized"
    assert caught.value.detail == "Policy doesn't allow container:delete_force to be performed."


def test_without_a_target_the_target_is_the_callers_project(enforcer: PolicyEnforcer) -> None:
    # Zun's policy.enforce: {'project_id': context.project_id, 'user_id': context.user_id}.
    assert enforcer.allowed("container:get_all", MEMBER_A)
    assert enforcer.allowed("container:create", READER_A)


def test_a_target_without_a_project_is_nobodys_but_the_admins(enforcer: PolicyEnforcer) -> None:
    assert not enforcer.allowed("container:get_one", MEMBER_A, {"uuid": "c-1"})
    assert enforcer.allowed("container:get_one", ADMIN_B, {"uuid": "c-1"})


def test_roles_are_a_membership_check_and_ignore_case(enforcer: PolicyEnforcer) -> None:
    many = Caller(
        project_id="p", user_id="u", roles=frozenset({"reader", "Admin", "load-balancer_member"}), request_id="r"
    )
    assert enforcer.is_admin(many)
    assert enforcer.allowed("container:delete_force", many, OF_ALPHA)
    assert not enforcer.is_admin(MEMBER_A)


def test_credentials_are_oslo_contexts_with_is_admin(enforcer: PolicyEnforcer) -> None:
    creds = enforcer.credentials(ADMIN_B)
    assert creds["project_id"] == "beta"
    assert creds["user_id"] == "root"
    assert creds["roles"] == ["admin", "member", "reader"]
    assert creds["is_admin"] is True
    assert creds["system_scope"] is None
    assert enforcer.credentials(MEMBER_A)["is_admin"] is False
    # A copy: changing it changes nothing.
    creds["is_admin"] = False
    assert enforcer.is_admin(ADMIN_B)


# -- rules no one defined -----------------------------------------------------------------------


def test_an_unknown_rule_fails_closed(enforcer: PolicyEnforcer) -> None:
    assert not enforcer.allowed("container:get_one:uuid", ADMIN_B)
    with pytest.raises(PolicyNotAuthorized, match="container:no_such_thing"):
        enforcer.enforce("container:no_such_thing", ADMIN_B)


def test_an_unknown_rule_that_might_not_exist_passes(enforcer: PolicyEnforcer) -> None:
    # The container view: every key without a container:get_one:<key> rule shows.
    for caller in CALLERS:
        assert enforcer.allowed("container:get_one:uuid", caller, might_not_exist=True)
        enforcer.enforce("container:get_one:status", caller, might_not_exist=True)
    # A rule that exists is checked, might_not_exist or not.
    assert not enforcer.allowed("container:get_one:host", MEMBER_A, might_not_exist=True)
    with pytest.raises(PolicyNotAuthorized):
        enforcer.enforce("container:get_one:host", MEMBER_A, might_not_exist=True)
    assert enforcer.allowed("container:get_one:host", ADMIN_B, might_not_exist=True)


# -- the policy file ----------------------------------------------------------------------------


def test_a_file_overrides_a_rule_and_a_change_is_picked_up_within_a_second(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(path, '"container:delete_force": "rule:admin_or_owner"\n')
    clock = FakeClock()
    enforcer = PolicyEnforcer(str(path), clock=clock)
    assert enforcer.allowed("container:delete_force", MEMBER_A, OF_ALPHA)
    assert not enforcer.allowed("container:delete_force", MEMBER_B, OF_ALPHA)

    write(path, '"container:delete_force": "!"\n')
    clock.now += 0.5  # not looked at again yet: at most once a second
    assert enforcer.allowed("container:delete_force", MEMBER_A, OF_ALPHA)
    clock.now += 0.5
    assert not enforcer.allowed("container:delete_force", MEMBER_A, OF_ALPHA)
    assert not enforcer.allowed("container:delete_force", ADMIN_B, OF_ALPHA)

    path.write_text("{}\n", encoding="utf-8")  # back to the defaults
    clock.now += 1
    assert not enforcer.allowed("container:delete_force", MEMBER_A, OF_ALPHA)
    assert enforcer.allowed("container:delete_force", ADMIN_B, OF_ALPHA)


def test_reload_looks_now(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(path, "")
    enforcer = PolicyEnforcer(str(path), clock=FakeClock())
    assert not enforcer.reload()  # unchanged
    write(path, '"host:get_all": "role:member"\n')
    assert enforcer.reload()
    assert enforcer.allowed("host:get_all", MEMBER_A)


def test_overriding_context_is_admin_changes_is_admin_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(path, '"context_is_admin": "role:cloud_admin"\n')
    enforcer = PolicyEnforcer(str(path))
    operator = Caller(project_id="ops", user_id="op", roles=frozenset({"cloud_admin"}), request_id="r")
    assert enforcer.is_admin(operator)
    assert not enforcer.is_admin(ADMIN_B)
    # is_admin:True in the owner rules follows context_is_admin, as Zun's RequestContext does.
    assert enforcer.allowed("container:get_one", operator, OF_ALPHA)
    assert not enforcer.allowed("container:get_one", ADMIN_B, OF_ALPHA)
    assert enforcer.allowed("container:delete_force", operator, OF_ALPHA)
    # network:* are role:admin outright, not context_is_admin.
    assert not enforcer.allowed("network:attach_external_network", operator)
    assert enforcer.allowed("network:attach_external_network", ADMIN_B)


def test_overriding_admin_or_owner_changes_no_container_rule(tmp_path: Path) -> None:
    # As in Zun: the container rules spell the check out instead of naming admin_or_owner.
    path = tmp_path / "policy.yaml"
    write(path, '"admin_or_owner": "!"\n')
    enforcer = PolicyEnforcer(str(path))
    assert enforcer.allowed("container:get_one", MEMBER_A, OF_ALPHA)
    assert not enforcer.allowed("admin_or_owner", MEMBER_A, OF_ALPHA)


def test_a_rule_only_the_file_defines_is_checked_even_when_it_might_not_exist(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(path, '"container:get_one:status": "rule:context_is_admin"\n')
    enforcer = PolicyEnforcer(str(path))
    assert not enforcer.allowed("container:get_one:status", MEMBER_A, might_not_exist=True)
    assert enforcer.allowed("container:get_one:status", ADMIN_B, might_not_exist=True)


def test_a_file_that_stops_parsing_keeps_the_previous_rules(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(path, '"host:get_all": "role:member"\n')
    clock = FakeClock()
    enforcer = PolicyEnforcer(str(path), clock=clock)
    for broken in ("host:get_all: [unclosed\n", "- a list\n", '"host:get_all": 3\n', '"a": "rule:b"\n"b": "rule:a"\n'):
        write(path, broken)
        clock.now += 1
        assert enforcer.allowed("host:get_all", MEMBER_A), broken
    path.unlink()
    clock.now += 1
    assert enforcer.allowed("host:get_all", MEMBER_A)
    write(path, '"host:get_all": "!"\n')
    clock.now += 1
    assert not enforcer.allowed("host:get_all", ADMIN_B)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("host:get_all: [unclosed\n", "cannot use the policy file"),
        ("- a list\n", "not a mapping"),
        ('"host:get_all": 3\n"host:get": true\n', "not a check string: host:get, host:get_all"),
        ('"a": "rule:b"\n"b": "rule:c or role:x"\n"c": "rule:a"\n', "cycle: a, b, c"),
        ('"context_is_admin": "rule:context_is_admin"\n', "cycle: context_is_admin"),
    ],
)
def test_a_bad_file_at_start_up_is_an_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.yaml"
    write(path, text)
    with pytest.raises(PolicyFileError, match=message):
        PolicyEnforcer(str(path))


def test_a_missing_file_at_start_up_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="No such file"):
        PolicyEnforcer(str(tmp_path / "absent.yaml"))


def test_an_empty_file_and_a_json_file_are_policy_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    write(empty, "")
    assert read_policy_file(str(empty)) == {}
    as_json = tmp_path / "policy.json"
    write(as_json, '{"container:create": "role:member"}')
    assert read_policy_file(str(as_json)) == {"container:create": "role:member"}
    assert not PolicyEnforcer(str(as_json)).allowed("container:create", READER_A)


def test_a_reference_to_an_undefined_rule_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(path, '"host:get": "rule:no_such_rule or role:member"\n"host:get_all": "rule:no_such_rule"\n')
    enforcer = PolicyEnforcer(str(path))
    assert enforcer.allowed("host:get", MEMBER_A)
    assert not enforcer.allowed("host:get", READER_A)
    assert not enforcer.allowed("host:get_all", ADMIN_B)


def test_a_default_rule_in_the_file_decides_unknown_rules(tmp_path: Path) -> None:
    # oslo.policy's [oslo_policy] policy_default_rule is "default", as in Zun.
    path = tmp_path / "policy.yaml"
    write(path, '"default": "role:admin"\n')
    enforcer = PolicyEnforcer(str(path))
    assert enforcer.allowed("container:no_such_thing", ADMIN_B)
    assert not enforcer.allowed("container:no_such_thing", MEMBER_A)


# -- effective rules ----------------------------------------------------------------------------


def test_effective_rules_without_a_file_are_the_defaults(enforcer: PolicyEnforcer) -> None:
    assert enforcer.effective_rules() == {d.name: d.check_str for d in DEFAULTS}
    assert list(enforcer.effective_rules()) == [d.name for d in DEFAULTS]
    assert enforcer.file_rules() == {}
    assert enforcer.policy_file is None


def test_effective_rules_merge_the_file_over_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(path, '"zz:custom": "role:ops"\n"container:create:privileged": "rule:context_is_admin"\n')
    enforcer = PolicyEnforcer(str(path))
    effective = enforcer.effective_rules()
    names = [d.name for d in DEFAULTS]
    assert list(effective) == [*names, "zz:custom"]
    assert effective["container:create:privileged"] == "rule:context_is_admin"
    assert effective["zz:custom"] == "role:ops"
    assert {k: v for k, v in effective.items() if k not in ("container:create:privileged", "zz:custom")} == {
        d.name: d.check_str for d in DEFAULTS if d.name != "container:create:privileged"
    }
    assert enforcer.file_rules() == {"zz:custom": "role:ops", "container:create:privileged": "rule:context_is_admin"}
    effective.clear()  # a copy
    assert enforcer.effective_rules()


# -- no global state; the memo changes no verdict -----------------------------------------------


def test_no_global_conf_is_touched() -> None:
    PolicyEnforcer()
    assert "oslo_policy" not in cfg.CONF


def test_no_policy_file_is_looked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # oslo.policy on its own would find ./policy.yaml ([oslo_policy] policy_file) and policy.d/.
    write(tmp_path / "policy.yaml", '"host:get_all": "@"\n')
    (tmp_path / "policy.d").mkdir()
    write(tmp_path / "policy.d" / "open.yaml", '"host:get": "@"\n')
    monkeypatch.chdir(tmp_path)
    enforcer = PolicyEnforcer()
    assert not enforcer.allowed("host:get_all", MEMBER_A)
    assert not enforcer.allowed("host:get", MEMBER_A)


def test_two_enforcers_do_not_share_rules(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(path, '"host:get_all": "@"\n')
    PolicyEnforcer(str(path))
    assert not PolicyEnforcer().allowed("host:get_all", MEMBER_A)


def test_memoised_verdicts_are_oslo_policys(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    write(
        path,
        "\n".join(
            [
                '"by_user": "user_id:%(user_id)s"',
                '"by_role_in_target": "role:%(role)s"',
                '"nested": "(rule:by_user and not role:reader) or project_id:%(project_id)s"',
                '"literal": "\'c-1\':%(uuid)s"',
                '"formatted": "project_id:%(project_id)r"',
                '"whole_target": "project_id:%s"',
                '"always": "@"',
                '"host:get": "rule:nested"',
            ]
        )
        + "\n",
    )
    memoised = PolicyEnforcer(str(path))
    direct = PolicyEnforcer(str(path), memoize=False)
    rules = [*memoised.effective_rules(), "no_such_rule"]
    targets: list[Mapping[str, object] | None] = [
        None,
        OF_ALPHA,
        {"project_id": "beta", "user_id": "bea", "role": "member"},
        {"project_id": "alpha", "uuid": "c-2"},
        {"user_id": "ann", "role": 7},
        {},
    ]
    for _ in range(2):  # the second round answers from the memo
        for rule, caller, target in itertools.product(rules, CALLERS, targets):
            assert memoised.allowed(rule, caller, target) == direct.allowed(rule, caller, target), (
                rule,
                caller,
                target,
            )
