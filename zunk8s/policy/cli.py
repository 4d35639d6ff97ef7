"""``zunk8s policy``: print the policy in force (Zun's defaults merged with a policy file) as
YAML, one ``"rule": "check"`` line per rule, as ``oslopolicy-policy-generator`` does.
``--with-help`` adds the sample generator's comments (description, operations) and, for a
rule the file overrides, the default it replaces. The output is itself a valid policy file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from oslo_policy.policy import DocumentedRuleDefault, RuleDefault

from zunk8s.policy.enforcer import PolicyEnforcer, PolicyFileError


def _quoted(text: str) -> str:
    # A JSON string is a YAML double-quoted scalar; the generator's bare "…" is not, for a check with a quote.
    return json.dumps(text)


def _comments(default: RuleDefault | None, check_str: str) -> list[str]:
    if default is None:
        return ["# Set by the policy file only."]
    lines = [f"# {line}" if line else "#" for line in (default.description or "").splitlines()]
    if isinstance(default, DocumentedRuleDefault):
        lines += [f"# {op['method']}  {op['path']}" for op in default.operations]
    if check_str != default.check_str:
        lines.append(f"# Overridden by the policy file; default: {_quoted(default.check_str)}")
    return lines


def render(enforcer: PolicyEnforcer, *, with_help: bool = False) -> str:
    """The effective policy as YAML text."""
    defaults = {d.name: d for d in enforcer.defaults}
    out: list[str] = []
    for name, check_str in enforcer.effective_rules().items():
        if with_help:
            out += _comments(defaults.get(name), check_str)
        out.append(f"{_quoted(name)}: {_quoted(check_str)}")
        if with_help:
            out.append("")
    return "\n".join(out) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy-file", metavar="FILE", help="a policy.yaml whose rules override Zun's defaults")
    parser.add_argument(
        "--with-help", action="store_true", help="comment each rule with its description, operations and default"
    )


def run(args: argparse.Namespace) -> int:
    try:
        enforcer = PolicyEnforcer(args.policy_file)
    except PolicyFileError as e:
        print(f"zunk8s policy: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(render(enforcer, with_help=args.with_help))
    return 0


def add_policy_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``policy`` to the ``zunk8s`` command's subcommands."""
    add_arguments(
        sub.add_parser(
            "policy",
            help="print the policy in force (Zun's defaults merged with a policy file) as YAML",
            description=__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="zunk8s policy", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
