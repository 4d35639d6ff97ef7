"""Neutron security-group rules: their validation and canonical form (Neutron's own rules), and
their translation into one NetworkPolicy per container.

Why one policy per container (not one per group): Kubernetes ORs every policy that selects a
Pod, which matches Neutron's union of a port's groups, but a container's networks must AND with
its groups' rules (two containers on no common network never talk, whatever the rules say), and
independent policies cannot AND. So each container's policy holds the rules of all its groups,
with every peer narrowed to the container's networks: a remote group becomes "members of that
group on one of my networks" (one podSelector with both labels), and a CIDR that covers the
Pod range becomes "that CIDR outside the Pod range, plus Pods on one of my networks".

What NetworkPolicy cannot say is refused here (``NotExpressible``), never widened: protocols
other than TCP, UDP and SCTP (ICMP types and codes included), and a remote CIDR that covers only
part of the Pod range (Pod addresses are not stable on Kubernetes).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from zunk8s.errors import Invalid

Obj = dict[str, Any]
Direction = Literal["ingress", "egress"]
Ethertype = Literal["IPv4", "IPv6"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

GROUP_LABEL_PREFIX = "sg.zunk8s.openstack.org/"
NETWORK_LABEL_PREFIX = "net.zunk8s.openstack.org/"
# On the Pods of containers with exposed ports: an egress rule "anywhere" lets a container send to
# them whatever networks they are on (their own policies admit only the exposed ports).
EXPOSED_LABEL = "exposed.zunk8s.openstack.org/ports"

# neutron-lib's IP_PROTOCOL_MAP names (a number 0-255 is accepted too, kept as a string).
PROTOCOL_NUMBERS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2, "ip": 0,
    "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59,
    "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6,
    "udp": 17, "udplite": 136, "vrrp": 112,
}
IPV6_ONLY = {"ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route",
             "41", "44", "58", "59", "60", "43"}
# Protocols Neutron accepts port ranges for, by number.
PORT_PROTOCOLS = {6, 17, 132, 33, 136}
# What NetworkPolicy can match, by protocol number.
KUBE_PROTOCOLS = {6: "TCP", 17: "UDP", 132: "SCTP"}


class SecurityGroupRuleInvalid(Invalid):
    """A rule Neutron itself would refuse (its 400s)."""

    code = "security-group-rule-invalid"


class NotExpressible(Invalid):
    """A valid Neutron rule that a Kubernetes NetworkPolicy cannot enforce as written."""

    code = "security-group-rule-not-expressible"


@dataclass(frozen=True)
class Rule:
    """A rule in Neutron's canonical form (what its API shows)."""

    id: str
    security_group_id: str
    direction: Direction
    ethertype: Ethertype
    protocol: str | None
    port_range_min: int | None
    port_range_max: int | None
    remote_ip_prefix: str | None
    remote_group_id: str | None
    description: str = ""

    @property
    def key(self) -> tuple[Any, ...]:
        """What Neutron compares to find a duplicate: any-address and no prefix are the same,
        and a protocol by name equals it by number."""
        prefix = self.remote_ip_prefix
        if prefix in ("0.0.0.0/0", "::/0"):
            prefix = None
        return (self.security_group_id, self.direction, self.ethertype, protocol_number(self.protocol),
                self.port_range_min, self.port_range_max, prefix, self.remote_group_id)


def protocol_number(protocol: str | None) -> int | None:
    if protocol is None:
        return None
    return int(protocol) if protocol.isdigit() else PROTOCOL_NUMBERS[protocol]


