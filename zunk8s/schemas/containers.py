"""Validation of container create and update bodies, with Zun's rules.

Mirrors ``zun/api/controllers/v1/schemas/containers.py`` and ``parameter_types.py``:
numeric strings obey min/max, ``image`` has an unanchored pattern, ``memory`` and
``MaximumRetryCount`` come back as strings, and fields newer than the request's microversion
are refused as Zun refuses them (``InvalidParamInVersion`` or "Additional properties").
"""

from __future__ import annotations

import ipaddress
import math
import re
import shlex
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from zunk8s.errors import InvalidParamInVersion, InvalidValue, SchemaValidationError
from zunk8s.microversions import APIVersion
from zunk8s.schemas.params import shown

MIN_CPU, MAX_CPU = 0.1, 16.0
MIN_MEMORY, MAX_MEMORY = 4, 8192
MIN_DISK, MAX_DISK = 1, 160
DEFAULT_CPU = 1.0
DEFAULT_MEMORY = "512"

_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_IMAGE_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]")  # unanchored, as in Zun
_HOSTNAME_RE = re.compile(r"^[a-zA-Z0-9-._]*$")
_CPU_STR_RE = re.compile(r"[0-9]*(\.([0-9]+))?")
_INT_STR_RE = re.compile(r"[0-9]+")
_PORT_RE = re.compile(r"[0-9]{1,5}")
_STRICT_BOOLS = {True: True, False: False, "true": True, "True": True, "false": False, "False": False}
RESTART_NAMES = ("no", "always", "on-failure", "unless-stopped")
PULL_POLICIES = ("never", "always", "ifnotpresent", "Never", "Always", "IfNotPresent")

# Fields Zun checks with version_check() -> InvalidParamInVersion when sent too early.
_VERSIONED_FIELDS: dict[str, tuple[int, int]] = {
    "auto_remove": (1, 3),
    "runtime": (1, 5),
    "hostname": (1, 9),
    "mounts": (1, 11),
    "privileged": (1, 21),
    "healthcheck": (1, 22),
    "exposed_ports": (1, 24),
    "registry": (1, 31),
}
# Fields that are simply absent from older schemas -> "Additional properties are not allowed".
_SCHEMA_FIELDS: dict[str, tuple[int, int]] = {"host": (1, 39), "entrypoint": (1, 40)}


