"""Provision and check the zunk8s test-bed Keystone through its REST API (run by deploy/keystone).

Standard library only, so the project's own python3 runs it (no Keystone or client venv needed).
Every step compares what Keystone has with what is declared on the command line and changes
only the difference, so running it again changes nothing:

  provision   roles, projects, users (password checked by logging in; reset if it differs),
              each account's project role assignments made exactly the declared ones, the
              identity, container and network services (network: zunk8s's Neutron-compatible
              API at <container URL without /v1>/network), and their public/internal/admin
              endpoints in the region (an endpoint with another URL is corrected, duplicates are removed)
  verify      alice's token issued, validated with the service user's token through
              GET /v3/auth/tokens?nocatalog (project and roles checked), the container endpoint
              read from her catalog; every other account logs in with its expected roles
  endpoint    print the container service's public URL, or with --set URL point all three
              interfaces at URL (and the network service's at the same zunk8s)

Accounts are NAME:PASSWORD:PROJECT:ROLE[,ROLE...]; the first --account is the one `verify`
validates, --service-account is the service user that validates it. Exit status 1 with a message
on stderr on any failure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

DOMAIN = "Default"
INTERFACES = ("public", "internal", "admin")
# Keystone's default implied roles (keystone-manage bootstrap): admin > manager > member > reader.
IMPLIES = {"admin": "manager", "manager": "member", "member": "reader"}


class Failure(Exception):
    pass


@dataclass(frozen=True)
class Account:
    name: str
    password: str
    project: str
    roles: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Account:
        parts = text.split(":")
        if len(parts) != 4 or not all(parts):
            raise argparse.ArgumentTypeError(f"not NAME:PASSWORD:PROJECT:ROLES: {text!r}")
        return cls(parts[0], parts[1], parts[2], tuple(parts[3].split(",")))

    def effective_roles(self) -> set[str]:
        out: set[str] = set()
        for role in self.roles:
            while role and role not in out:
                out.add(role)
                role = IMPLIES.get(role, "")
        return out


class Keystone:
    """One keep-alive HTTP connection to Keystone's /v3 API."""

    def __init__(self, url: str) -> None:
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http" or not u.hostname:
            raise Failure(f"only http:// URLs are supported: {url}")
        self.host, self.port, self.base = u.hostname, u.port or 80, u.path.rstrip("/")
        self.conn: http.client.HTTPConnection | None = None
        self.token = ""
        self.requests = 0
        self.changes: list[str] = []

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 204),
    ) -> tuple[int, http.client.HTTPMessage, Any]:
        hdrs = {"Accept": "application/json"}
        data = None
        if body is not None:
            hdrs["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        if self.token:
            hdrs["X-Auth-Token"] = self.token
        hdrs.update(headers or {})
        for attempt in (0, 1):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, self.base + path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, OSError) as e:
                self.conn.close()
                self.conn = None
                # Only a kept-alive connection the server closed in between is retried.
                if attempt or not reused:
                    raise Failure(f"{method} {self.base}{path}: {e}") from e
        self.requests += 1
        doc = json.loads(raw) if raw and "json" in resp.headers.get("Content-Type", "") else {}
        if resp.status not in ok:
            msg = doc.get("error", {}).get("message") if isinstance(doc, dict) else None
            raise Failure(f"{method} {self.base}{path}: HTTP {resp.status} {msg or raw[:200]!r}")
        return resp.status, resp.headers, doc

    def login(self, account: Account | None = None, *, name: str = "", password: str = "",
              project: str | None = "", catalog: bool = False, ok: tuple[int, ...] = (201,)) -> tuple[str, Any]:
        """POST /v3/auth/tokens; returns (token, body). project=None asks for an unscoped token."""
        if account is not None:
            name, password, project = account.name, account.password, account.project
        auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {
            "user": {"name": name, "domain": {"name": DOMAIN}, "password": password}}}}
        if project is not None:
            auth["scope"] = {"project": {"name": project, "domain": {"name": DOMAIN}}}
        saved, self.token = self.token, ""
        try:
            status, hdrs, doc = self.call("POST", "/auth/tokens" + ("" if catalog else "?nocatalog"),
                                          {"auth": auth}, ok=ok)
        finally:
            self.token = saved
        return (hdrs.get("X-Subject-Token", "") if status == 201 else ""), doc

    def changed(self, what: str) -> None:
        self.changes.append(what)
        print(f"  {what}", file=sys.stderr)

    def list(self, collection: str, **query: str) -> list[dict[str, Any]]:
        qs = "?" + urllib.parse.urlencode(query) if query else ""
        items: list[dict[str, Any]] = self.call("GET", f"/{collection}{qs}")[2][collection]
        return items


def ensure_roles(ks: Keystone, names: set[str]) -> dict[str, str]:
    roles = {r["name"]: r["id"] for r in ks.list("roles") if not r.get("domain_id")}
    for name in sorted(names - roles.keys()):
        roles[name] = ks.call("POST", "/roles", {"role": {"name": name}})[2]["role"]["id"]
        ks.changed(f"created role {name}")
    return roles


