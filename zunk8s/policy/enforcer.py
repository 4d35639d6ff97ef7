"""Zun's policy checks, with oslo.policy (the library Zun uses): Zun's defaults, overridden
by an optional ``policy.yaml``, enforced against the caller's project, user and roles.

It behaves as Zun's ``zun/common/policy.py`` and ``RequestContext`` do: ``is_admin`` in the
credentials is the ``context_is_admin`` rule's verdict; without a target, the target is the
caller's own project and user; a rule no one defined fails closed, unless the check says it
might not exist (the container view's ``container:get_one:<key>``), and then it passes.

Differences, on purpose: the enforcer is private (its own ``ConfigOpts``, no global CONF;
oslo.policy never looks for files itself); the file is looked at on use, at most once a
second, and a file that stops parsing (or whose rules refer to each other in a cycle) keeps
the previous rules in force, where oslo.policy would fail every check; a bad or missing file
at start-up stops zunk8s. Decisions are memoised per rule generation, keyed by the caller's
project, user and roles and by the target values the rule reads (oslo.policy's own check
costs tens of microseconds, and the view asks four of them per container).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence, Set
from typing import Final, Protocol

import structlog
from oslo_config import cfg
from oslo_policy import _checks, policy

from zunk8s.errors import PolicyNotAuthorized
from zunk8s.filestamp import FileStamp, file_stamp
from zunk8s.policy.rules import DEFAULTS

log = structlog.get_logger(__name__)

CHECK_EVERY: Final = 1.0
# Bounds on the memo tables; a full table is simply emptied.
MAX_DECISIONS: Final = 20_000
MAX_CREDENTIALS: Final = 2_000

Target = Mapping[str, object]
_CredsKey = tuple[str, str, frozenset[str]]
_Memo = tuple[str, _CredsKey, tuple[str | None, ...]]
_MISSING: Final = object()
# ``%(key)s`` is the only substitution a memoised rule may contain (see _target_keys).
_PLACEHOLDER: Final = re.compile(r"%\(([^)]*)\)s")


class PolicyFileError(ValueError):
    """The policy file cannot be used (unreadable, not a mapping of strings, cyclic rules)."""


class Subject(Protocol):
    """Who is asking: ``zunk8s.service.context.Caller`` (or an identity) fits."""

    @property
    def project_id(self) -> str: ...

    @property
    def user_id(self) -> str: ...

    @property
    def roles(self) -> Set[str]: ...


def read_policy_file(path: str) -> dict[str, str]:
    """The rules a policy file sets (YAML, or JSON), by name; PolicyFileError saying what is wrong."""
    try:
        with open(path, encoding="utf-8") as f:
            parsed: object = policy.parse_file_contents(f.read())
    except (OSError, ValueError) as e:
        raise PolicyFileError(f"cannot use the policy file {path}: {e}") from None
    if not isinstance(parsed, dict):
        raise PolicyFileError(f"cannot use the policy file {path}: not a mapping of rule names to check strings")
    bad = sorted(str(k) for k, v in parsed.items() if not isinstance(k, str) or not isinstance(v, str))
    if bad:
        raise PolicyFileError(f"cannot use the policy file {path}: not a check string: {', '.join(bad)}")
    return {str(k): str(v) for k, v in parsed.items()}


class PolicyEnforcer:
    """Zun's policy for one process. Build it once (settings name the file) and share it."""

    def __init__(
        self,
        policy_file: str | None = None,
        *,
        defaults: Sequence[policy.RuleDefault] = DEFAULTS,
        clock: Callable[[], float] = time.monotonic,
        check_every: float = CHECK_EVERY,
        memoize: bool = True,
    ) -> None:
        self._policy_file = policy_file
        self._defaults = tuple(defaults)
        self._clock = clock
        self._check_every = check_every
        self._memoize = memoize
        # A private ConfigOpts: oslo.policy registers its [oslo_policy] options there, not on a global.
        self._enforcer = policy.Enforcer(cfg.ConfigOpts(), use_conf=False)
        self._enforcer.register_defaults(self._defaults)
        self._file_rules: dict[str, str] = {}
        self._effective: dict[str, str] = {}
        self._reads: dict[str, tuple[str, ...] | None] = {}
        self._creds: dict[_CredsKey, dict[str, object]] = {}
        self._decisions: dict[_Memo, bool] = {}
        self._stamp: FileStamp | None = None
        if policy_file is not None:
            self._stamp = file_stamp(policy_file)
            self._install(read_policy_file(policy_file))  # a bad file at start-up stops zunk8s
        else:
            self._install({})
        self._checked = clock()

    @property
    def policy_file(self) -> str | None:
        return self._policy_file

    @property
    def defaults(self) -> tuple[policy.RuleDefault, ...]:
        return self._defaults

    # -- checks ---------------------------------------------------------------------------

    def enforce(
        self, rule: str, caller: Subject, target: Target | None = None, *, might_not_exist: bool = False
    ) -> None:
        """Pass, or raise ``PolicyNotAuthorized(rule)`` (Zun's 403)."""
        if not self.allowed(rule, caller, target, might_not_exist=might_not_exist):
            raise PolicyNotAuthorized(rule)

    def allowed(
        self, rule: str, caller: Subject, target: Target | None = None, *, might_not_exist: bool = False
    ) -> bool:
        """Whether ``rule`` lets ``caller`` act on ``target`` (default: the caller's own project).

        With ``might_not_exist``, a rule that neither the defaults nor the file define passes.
        """
        self._refresh()
        if might_not_exist and rule not in self._effective:
            return True
        if target is None:
            target = {"project_id": caller.project_id, "user_id": caller.user_id}
        key = _creds_key(caller)
        keys = self._reads.get(rule, None) if self._memoize else None
        if keys is None:
            return self._check(rule, key, target)
        memo = (rule, key, _projection(target, keys))
        verdict = self._decisions.get(memo)
        if verdict is not None:
            return verdict
        verdict = self._check(rule, key, target)
        if len(self._decisions) >= MAX_DECISIONS:
            self._decisions.clear()
        self._decisions[memo] = verdict
        return verdict

    def is_admin(self, caller: Subject) -> bool:
        """The ``context_is_admin`` rule's verdict (Zun's ``RequestContext.is_admin``)."""
        self._refresh()
        return bool(self._credentials(_creds_key(caller))["is_admin"])

    def credentials(self, caller: Subject) -> dict[str, object]:
        """The credentials oslo.policy sees for ``caller`` (oslo.context's keys, plus ``is_admin``)."""
        self._refresh()
        return dict(self._credentials(_creds_key(caller)))

    # -- rules ----------------------------------------------------------------------------

    def effective_rules(self) -> dict[str, str]:
        """Every rule in force: the defaults in their order (the file's check string where it
        sets one), then the rules only the file defines, in its order."""
        self._refresh()
        return dict(self._effective)

    def file_rules(self) -> dict[str, str]:
        """The rules the policy file sets (empty without a file)."""
        self._refresh()
        return dict(self._file_rules)

    def reload(self) -> bool:
        """Look at the file now (without waiting for the next second); True when rules changed."""
        self._checked = self._clock()
        return self._reload_if_changed()

    def _refresh(self) -> None:
        if self._policy_file is None:
            return
        now = self._clock()
        if now - self._checked < self._check_every:
            return
        self._checked = now
        self._reload_if_changed()

    def _reload_if_changed(self) -> bool:
        if self._policy_file is None:
            return False
        stamp = file_stamp(self._policy_file)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            self._install(read_policy_file(self._policy_file))
        except PolicyFileError as e:
            log.error("policy_not_reloaded", error=str(e))
            return False
        log.info("policy_reloaded", path=self._policy_file, overrides=len(self._file_rules))
        return True

    def _install(self, file_rules: dict[str, str]) -> None:
        """Make ``file_rules`` (over the defaults) the rules in force, or raise PolicyFileError."""
        effective = {d.name: file_rules.get(d.name, d.check_str) for d in self._defaults}
        effective.update((name, check) for name, check in file_rules.items() if name not in effective)
        rules = policy.Rules.from_dict(effective, self._enforcer.default_rule)
        reads, cycles, undefined = _analyse(rules)
        if cycles:
            raise PolicyFileError(
                f"cannot use the policy file {self._policy_file}: rules refer to each other in a cycle: "
                + ", ".join(sorted(cycles))
            )
        if undefined:
            # As oslo.policy: a check naming a rule that does not exist fails (closed).
            log.warning("policy_rule_undefined", rules=sorted(undefined))
        self._enforcer.set_rules(rules, overwrite=True, use_conf=False)
        self._file_rules = dict(file_rules)
        self._effective = effective
        self._reads = reads
        self._creds = {}
        self._decisions = {}

    # -- oslo.policy ----------------------------------------------------------------------

    def _check(self, rule: str, key: _CredsKey, target: Target) -> bool:
        # oslo.policy may add keys to the credentials it is given: hand it a copy.
        creds = dict(self._credentials(key))
        return bool(self._enforcer.enforce(rule, target, creds, do_raise=False))

    def _credentials(self, key: _CredsKey) -> dict[str, object]:
        creds = self._creds.get(key)
        if creds is None:
            project_id, user_id, roles = key
            # oslo.context's RequestContext.to_policy_values(), as Zun's context fills it.
            creds = {
                "user_id": user_id,
                "user_domain_id": None,
                "system_scope": None,
                "domain_id": None,
                "project_id": project_id,
                "project_domain_id": None,
                "roles": sorted(roles),
                "is_admin_project": True,
                "service_user_id": None,
                "service_user_domain_id": None,
                "service_project_id": None,
                "service_project_domain_id": None,
                "service_roles": [],
                "is_admin": None,
            }
            # Zun's RequestContext: is_admin is what context_is_admin says, with an empty target.
            creds["is_admin"] = bool(self._enforcer.enforce("context_is_admin", {}, dict(creds), do_raise=False))
            if len(self._creds) >= MAX_CREDENTIALS:
                self._creds.clear()
            self._creds[key] = creds
        return creds