def _port(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise SecurityGroupRuleInvalid(f"Invalid value for port {value!r}")
    port = int(value)
    if not 0 <= port <= 65535:
        raise SecurityGroupRuleInvalid(f"Invalid value for port {port}")
    return port


def canonical_rule(fields: Mapping[str, Any], *, rule_id: str, group_id: str) -> Rule:
    """Validate a rule as Neutron does (its messages) and return its canonical form."""
    direction = fields.get("direction")
    if direction not in ("ingress", "egress"):
        raise SecurityGroupRuleInvalid(
            f"Invalid input for direction. Reason: {direction!r} is not in ['ingress', 'egress']."
        )
    raw_ether = fields.get("ethertype") or "IPv4"
    ethertype = {"ipv4": "IPv4", "ipv6": "IPv6"}.get(str(raw_ether).lower())
    if ethertype is None:
        raise SecurityGroupRuleInvalid(
            f"Security group rule for ethertype '{raw_ether}' not supported. Allowed values are ['IPv4', 'IPv6']."
        )
    protocol = _protocol(fields.get("protocol"))
    if protocol is not None and ethertype == "IPv6" and protocol in ("icmp", "icmpv6", "1"):
        protocol = "58" if protocol == "1" else "ipv6-icmp"
    if protocol in IPV6_ONLY and ethertype == "IPv4":
        raise SecurityGroupRuleInvalid(f"Invalid ethertype {ethertype} for protocol {protocol}.")
    low = _port(fields.get("port_range_min"))
    high = _port(fields.get("port_range_max"))
    if (low is not None or high is not None) and protocol is None:
        raise SecurityGroupRuleInvalid("Must also specify protocol if port range is given.")
    number = protocol_number(protocol)
    if number in PORT_PROTOCOLS and (low is not None or high is not None):
        if low == 0 or high == 0:
            raise SecurityGroupRuleInvalid("Invalid value for port 0")
        if low is None or high is None or low > high:
            raise SecurityGroupRuleInvalid("For TCP/UDP protocols, port_range_min must be <= port_range_max")
        if (low, high) == (1, 65535):
            low = high = None
    elif number in (1, 58):
        for value in (low, high):
            if value is not None and value > 255:
                raise SecurityGroupRuleInvalid(f"Invalid value for ICMP field (type or code) {value}. It must be 0 to 255.")
        if high is not None and low is None:
            raise SecurityGroupRuleInvalid(f"ICMP code (port-range-max) {high} is provided but ICMP type (port-range-min) is missing.")
    elif low is not None or high is not None:
        raise SecurityGroupRuleInvalid(
            f"Ports cannot be specified for protocol {protocol}. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE."
        )
    remote_ip, remote_group = fields.get("remote_ip_prefix"), fields.get("remote_group_id")
    if sum(1 for v in (remote_ip, remote_group, fields.get("remote_address_group_id")) if v) > 1:
        raise SecurityGroupRuleInvalid("Only remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.")
    if fields.get("remote_address_group_id"):
        raise NotExpressible("zunk8s has no address groups: use remote_ip_prefix or remote_group_id")
    prefix = None
    if remote_ip:
        try:
            net = ipaddress.ip_network(str(remote_ip), strict=False)
        except ValueError:
            raise SecurityGroupRuleInvalid(f"'{remote_ip}' is not a valid IP subnet.") from None
        if (net.version == 4) != (ethertype == "IPv4"):
            raise SecurityGroupRuleInvalid(f"Conflicting value ethertype {ethertype} for CIDR {remote_ip}")
        prefix = str(net)
    description = fields.get("description") or ""
    return Rule(
        id=rule_id, security_group_id=group_id, direction=direction, ethertype=ethertype,  # type: ignore[arg-type]
        protocol=protocol, port_range_min=low, port_range_max=high, remote_ip_prefix=prefix,
        remote_group_id=str(remote_group) if remote_group else None, description=str(description),
    )


def _protocol(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value.lower() in ("", "any")):
        return None
    text = str(value).lower()
    if text.isdigit():
        if not 0 <= int(text) <= 255:
            raise SecurityGroupRuleInvalid(f"Security group rule protocol {value} not supported.")
        return str(int(text))
    if text not in PROTOCOL_NUMBERS:
        raise SecurityGroupRuleInvalid(
            f"Security group rule protocol {value} not supported. Only protocol values "
            f"{sorted(PROTOCOL_NUMBERS)} and integer representations [0 to 255] are supported."
        )
    return text


def default_rule_fields(group_id: str, *, is_default: bool) -> list[Obj]:
    """The rules Neutron gives a new group: egress anywhere (IPv4 and IPv6); and for a project's
    ``default`` group also ingress from its own members."""
    rules: list[Obj] = [{"direction": "egress", "ethertype": e} for e in ("IPv4", "IPv6")]
    if is_default:
        rules += [{"direction": "ingress", "ethertype": e, "remote_group_id": group_id} for e in ("IPv4", "IPv6")]
    return rules


def new_group_rules(group_id: str, *, is_default: bool, rule_ids: Iterator[str]) -> list[Rule]:
    """A new group's rules (``default_rule_fields``), each with the next id of ``rule_ids``."""
    return [canonical_rule(f, rule_id=next(rule_ids), group_id=group_id)
            for f in default_rule_fields(group_id, is_default=is_default)]


# ---------------------------------------------------------------------------------------------
# NetworkPolicy


@dataclass(frozen=True)
class PodRanges:
    """The cluster's Pod address ranges (``network.pod_cidrs``): what a remote CIDR is compared
    with to decide whether it also means Pods."""

    cidrs: tuple[Network, ...]

    @classmethod
    def of(cls, cidrs: Iterable[str]) -> PodRanges:
        return cls(tuple(ipaddress.ip_network(c) for c in cidrs))

    def family(self, ethertype: Ethertype) -> list[Network]:
        version = 4 if ethertype == "IPv4" else 6
        return [c for c in self.cidrs if c.version == version]


def check_expressible(rule: Rule, pods: PodRanges) -> None:
    """Refuse (400, with the reason) a rule NetworkPolicy cannot enforce as written."""
    number = protocol_number(rule.protocol)
    if number is not None and number not in KUBE_PROTOCOLS:
        raise NotExpressible(
            f"Kubernetes NetworkPolicy matches only TCP, UDP and SCTP (or any protocol): "
            f"a rule for protocol {rule.protocol} cannot be enforced"
        )
    if rule.remote_ip_prefix is not None:
        _cidr_relation(ipaddress.ip_network(rule.remote_ip_prefix), pods.family(rule.ethertype))


def _cidr_relation(prefix: Network, pod_cidrs: Sequence[Network]) -> Literal["covers", "apart"]:
    if not pod_cidrs or all(not prefix.overlaps(c) for c in pod_cidrs):
        return "apart"
    if all(c.subnet_of(prefix) for c in pod_cidrs):  # type: ignore[arg-type]
        return "covers"
    ranges = ", ".join(str(c) for c in pod_cidrs)
    raise NotExpressible(
        f"remote_ip_prefix {prefix} covers only part of the cluster's Pod addresses ({ranges}); Pod "
        "addresses are not stable on Kubernetes: use a remote group, or a prefix that contains or "
        "avoids the whole Pod range"
    )


def group_label(group_id: str) -> str:
    return GROUP_LABEL_PREFIX + group_id


def network_label(network_id: str) -> str:
    return NETWORK_LABEL_PREFIX + network_id


def _peers(rule: Rule, networks: Sequence[str], pods: PodRanges) -> list[Obj]:
    """Who the rule lets in (ingress) or out to (egress), narrowed to the container's networks.
    Empty means nobody: the caller drops the rule (an empty peer list would mean everybody)."""
    pod_cidrs = pods.family(rule.ethertype)
    if rule.remote_group_id is not None:
        if pods.cidrs and not pod_cidrs:
            return []  # no Pod has an address of that family: Neutron's rule admits nothing here
        return [{"podSelector": {"matchLabels": {group_label(rule.remote_group_id): "", network_label(n): ""}}}
                for n in networks]
    prefix = ipaddress.ip_network(rule.remote_ip_prefix or ("0.0.0.0/0" if rule.ethertype == "IPv4" else "::/0"))
    if _cidr_relation(prefix, pod_cidrs) == "apart":
        return [{"ipBlock": {"cidr": str(prefix)}}]
    peers: list[Obj] = []
    inner = [str(c) for c in pod_cidrs if c != prefix]
    if len(inner) == len(pod_cidrs):  # the prefix is more than the Pod ranges: the rest of it
        peers.append({"ipBlock": {"cidr": str(prefix), **({"except": inner} if inner else {})}})
    peers += [{"namespaceSelector": {}, "podSelector": {"matchLabels": {network_label(n): ""}}} for n in networks]
    if rule.direction == "egress":
        peers.append({"namespaceSelector": {}, "podSelector": {"matchLabels": {EXPOSED_LABEL: ""}}})
    return peers


def _ports(rule: Rule) -> list[Obj] | None:
    number = protocol_number(rule.protocol)
    if number is None:
        return None  # every protocol and port
    port: Obj = {"protocol": KUBE_PROTOCOLS[number]}
    if rule.port_range_min is not None:
        port["port"] = rule.port_range_min
        if rule.port_range_max is not None and rule.port_range_max > rule.port_range_min:
            port["endPort"] = rule.port_range_max
    return [port]


@dataclass(frozen=True)
class ExposedPort:
    port: int
    protocol: Literal["tcp", "udp"]


def container_policy(
    *,
    name: str,
    namespace: str,
    pod_selector: Mapping[str, str],
    labels: Mapping[str, str],
    owner: Obj | None,
    rules: Sequence[Rule],
    networks: Sequence[str],
    pods: PodRanges,
    exposed: Sequence[ExposedPort] = (),
) -> Obj:
    """The NetworkPolicy of one container: the union of its groups' rules, each narrowed to the
    container's networks; ``exposed`` ports open to everyone (Zun's exposed_ports, like
    ``docker run -p``). With no rule in a direction, that direction is closed."""
    ingress: list[Obj] = []
    egress: list[Obj] = []
    for rule in rules:
        check_expressible(rule, pods)
        peers = _peers(rule, networks, pods)
        if not peers:
            continue
        entry: Obj = {("from" if rule.direction == "ingress" else "to"): peers}
        ports = _ports(rule)
        if ports is not None:
            entry["ports"] = ports
        target = ingress if rule.direction == "ingress" else egress
        if entry not in target:
            target.append(entry)
    for p in exposed:
        entry = {"from": [{"namespaceSelector": {}}, {"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}],
                 "ports": [{"protocol": p.protocol.upper(), "port": p.port}]}
        if entry not in ingress:
            ingress.append(entry)
    metadata: Obj = {"name": name, "namespace": namespace, "labels": dict(labels)}
    if owner is not None:
        metadata["ownerReferences"] = [owner]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": {
            "podSelector": {"matchLabels": dict(pod_selector)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def membership_labels(group_ids: Iterable[str], network_ids: Iterable[str], *, exposed: bool = False) -> dict[str, str]:
    """The labels a container's Pod carries so that other containers' policies can select it."""
    labels = {**{group_label(g): "" for g in group_ids}, **{network_label(n): "" for n in network_ids}}
    if exposed:
        labels[EXPOSED_LABEL] = ""
    return labels
