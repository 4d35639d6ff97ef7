from typing import Any

import pytest

from tests.unit.badinput import HUGE
from zunk8s.errors import (
    InvalidParamInVersion,
    InvalidValue,
    SchemaValidationError,
    ZunError,
)
from zunk8s.microversions import APIVersion
from zunk8s.schemas.containers import (
    normalise_restart_policy,
    validate_create,
    validate_rebuild,
    validate_update,
)

V40 = APIVersion(1, 40)


def test_valid_create_is_normalised() -> None:
    spec = validate_create(
        {
            "image": "busybox",
            "name": "web-1",
            "cpu": "0.5",
            "memory": 64,
            "command": ["sleep", "10"],
            "labels": {"a": 1},
            "restart_policy": {"Name": "on-failure", "MaximumRetryCount": 3},
            "interactive": "true",
        },
        V40,
    )
    assert spec.cpu == 0.5
    assert spec.memory == "64"
    assert spec.labels == {"a": "1"}
    assert spec.interactive is True
    assert normalise_restart_policy(spec.restart_policy) == {"Name": "on-failure", "MaximumRetryCount": "3"}


def test_legacy_command_is_split_shell_style() -> None:
    spec = validate_create({"image": "busybox", "command": "sh -c 'echo hi there'"}, APIVersion(1, 1))
    assert spec.command == ["sh", "-c", "echo hi there"]