def _creds_key(caller: Subject) -> _CredsKey:
    return (caller.project_id, caller.user_id, frozenset(caller.roles))


def _projection(target: Target, keys: tuple[str, ...]) -> tuple[str | None, ...]:
    # What ``%(key)s`` sees: str() of the value; None stands for a missing key (the check fails).
    return tuple(None if (v := target.get(k, _MISSING)) is _MISSING else str(v) for k in keys)


def _target_keys(match: str) -> frozenset[str] | None:
    """The target keys a check's match substitutes, or None when it formats the target otherwise."""
    keys = frozenset(_PLACEHOLDER.findall(match))
    rest = _PLACEHOLDER.sub("", match).replace("%%", "")
    return None if "%" in rest else keys


def _analyse(rules: policy.Rules) -> tuple[dict[str, tuple[str, ...] | None], set[str], set[str]]:
    """For each rule: the target keys its verdict depends on (None: do not memoise);
    the rules on a reference cycle; the rule names referred to but not defined."""
    default = rules.default_rule if isinstance(rules.default_rule, str) else None
    cycles: set[str] = set()
    undefined: set[str] = set()
    done: dict[str, frozenset[str] | None] = {}

    def resolve(name: str) -> str | None:
        if name in rules:
            return name
        undefined.add(name)
        # Rules.__missing__: an unknown name falls back to the default rule, when one is defined.
        return default if default is not None and default in rules else None

    def of_rule(name: str, path: tuple[str, ...]) -> frozenset[str] | None:
        if name in path:
            cycles.update(path[path.index(name) :])
            return None
        if name not in done:
            done[name] = of_check(rules[name], (*path, name))
        return done[name]

    def of_check(check: _checks.BaseCheck, path: tuple[str, ...]) -> frozenset[str] | None:
        if isinstance(check, (_checks.TrueCheck, _checks.FalseCheck)):
            return frozenset()
        if isinstance(check, (_checks.AndCheck, _checks.OrCheck)):
            # Every part is looked at (not only up to the first unknown): cycles hide anywhere.
            parts = [of_check(part, path) for part in check.rules]
            keys: set[str] = set()
            for part_keys in parts:
                if part_keys is None:
                    return None
                keys |= part_keys
            return frozenset(keys)
        if isinstance(check, _checks.NotCheck):
            return of_check(check.rule, path)
        if type(check) is _checks.RuleCheck:
            name = resolve(check.match)
            return frozenset() if name is None else of_rule(name, path)
        if type(check) in (_checks.RoleCheck, _checks.GenericCheck):
            assert isinstance(check, _checks.Check)
            return _target_keys(check.match)
        return None  # http:, or a check some plugin registered: its verdict is not ours to memoise

    reads: dict[str, tuple[str, ...] | None] = {}
    for name in rules:
        keys = of_rule(name, ())
        reads[name] = None if keys is None else tuple(sorted(keys))
    return reads, cycles, undefined
