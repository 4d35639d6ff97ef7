"""The local cluster's private registry (it asks for a password): images on it no node has yet."""

from __future__ import annotations

import base64
import secrets
import urllib.request

from tests.conftest import Cluster

MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
])


def fresh_private_image(cluster: Cluster) -> str:
    """The private image under a tag no node has pulled yet (so every pull asks the registry):
    its manifest read and put again, with the password."""
    host, _, rest = cluster.private_image.partition("/")
    repo, _, tag = rest.rpartition(":")
    auth = "Basic " + base64.b64encode(f"{cluster.private_user}:{cluster.private_password}".encode()).decode()
    url = f"http://{host.replace('localhost', '127.0.0.1')}/v2/{repo}/manifests/"
    with urllib.request.urlopen(urllib.request.Request(url + tag, headers={"Authorization": auth,
                                                                            "Accept": MANIFEST_TYPES})) as r:
        manifest, ctype = r.read(), r.headers["Content-Type"]
    new_tag = f"t{secrets.token_hex(4)}"
    put = urllib.request.Request(url + new_tag, data=manifest, method="PUT",
                                 headers={"Authorization": auth, "Content-Type": ctype})
    with urllib.request.urlopen(put) as r:
        assert r.status == 201
    return f"{host}/{repo}:{new_tag}"


def domain_of(cluster: Cluster) -> str:
    return cluster.private_image.partition("/")[0]
