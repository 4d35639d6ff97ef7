"""What create checks and writes before any Pod exists: supported options, the record."""

import pytest

from zunk8s.errors import Invalid, NotImplementedOnKubernetes
from zunk8s.microversions import APIVersion
from zunk8s.records import Record
from zunk8s.schemas.containers import validate_create
from zunk8s.service.context import Caller
from zunk8s.service.creating import build_record, check_supported, create_sub_policies
from zunk8s.translate.pods import build_probe

V40 = APIVersion(1, 40)


@pytest.mark.parametrize(("hostname", "ok"), [("web-1", True), ("Web", False), ("a.b", False), ("a_b", False), ("x" * 64, False)])
def test_hostname_must_be_a_dns_label(hostname: str, ok: bool) -> None:
    spec = validate_create({"image": "ab", "hostname": hostname}, APIVersion(1, 40))
    if ok:
        check_supported(spec)
    else:
        with pytest.raises(Invalid):
            check_supported(spec)


# --- #13 class 5: healthcheck ---

def test_healthcheck_as_the_client_sends_it() -> None:
    spec = validate_create({"image": "ab", "healthcheck": {"cmd": "stat /x || exit 1", "interval": 3, "retries": 2, "timeout": 0}}, V40)
    record = build_record(Caller("p", "u", frozenset(), "r"), spec, uuid="u1", now="2026-01-01 00:00:00.000000")
    assert record.healthcheck == {"test": "stat /x || exit 1", "interval": 3, "retries": 2, "timeout": 0}
    # 0 means Docker's default: no field, so Kubernetes' default applies.
    assert build_probe(record.healthcheck) == {
        "exec": {"command": ["/bin/sh", "-c", "stat /x || exit 1"]}, "periodSeconds": 3, "failureThreshold": 2,
    }


# --- #13 class 10: no silent success ---

def test_glance_is_refused() -> None:
    with pytest.raises(NotImplementedOnKubernetes) as err:
        check_supported(validate_create({"image": "ab", "image_driver": "glance"}, V40))
    assert "glance" in err.value.detail
    check_supported(validate_create({"image": "ab", "image_driver": "docker"}, V40))


# --- #8: a requested host ---

def test_a_requested_host_is_supported_and_kept_on_the_record() -> None:
    spec = validate_create({"image": "ab", "host": "zun-real-0"}, V40)
    check_supported(spec)  # no longer a 501
    assert create_sub_policies(spec) == ["container:create:requested_destination"]
    record = build_record(Caller("p", "u", frozenset(), "r"), spec, uuid="u1", now="2026-01-01 00:00:00.000000")
    # On the record, so every later Pod (start, reboot, a restart of zunk8s) goes there too.
    assert record.requested_host == "zun-real-0"
    assert Record.model_validate(record.model_dump(mode="json")).requested_host == "zun-real-0"


# --- #10: nets that cannot be honoured are refused with the reason ---

@pytest.mark.parametrize(("net", "fragment"), [
    ({"port": "p1"}, "no Neutron ports"),
    ({"network": "n", "v4-fixed-ip": "10.0.0.5"}, "v4-fixed-ip cannot be honoured"),
    ({"network": "n", "v6-fixed-ip": "fd00::5"}, "v6-fixed-ip cannot be honoured"),
])
def test_ports_and_fixed_ips_are_refused(net: dict[str, str], fragment: str) -> None:
    with pytest.raises(Invalid) as err:
        check_supported(validate_create({"image": "ab", "nets": [net]}, V40))
    assert fragment in err.value.detail
    check_supported(validate_create({"image": "ab", "nets": [{"network": "n"}], "security_groups": ["a"]}, V40))


def test_exposed_ports_are_kept_as_zun_normalises_them() -> None:
    spec = validate_create({"image": "ab", "exposed_ports": {"80": {}, "53/udp": {}, "80/tcp": {}}}, V40)
    record = build_record(Caller("p", "u", frozenset(), "r"), spec, uuid="u1", now="2026-01-01 00:00:00.000000")
    assert record.exposed_ports == ["80/tcp", "53/udp"]