BAD_BODIES: list[tuple[dict[str, Any], APIVersion, type[ZunError], str]] = [
    ({}, V40, SchemaValidationError, "'image' is a required property"),
    ({"image": "x"}, V40, SchemaValidationError, "too short"),
    ({"image": "--"}, V40, SchemaValidationError, "does not match"),
    ({"image": "ab", "foo": 1}, V40, SchemaValidationError, "('foo' was unexpected)"),
    ({"image": "ab", "name": "-bad"}, V40, SchemaValidationError, "field 'name'"),
    ({"image": "ab", "name": "a"}, V40, SchemaValidationError, "field 'name'"),
    ({"image": "ab", "cpu": 0.01}, V40, SchemaValidationError, "less than the minimum of 0.1"),
    ({"image": "ab", "cpu": 17}, V40, SchemaValidationError, "greater than the maximum of 16"),
    ({"image": "ab", "cpu": "abc"}, V40, SchemaValidationError, "field 'cpu'"),
    ({"image": "ab", "cpu": True}, V40, SchemaValidationError, "field 'cpu'"),
    ({"image": "ab", "memory": "3"}, V40, SchemaValidationError, "3 is less than the minimum of 4"),
    ({"image": "ab", "memory": 9000}, V40, SchemaValidationError, "maximum of 8192"),
    ({"image": "ab", "memory": "1.5"}, V40, SchemaValidationError, "field 'memory'"),
    ({"image": "ab", "disk": 0}, V40, SchemaValidationError, "field 'disk'"),
    ({"image": "ab", "environment": {"A": 1}}, V40, SchemaValidationError, "field 'environment'"),
    ({"image": "ab", "environment": "A=1"}, V40, SchemaValidationError, "field 'environment'"),
    ({"image": "ab", "labels": ["a"]}, V40, SchemaValidationError, "field 'labels'"),
    ({"image": "ab", "workdir": 5}, V40, SchemaValidationError, "field 'workdir'"),
    ({"image": "ab", "restart_policy": {"Name": "sometimes"}}, V40, SchemaValidationError, "restart_policy"),
    ({"image": "ab", "restart_policy": {"MaximumRetryCount": 1}}, V40, SchemaValidationError, "'Name' is a required"),
    ({"image": "ab", "restart_policy": {"Name": "no", "X": 1}}, V40, SchemaValidationError, "unexpected"),
    ({"image": "ab", "restart_policy": {"Name": "always", "MaximumRetryCount": 2}}, V40, InvalidValue, "always"),
    ({"image": "ab", "restart_policy": {"Name": "on-failure", "MaximumRetryCount": -1}}, V40, SchemaValidationError, "minimum"),
    ({"image": "ab", "interactive": "yes"}, V40, SchemaValidationError, "field 'interactive'"),
    ({"image": "ab", "tty": 1}, V40, SchemaValidationError, "field 'tty'"),
    ({"image": "ab", "auto_remove": "true"}, V40, SchemaValidationError, "field 'auto_remove'"),
    ({"image": "ab", "auto_remove": True}, APIVersion(1, 2), InvalidParamInVersion, "auto_remove is only supported from version 1.3"),
    ({"image": "ab", "hostname": "h"}, APIVersion(1, 8), InvalidParamInVersion, "hostname"),
    ({"image": "ab", "hostname": None}, V40, SchemaValidationError, "field 'hostname'"),
    ({"image": "ab", "hostname": "bad host"}, V40, SchemaValidationError, "field 'hostname'"),
    ({"image": "ab", "runtime": "runc"}, APIVersion(1, 4), InvalidParamInVersion, "runtime"),
    ({"image": "ab", "entrypoint": ["sh"]}, APIVersion(1, 39), SchemaValidationError, "('entrypoint' was unexpected)"),
    ({"image": "ab", "entrypoint": "sh"}, V40, SchemaValidationError, "field 'entrypoint'"),
    ({"image": "ab", "host": "n1"}, APIVersion(1, 38), SchemaValidationError, "('host' was unexpected)"),
    ({"image": "ab", "command": "sleep 1"}, V40, SchemaValidationError, "field 'command'"),
    ({"image": "ab", "command": ["sleep"]}, APIVersion(1, 19), SchemaValidationError, "field 'command'"),
    ({"image": "ab", "image_pull_policy": "sometimes"}, V40, SchemaValidationError, "image_pull_policy"),
    ({"image": "ab", "image_driver": "podman"}, V40, SchemaValidationError, "image_driver"),
    ({"image": "ab", "cpu_policy": "gold"}, V40, SchemaValidationError, "cpu_policy"),
    ({"image": "ab", "security_groups": [""]}, V40, SchemaValidationError, "security_groups"),
    ({"image": "ab", "exposed_ports": {"80/sctp": {}}}, V40, InvalidValue, "value sctp is an invalid protocol"),
    ({"image": "ab", "exposed_ports": {"foo": {}}}, V40, InvalidValue, "value foo is invalid as publish port."),
    ({"image": "ab", "exposed_ports": {"80": {}}, "security_groups": ["a"]}, V40, SchemaValidationError, "together"),
    ({"image": "ab", "exposed_ports": {"80": {}}}, APIVersion(1, 23), InvalidParamInVersion, "exposed_ports"),
    ({"image": "ab", "privileged": True}, APIVersion(1, 20), InvalidParamInVersion, "privileged"),
    ({"image": "ab", "healthcheck": []}, V40, SchemaValidationError, "healthcheck"),
    ({"image": 5}, V40, SchemaValidationError, "field 'image'"),
    ({"image": "ab", "nets": [{"network": "n", "port": "p"}]}, V40, SchemaValidationError, "exactly one"),
    ({"image": "ab", "nets": [{}]}, V40, SchemaValidationError, "exactly one"),
    ({"image": "ab", "nets": [{"network": "n", "mac": "x"}]}, V40, SchemaValidationError, "('mac' was unexpected)"),
    ({"image": "ab", "nets": [{"network": ""}]}, V40, SchemaValidationError, "1 to 255"),
    ({"image": "ab", "nets": [{"network": "n", "v4-fixed-ip": "::1"}]}, V40, SchemaValidationError, "ipv4"),
    ({"image": "ab", "nets": [{"network": "n", "v6-fixed-ip": "10.0.0.1"}]}, V40, SchemaValidationError, "ipv6"),
]


@pytest.mark.parametrize(("body", "version", "error", "fragment"), BAD_BODIES)
def test_bad_create_bodies(body: dict[str, Any], version: APIVersion, error: type[ZunError], fragment: str) -> None:
    with pytest.raises(error) as info:
        validate_create(body, version)
    assert fragment in info.value.detail
    assert info.value.status == 400


