"""The one error hierarchy of zunk8s.

Every error a client can see is a ``ZunError``: it carries the HTTP status and the Zun fault
code (``container.<kebab-case class>``), and one middleware renders it in Zun's envelope.
Library exceptions (kubernetes_asyncio, redis, aiohttp client) are converted at the edges
and chained as causes: Redis failures become ``BackendUnavailable`` in zunk8s.state;
Kubernetes failures become the gateway's own ``KubeError``s (zunk8s.kube.errors), which
``zunk8s.service.faults`` maps to these when they reach a client.
"""

from __future__ import annotations


class ZunError(Exception):
    status = 500
    # Zun derives the code from the exception class name (CamelCase -> kebab-case).
    code = ""
    title: str | None = None
    # The /network API's envelope names the error by its class ("type"), or by this when Neutron
    # names it what a Zun error of this hierarchy is already called.
    neutron_type: str | None = None

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r})"


class Invalid(ZunError):
    status = 400
    code = "invalid"


class SchemaValidationError(Invalid):
    code = "schema-validation-error"


class InvalidValue(Invalid):
    code = "invalid-value"


class InvalidParamInVersion(Invalid):
    code = "invalid-param-in-version"


class InvalidParameterValue(Invalid):
    code = "invalid-parameter-value"


class NoInteractiveFlag(Invalid):
    code = "no-interactive-flag"


class Base64Exception(Invalid):
    code = "base64-exception"


class Unauthorized(ZunError):
    """A websocket token that is unknown, used or expired (Zun's websocket proxy: 401)."""

    status = 401
    code = ""
    title = "Unauthorized"


class PolicyNotAuthorized(ZunError):
    status = 403
    code = "policy-not-authorized"

    def __init__(self, rule: str) -> None:
        super().__init__(f"Policy doesn't allow {rule} to be performed.")


class ImageNotFound(ZunError):
    """Zun's ImageNotFound: an Invalid, so a 400 (not a 404) for an unknown image id."""

    status = 400
    code = "image-not-found"

    def __init__(self, ident: str) -> None:
        super().__init__(f"Image {ident} could not be found.")


class ImageAlreadyExists(ZunError):
    status = 409
    code = "image-already-exists"

    def __init__(self, repo: str, tag: str) -> None:
        super().__init__(f"An image with tag {tag} and repo {repo} already exists.")


class OverQuota(ZunError):
    """Zun's OverQuota: a create that would take the project past its quota (sorted resources,
    written as Zun writes the list)."""

    status = 403
    code = "over-quota"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class NotFound(ZunError):
    status = 404
    code = "not-found"


class ContainerNotFound(NotFound):
    code = "container-not-found"

    def __init__(self, ident: str) -> None:
        super().__init__(f"Container {ident} could not be found.")


class ResourceNotFound(NotFound):
    """Zun's ResourceNotFound: e.g. a container action whose request id the container never saw."""

    code = "resource-not-found"

    def __init__(self, name: str, ident: str) -> None:
        super().__init__(f"The {name} resource {ident} could not be found.")


class ComputeNodeNotFound(NotFound):
    """GET /v1/hosts/{ident} (and a list marker) naming no host: Zun's DB API raises it."""

    code = "compute-node-not-found"

    def __init__(self, ident: str) -> None:
        super().__init__(f"Compute node {ident} could not be found.")


class RequestedHostNotFound(NotFound):
    """create with a ``host`` (1.39) that is no host (zun/compute/api.py ``_validate_host``)."""

    code = "requested-host-not-found"

    def __init__(self, host: str) -> None:
        super().__init__(f"Requested host {host} could not be found.")


class ZunNetworkNotFound(NotFound):
    """A network a container names (create's ``nets``, network_attach) that the caller cannot
    see: Zun's NetworkNotFound, in Zun's words."""

    code = "network-not-found"

    def __init__(self, network: str) -> None:
        super().__init__(f"Neutron network {network} could not be found.")


class VolumeNotFound(NotFound):
    """A ``source`` volume mount naming no volume of the project (Zun's VolumeNotFound; here a
    PersistentVolumeClaim in the project's namespace)."""

    code = "volume-not-found"

    def __init__(self, volume: str) -> None:
        super().__init__(f"Volume {volume} could not be found.")


