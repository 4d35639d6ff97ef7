"""A capsule create body (``{"template": ...}``) checked as Zun's capsule schema checks it, into
translate/capsules.py's Template.

Where Zun accepts a field and does nothing with it, zunk8s either does what the field says
(a container's ``name``, a mount's ``readOnly``, the deprecated top-level ``restartPolicy``) or
refuses it with the reason (``hostPort``, unknown keys of ``spec`` and ``metadata``); where Zun
answers a 500 for a template its controller refuses (no containers, a volume with neither size
nor volumeID), zunk8s answers 400 with Zun's words. Init containers are checked as containers
are (Zun's schema leaves them unchecked).
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from pydantic_core import PydanticCustomError

from zunk8s.errors import SchemaValidationError
from zunk8s.schemas.containers import PULL_POLICIES, cpu_value, memory_value
from zunk8s.schemas.jsonbody import loads_json
from zunk8s.schemas.params import shown
from zunk8s.translate.capsules import RESTART_NAMES, ContainerSpec, Mount, Template, VolumeSpec
from zunk8s.translate.secgroups import ExposedPort

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_IMAGE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]")
_TOP = {"kind", "capsuleVersion", "metadata", "restartPolicy", "availabilityZone", "spec"}
_META = ("name", "labels", "annotations")
_SPEC = ("containers", "initContainers", "volumes", "restartPolicy")
_CONTAINER = {"name", "image", "command", "args", "resources", "ports", "volumeMounts", "env", "workDir",
              "imagePullPolicy", "stdin", "tty"}
_BOOLS = {True: True, False: False, "true": True, "True": True, "false": False, "False": False}


def _bad(field: str, why: str) -> NoReturn:
    raise SchemaValidationError(f"Invalid input for field '{field}'. {why}")


def _object(value: Any, field: str, allowed: set[str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        _bad(field, "It is not of type 'object'.")
    if allowed is not None:
        extra = sorted(set(value) - allowed)
        if extra:
            _bad(field, f"Additional properties are not allowed ('{shown(extra[0])}' was unexpected)")
    return value


def _taken(value: Any, field: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """An object of which zunk8s takes only ``allowed`` (Zun accepts more there, and ignores it)."""
    if not isinstance(value, dict):
        _bad(field, "It is not of type 'object'.")
    extra = sorted(set(value) - set(allowed))
    if extra:
        _bad(field, f"zunk8s takes only {', '.join(allowed)}, not '{shown(extra[0])}'.")
    return value


def _string(value: Any, field: str, *, lo: int = 0, hi: int = 255, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str):
        _bad(field, f"Value: '{shown(value)}'. It is not of type 'string'.")
    if not lo <= len(value) <= hi:
        _bad(field, f"Value: '{shown(value)}'. It must be {lo} to {hi} characters long.")
    if pattern is not None and not pattern.search(value):
        _bad(field, f"Value: '{shown(value)}'. It does not match '{pattern.pattern}'.")
    return value


def _strings(value: Any, field: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _bad(field, "It must be a list of strings.")
    return list(value)


def _string_map(value: Any, field: str, *, echo: bool) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        # An environment may hold secrets: its values are never echoed.
        _bad(field, f"Value: '{shown(value)}'. It must map strings to strings." if echo
             else "It must map strings to strings.")
    return dict(value)


def _bool(value: Any, field: str) -> bool:
    if isinstance(value, bool | str) and value in _BOOLS:
        return _BOOLS[value]
    _bad(field, f"Value: '{shown(value)}'. It is not one of [True, 'True', 'true', False, 'False', 'false'].")


def _port(value: Any, field: str) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        _bad(field, f"Value: '{shown(value)}'. It must be a port number from 1 to 65535.")
    return value


def _resources(value: Any) -> tuple[float | None, str | None]:
    res = _object(value, "resources", {"requests"})
    requests = _object(res.get("requests") or {}, "requests", {"cpu", "memory"})
    try:
        return cpu_value(requests.get("cpu")), memory_value(requests.get("memory"))
    except PydanticCustomError as e:
        _bad("requests", str(e))


def _container(value: Any, field: str) -> ContainerSpec:
    c = _object(value, field, _CONTAINER)
    if "image" not in c:
        _bad(field, "'image' is a required property")
    image = _string(c["image"], "image", lo=2, pattern=_IMAGE)
    if image != image.strip():
        _bad("image", f"Value: '{shown(image)}'. It has leading or trailing spaces.")
    name = None if c.get("name") is None else _string(c["name"], "name", lo=2, pattern=_NAME)
    cpu, memory = _resources(c["resources"]) if c.get("resources") is not None else (None, None)
    ports: list[ExposedPort] = []
    for p in c.get("ports") or []:
        port = _object(p, "ports", {"name", "containerPort", "hostPort", "protocol"})
        if "containerPort" not in port:
            _bad("ports", "'containerPort' is a required property")
        if port.get("hostPort") is not None:
            _bad("hostPort", "zunk8s does not bind a node's ports for a capsule: its ports are open at the "
                             "capsule's address to every Pod, as a container's exposed ports are. Remove hostPort.")
        protocol = port.get("protocol") or "TCP"
        if protocol not in ("TCP", "UDP"):
            _bad("protocol", f"Value: '{shown(protocol)}'. It is not one of ['TCP', 'UDP'].")
        ports.append(ExposedPort(_port(port["containerPort"], "containerPort"), "udp" if protocol == "UDP" else "tcp"))
    mounts: list[Mount] = []
    for m in c.get("volumeMounts") or []:
        mount = _object(m, "volumeMounts", {"name", "mountPath", "readOnly"})
        for key in ("name", "mountPath"):
            if key not in mount:
                _bad("volumeMounts", f"'{key}' is a required property")
        path = _string(mount["mountPath"], "mountPath", lo=1, hi=4096)
        if not path.startswith("/"):
            _bad("mountPath", f"Value: '{shown(path)}'. It must be an absolute path.")
        read_only = _bool(mount["readOnly"], "readOnly") if mount.get("readOnly") is not None else False
        mounts.append(Mount(_string(mount["name"], "name", lo=2, pattern=_NAME), path, read_only))
    policy = c.get("imagePullPolicy")
    if policy is not None and policy not in PULL_POLICIES:
        _bad("imagePullPolicy", f"Value: '{shown(policy)}'. It is not one of {list(PULL_POLICIES)}.")
    return ContainerSpec(
        image=image, name=name, command=_strings(c.get("command"), "command"), args=_strings(c.get("args"), "args"),
        cpu=cpu, memory=memory, ports=tuple(ports), mounts=tuple(mounts),
        environment=_string_map(c.get("env"), "env", echo=False),
        workdir=None if c.get("workDir") is None else _string(c["workDir"], "workDir", lo=1, hi=4096),
        image_pull_policy=policy, interactive=_bool(c["stdin"], "stdin") if c.get("stdin") is not None else False,
        tty=_bool(c["tty"], "tty") if c.get("tty") is not None else False,
    )


def _volume(value: Any) -> VolumeSpec:
    v = _object(value, "volumes")
    extra = sorted(set(v) - {"name", "cinder"})
    if extra:
        _bad("volumes", f"zunk8s takes only 'name' and 'cinder' for a volume, not '{shown(extra[0])}'.")
    for key in ("name", "cinder"):
        if key not in v:
            _bad("volumes", f"'{key}' is a required property")
    name = _string(v["name"], "name", lo=2, pattern=_NAME)
    cinder = _object(v["cinder"], "cinder", {"volumeID", "size", "autoRemove"})
    claim, size = cinder.get("volumeID"), cinder.get("size")
    if claim is not None and size is not None:
        raise SchemaValidationError("Volume size and uuid could not be set at the same time")
    if claim is None and size is None:
        raise SchemaValidationError("Volume size is needed")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int | float) or not 1 <= size <= 16384
                             or size != int(size)):
        _bad("size", f"Value: '{shown(size)}'. It must be a whole number of GiB from 1 to 16384.")
    auto = _bool(cinder["autoRemove"], "autoRemove") if cinder.get("autoRemove") is not None else False
    if claim is not None:
        claim = _string(claim, "volumeID", lo=1, hi=253)
        if auto:
            _bad("autoRemove", "An existing volume (volumeID) is not removed with the capsule: give autoRemove "
                               "only with size.")
    return VolumeSpec(name=name, claim=claim, size=None if size is None else int(size), auto_remove=auto)


def check_body(body: Any) -> Template:
    if not isinstance(body, dict):
        raise SchemaValidationError("The request body must be a JSON object.")
    extra = sorted(set(body) - {"template"})
    if extra:
        raise SchemaValidationError(f"Additional properties are not allowed ('{shown(extra[0])}' was unexpected)")
    if "template" not in body:
        raise SchemaValidationError("'template' is a required property")
    template = body["template"]
    if isinstance(template, str):  # Zun takes the template as a JSON string too
        template = loads_json(template)
    t = _object(template, "template", _TOP)
    for key in ("kind", "spec", "metadata"):
        if key not in t:
            _bad("template", f"'{key}' is a required property")
    if t["kind"] not in ("capsule", "Capsule"):
        _bad("kind", f"Value: '{shown(t['kind'])}'. It is not one of ['capsule', 'Capsule'].")
    if t.get("capsuleVersion") is not None and t["capsuleVersion"] not in ("beta", "Beta"):
        _bad("capsuleVersion", f"Value: '{shown(t['capsuleVersion'])}'. It is not one of ['beta', 'Beta'].")
    meta, spec = _taken(t["metadata"], "metadata", _META), _taken(t["spec"], "spec", _SPEC)
    if "containers" not in spec:
        _bad("spec", "'containers' is a required property")
    for key in ("containers", "initContainers", "volumes"):
        if spec.get(key) is not None and not isinstance(spec[key], list):
            _bad(key, "It is not of type 'array'.")
    if not spec["containers"]:
        raise SchemaValidationError("Capsule need to have one container at least")
    policy = spec["restartPolicy"] if "restartPolicy" in spec else t.get("restartPolicy", "Always")
    if not isinstance(policy, str) or policy not in RESTART_NAMES:
        _bad("restartPolicy", f"Value: '{shown(policy)}'. It is not one of {list(RESTART_NAMES)}.")
    zone = t.get("availabilityZone")
    containers = tuple(_container(c, "containers") for c in spec["containers"])
    inits = tuple(_container(c, "initContainers") for c in spec.get("initContainers") or [])
    volumes = tuple(_volume(v) for v in spec.get("volumes") or [])
    _check_names_and_mounts(containers + inits, volumes)
    return Template(
        containers=containers, init_containers=inits, volumes=volumes,
        name=None if meta.get("name") is None else _string(meta["name"], "name", lo=2, pattern=_NAME),
        labels=_string_map(meta.get("labels"), "labels", echo=True),
        annotations=_string_map(meta.get("annotations"), "annotations", echo=True),
        restart_policy=RESTART_NAMES[policy],
        availability_zone=None if zone is None else _string(zone, "availabilityZone", lo=1),
    )


def _check_names_and_mounts(containers: tuple[ContainerSpec, ...], volumes: tuple[VolumeSpec, ...]) -> None:
    names = [c.name for c in containers if c.name]
    if len(set(names)) != len(names):
        raise SchemaValidationError("Two containers of the capsule have the same name.")
    declared = [v.name for v in volumes]
    if len(set(declared)) != len(declared):
        raise SchemaValidationError("Two volumes of the capsule have the same name.")
    mounted = {m.volume for c in containers for m in c.mounts}
    for name in sorted(mounted - set(declared)):
        raise SchemaValidationError(f"A volumeMount names volume '{shown(name)}', which the capsule's volumes do not declare.")
    if set(declared) - mounted:
        raise SchemaValidationError("volume mount parameters is invalid.")  # Zun's words: a volume nothing mounts
    for c in containers:
        paths = [m.path for m in c.mounts]
        if len(set(paths)) != len(paths):
            raise SchemaValidationError("A container mounts two volumes at the same path.")
