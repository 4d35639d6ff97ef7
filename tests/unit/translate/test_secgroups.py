"""Neutron rule validation and canonical form, and the per-container NetworkPolicy, table by table."""

from __future__ import annotations

from typing import Any

import pytest

from zunk8s.translate.secgroups import (
    ExposedPort,
    NotExpressible,
    PodRanges,
    Rule,
    SecurityGroupRuleInvalid,
    canonical_rule,
    check_expressible,
    container_policy,
    default_rule_fields,
    membership_labels,
)

PODS = PodRanges.of(["10.88.128.0/17"])
G, WEB = "g-1", "web-1"


def rule(**fields: Any) -> Rule:
    return canonical_rule({"direction": "ingress", **fields}, rule_id="r", group_id=G)


@pytest.mark.parametrize(
    ("fields", "want"),
    [
        ({}, ("IPv4", None, None, None, None)),
        ({"ethertype": "ipv6"}, ("IPv6", None, None, None, None)),
        ({"protocol": "TCP", "port_range_min": 80, "port_range_max": 80}, ("IPv4", "tcp", 80, 80, None)),
        ({"protocol": "6", "port_range_min": "80", "port_range_max": 90}, ("IPv4", "6", 80, 90, None)),
        ({"protocol": "any"}, ("IPv4", None, None, None, None)),
        ({"protocol": "tcp", "port_range_min": 1, "port_range_max": 65535}, ("IPv4", "tcp", None, None, None)),
        ({"protocol": "icmp", "ethertype": "IPv6"}, ("IPv6", "ipv6-icmp", None, None, None)),
        ({"protocol": "1", "ethertype": "IPv6"}, ("IPv6", "58", None, None, None)),
        ({"protocol": "icmp", "port_range_min": 8}, ("IPv4", "icmp", 8, None, None)),
        ({"remote_ip_prefix": "10.0.0.5"}, ("IPv4", None, None, None, "10.0.0.5/32")),
        ({"remote_ip_prefix": "10.1.2.3/8"}, ("IPv4", None, None, None, "10.0.0.0/8")),
    ],
)
def test_canonical_form(fields: dict[str, Any], want: tuple[Any, ...]) -> None:
    r = rule(**fields)
    assert (r.ethertype, r.protocol, r.port_range_min, r.port_range_max, r.remote_ip_prefix) == want


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"direction": "sideways"}, "Invalid input for direction"),
        ({"ethertype": "IPv5"}, "ethertype 'IPv5' not supported"),
        ({"protocol": "carrier-pigeon"}, "protocol carrier-pigeon not supported"),
        ({"protocol": "300"}, "protocol 300 not supported"),
        ({"port_range_min": 80}, "Must also specify protocol"),
        ({"protocol": "tcp", "port_range_min": 90, "port_range_max": 80}, "port_range_min must be <= port_range_max"),
        ({"protocol": "tcp", "port_range_min": 80}, "port_range_min must be <= port_range_max"),
        ({"protocol": "udp", "port_range_min": 0, "port_range_max": 10}, "Invalid value for port 0"),
        ({"protocol": "tcp", "port_range_min": 70000, "port_range_max": 70000}, "Invalid value for port"),
        ({"protocol": "gre", "port_range_min": 1, "port_range_max": 2}, "Ports cannot be specified for protocol gre"),
        ({"protocol": "icmp", "port_range_max": 3}, "ICMP type (port-range-min) is missing"),
        ({"protocol": "icmp", "port_range_min": 300}, "It must be 0 to 255"),
        ({"protocol": "ipv6-icmp"}, "Invalid ethertype IPv4 for protocol ipv6-icmp"),
        ({"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": WEB}, "Only remote_ip_prefix or remote_group_id"),
        ({"remote_ip_prefix": "::/0"}, "Conflicting value ethertype IPv4 for CIDR ::/0"),
        ({"remote_ip_prefix": "ten"}, "is not a valid IP subnet"),
    ],
)
def test_neutron_refusals(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(SecurityGroupRuleInvalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        canonical_rule({"direction": "ingress", **fields}, rule_id="r", group_id=G)


def test_duplicates_compare_as_neutron_does() -> None:
    assert rule(remote_ip_prefix="0.0.0.0/0").key == rule().key
    assert rule(protocol="tcp", port_range_min=80, port_range_max=80).key == rule(
        protocol="6", port_range_min=80, port_range_max=80
    ).key
    assert rule(protocol="tcp").key != rule(protocol="udp").key


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"protocol": "icmp"}, "matches only TCP, UDP and SCTP"),
        ({"protocol": "gre"}, "matches only TCP, UDP and SCTP"),
        ({"remote_ip_prefix": "10.88.200.0/24"}, "covers only part of the cluster's Pod addresses"),
        ({"remote_ip_prefix": "10.88.0.0/17"}, None),  # beside the Pod range
        ({"remote_ip_prefix": "10.0.0.0/8"}, None),  # around it
        ({"protocol": "sctp"}, None),
    ],
)
def test_what_networkpolicy_cannot_say_is_refused(fields: dict[str, Any], message: str | None) -> None:
    if message is None:
        check_expressible(rule(**fields), PODS)
    else:
        with pytest.raises(NotExpressible, match=message):
            check_expressible(rule(**fields), PODS)


