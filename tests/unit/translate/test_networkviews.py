"""Network objects and their Neutron views: ids, the view's fields, filters, oldest-first order."""

from __future__ import annotations

from typing import Any

import pytest

from zunk8s.translate import crd
from zunk8s.translate.networkviews import (
    created_key,
    default_network_id,
    network_body,
    network_view,
)
from zunk8s.translate.neutronfilters import matches
from zunk8s.translate.neutronviews import default_group_id


def test_default_network_id_is_stable_and_its_own() -> None:
    a = default_network_id("zun-abc", "p1")
    assert a == default_network_id("zun-abc", "p1")
    assert len({a, default_network_id("zun-abc", "p2"), default_network_id("other", "p1"), default_group_id("zun-abc", "p1")}) == 4


def test_body_and_view_are_neutrons_network() -> None:
    body = network_body("zun-p1", "n-1", name="web", description="d", project_id="p1", shared=True,
                        labels={"a": "b"}, now="2026-01-02T03:04:05.123456Z")
    assert body["apiVersion"] == crd.API_VERSION and body["kind"] == "Network"
    assert body["metadata"] == {"name": "n-1", "namespace": "zun-p1", "labels": {"a": "b"}}
    body["metadata"]["generation"] = 3
    assert network_view(body) == {
        "id": "n-1", "name": "web", "description": "d", "status": "ACTIVE", "admin_state_up": True, "shared": True,
        "project_id": "p1", "tenant_id": "p1", "subnets": [], "mtu": 1500, "router:external": False,
        "availability_zones": [], "availability_zone_hints": [], "port_security_enabled": True,
        "ipv4_address_scope": None, "ipv6_address_scope": None, "tags": [],
        "created_at": "2026-01-02T03:04:05.123456Z", "updated_at": "2026-01-02T03:04:05.123456Z", "revision_number": 3,
    }


def test_a_kubectl_made_network_has_a_view() -> None:
    view = network_view({"metadata": {"name": "team"}, "spec": {"name": "t", "shared": "yes"}})
    assert (view["id"], view["name"], view["shared"], view["project_id"], view["created_at"]) == ("team", "t", False, None, None)


@pytest.mark.parametrize(
    ("filters", "want"),
    [
        ({}, True),
        ({"name": ["web"]}, True),
        ({"name": ["db", "web"]}, True),
        ({"name": ["db"]}, False),
        ({"shared": ["true"]}, True),
        ({"shared": ["True"]}, True),
        ({"shared": ["1"]}, True),
        ({"shared": ["false"]}, False),
        ({"router:external": ["false"]}, True),
        ({"admin_state_up": ["False"]}, False),
        ({"project_id": ["p1"], "status": ["ACTIVE"]}, True),
        ({"subnets": ["x"], "colour": ["red"]}, True),  # list-valued and unknown fields: not filters
    ],
)
def test_neutron_filters(filters: dict[str, list[str]], want: bool) -> None:
    view = network_view(network_body("ns", "n", name="web", description="", project_id="p1", shared=True,
                                     labels={}, now="2026-01-01T00:00:00Z"))
    assert matches(view, filters) is want


def test_oldest_first_by_time_not_by_text() -> None:
    def net(name: str, created: Any) -> dict[str, Any]:
        return {"metadata": {"name": name}, "spec": {"created_at": created}}

    # A zero fraction is left out of the text ("…:00Z" sorts after "…:00.5Z" as text).
    nets = [net("b", "2026-01-01T00:00:00.500000Z"), net("a", "2026-01-01T00:00:00Z"), net("c", None),
            net("d", "2026-01-01T00:00:00Z")]
    assert [n["metadata"]["name"] for n in sorted(nets, key=created_key)] == ["c", "a", "d", "b"]


def test_the_crd_and_its_paths() -> None:
    manifest = crd.network_crd()
    assert manifest in crd.crd_manifests()
    assert manifest["metadata"]["name"] == "networks.zunk8s.openstack.org"
    names = manifest["spec"]["names"]
    assert (names["kind"], names["plural"], names["singular"], names["shortNames"]) == ("Network", "networks", "network", ["zunnet"])
    assert manifest["spec"]["scope"] == "Namespaced"
    assert crd.network_path("zun-p") == "/apis/zunk8s.openstack.org/v1alpha1/namespaces/zun-p/networks"
    assert crd.network_path("zun-p", "n1").endswith("/networks/n1")
    assert crd.ALL_NETWORKS_PATH == "/apis/zunk8s.openstack.org/v1alpha1/networks"
