"""Kubernetes API failures as zunk8s errors, decided by HTTP status and Status.reason only.

Callers catch these by class. When one reaches a client it carries a status and code Zun
itself would send (never a Kubernetes-flavoured ``container.kube-*`` code): an object we
relied on being gone or changed under us is a 409, Kubernetes unreachable a 503.
"""

from __future__ import annotations

from typing import Any

from zunk8s.errors import BackendError, BackendUnavailable, Conflict, ZunError


class KubeNotFound(Conflict):
    """404 from Kubernetes. For a client, the container is there but an object its operation
    needed (its Pod, its namespace) went away meanwhile: Zun's 409 "conflict"."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"Kubernetes no longer has an object this operation needs ({detail}); try again.")
        self.kube_message = detail


class KubeAlreadyExists(Conflict):
    pass


class KubeConflict(Conflict):
    """A resourceVersion conflict (optimistic concurrency)."""


class KubeGone(BackendUnavailable):
    """410 Gone: a watch's resourceVersion is too old; re-list."""


class KubeRejected(BackendError):
    """400/403/422: Kubernetes refused a request zunk8s built."""

    def __init__(
        self, detail: str, *, http_status: int, reason: str, fields: frozenset[str] = frozenset(), kube_message: str = ""
    ) -> None:
        super().__init__(detail)
        # Kubernetes' own words (Status.message), to quote to a user whose input caused it.
        self.kube_message = kube_message or detail
        self.http_status = http_status
        self.reason = reason
        # The request fields the Status' causes name (details.causes[].field).
        self.fields = fields


class KubeUnavailable(BackendUnavailable):
    pass


def error_for(status: int, body: Any) -> ZunError:
    payload = body if isinstance(body, dict) and body.get("kind") == "Status" else {}
    message = str(payload.get("message") or (body if isinstance(body, str) else ""))[:512]
    reason = str(payload.get("reason") or "")
    if status == 404:
        return KubeNotFound(message)
    if status == 409:
        return KubeAlreadyExists(message) if reason == "AlreadyExists" else KubeConflict(message)
    if status == 410:
        return KubeGone(message)
    if status >= 500 or status == 429:
        return KubeUnavailable(f"Kubernetes API error {status}: {message}")
    causes = (payload.get("details") or {}).get("causes") or []
    fields = frozenset(str(c.get("field")) for c in causes if isinstance(c, dict) and c.get("field"))
    return KubeRejected(
        f"Kubernetes refused the request ({status} {reason}): {message}",
        http_status=status,
        reason=reason,
        fields=fields,
        kube_message=message,
    )
