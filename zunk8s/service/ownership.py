"""Which objects of a project's namespace this zunk8s made, and may therefore write: the chart's
admission policy allows zunk8s to change only objects labelled as this installation's, and the
/network API says so in a 409 rather than letting the API server refuse it."""

from __future__ import annotations

from typing import Any

from zunk8s.errors import Conflict
from zunk8s.translate import labels as L


def owned(obj: dict[str, Any], instance: str) -> bool:
    labels = obj["metadata"].get("labels") or {}
    return labels.get(L.MANAGED_BY) == L.MANAGED_BY_VALUE and labels.get(L.INSTANCE) == instance


def require_owned(obj: dict[str, Any], instance: str, *, what: str) -> None:
    """409 for an object made elsewhere (e.g. with kubectl, without this installation's labels):
    it is changed where it was made."""
    if not owned(obj, instance):
        raise Conflict(
            f"{what} {obj['metadata']['name']} was not made by this zunk8s (it lacks the labels "
            f"{L.MANAGED_BY}={L.MANAGED_BY_VALUE} and {L.INSTANCE}={instance}): change it where it was "
            "made, e.g. with kubectl."
        )
