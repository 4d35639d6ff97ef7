"""The one mapping from the gateway's errors to Zun's: no Kubernetes-flavoured code on the wire."""

from zunk8s.errors import ZunError
from zunk8s.kube.errors import error_for
from zunk8s.service.faults import zun_error


def test_kube_errors_carry_zun_codes() -> None:
    for status, body in ((404, {"kind": "Status", "reason": "NotFound"}), (409, {"kind": "Status", "reason": "AlreadyExists"}),
                         (409, {"kind": "Status", "reason": "Conflict"}), (410, {}), (503, {}), (422, {})):
        err: ZunError = zun_error(error_for(status, body))
        assert not err.code.startswith("kube"), (status, err.code)