class RegistryNotFound(NotFound):
    """A Zun registry (here a project's pull Secret) the caller's project has not."""

    code = "registry-not-found"

    def __init__(self, registry: str) -> None:
        super().__init__(f"Registry {registry} could not be found.")


class Conflict(ZunError):
    status = 409
    code = "conflict"


class InvalidStateException(Conflict):
    code = "invalid-state-exception"


class NotAcceptable(ZunError):
    """Microversion problems. Zun's webob errors carry the bare ``container.`` code."""

    status = 406
    code = ""
    title = "Not Acceptable"


class RequestEntityTooLarge(ZunError):
    status = 413
    code = "request-entity-too-large"


class UnsupportedMediaType(ZunError):
    status = 415
    code = "unsupported-media-type"


class NotImplementedOnKubernetes(ZunError):
    """An operation Kubernetes (or this cluster) cannot carry out; the detail says why."""

    status = 501
    code = "not-implemented"


class BackendUnavailable(ZunError):
    """Kubernetes or Redis could not be reached or answered with a server error."""

    status = 503
    code = "backend-unavailable"


class BackendError(ZunError):
    """Kubernetes rejected a request we built; a bug of ours or an admission policy."""

    status = 500
    code = ""


# --- the Neutron-compatible API (/network/v2.0): the same hierarchy; its envelope names the
# class as Neutron's "type" (envelope.neutron_error_response).


class SecurityGroupNotFound(NotFound):
    code = "security-group-not-found"

    def __init__(self, ident: str) -> None:
        super().__init__(f"Security group {ident} does not exist")


class SecurityGroupRuleNotFound(NotFound):
    code = "security-group-rule-not-found"

    def __init__(self, ident: str) -> None:
        super().__init__(f"Security group rule {ident} does not exist")


class SecurityGroupRuleExists(Conflict):
    code = "security-group-rule-exists"

    def __init__(self, rule_id: str) -> None:
        super().__init__(f"Security group rule already exists. Rule id is {rule_id}.")


class SecurityGroupInUse(Conflict):
    code = "security-group-in-use"

    def __init__(self, group_id: str) -> None:
        super().__init__(f"Security Group {group_id} in use.")


class SecurityGroupCannotRemoveDefault(Conflict):
    code = "security-group-cannot-remove-default"

    def __init__(self) -> None:
        super().__init__("Insufficient rights for removing default security group.")


class SecurityGroupDefaultAlreadyExists(Conflict):
    code = "security-group-default-already-exists"

    def __init__(self) -> None:
        super().__init__("Default security group already exists.")


class NeutronBadRequest(Invalid):
    """A body Neutron's API layer would refuse (its "Failed to parse request" 400s)."""

    code = "bad-request"


class NeutronPolicyNotAuthorized(ZunError):
    """Neutron's 403 for what its default policy does not let the caller do (a reader writing,
    a member sharing a network)."""

    status = 403
    code = "policy-not-authorized"
    neutron_type = "PolicyNotAuthorized"

    def __init__(self, action: str) -> None:
        super().__init__(f"(rule:{action}) is disallowed by policy")


class NetworkNotFound(NotFound):
    code = "network-not-found"

    def __init__(self, ident: str) -> None:
        super().__init__(f"Network {ident} could not be found.")


class PortNotFound(NotFound):
    code = "port-not-found"

    def __init__(self, ident: str) -> None:
        super().__init__(f"Port {ident} could not be found.")


class NetworkInUse(Conflict):
    code = "network-in-use"

    def __init__(self, network_id: str) -> None:
        super().__init__(
            f"Unable to complete operation on network {network_id}. "
            "There are one or more ports still in use on the network."
        )


class InvalidSharedSetting(Conflict):
    """Unsharing a network containers of other projects are on."""

    code = "invalid-shared-setting"

    def __init__(self, network_id: str) -> None:
        super().__init__(
            f"Unable to reconfigure sharing settings for network {network_id}. Multiple tenants are using it."
        )
