"""Where the agent pushes a committed image (zunk8s/node/registrypush.py)."""

import pytest

from zunk8s.imageregistry.hosts import plain_http
from zunk8s.node.registrypush import RegistryError, split_reference


def test_a_reference_splits_into_registry_name_and_tag() -> None:
    assert split_reference("localhost:5055/zunk8s/ns/snap:v1") == ("localhost:5055", "zunk8s/ns/snap", "v1")
    for bad in ("snap", "localhost:5055/snap", "/x:1"):
        with pytest.raises(RegistryError):
            split_reference(bad)


def test_plain_http_only_on_loopback_or_when_told() -> None:
    assert plain_http("localhost:5055", []) and plain_http("127.0.0.1:5055", []) and plain_http("[::1]:5000", [])
    assert not plain_http("registry.example.com", []) and not plain_http("10.0.0.5:5000", [])
    assert plain_http("10.0.0.5:5000", ["10.0.0.5:5000"])
