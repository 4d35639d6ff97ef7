"""Zun's registries as image pull Secrets (pure).

A registry is a Secret ``zun-registry-<uuid>`` of type ``kubernetes.io/dockerconfigjson`` in its
project's namespace. A container created with ``registry`` names it in its Pods'
``imagePullSecrets``, so the kubelet pulls with its credentials, and an image without a registry
host is looked for on the registry's domain (Zun's parse_image_name). Zun's other fields are
annotations; the password is only in the Secret's data, and no view or error ever shows it.

Zun sends a registry's credentials to whatever host the image names; the kubelet gives a pull
Secret's credentials only to the registry they are keyed by, so an image naming another host is
refused at create instead (``image_on``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from zunk8s.translate import labels as L

Obj = dict[str, Any]

SECRET_TYPE = "kubernetes.io/dockerconfigjson"
DATA_KEY = ".dockerconfigjson"
FIELDS = ("name", "domain", "username", "password")
SORT_KEYS = frozenset({"id", "uuid", "name", "domain", "username", "project_id", "user_id", "created_at"})
FILTERS = ("name", "domain", "username", "project_id", "user_id")
# Zun's columns hold 255 characters; its schema limits only the name.
_MAX = 255
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
# host[:port][/path]: what the kubelet matches an image's name against (no scheme).
_DOMAIN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._/-][a-z0-9]+)*)?$")
_ANN = {k: f"{L.PREFIX}/registry-{k}" for k in ("name", "domain", "username", "user-id", "project-id", "created-at")}


def shown(value: Any) -> str:
    """A value as an error echoes it: bounded (never a password: its errors name only the field)."""
    text = str(value)
    return text if len(text) <= 64 else text[:64] + "..."


class BadRegistry(ValueError):
    """A registry body Zun's schema refuses, or a value no registry could be; never echoes a password."""


def secret_name(uuid: str) -> str:
    return f"zun-registry-{uuid}"


def _check_field(key: str, value: Any) -> str:
    if key == "password":
        if not isinstance(value, str) or not value or len(value) > _MAX:
            raise BadRegistry(f"Invalid input for field 'password'. It must be a string of 1 to {_MAX} characters.")
        return value
    if not isinstance(value, str):
        raise BadRegistry(f"Invalid input for field '{key}'. Value: '{shown(value)}'. It is not of type 'string'.")
    lo = 2 if key == "name" else 1
    if not lo <= len(value) <= _MAX:
        raise BadRegistry(f"Invalid input for field '{key}'. Value: '{shown(value)}'. "
                          f"It must be {lo} to {_MAX} characters long.")
    if key == "name" and not _NAME.match(value):
        raise BadRegistry(f"Invalid input for field 'name'. Value: '{shown(value)}'. "
                          f"It does not match '{_NAME.pattern}'.")
    if key == "domain" and not _DOMAIN.match(value):
        raise BadRegistry(f"Invalid input for field 'domain'. Value: '{shown(value)}'. It must be a registry "
                          "host as image names give it, such as registry.example.com or localhost:5000 "
                          "(with an optional path, without a scheme).")
    return value


def check_body(body: Any, *, create: bool) -> dict[str, str]:
    """Zun's registry_create / registry_update schemas: ``{"registry": {...}}``, only the four
    fields, each a non-empty string (``domain`` required on create). The fields given."""
    if not isinstance(body, dict):
        raise BadRegistry("The request body must be a JSON object.")
    extra = sorted(set(body) - {"registry"})
    if extra:
        raise BadRegistry(f"Additional properties are not allowed ('{shown(extra[0])}' was unexpected)")
    if "registry" not in body:
        raise BadRegistry("'registry' is a required property")
    fields = body["registry"]
    if not isinstance(fields, dict):
        raise BadRegistry("Invalid input for field 'registry'. It is not of type 'object'.")
    extra = sorted(set(fields) - set(FIELDS))
    if extra:
        raise BadRegistry(f"Invalid input for field 'registry'. Additional properties are not allowed "
                          f"('{shown(extra[0])}' was unexpected)")
    if create and "domain" not in fields:
        raise BadRegistry("Invalid input for field 'registry'. 'domain' is a required property")
    return {k: _check_field(k, fields[k]) for k in FIELDS if k in fields}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def docker_config(domain: str, username: str | None, password: str | None) -> str:
    """The Secret's ``.dockerconfigjson``: credentials for the domain only when there is a user
    (Zun pulls anonymously from a registry without one)."""
    auths: Obj = {}
    if username:
        secret = password or ""
        auths[domain] = {"username": username, "password": secret, "auth": _b64(f"{username}:{secret}")}
    return json.dumps({"auths": auths}, separators=(",", ":"))