def ensure_project(ks: Keystone, domain_id: str, name: str) -> str:
    found = ks.list("projects", name=name, domain_id=domain_id)
    if found:
        if not found[0].get("enabled", True):
            ks.call("PATCH", f"/projects/{found[0]['id']}", {"project": {"enabled": True}})
            ks.changed(f"enabled project {name}")
        return str(found[0]["id"])
    doc = ks.call("POST", "/projects", {"project": {
        "name": name, "domain_id": domain_id, "enabled": True, "description": "zunk8s test bed"}})[2]
    ks.changed(f"created project {name}")
    return str(doc["project"]["id"])


def ensure_user(ks: Keystone, domain_id: str, acct: Account) -> str:
    found = ks.list("users", name=acct.name, domain_id=domain_id)
    if not found:
        # No default_project_id: a login without a scope then gives a truly unscoped token.
        doc = ks.call("POST", "/users", {"user": {
            "name": acct.name, "domain_id": domain_id, "password": acct.password, "enabled": True}})[2]
        ks.changed(f"created user {acct.name}")
        return str(doc["user"]["id"])
    user = found[0]
    patch: dict[str, Any] = {}
    if not user.get("enabled", True):
        patch["enabled"] = True
    if not patch:
        # The password is right if it logs in (unscoped: role assignments may still be missing).
        token, _ = ks.login(name=acct.name, password=acct.password, project=None, ok=(201, 401))
        if not token:
            patch["password"] = acct.password
    else:
        patch["password"] = acct.password
    if patch:
        ks.call("PATCH", f"/users/{user['id']}", {"user": patch})
        ks.changed(f"updated user {acct.name} ({', '.join(sorted(patch))})")
    return str(user["id"])


def ensure_assignments(ks: Keystone, acct: Account, user_id: str, project_ids: dict[str, str],
                       roles: dict[str, str]) -> None:
    """The user's project-scoped role assignments become exactly acct.roles on acct.project."""
    want = {(project_ids[acct.project], roles[r]) for r in acct.roles}
    have = set()
    for a in ks.list("role_assignments", **{"user.id": user_id}):
        project = a.get("scope", {}).get("project", {}).get("id")
        if project:  # system and domain scoped assignments (bootstrap's admin) are left alone
            have.add((project, a["role"]["id"]))
    names = {v: k for k, v in roles.items()} | {v: k for k, v in project_ids.items()}
    for project, role in sorted(want - have):
        ks.call("PUT", f"/projects/{project}/users/{user_id}/roles/{role}")
        ks.changed(f"granted {names.get(role, role)} on {acct.project} to {acct.name}")
    for project, role in sorted(have - want):
        ks.call("DELETE", f"/projects/{project}/users/{user_id}/roles/{role}")
        ks.changed(f"revoked {names.get(role, role)} on {names.get(project, project)} from {acct.name}")


def ensure_service(ks: Keystone, stype: str, name: str, url: str, region: str) -> None:
    services = [s for s in ks.list("services", type=stype) if s.get("name") == name]
    if not services:
        sid = ks.call("POST", "/services", {"service": {"type": stype, "name": name, "enabled": True}})[2]
        ks.changed(f"created service {name} ({stype})")
        service_id = str(sid["service"]["id"])
    else:
        service_id = str(services[0]["id"])
        for extra in services[1:]:
            ks.call("DELETE", f"/services/{extra['id']}")
            ks.changed(f"deleted duplicate service {name} {extra['id']}")
    endpoints = ks.list("endpoints", service_id=service_id)
    for interface in INTERFACES:
        mine = [e for e in endpoints if e["interface"] == interface and e.get("region_id") == region]
        if not mine:
            ks.call("POST", "/endpoints", {"endpoint": {
                "service_id": service_id, "interface": interface, "region_id": region, "url": url,
                "enabled": True}})
            ks.changed(f"created {name} {interface} endpoint {url}")
            continue
        if mine[0]["url"] != url or not mine[0].get("enabled", True):
            ks.call("PATCH", f"/endpoints/{mine[0]['id']}", {"endpoint": {"url": url, "enabled": True}})
            ks.changed(f"set {name} {interface} endpoint {mine[0]['url']} -> {url}")
        for extra in mine[1:]:
            ks.call("DELETE", f"/endpoints/{extra['id']}")
            ks.changed(f"deleted duplicate {name} {interface} endpoint {extra['url']}")


def network_url(container_url: str) -> str:
    """zunk8s serves its Neutron-compatible API beside the Zun one: <base>/v1 -> <base>/network
    (openstacksdk appends /v2.0 itself)."""
    base = container_url.rstrip("/")
    return (base[: -len("/v1")] if base.endswith("/v1") else base) + "/network"


def ensure_region(ks: Keystone, region: str) -> None:
    status = ks.call("GET", f"/regions/{urllib.parse.quote(region)}", ok=(200, 404))[0]
    if status == 404:
        ks.call("POST", "/regions", {"region": {"id": region}})
        ks.changed(f"created region {region}")


def admin_login(ks: Keystone, admin: Account) -> None:
    ks.token, _ = ks.login(admin)