def _err(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _number_in_range(value: Any, *, lo: float, hi: float, integer: bool) -> float:
    if isinstance(value, bool):
        raise _err("type", f"{shown(value)} is not of type 'number'")
    if isinstance(value, str):
        pattern = _INT_STR_RE if integer else _CPU_STR_RE
        # fullmatch: `$` would accept a trailing newline; [0-9] keeps to ASCII digits.
        if not value or len(value) > 32 or not pattern.fullmatch(value):
            raise _err("pattern", f"'{shown(value)}' does not match '{pattern.pattern}'")
        number = float(value)
    elif isinstance(value, int):
        # Compared as an int: float() of a 400-digit integer raises OverflowError.
        if value < lo:
            raise _err("minimum", f"{shown(value)} is less than the minimum of {_fmt(lo)}")
        if value > hi:
            raise _err("maximum", f"{shown(value)} is greater than the maximum of {_fmt(hi)}")
        return float(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _err("type", f"{shown(value)} is not a finite number")
        if integer and not value.is_integer():
            raise _err("type", f"{shown(value)} is not of type 'integer'")
        number = value
    else:
        raise _err("type", f"{shown(value)} is not of type 'number', 'string'")
    if number < lo:
        raise _err("minimum", f"{_fmt(value)} is less than the minimum of {_fmt(lo)}")
    if number > hi:
        raise _err("maximum", f"{_fmt(value)} is greater than the maximum of {_fmt(hi)}")
    return number


def _fmt(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v)) if v >= 1 else str(v)
    return shown(v)


def _check_string(value: Any, *, lo: int, hi: int, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str):
        raise _err("type", f"{shown(value)} is not of type 'string'")
    if len(value) < lo:
        raise _err("minLength", f"'{shown(value)}' is too short")
    if len(value) > hi:
        raise _err("maxLength", f"'{shown(value)}' is too long")
    if pattern is not None and not pattern.search(value):
        raise _err("pattern", f"'{shown(value)}' does not match '{pattern.pattern}'")
    return value


def _strict_bool(value: Any) -> bool:
    if isinstance(value, (bool, str)) and value in _STRICT_BOOLS:
        return _STRICT_BOOLS[value]
    raise _err("enum", f"{shown(value)} is not one of [True, 'True', 'TRUE', 'true', False, 'False', 'FALSE', 'false']")


def cpu_value(v: Any) -> float | None:
    return None if v is None else _number_in_range(v, lo=MIN_CPU, hi=MAX_CPU, integer=False)


def memory_value(v: Any) -> str | None:
    if v is None:
        return None
    return str(int(_number_in_range(v, lo=MIN_MEMORY, hi=MAX_MEMORY, integer=True)))


HEALTHCHECK_TIMES = ("interval", "retries", "timeout")
# Kubernetes probes hold these as int32.
MAX_PROBE_VALUE = 2**31 - 1


def healthcheck_value(v: Any) -> dict[str, Any]:
    """Zun's healthcheck: ``cmd`` (Docker CMD-SHELL; the view calls it ``test``) and whole
    numbers of seconds ``interval``/``timeout`` and a count ``retries``, as python-zunclient
    sends them. Zun's own schema checks nothing (it puts ``items`` on an object); zunk8s checks
    what its probe will need, so a bad value is a 400 and not a failed start."""
    if not isinstance(v, dict):
        raise _err("type", f"{shown(v)} is not of type 'object', 'null'")
    unknown = sorted(k for k in v if k not in ("cmd", "test", *HEALTHCHECK_TIMES))
    if unknown:
        raise _err("extra", f"Additional properties are not allowed ({', '.join(repr(shown(k)) for k in unknown)})")
    if "cmd" in v and "test" in v:
        raise _err("value", "give the healthcheck command as 'cmd' or 'test', not both")
    test = v.get("cmd", v.get("test"))
    if not isinstance(test, str) or not test.strip():
        raise _err("type", f"the healthcheck command 'cmd' must be a non-empty string, not {shown(test)}")
    out: dict[str, Any] = {"cmd": test}
    for key in HEALTHCHECK_TIMES:
        value = v.get(key)
        if value is None:
            continue
        if type(value) is not int or not 0 <= value <= MAX_PROBE_VALUE:
            raise _err("type", f"healthcheck '{key}' must be a whole number from 0 to {MAX_PROBE_VALUE}, not {shown(value)}")
        out[key] = value
    return out


class RestartPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    Name: str
    MaximumRetryCount: str = "0"

    @field_validator("Name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> str:
        if v not in RESTART_NAMES:
            raise _err("enum", f"{shown(v)} is not one of {list(RESTART_NAMES)}")
        return str(v)

    @field_validator("MaximumRetryCount", mode="before")
    @classmethod
    def _count(cls, v: Any) -> str:
        if v is None:
            return "0"
        return str(int(_number_in_range(v, lo=0, hi=2**31, integer=True)))


class _Resources(BaseModel):
    """cpu and memory, validated the same way on create and on update."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu: float | None = None
    memory: str | None = None

    @field_validator("cpu", mode="before")
    @classmethod
    def _cpu(cls, v: Any) -> float | None:
        return cpu_value(v)

    @field_validator("memory", mode="before")
    @classmethod
    def _memory(cls, v: Any) -> str | None:
        return memory_value(v)


class ContainerCreate(_Resources):
    """A validated create body. Values are normalised the way Zun stores them."""

    image: str
    name: str | None = None
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    disk: int | None = None
    cpu_policy: str | None = None
    workdir: str | None = None
    environment: dict[str, str] | None = None
    labels: dict[str, str] | None = None
    restart_policy: RestartPolicy | None = None
    interactive: bool | None = None
    tty: bool | None = None
    image_driver: str | None = None
    image_pull_policy: str | None = None
    security_groups: list[str] | None = None
    exposed_ports: dict[str, Any] | None = None
    nets: list[dict[str, Any]] | None = None
    mounts: list[dict[str, Any]] | None = None
    runtime: str | None = None
    hostname: str | None = None
    auto_remove: bool | None = None
    auto_heal: bool | None = None
    availability_zone: str | None = None
    hints: dict[str, Any] | None = None
    privileged: bool | None = None
    healthcheck: dict[str, Any] | None = None
    registry: str | None = None
    host: str | None = None

    @field_validator("image", mode="before")
    @classmethod
    def _image(cls, v: Any) -> str:
        return _check_string(v, lo=2, hi=255, pattern=_IMAGE_RE)

    @field_validator("name", "registry", mode="before")
    @classmethod
    def _name(cls, v: Any) -> str | None:
        return None if v is None else _check_string(v, lo=2, hi=255, pattern=_NAME_RE)

    @field_validator("command", mode="before")
    @classmethod
    def _command(cls, v: Any, info: ValidationInfo) -> list[str] | None:
        if v is None:
            return None
        version: APIVersion = (info.context or {})["version"]
        if version < APIVersion(1, 20):
            # 1.1-1.19: a string split shell-style (legacy_container_create).
            if not isinstance(v, str):
                raise _err("type", f"{shown(v)} is not of type 'string', 'null'")
            try:
                return shlex.split(v)
            except ValueError as e:
                raise _err("value", f"cannot split command: {e}") from e
        if not isinstance(v, list):
            raise _err("type", f"{shown(v)} is not of type 'array', 'null'")
        return [str(x) for x in v]

    @field_validator("entrypoint", mode="before")
    @classmethod
    def _entrypoint(cls, v: Any) -> list[str] | None:
        if v is None:
            return None
        if not isinstance(v, list):
            raise _err("type", f"{shown(v)} is not of type 'array', 'null'")
        return [str(x) for x in v]

    @field_validator("disk", mode="before")
    @classmethod
    def _disk(cls, v: Any) -> int | None:
        return None if v is None else int(_number_in_range(v, lo=MIN_DISK, hi=MAX_DISK, integer=True))

    @field_validator("cpu_policy", mode="before")
    @classmethod
    def _cpu_policy(cls, v: Any) -> str:
        if v not in ("dedicated", "shared"):
            raise _err("enum", f"{shown(v)} is not one of ['dedicated', 'shared']")
        return str(v)

    @field_validator("workdir", "availability_zone", "runtime", mode="before")
    @classmethod
    def _opt_string(cls, v: Any, info: ValidationInfo) -> str | None:
        if v is None:
            return None
        lo = 1 if info.field_name == "availability_zone" else 0
        return _check_string(v, lo=lo, hi=255)

    @field_validator("environment", mode="before")
    @classmethod
    def _environment(cls, v: Any) -> dict[str, str] | None:
        if v is None:
            return None
        if not isinstance(v, dict):
            raise _err("type", f"{shown(v)} is not of type 'object', 'null'")
        for key, value in v.items():
            if not isinstance(value, str):
                raise _err("type", f"{shown(value)} is not of type 'string' (environment variable {shown(key)})")
        return dict(v)

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, v: Any) -> dict[str, str] | None:
        if v is None:
            return None
        if not isinstance(v, dict):
            raise _err("type", f"{shown(v)} is not of type 'object', 'null'")
        # Zun's DictOfStringsField coerces values: {"A": 1} is stored as {"A": "1"}.
        return {str(k): str(val) for k, val in v.items()}

    @field_validator("interactive", "tty", "auto_heal", "privileged", mode="before")
    @classmethod
    def _bools(cls, v: Any) -> bool:
        return _strict_bool(v)

    @field_validator("auto_remove", mode="before")
    @classmethod
    def _auto_remove(cls, v: Any) -> bool | None:
        if v is None or isinstance(v, bool):
            return v
        raise _err("type", f"{shown(v)} is not of type 'boolean', 'null'")

    @field_validator("image_driver", mode="before")
    @classmethod
    def _image_driver(cls, v: Any) -> str | None:
        if v is None or v == "None":
            return None
        if v not in ("glance", "docker"):
            raise _err("enum", f"{shown(v)} is not one of ['glance', 'docker', None, 'None']")
        return str(v)

    @field_validator("image_pull_policy", mode="before")
    @classmethod
    def _pull(cls, v: Any) -> str | None:
        if v is None:
            return None
        if v not in PULL_POLICIES:
            raise _err("enum", f"{shown(v)} is not one of {list(PULL_POLICIES)}")
        return str(v)

    @field_validator("security_groups", mode="before")
    @classmethod
    def _sgs(cls, v: Any) -> list[str] | None:
        if v is None:
            return None
        if not isinstance(v, list):
            raise _err("type", f"{shown(v)} is not of type 'array', 'null'")
        out: list[str] = []
        for item in v:
            name = _check_string(item, lo=1, hi=255)
            if name not in out:
                out.append(name)
        return out

    @field_validator("hostname", "host", mode="before")
    @classmethod
    def _hostname(cls, v: Any) -> str:
        # Zun defines `hostname` twice; the second definition (1-255, not nullable) wins.
        return _check_string(v, lo=1, hi=255, pattern=_HOSTNAME_RE)

    @field_validator("healthcheck", mode="before")
    @classmethod
    def _healthcheck(cls, v: Any) -> dict[str, Any] | None:
        return None if v is None else healthcheck_value(v)

    @field_validator("exposed_ports", "hints", mode="before")
    @classmethod
    def _objects(cls, v: Any) -> dict[str, Any] | None:
        if v is None:
            return None
        if not isinstance(v, dict):
            raise _err("type", f"{shown(v)} is not of type 'object', 'null'")
        return dict(v)

    @field_validator("nets", "mounts", mode="before")
    @classmethod
    def _lists_of_objects(cls, v: Any) -> list[dict[str, Any]] | None:
        if v is None:
            return None
        if not isinstance(v, list) or not all(isinstance(i, dict) for i in v):
            raise _err("type", f"{shown(v)} is not of type 'array' of 'object'")
        return [dict(i) for i in v]

    @field_validator("mounts", mode="after")
    @classmethod
    def _mounts(cls, v: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        """Zun's ``mounts`` items: type, source, destination strings, size a string or integer,
        nothing else; source or size with a destination. What they mean: translate/mounts.py."""
        for mount in v or []:
            extra = sorted(set(mount) - _MOUNT_KEYS)
            if extra:
                raise _err("additional", f"Additional properties are not allowed ('{shown(extra[0])}' was unexpected)")
            for key in ("type", "source", "destination"):
                if key in mount and not isinstance(mount[key], str):
                    raise _err("type", f"{shown(mount[key])} is not of type 'string'")
            if "size" in mount and (isinstance(mount["size"], bool) or not isinstance(mount["size"], str | int)):
                raise _err("type", f"{shown(mount['size'])} is not of type 'string', 'integer'")
            if "destination" not in mount or ("source" not in mount and "size" not in mount):
                raise _err("anyOf", f"{shown(_redacted(mount))} is not valid under any of the given schemas")
        return v

    @field_validator("nets", mode="after")
    @classmethod
    def _nets(cls, v: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        """Zun's ``nets`` items: network or port (exactly one), fixed IPs, nothing else."""
        for net in v or []:
            extra = sorted(set(net) - _NET_KEYS)
            if extra:
                raise _err("additional", f"Additional properties are not allowed ('{shown(extra[0])}' was unexpected)")
            for key in ("network", "port"):
                if key in net and not (isinstance(net[key], str) and 1 <= len(net[key]) <= 255):
                    raise _err("type", f"{shown(net[key])} is not a string of 1 to 255 characters")
            if ("network" in net) == ("port" in net):
                raise _err("oneOf", f"{shown(net)} is not valid under exactly one of the given schemas (network or port)")
            for key, version in (("v4-fixed-ip", 4), ("v6-fixed-ip", 6)):
                if key in net and not _is_ip(net[key], version):
                    raise _err("format", f"{shown(net[key])} is not a 'ipv{version}'")
        return v


class ContainerUpdate(_Resources):
    """PATCH body (schema container_update): cpu, memory, name, auto_heal."""

    name: str | None = None
    auto_heal: bool | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> str:
        return _check_string(v, lo=2, hi=255, pattern=_NAME_RE)

    @field_validator("auto_heal", mode="before")
    @classmethod
    def _bools(cls, v: Any) -> bool:
        return _strict_bool(v)


class ContainerRebuild(BaseModel):
    """rebuild's query (schema query_param_rebuild): a new image and its driver, both optional."""

    model_config = ConfigDict(extra="forbid")

    image: str | None = None
    image_driver: str | None = None

    @field_validator("image", mode="before")
    @classmethod
    def _image(cls, v: Any) -> str:
        return _check_string(v, lo=2, hi=255, pattern=_IMAGE_RE)

    @field_validator("image_driver", mode="before")
    @classmethod
    def _image_driver(cls, v: Any) -> str | None:
        return ContainerCreate._image_driver(v)


def validate_rebuild(params: dict[str, Any]) -> ContainerRebuild:
    try:
        return ContainerRebuild.model_validate(params)
    except ValidationError as e:
        raise _schema_error(e) from None


def _redacted(value: Any) -> Any:
    """Mounts as an error may show them: a bind mount's source is a file's content, never echoed."""
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    if isinstance(value, dict) and value.get("type") == "bind" and "source" in value:
        return {**value, "source": "<content>"}
    return value


def _schema_error(exc: ValidationError) -> SchemaValidationError:
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    kind = first["type"]
    if kind == "extra_forbidden":
        return SchemaValidationError(f"Additional properties are not allowed ('{loc[-1]}' was unexpected)")
    if kind == "missing":
        return SchemaValidationError(f"'{loc[-1]}' is a required property")
    field = loc[0] if loc else ""
    value = shown(_redacted(first.get("input")) if field == "mounts" else first.get("input"))
    return SchemaValidationError(f"Invalid input for field '{shown(field)}'. Value: '{value}'. {first['msg']}")


def validate_create(body: Any, version: APIVersion) -> ContainerCreate:
    """Validate a create body at ``version``; raise Zun-shaped 400s."""
    if not isinstance(body, dict):
        raise SchemaValidationError(f"{shown(body)} is not of type 'object'")
    for field, since in _SCHEMA_FIELDS.items():
        if field in body and version < APIVersion(*since):
            raise SchemaValidationError(f"Additional properties are not allowed ('{field}' was unexpected)")
    try:
        spec = ContainerCreate.model_validate(body, context={"version": version})
    except ValidationError as e:
        raise _schema_error(e) from None
    for field, since in _VERSIONED_FIELDS.items():
        present = field in body and (field != "mounts" or bool(body[field]))
        if present and version < APIVersion(*since):
            raise InvalidParamInVersion(
                f"Invalid param {field} because current request version is {version}. "
                f"{field} is only supported from version {since[0]}.{since[1]}"
            )
    if version >= APIVersion(1, 20) and "security_groups" in body and "exposed_ports" in body:
        raise SchemaValidationError("security_groups and exposed_ports cannot be specified together")
    _check_restart_policy(spec.restart_policy)
    _check_exposed_ports(spec.exposed_ports)
    if APIVersion(1, 20) <= version < APIVersion(1, 36) and spec.interactive is not None:
        # Before 1.36 Zun ties tty to interactive whenever interactive is given.
        spec = spec.model_copy(update={"tty": spec.interactive})
    return spec


_NET_KEYS = {"network", "port", "v4-fixed-ip", "v6-fixed-ip"}
_MOUNT_KEYS = {"type", "source", "destination", "size"}


def _is_ip(value: Any, version: int) -> bool:
    try:
        return isinstance(value, str) and ipaddress.ip_address(value).version == version
    except ValueError:
        return False


def _check_restart_policy(policy: RestartPolicy | None) -> None:
    if policy is None:
        return
    if policy.Name in ("always", "unless-stopped") and policy.MaximumRetryCount != "0":
        raise InvalidValue(f"maximum retry count not valid with restart policy of {policy.Name}")


def _check_exposed_ports(ports: dict[str, Any] | None) -> None:
    for key in ports or {}:
        port, _, proto = key.partition("/")
        proto = proto or "tcp"
        if proto not in ("tcp", "udp"):
            raise InvalidValue(f"value {shown(proto)} is an invalid protocol")
        number = int(port) if _PORT_RE.fullmatch(port) else 0
        if not 0 < number < 65536:
            raise InvalidValue(f"value {shown(port)} is invalid as publish port.")


def validate_update(body: Any) -> ContainerUpdate:
    if not isinstance(body, dict):
        raise SchemaValidationError(f"{shown(body)} is not of type 'object'")
    try:
        return ContainerUpdate.model_validate(body)
    except ValidationError as e:
        raise _schema_error(e) from None


def normalise_restart_policy(policy: RestartPolicy | None) -> dict[str, str] | None:
    """Zun stores 'no' with a forced count of '0'."""
    if policy is None:
        return None
    count = "0" if policy.Name == "no" else policy.MaximumRetryCount
    return {"Name": policy.Name, "MaximumRetryCount": count}