def _annotations(fields: Mapping[str, str | None]) -> dict[str, str]:
    return {_ANN[k]: str(v) for k, v in fields.items() if k in _ANN and v is not None}


def secret_body(*, namespace: str, uuid: str, fields: Mapping[str, str], project_id: str, user_id: str,
                labels: Mapping[str, str], created: str) -> Obj:
    meta = {"name": fields.get("name"), "domain": fields["domain"], "username": fields.get("username"),
            "user-id": user_id, "project-id": project_id, "created-at": created}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": {"name": secret_name(uuid), "namespace": namespace,
                     "labels": {**labels, L.REGISTRY: uuid}, "annotations": _annotations(meta)},
        "data": {DATA_KEY: _b64(docker_config(fields["domain"], fields.get("username"), fields.get("password")))},
    }


def stored_password(secret: Mapping[str, Any], domain: str) -> str | None:
    """The password a Secret holds for its domain (None when it has no credentials)."""
    raw = (secret.get("data") or {}).get(DATA_KEY)
    if not raw:
        return None
    try:
        entry = json.loads(base64.b64decode(raw)).get("auths", {}).get(domain) or {}
    except (ValueError, AttributeError):
        return None
    password = entry.get("password")
    return password if isinstance(password, str) else None


def update_patch(secret: Mapping[str, Any], changes: Mapping[str, str]) -> Obj:
    """A merge patch that gives the Secret ``changes`` (PATCH's fields), the credentials rewritten
    for the domain they now belong to. Carries the Secret's resourceVersion: two updates at once
    never lose one another's fields."""
    now = row(secret)
    password = changes.get("password", stored_password(secret, str(now["domain"])))
    fields = {"name": now["name"], "domain": now["domain"], "username": now["username"], **changes}
    return {
        "metadata": {"resourceVersion": (secret.get("metadata") or {}).get("resourceVersion"),
                     "annotations": _annotations({k: fields[k] for k in ("name", "domain", "username")})},
        "data": {DATA_KEY: _b64(docker_config(str(fields["domain"]), fields["username"], password))},
    }


def row(secret: Mapping[str, Any]) -> Obj:
    """Zun's columns a list filters, sorts and pages by (never the password)."""
    meta = secret.get("metadata") or {}
    ann = meta.get("annotations") or {}
    created = ann.get(_ANN["created-at"]) or meta.get("creationTimestamp") or ""
    return {
        "uuid": (meta.get("labels") or {}).get(L.REGISTRY),
        "name": ann.get(_ANN["name"]), "domain": ann.get(_ANN["domain"]), "username": ann.get(_ANN["username"]),
        "project_id": ann.get(_ANN["project-id"]), "user_id": ann.get(_ANN["user-id"]),
        "created_at": created, "id": created,
    }


def view(secret: Mapping[str, Any], base_url: str) -> Obj:
    """Zun's registry view: the password is always ``***`` (set or not)."""
    r = row(secret)
    uuid = r["uuid"]
    return {
        "uuid": uuid,
        "links": [{"href": f"{base_url}/v1/registries/{uuid}", "rel": "self"},
                  {"href": f"{base_url}/registries/{uuid}", "rel": "bookmark"}],
        "user_id": r["user_id"], "project_id": r["project_id"], "name": r["name"], "domain": r["domain"],
        "username": r["username"], "password": "***",
    }


def _host(image: str) -> str | None:
    """Docker's rule: the first path component names a registry when it has a dot or a port, or
    is ``localhost``."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def image_on(domain: str, image: str) -> str:
    """The image a container with this registry runs: an image naming no registry host is looked
    for on the registry's domain (Zun's parse_image_name); one naming the registry's own host is
    kept; one naming another host is refused (the credentials would not reach it)."""
    host = _host(image)
    if host is None:
        return f"{domain.rstrip('/')}/{image}"
    if host.lower() == domain.partition("/")[0].lower():
        return image
    raise BadRegistry(f"Image {image!r} is on {host}, but the registry is for {domain}: its credentials are "
                      "given only to that registry. Name the image without a registry host, or on the "
                      "registry's own.")