def policy(rules: list[Rule], networks: list[str], exposed: tuple[ExposedPort, ...] = ()) -> dict[str, Any]:
    return container_policy(
        name="zun-u1", namespace="zun-p", pod_selector={"uuid": "u1"}, labels={"l": "v"}, owner=None,
        rules=rules, networks=networks, pods=PODS, exposed=exposed,
    )


def rules_of(group_id: str, *, is_default: bool) -> list[Rule]:
    return [canonical_rule(f, rule_id=f"r{i}", group_id=group_id)
            for i, f in enumerate(default_rule_fields(group_id, is_default=is_default))]


def sel(**labels: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": labels}}


NET = "net.zunk8s.openstack.org/"
SG = "sg.zunk8s.openstack.org/"
EXPOSED = "exposed.zunk8s.openstack.org/ports"


def test_default_group_on_one_network() -> None:
    spec = policy(rules_of(G, is_default=True), ["n1"])["spec"]
    assert spec["podSelector"] == {"matchLabels": {"uuid": "u1"}}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    # Members of the group on the same network, IPv4 (no Pod has an IPv6 address: that rule adds nothing).
    assert spec["ingress"] == [{"from": [sel(**{SG + G: "", NET + "n1": ""})]}]
    # Egress anywhere: outside the Pod range, Pods on the same network, and Pods with exposed
    # ports (wherever they are: their own policies admit only those ports); IPv6 anywhere.
    assert spec["egress"] == [
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.88.128.0/17"]}},
                {"namespaceSelector": {}, **sel(**{NET + "n1": ""})},
                {"namespaceSelector": {}, **sel(**{EXPOSED: ""})}]},
        {"to": [{"ipBlock": {"cidr": "::/0"}}]},
    ]


def test_a_port_from_a_remote_group_on_each_network() -> None:
    web = canonical_rule({"direction": "ingress", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80,
                          "remote_group_id": WEB}, rule_id="r", group_id=G)
    ranged = canonical_rule({"direction": "ingress", "protocol": "udp", "port_range_min": 5000, "port_range_max": 5010,
                             "remote_ip_prefix": "192.168.0.0/16"}, rule_id="r2", group_id=G)
    spec = policy([web, ranged], ["n1", "n2"])["spec"]
    assert spec["ingress"] == [
        {"from": [sel(**{SG + WEB: "", NET + "n1": ""}), sel(**{SG + WEB: "", NET + "n2": ""})],
         "ports": [{"protocol": "TCP", "port": 80}]},
        {"from": [{"ipBlock": {"cidr": "192.168.0.0/16"}}], "ports": [{"protocol": "UDP", "port": 5000, "endPort": 5010}]},
    ]
    assert spec["egress"] == []  # no egress rule: egress closed


def test_no_network_means_no_pod_peer_and_never_an_empty_peer_list() -> None:
    spec = policy(rules_of(G, is_default=True), [])["spec"]
    assert spec["ingress"] == []  # the remote-group rule admits nobody: dropped, not "from everybody"
    assert spec["egress"] == [
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.88.128.0/17"]}},
                {"namespaceSelector": {}, **sel(**{EXPOSED: ""})}]},
        {"to": [{"ipBlock": {"cidr": "::/0"}}]},
    ]
    for entry in spec["ingress"] + spec["egress"]:
        assert entry.get("from", entry.get("to"))


def test_a_prefix_equal_to_the_pod_range_means_only_pods_on_my_networks() -> None:
    r = canonical_rule({"direction": "ingress", "remote_ip_prefix": "10.88.128.0/17"}, rule_id="r", group_id=G)
    assert policy([r], ["n1"])["spec"]["ingress"] == [{"from": [{"namespaceSelector": {}, **sel(**{NET + "n1": ""})}]}]


def test_exposed_ports_are_open_to_everyone_and_rules_are_not_repeated() -> None:
    spec = policy(rules_of(G, is_default=False) * 2, ["n1"], (ExposedPort(8080, "tcp"),))["spec"]
    assert spec["ingress"] == [
        {"from": [{"namespaceSelector": {}}, {"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}],
         "ports": [{"protocol": "TCP", "port": 8080}]}
    ]
    assert len(spec["egress"]) == 2


def test_a_rule_policy_cannot_express_is_refused_not_dropped() -> None:
    with pytest.raises(NotExpressible):
        policy([rule(protocol="icmp")], ["n1"])


def test_membership_labels() -> None:
    assert membership_labels(["a", "b"], ["n"]) == {SG + "a": "", SG + "b": "", NET + "n": ""}
