"""Kubernetes failures classified by status and Status message (zunk8s/kube/errors.py)."""

from zunk8s.kube.errors import KubeQuotaUncounted, KubeRejected, KubeUnavailable, error_for
from zunk8s.service.faults import zun_error


def status(code: int, reason: str, message: str) -> dict[str, object]:
    return {"kind": "Status", "code": code, "reason": reason, "message": message}


def test_a_quota_not_counted_yet_is_transient() -> None:
    # What the quota admission answered on the local cluster right after a quota was made.
    e = error_for(403, status(403, "Forbidden", 'zuncontainers.zunk8s.openstack.org "x" is forbidden: status unknown '
                                              "for quota: zun-quota, resources: count/zuncontainers.zunk8s.openstack.org"))
    assert isinstance(e, KubeQuotaUncounted) and isinstance(e, KubeUnavailable)
    assert zun_error(e).status == 503


def test_other_refusals_stay_refusals() -> None:
    e = error_for(403, status(403, "Forbidden", 'pods "p" is forbidden: exceeded quota: zun-quota'))
    assert isinstance(e, KubeRejected) and "exceeded quota" in e.kube_message
