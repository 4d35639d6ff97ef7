"""A container's isolation from its record: groups, networks, Pod labels, exposed ports, ports."""

from zunk8s.records import Record, RecordStatus
from zunk8s.translate.isolation import (
    container_groups,
    container_networks,
    exposed_group_id,
    exposed_group_rule_fields,
    exposed_ports,
    exposed_service,
    membership_patch,
    object_name,
    pod_membership,
)
from zunk8s.translate.netports import addresses, network_list, port_id, port_view
from zunk8s.translate.networkviews import default_network_id
from zunk8s.translate.neutronviews import default_group_id
from zunk8s.translate.pods import PodOptions, build_pod
from zunk8s.translate.secgroups import ExposedPort, canonical_rule

INSTANCE = "i-1"


def record(**fields: object) -> Record:
    return Record.model_validate({"uuid": "c1", "name": "c", "project_id": "p", "user_id": "u", "image": "busybox",
                                  "created_at": "2026-01-01 00:00:00", **fields})


def test_no_group_means_the_default_group_and_an_emptied_list_means_none() -> None:
    assert container_groups(record(), INSTANCE) == [default_group_id(INSTANCE, "p")]
    assert container_groups(record(security_groups=["g1", "g2"]), INSTANCE) == ["g1", "g2"]
    assert container_groups(record(security_groups=[]), INSTANCE) == []


def test_a_record_from_before_networks_is_on_the_default_network() -> None:
    assert container_networks(record(), INSTANCE) == [default_network_id(INSTANCE, "p")]
    assert container_networks(record(networks=["n1"]), INSTANCE) == ["n1"]
    assert container_networks(record(networks=[]), INSTANCE) == []


def test_the_pod_carries_its_groups_and_networks_and_a_user_cannot_forge_them() -> None:
    forged = {"sg.zunk8s.openstack.org/other": "", "net.zunk8s.openstack.org/other": ""}
    pod = build_pod(record(security_groups=["g1"], networks=["n1"], labels=forged), name="zun-c1-1", namespace="ns",
                    project_hash="h", generation=1, options=PodOptions(instance=INSTANCE), owner=None)
    labels = pod["metadata"]["labels"]
    assert {k for k in labels if k.startswith(("sg.", "net."))} == {"sg.zunk8s.openstack.org/g1", "net.zunk8s.openstack.org/n1"}


def test_relabelling_removes_only_membership_labels() -> None:
    current = {"app": "x", "sg.zunk8s.openstack.org/g1": "", "net.zunk8s.openstack.org/n1": ""}
    wanted = pod_membership(record(security_groups=["g2"], networks=["n1"]), INSTANCE)
    assert membership_patch(current, wanted) == {"sg.zunk8s.openstack.org/g1": None, "sg.zunk8s.openstack.org/g2": ""}
    assert membership_patch({**current, "sg.zunk8s.openstack.org/g2": ""}, {**wanted, "sg.zunk8s.openstack.org/g1": ""}) == {}


def test_exposed_ports_become_zuns_group_and_a_service() -> None:
    r = record(exposed_ports=["80/tcp", "53/udp"], security_groups=[exposed_group_id("c1")])
    assert exposed_ports(r) == [ExposedPort(80, "tcp"), ExposedPort(53, "udp")]
    gid = exposed_group_id("c1")
    assert gid == exposed_group_id("c1") != exposed_group_id("c2")
    rules = [canonical_rule(f, rule_id=str(i), group_id=gid)
             for i, f in enumerate(exposed_group_rule_fields(gid, exposed_ports(r)))]
    ingress = [(x.protocol, x.port_range_min, x.remote_ip_prefix) for x in rules if x.direction == "ingress"]
    assert ingress == [("tcp", 80, "0.0.0.0/0"), ("udp", 53, "0.0.0.0/0")]
    assert {x.ethertype for x in rules if x.direction == "egress"} == {"IPv4", "IPv6"}
    owner = {"apiVersion": "v", "kind": "K", "name": "c1", "uid": "x"}
    svc = exposed_service(r, "ns", labels={"a": "b"}, owner=owner)
    assert svc is not None and svc["metadata"]["name"] == object_name("c1") == "zun-c1"
    assert svc["spec"]["selector"] == {"zunk8s.openstack.org/uuid": "c1"}
    assert [(p["protocol"], p["port"]) for p in svc["spec"]["ports"]] == [("TCP", 80), ("UDP", 53)]
    assert exposed_service(record(), "ns", labels={}, owner=owner) is None


def test_addresses_and_network_list_are_keyed_by_network() -> None:
    r = record(networks=["n1", "n2"])
    st = RecordStatus(pod_ip="10.88.128.5")
    shown = addresses(r, st)
    assert list(shown) == ["n1", "n2"]
    assert shown["n1"] == [{"addr": "10.88.128.5", "version": 4, "port": port_id("c1", "n1"), "subnet_id": None,
                            "preserve_on_delete": False}]
    assert addresses(r, RecordStatus()) == {}
    assert network_list(r, st, flat=False)[1] == {
        "net_id": "n2", "port_id": port_id("c1", "n2"),
        "fixed_ips": [{"subnet_id": None, "version": 4, "ip_address": "10.88.128.5"}],
    }
    assert network_list(r, st, flat=True)[0] == {"net_id": "n1", "port_id": port_id("c1", "n1"), "subnet_id": None,
                                                 "version": 4, "ip_address": "10.88.128.5"}
    assert network_list(r, RecordStatus(), flat=False) == []
    port = port_view(r, RecordStatus(pod_ip="10.88.128.5", status="Running"), "n1", ["g"])
    assert (port["device_id"], port["network_id"], port["status"], port["security_groups"]) == ("c1", "n1", "ACTIVE", ["g"])
