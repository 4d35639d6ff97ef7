"""Kubernetes API failures, decided by HTTP status and Status.reason only.

These are not Zun errors: callers in the service catch them by class for what they mean
there (a Pod already gone is fine for a delete) and ``zunk8s.service.faults`` maps the rest
to the Zun error a client gets (an object we relied on gone or changed under us is a 409,
Kubernetes unreachable a 503), so no Kubernetes-flavoured code ever reaches the wire.
"""

from __future__ import annotations

from typing import Any

# The quota admission's words for a ResourceQuota its controller has not counted yet.
QUOTA_UNCOUNTED = "status unknown for quota"


class KubeError(Exception):
    """Any failure of a Kubernetes call; ``detail`` says what happened, in words for a log
    line or an error's detail."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


class KubeNotFound(KubeError):
    """404: the object (or its namespace) is not there."""


class KubeAlreadyExists(KubeError):
    pass


class KubeConflict(KubeError):
    """A resourceVersion conflict (optimistic concurrency)."""


class KubeGone(KubeError):
    """410 Gone: a watch's resourceVersion is too old; re-list."""


class KubeRejected(KubeError):
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


class KubeUnavailable(KubeError):
    """The API server could not be reached, or answered 5xx / 429."""


class KubeQuotaUncounted(KubeUnavailable):
    """A ResourceQuota just made or changed that its controller has not counted yet: until it
    has, the quota admission refuses every create it covers (403 "status unknown for quota").
    It passes once the controller counts (moments, or up to its discovery period for a kind it
    did not know yet): a transient failure, like the API server's 5xx."""


class KubeStreamBroken(KubeError):
    """An exec/attach stream broke while we were writing to it (the peer closed or reset it)."""


class StdinCloseUnsupported(KubeError):
    """The cluster's exec stream cannot half-close stdin (only v5.channel.k8s.io can)."""


def error_for(status: int, body: Any) -> KubeError:
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
    if status == 403 and QUOTA_UNCOUNTED in message:
        return KubeQuotaUncounted(f"Kubernetes has not counted the namespace's quota yet: {message}")
    causes = (payload.get("details") or {}).get("causes") or []
    fields = frozenset(str(c.get("field")) for c in causes if isinstance(c, dict) and c.get("field"))
    return KubeRejected(
        f"Kubernetes refused the request ({status} {reason}): {message}",
        http_status=status,
        reason=reason,
        fields=fields,
        kube_message=message,
    )
