"""What a Kubernetes failure means for a Zun client: the one mapping from the gateway's
errors (zunk8s.kube.errors, not Zun errors) to Zun's.

An object zunk8s relied on that went away or changed under it is Zun's 409 "conflict" (try
again); Kubernetes unreachable or overloaded is a 503; a request Kubernetes refused that
zunk8s built is a 500 that quotes Kubernetes (a bug of ours, or an admission policy).
"""

from __future__ import annotations

from zunk8s.errors import BackendError, BackendUnavailable, Conflict, ZunError
from zunk8s.kube.errors import (
    KubeAlreadyExists,
    KubeConflict,
    KubeError,
    KubeGone,
    KubeNotFound,
    KubeRejected,
    KubeStreamBroken,
    KubeUnavailable,
    StdinCloseUnsupported,
)


def zun_error(e: KubeError) -> ZunError:
    if isinstance(e, KubeNotFound):
        return Conflict(f"Kubernetes no longer has an object this operation needs ({e.detail}); try again.")
    if isinstance(e, (KubeAlreadyExists, KubeConflict)):
        return Conflict(f"Kubernetes refused a change that raced another one ({e.detail}); try again.")
    if isinstance(e, StdinCloseUnsupported):
        return Conflict(e.detail)
    if isinstance(e, (KubeUnavailable, KubeGone, KubeStreamBroken)):
        return BackendUnavailable(e.detail)
    if isinstance(e, KubeRejected):
        return BackendError(e.detail)
    return BackendError(f"Kubernetes call failed: {e.detail}")


def public_error(e: BaseException) -> ZunError | None:
    """The Zun error a client gets for ``e``: itself if it is one, its mapping if it is a
    Kubernetes failure, None for anything else (a bug: the renderer answers 500)."""
    if isinstance(e, ZunError):
        return e
    if isinstance(e, KubeError):
        return zun_error(e)
    return None
