from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from oslo_policy.policy import parse_file_contents  # yaml.safe_load, typed

from zunk8s.policy import DEFAULTS, PolicyEnforcer
from zunk8s.policy.cli import add_policy_command, main, render, run

DEFAULT_RULES = {d.name: d.check_str for d in DEFAULTS}


def test_prints_the_defaults_as_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert parse_file_contents(out) == DEFAULT_RULES
    # One line a rule, in oslopolicy-policy-generator's shape.
    assert out.splitlines()[0] == '"context_is_admin": "role:admin"'
    assert '"container:create:privileged": "rule:deny_everybody"' in out.splitlines()
    assert len(out.splitlines()) == len(DEFAULTS)


def test_prints_the_file_merged_over_the_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text('"container:delete_force": "rule:admin_or_owner"\n"custom": "role:\\"odd\\""\n', encoding="utf-8")
    assert main(["--policy-file", str(path)]) == 0
    printed = parse_file_contents(capsys.readouterr().out)
    assert printed == {**DEFAULT_RULES, "container:delete_force": "rule:admin_or_owner", "custom": 'role:"odd"'}
    assert printed == PolicyEnforcer(str(path)).effective_rules()


def test_the_output_is_a_policy_file_that_gives_the_same_policy(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text('"host:get": "role:member"\n', encoding="utf-8")
    again = tmp_path / "again.yaml"
    again.write_text(render(PolicyEnforcer(str(path)), with_help=True), encoding="utf-8")
    assert PolicyEnforcer(str(again)).effective_rules() == PolicyEnforcer(str(path)).effective_rules()


def test_with_help_comments_each_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text('"container:delete_force": "rule:admin_or_owner"\n"custom": "role:ops"\n', encoding="utf-8")
    assert main(["--policy-file", str(path), "--with-help"]) == 0
    out = capsys.readouterr().out
    assert parse_file_contents(out) == PolicyEnforcer(str(path)).effective_rules()
    assert "# POST  /v1/containers/{container_ident}/start\n" in out
    assert '# Overridden by the policy file; default: "rule:context_is_admin"\n"container:delete_force"' in out
    assert '# Set by the policy file only.\n"custom": "role:ops"\n' in out


def test_a_bad_policy_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--policy-file", str(tmp_path / "absent.yaml")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("zunk8s policy: cannot use the policy file")


def test_hooks_into_a_parent_command(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="zunk8s")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve")
    add_policy_command(sub)
    args = parser.parse_args(["policy", "--with-help"])
    assert args.command == "policy"
    assert run(args) == 0
    assert parse_file_contents(capsys.readouterr().out) == DEFAULT_RULES
