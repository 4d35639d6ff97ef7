"""Images on the local cluster's registries: a tiny one pushed to the open registry, and the private
registry's (it asks for a password) under a tag no node has yet."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.parse
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


def push_tiny_image(cluster: Cluster, repo: str, tag: str) -> None:
    """An image with no layer (a config and a manifest) at repo:tag in the cluster's registry."""
    base = f"http://{cluster.registry}/v2/{repo}"
    config = b"{}"
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    with urllib.request.urlopen(urllib.request.Request(f"{base}/blobs/uploads/", method="POST")) as r:
        location = r.headers["Location"]
    upload = urllib.parse.urljoin(base, location)
    upload += ("&" if "?" in upload else "?") + f"digest={digest}"
    with urllib.request.urlopen(urllib.request.Request(upload, data=config, method="PUT")) as r:
        assert r.status == 201
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest,
                                      "size": len(config)}, "layers": []}).encode()
    put = urllib.request.Request(f"{base}/manifests/{tag}", data=manifest, method="PUT",
                                 headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(put) as r:
        assert r.status == 201
