"""The ZunContainer custom resource: the durable home of a Zun container record.

spec is the Zun record verbatim (snake_case, as Zun names the fields); status is what
zunk8s observed. Both are schemaless for Kubernetes (x-kubernetes-preserve-unknown-fields)
because zunk8s validates them itself with Zun's rules.
"""

from __future__ import annotations

from typing import Any

GROUP = "zunk8s.openstack.org"
VERSION = "v1alpha1"
KIND = "ZunContainer"
PLURAL = "zuncontainers"
API_VERSION = f"{GROUP}/{VERSION}"
CRD_NAME = f"{PLURAL}.{GROUP}"


def crd_manifest() -> dict[str, Any]:
    open_object = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME, "labels": {"app.kubernetes.io/managed-by": "zunk8s"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "plural": PLURAL,
                "singular": "zuncontainer",
                "kind": KIND,
                "shortNames": ["zunc"],
                "categories": ["zunk8s"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Zun-Name", "type": "string", "jsonPath": ".spec.name"},
                        {"name": "Image", "type": "string", "jsonPath": ".spec.image"},
                        {"name": "Status", "type": "string", "jsonPath": ".status.status"},
                        {"name": "Task", "type": "string", "jsonPath": ".status.task_state"},
                        {"name": "Pod", "type": "string", "jsonPath": ".status.pod"},
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    ],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {"spec": open_object, "status": open_object},
                        }
                    },
                }
            ],
        },
    }


def record_path(namespace: str, name: str | None = None) -> str:
    base = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}"
    return f"{base}/{name}" if name else base


ALL_RECORDS_PATH = f"/apis/{GROUP}/{VERSION}/{PLURAL}"
