"""Zun's policy: its default rules (``rules``), overridable by a ``policy.yaml``, enforced with
oslo.policy (``enforcer``), and ``zunk8s policy``, which prints the policy in force (``cli``)."""

from zunk8s.policy.enforcer import PolicyEnforcer, PolicyFileError, Subject, Target, read_policy_file
from zunk8s.policy.rules import ADMIN_ONLY_FIELDS, DEFAULTS

__all__ = [
    "ADMIN_ONLY_FIELDS",
    "DEFAULTS",
    "PolicyEnforcer",
    "PolicyFileError",
    "Subject",
    "Target",
    "read_policy_file",
]