def provision(ks: Keystone, args: argparse.Namespace) -> None:
    admin_login(ks, args.admin)
    domains = ks.list("domains", name=DOMAIN)
    if not domains:
        raise Failure(f"domain {DOMAIN} missing (keystone-manage bootstrap makes it)")
    domain_id = str(domains[0]["id"])
    accounts: list[Account] = [args.admin, args.service_account, *args.account]
    roles = ensure_roles(ks, {r for a in accounts for r in a.roles})
    project_ids = {p: ensure_project(ks, domain_id, p) for p in dict.fromkeys(a.project for a in accounts)}
    for acct in accounts:
        user_id = ensure_user(ks, domain_id, acct)
        ensure_assignments(ks, acct, user_id, project_ids, roles)
    ensure_region(ks, args.region)
    ensure_service(ks, "identity", "keystone", args.url.rstrip("/"), args.region)
    ensure_service(ks, "container", "zun", args.container_url, args.region)
    ensure_service(ks, "network", "neutron", network_url(args.container_url), args.region)


def catalog_url(catalog: list[dict[str, Any]], stype: str, interface: str, region: str) -> str:
    for service in catalog:
        if service.get("type") == stype:
            for e in service.get("endpoints", []):
                if e.get("interface") == interface and e.get("region_id", e.get("region")) == region:
                    return str(e["url"])
    return ""


def ms(t0: float) -> str:
    return f"{(time.monotonic() - t0) * 1000:.0f} ms"


def verify(ks: Keystone, args: argparse.Namespace) -> None:
    first, *others = args.account
    t0 = time.monotonic()
    user_token, body = ks.login(first, catalog=True)
    t_issue = ms(t0)
    t0 = time.monotonic()
    service_token, _ = ks.login(args.service_account)
    t_service = ms(t0)
    t0 = time.monotonic()
    ks.token = service_token
    token = ks.call("GET", "/auth/tokens?nocatalog", headers={"X-Subject-Token": user_token}, ok=(200,))[2]["token"]
    t_validate = ms(t0)
    project = token.get("project", {}).get("name")
    got = {r["name"] for r in token.get("roles", [])}
    if project != first.project or got != first.effective_roles() or token["user"]["name"] != first.name:
        raise Failure(f"validated token of {first.name}: user {token['user']['name']}, project {project}, "
                      f"roles {sorted(got)}; expected project {first.project}, "
                      f"roles {sorted(first.effective_roles())}")
    urls = {i: catalog_url(body["token"].get("catalog", []), "container", i, args.region) for i in INTERFACES}
    if set(urls.values()) != {args.container_url}:
        raise Failure(f"catalog of {first.name}: container endpoints {urls}, expected {args.container_url}")
    for acct in [*others, args.admin]:
        _, doc = ks.login(acct)
        roles = {r["name"] for r in doc["token"].get("roles", [])}
        if roles != acct.effective_roles():
            raise Failure(f"{acct.name} on {acct.project}: roles {sorted(roles)}, "
                          f"expected {sorted(acct.effective_roles())}")
    print(f"verify: {first.name} token issued in {t_issue}; {args.service_account.name} token {t_service}; "
          f"validated (GET /v3/auth/tokens?nocatalog 200, project {project}, roles {','.join(sorted(got))}) "
          f"in {t_validate}; catalog container public {urls['public']}; "
          f"{', '.join(a.name for a in others + [args.admin])} log in with their roles", file=sys.stderr)


def endpoint(ks: Keystone, args: argparse.Namespace) -> None:
    admin_login(ks, args.admin)
    if args.set:
        ensure_region(ks, args.region)
        ensure_service(ks, "container", "zun", args.set, args.region)
        ensure_service(ks, "network", "neutron", network_url(args.set), args.region)
    urls = set()
    for service in ks.list("services", type="container"):
        for e in ks.list("endpoints", service_id=service["id"]):
            urls.add(e["url"])
    print("\n".join(sorted(urls)))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["provision", "verify", "up", "endpoint"],
                   help="up = provision then verify")
    p.add_argument("--url", required=True, help="Keystone's /v3 URL")
    p.add_argument("--region", default="RegionOne")
    p.add_argument("--admin", type=Account.parse, required=True)
    p.add_argument("--service-account", type=Account.parse, required=True)
    p.add_argument("--account", type=Account.parse, action="append", default=[])
    p.add_argument("--container-url", help="the container service's endpoint URL (provision, verify)")
    p.add_argument("--set", metavar="URL", help="endpoint: set the container endpoints to URL")
    args = p.parse_args()
    if args.action in ("provision", "verify", "up") and (not args.container_url or not args.account):
        p.error("provision and verify need --container-url and at least one --account")
    ks = Keystone(args.url)
    try:
        t0 = time.monotonic()
        if args.action in ("provision", "up"):
            provision(ks, args)
            print(f"provision: {len(ks.changes) or 'nothing'} changed, {ks.requests} requests in {ms(t0)}",
                  file=sys.stderr)
        if args.action in ("verify", "up"):
            verify(ks, args)
        if args.action == "endpoint":
            endpoint(ks, args)
    except Failure as e:
        print(f"keystone {args.action}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
