"""Zun's registries on Kubernetes (pure): a ``ZunRegistry`` object and the pull Secret it owns.

A registry is a ZunRegistry in its project's namespace, named by its uuid, holding Zun's fields
but the password, and a Secret ``zun-registry-<uuid>`` of type
``kubernetes.io/dockerconfigjson`` holding the credentials, keyed by the registry's domain. A
container created with ``registry`` names that Secret in its Pods' ``imagePullSecrets``, so the
kubelet pulls with it, and an image without a registry host is looked for on the registry's
domain (Zun's parse_image_name). zunk8s writes the Secret and never reads it back (it may not:
its role has no Secret read), so no view, error or log can show the password; the Secret goes
with its ZunRegistry (an owner reference).

Never reading it back has one cost: an update that moves the credentials (a new username or
domain) must give the password again. Zun sends a registry's credentials to whatever host the
image names; the kubelet gives a pull Secret's only to the registry they are keyed by, so an
image naming another registry is refused at create instead (``image_on``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from zunk8s.translate import crd
from zunk8s.translate import labels as L
from zunk8s.translate.images import registry_host

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
    checked = {k: _check_field(k, fields[k]) for k in FIELDS if k in fields}
    if create and "password" in checked and "username" not in checked:
        raise _password_without_user()
    return checked


def _password_without_user() -> BadRegistry:
    # Zun keeps it and never uses it (it pulls anonymously without a username).
    return BadRegistry("A password needs a username: a registry without one is pulled from anonymously.")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret_data(domain: str, username: str | None, password: str | None) -> dict[str, str]:
    """The Secret's ``.dockerconfigjson``: credentials for the domain only when there is a user
    (Zun pulls anonymously from a registry without one)."""
    auths: Obj = {}
    if username:
        secret = password or ""
        auths[domain] = {"username": username, "password": secret, "auth": _b64(f"{username}:{secret}")}
    return {DATA_KEY: _b64(json.dumps({"auths": auths}, separators=(",", ":")))}


def registry_object(*, namespace: str, uuid: str, fields: Mapping[str, str], project_id: str, user_id: str,
                    labels: Mapping[str, str], created: str) -> Obj:
    return {
        "apiVersion": crd.API_VERSION,
        "kind": crd.REG_KIND,
        "metadata": {"name": uuid, "namespace": namespace, "labels": {**labels, L.REGISTRY: uuid}},
        "spec": {"uuid": uuid, "name": fields.get("name"), "domain": fields["domain"],
                 "username": fields.get("username"), "has_password": "password" in fields,
                 "project_id": project_id, "user_id": user_id, "created_at": created},
    }


def secret_body(registry: Mapping[str, Any], password: str | None) -> Obj:
    """The registry's pull Secret, owned by its ZunRegistry (so it goes with it)."""
    meta, spec = registry["metadata"], registry["spec"]
    owner = {"apiVersion": crd.API_VERSION, "kind": crd.REG_KIND, "name": meta["name"], "uid": meta["uid"],
             "controller": True, "blockOwnerDeletion": False}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": {"name": secret_name(spec["uuid"]), "namespace": meta["namespace"],
                     "labels": dict(meta.get("labels") or {}), "ownerReferences": [owner]},
        "data": secret_data(spec["domain"], spec.get("username"), password),
    }


def plan_update(registry: Mapping[str, Any], changes: Mapping[str, str]) -> tuple[Obj, dict[str, str] | None]:
    """PATCH's fields as (a merge patch of the ZunRegistry, carrying its resourceVersion so that
    two updates at once never lose one another's fields; the Secret's new data, or None when the
    credentials do not change). A new username or domain needs the password again: zunk8s never
    reads the one it stored."""
    spec = registry.get("spec") or {}
    username = changes.get("username", spec.get("username"))
    moved = any(k in changes and changes[k] != spec.get(k) for k in ("username", "domain"))
    if "password" in changes and not username:
        raise _password_without_user()
    if moved and username and spec.get("has_password") and "password" not in changes:
        raise BadRegistry("Give the password again with a new username or domain: zunk8s stores a registry's "
                          "password only in its pull Secret and never reads it back.")
    new_spec: Obj = {k: v for k, v in changes.items() if k != "password"}
    if "password" in changes or (moved and not username):
        new_spec["has_password"] = "password" in changes
    patch: Obj = {"metadata": {"resourceVersion": (registry.get("metadata") or {})["resourceVersion"]},
                  "spec": new_spec}
    if not moved and "password" not in changes:
        return patch, None
    return patch, secret_data(str(changes.get("domain", spec.get("domain"))), username, changes.get("password"))


def row(registry: Mapping[str, Any]) -> Obj:
    """Zun's columns a list filters, sorts and pages by."""
    spec = registry.get("spec") or {}
    created = spec.get("created_at") or (registry.get("metadata") or {}).get("creationTimestamp") or ""
    return {"uuid": spec.get("uuid"), "name": spec.get("name"), "domain": spec.get("domain"),
            "username": spec.get("username"), "project_id": spec.get("project_id"), "user_id": spec.get("user_id"),
            "created_at": created, "id": created}


def view(registry: Mapping[str, Any], base_url: str) -> Obj:
    """Zun's registry view: the password is always ``***`` (set or not)."""
    r = row(registry)
    uuid = r["uuid"]
    return {
        "uuid": uuid,
        "links": [{"href": f"{base_url}/v1/registries/{uuid}", "rel": "self"},
                  {"href": f"{base_url}/registries/{uuid}", "rel": "bookmark"}],
        "user_id": r["user_id"], "project_id": r["project_id"], "name": r["name"], "domain": r["domain"],
        "username": r["username"], "password": "***",
    }


def image_on(domain: str, image: str) -> str:
    """The image a container with this registry runs: an image naming no registry host is looked
    for on the registry's domain (Zun's parse_image_name); one within the registry's domain (its
    host, and its path when it has one) is kept; any other is refused (the kubelet would not give
    it the credentials)."""
    if registry_host(image) is None:
        return f"{domain.rstrip('/')}/{image}"
    if image.lower().startswith(domain.rstrip("/").lower() + "/"):
        return image
    raise BadRegistry(f"Image {image!r} is not in the registry's domain {domain}: its credentials are given "
                      "only to that registry. Name the image without a registry host, or within that domain.")
