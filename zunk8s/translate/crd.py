"""zunk8s's custom resources.

ZunContainer: the durable home of a Zun container record. spec is the Zun record verbatim
(snake_case, as Zun names the fields); status is what zunk8s observed.
SecurityGroup: a Neutron security group of a project, in the project's namespace, named by its
id; spec holds Neutron's fields and its rules. Platform teams may manage them with kubectl.
Network: a Neutron network of a project (an isolation domain: containers on one network reach
each other), in the project's namespace, named by its id; a shared one (labelled
``zunk8s.openstack.org/shared=true``) is seen by every project.
ZunImage: an image a project committed (commit), in the project's namespace, named by the id
commit answered with; spec says where it was pushed and its digest, so that ``run repo:tag``
finds it again.
All are schemaless for Kubernetes (x-kubernetes-preserve-unknown-fields) because zunk8s
validates them itself with Zun's and Neutron's rules.
"""

from __future__ import annotations

from typing import Any

GROUP = "zunk8s.openstack.org"
VERSION = "v1alpha1"
KIND = "ZunContainer"
PLURAL = "zuncontainers"
API_VERSION = f"{GROUP}/{VERSION}"
CRD_NAME = f"{PLURAL}.{GROUP}"


SG_KIND = "SecurityGroup"
SG_PLURAL = "securitygroups"
SG_CRD_NAME = f"{SG_PLURAL}.{GROUP}"

NET_KIND = "Network"
NET_PLURAL = "networks"
NET_CRD_NAME = f"{NET_PLURAL}.{GROUP}"


def _crd(*, plural: str, singular: str, kind: str, short: str, columns: list[dict[str, str]], status: bool) -> dict[str, Any]:
    open_object = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    version: dict[str, Any] = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "additionalPrinterColumns": columns,
        "schema": {
            "openAPIV3Schema": {
                "type": "object",
                "properties": {"spec": open_object, **({"status": open_object} if status else {})},
            }
        },
    }
    if status:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}", "labels": {"app.kubernetes.io/managed-by": "zunk8s"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": singular, "kind": kind, "shortNames": [short], "categories": ["zunk8s"]},
            "versions": [version],
        },
    }


def crd_manifest() -> dict[str, Any]:
    """ZunContainer's CRD."""
    return _crd(
        plural=PLURAL, singular="zuncontainer", kind=KIND, short="zunc", status=True,
        columns=[
            {"name": "Zun-Name", "type": "string", "jsonPath": ".spec.name"},
            {"name": "Image", "type": "string", "jsonPath": ".spec.image"},
            {"name": "Status", "type": "string", "jsonPath": ".status.status"},
            {"name": "Task", "type": "string", "jsonPath": ".status.task_state"},
            {"name": "Pod", "type": "string", "jsonPath": ".status.pod"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    )


def security_group_crd() -> dict[str, Any]:
    return _crd(
        plural=SG_PLURAL, singular="securitygroup", kind=SG_KIND, short="zunsg", status=False,
        columns=[
            {"name": "Name", "type": "string", "jsonPath": ".spec.name"},
            {"name": "Description", "type": "string", "jsonPath": ".spec.description"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    )


def network_crd() -> dict[str, Any]:
    return _crd(
        plural=NET_PLURAL, singular="network", kind=NET_KIND, short="zunnet", status=False,
        columns=[
            {"name": "Name", "type": "string", "jsonPath": ".spec.name"},
            {"name": "Shared", "type": "boolean", "jsonPath": ".spec.shared"},
            {"name": "Description", "type": "string", "jsonPath": ".spec.description"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    )


IMG_KIND = "ZunImage"
IMG_PLURAL = "zunimages"
IMG_CRD_NAME = f"{IMG_PLURAL}.{GROUP}"


def image_crd() -> dict[str, Any]:
    return _crd(
        plural=IMG_PLURAL, singular="zunimage", kind=IMG_KIND, short="zunimg", status=False,
        columns=[
            {"name": "Repository", "type": "string", "jsonPath": ".spec.repo"},
            {"name": "Tag", "type": "string", "jsonPath": ".spec.tag"},
            {"name": "Digest", "type": "string", "jsonPath": ".spec.image_id"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    )


REG_KIND = "ZunRegistry"
REG_PLURAL = "zunregistries"
REG_CRD_NAME = f"{REG_PLURAL}.{GROUP}"


def registry_crd() -> dict[str, Any]:
    return _crd(
        plural=REG_PLURAL, singular="zunregistry", kind=REG_KIND, short="zunreg", status=False,
        columns=[
            {"name": "Name", "type": "string", "jsonPath": ".spec.name"},
            {"name": "Domain", "type": "string", "jsonPath": ".spec.domain"},
            {"name": "Username", "type": "string", "jsonPath": ".spec.username"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    )


def crd_manifests() -> list[dict[str, Any]]:
    """Every CRD zunk8s needs (the chart's crds/ holds the same)."""
    return [crd_manifest(), security_group_crd(), network_crd(), image_crd(), registry_crd()]


def registry_path(namespace: str, name: str | None = None) -> str:
    base = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{REG_PLURAL}"
    return f"{base}/{name}" if name else base


# Zun registries of every namespace (an admin lists and finds any).
ALL_REGISTRIES_PATH = f"/apis/{GROUP}/{VERSION}/{REG_PLURAL}"


def image_path(namespace: str, name: str | None = None) -> str:
    base = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{IMG_PLURAL}"
    return f"{base}/{name}" if name else base


def security_group_path(namespace: str, name: str | None = None) -> str:
    base = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{SG_PLURAL}"
    return f"{base}/{name}" if name else base


def network_path(namespace: str, name: str | None = None) -> str:
    base = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{NET_PLURAL}"
    return f"{base}/{name}" if name else base


# Networks of every namespace (shared ones are seen by every project; an admin finds any by id).
ALL_NETWORKS_PATH = f"/apis/{GROUP}/{VERSION}/{NET_PLURAL}"


def record_path(namespace: str, name: str | None = None) -> str:
    base = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}"
    return f"{base}/{name}" if name else base


ALL_RECORDS_PATH = f"/apis/{GROUP}/{VERSION}/{PLURAL}"

# Committed and pulled images of every namespace (an admin finds any by id).
ALL_IMAGES_PATH = f"/apis/{GROUP}/{VERSION}/{IMG_PLURAL}"
