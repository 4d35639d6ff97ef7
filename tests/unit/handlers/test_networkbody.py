"""Network create and update bodies: what Neutron accepts, what Neutron refuses, and what a
zunk8s network (a Kubernetes isolation domain) cannot be."""

from __future__ import annotations

from typing import Any

import pytest

from zunk8s.errors import NeutronBadRequest
from zunk8s.handlers.networkbody import NewNetwork, network_changes, new_network


@pytest.mark.parametrize(
    ("fields", "want"),
    [
        ({}, NewNetwork(name="", description="", shared=False)),
        ({"name": "web", "description": "d"}, NewNetwork(name="web", description="d", shared=False)),
        ({"name": None, "shared": True}, NewNetwork(name="", description="", shared=True)),
        ({"shared": "True"}, NewNetwork(name="", description="", shared=True)),
        ({"shared": 0}, NewNetwork(name="", description="", shared=False)),
        # What `openstack network create` sends by default, and its harmless options.
        ({"name": "n", "admin_state_up": True}, NewNetwork(name="n", description="", shared=False)),
        ({"router:external": False, "port_security_enabled": True, "mtu": "1500", "availability_zone_hints": []},
         NewNetwork(name="", description="", shared=False)),
        ({"is_default": False, "vlan_transparent": False, "qos_policy_id": None, "project_id": "p"},
         NewNetwork(name="", description="", shared=False)),
    ],
)
def test_accepted_creates(fields: dict[str, Any], want: NewNetwork) -> None:
    assert new_network(fields) == want


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"colour": "red"}, "Unrecognized attribute(s) 'colour'"),
        ({"name": 5}, "Invalid input for name"),
        ({"description": "x" * 256}, "Invalid input for description"),
        ({"shared": "perhaps"}, "Invalid input for shared. Reason: 'perhaps' cannot be converted to boolean."),
        ({"provider:network_type": "vxlan"},
         "zunk8s networks are Kubernetes isolation domains: provider:network_type is not supported."),
        ({"provider:physical_network": "p", "provider:segmentation_id": 7},
         "provider:physical_network, provider:segmentation_id are not supported"),
        ({"router:external": True}, "zunk8s networks are Kubernetes isolation domains: router:external=true is not supported"),
        ({"admin_state_up": False}, "admin_state_up=false is not supported (a zunk8s network is always admin_state_up=true)"),
        ({"port_security_enabled": "false"}, "port_security_enabled=false is not supported"),
        ({"mtu": 9000}, "mtu=9000 is not supported"),
        ({"mtu": True}, "mtu=True is not supported"),
        ({"availability_zone_hints": ["az1"]}, "availability_zone_hints is not supported"),
        ({"is_default": True}, "is_default is not supported"),
        ({"tags": ["a"]}, "tags is not supported"),
    ],
)
def test_refused_bodies(fields: dict[str, Any], says: str) -> None:
    for parse in (new_network, network_changes):
        with pytest.raises(NeutronBadRequest) as err:
            parse(fields)
        assert says in err.value.detail
        assert err.value.status == 400


def test_updates_change_only_what_they_name() -> None:
    assert network_changes({}) == {}
    assert network_changes({"name": "n2"}) == {"name": "n2"}
    assert network_changes({"description": None, "shared": "false", "admin_state_up": True}) == {
        "description": "", "shared": False}