def test_body_must_be_object() -> None:
    with pytest.raises(SchemaValidationError):
        validate_create(["image"], V40)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"image": "x"}, "('image' was unexpected)"),
        ({"cpu": 0}, "field 'cpu'"),
        ({"memory": "1"}, "field 'memory'"),
        ({"name": "?"}, "field 'name'"),
        ({"auto_heal": "maybe"}, "field 'auto_heal'"),
    ],
)
def test_bad_update_bodies(body: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SchemaValidationError) as info:
        validate_update(body)
    assert fragment in info.value.detail


def test_restart_policy_no_forces_zero() -> None:
    spec = validate_create({"image": "ab", "restart_policy": {"Name": "no", "MaximumRetryCount": "5"}}, V40)
    assert normalise_restart_policy(spec.restart_policy) == {"Name": "no", "MaximumRetryCount": "0"}


@pytest.mark.parametrize(
    ("version", "body", "tty"),
    [
        (APIVersion(1, 35), {"interactive": True}, True),
        (APIVersion(1, 35), {"interactive": False, "tty": True}, False),
        (APIVersion(1, 36), {"interactive": True}, None),
        (APIVersion(1, 36), {"interactive": False, "tty": True}, True),
        (APIVersion(1, 19), {"interactive": True}, None),
    ],
)
def test_tty_follows_interactive_before_1_36(version: APIVersion, body: dict[str, Any], tty: bool | None) -> None:
    assert validate_create({"image": "ab", **body}, version).tty is tty


# --- #13 classes 3 and 4: numbers in JSON bodies ---

V40 = APIVersion(1, 40)


@pytest.mark.parametrize("cpu", [float("nan"), float("inf"), -float("inf"), 10**400, "1" * 5000, "1\n", "²"])
def test_non_finite_and_huge_numbers(cpu: Any) -> None:
    for body in ({"image": "ab", "cpu": cpu}, {"image": "ab", "memory": cpu}, {"image": "ab", "disk": cpu},
                 {"image": "ab", "restart_policy": {"Name": "on-failure", "MaximumRetryCount": cpu}}):
        with pytest.raises(SchemaValidationError) as err:
            validate_create(body, V40)
        assert len(err.value.detail) < 400
    with pytest.raises(SchemaValidationError):
        validate_update({"cpu": cpu})


@pytest.mark.parametrize("port", ["²/tcp", "1²", f"{HUGE}/tcp", "0", "65536", "-1/udp"])
def test_exposed_port_numbers(port: str) -> None:
    with pytest.raises(InvalidValue):
        validate_create({"image": "ab", "exposed_ports": {port: {}}}, V40)


# --- #13 class 5: healthcheck ---

@pytest.mark.parametrize(
    "hc",
    [
        {"test": 5},
        {"cmd": ""},
        {"interval": 3},
        {"cmd": "true", "interval": "abc"},
        {"cmd": "true", "interval": -1},
        {"cmd": "true", "retries": 1.5},
        {"cmd": "true", "timeout": True},
        {"cmd": "true", "timeout": 2**40},
        {"cmd": "true", "bogus": 1},
        {"cmd": "true", "test": "true"},
        "cmd=true",
    ],
)
def test_bad_healthchecks_are_400(hc: Any) -> None:
    with pytest.raises(SchemaValidationError):
        validate_create({"image": "ab", "healthcheck": hc}, V40)


# --- #11: rebuild's query ---

@pytest.mark.parametrize(("params", "fragment"), [
    ({"image": "x"}, "field 'image'"),
    ({"image_driver": "podman"}, "field 'image_driver'"),
    ({"run": "true"}, "('run' was unexpected)"),
])
def test_bad_rebuild_queries(params: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SchemaValidationError) as err:
        validate_rebuild(params)
    assert fragment in err.value.detail


def test_rebuild_query() -> None:
    assert validate_rebuild({}).image is None
    wanted = validate_rebuild({"image": "busybox:1.36", "image_driver": "docker"})
    assert (wanted.image, wanted.image_driver) == ("busybox:1.36", "docker")
