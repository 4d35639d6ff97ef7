"""The ``zunk8s`` command: ``zunk8s serve``; ``zunk8s agent`` (the node agent); ``zunk8s static-token`` (a new token for
static-token mode); ``zunk8s policy`` (the effective policy: Zun's defaults and a policy file); ``zunk8s inject``
(the init container that puts a container's injected files in place)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from zunk8s import logconf
from zunk8s.identity.statictokens import new_entry
from zunk8s.node.inject import inject
from zunk8s.policy import cli as policy_cli
from zunk8s.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="zunk8s", description="The OpenStack Zun API on Kubernetes")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the Zun API")
    serve.add_argument("--host", help="listen address (ZUNK8S_HOST)")
    serve.add_argument("--port", type=int, help="listen port (ZUNK8S_PORT)")
    serve.add_argument(
        "--config", metavar="FILE", help="a settings file of ZUNK8S_* lines (KEY=value); the environment wins"
    )
    agent = sub.add_parser("agent", help="the node agent: pause/unpause through the node's containerd")
    agent.add_argument("--config", metavar="FILE", help="a settings file of ZUNK8S_* lines; the environment wins")
    token = sub.add_parser(
        "static-token",
        help="make a token for auth.mode static: prints the token once, and the line for the tokens file",
    )
    token.add_argument("--project", required=True, help="the project the token acts in")
    token.add_argument("--user", required=True, help="the user id it acts as")
    token.add_argument("--role", action="append", default=[], help="a role (repeat for several), e.g. member")
    copy = sub.add_parser("inject", help="copy injected files from a Secret volume into place (an init container)")
    copy.add_argument("src")
    copy.add_argument("dst")
    policy_cli.add_policy_command(sub)
    args = parser.parse_args(argv)
    if args.command == "inject":
        print(f"zunk8s inject: {inject(args.src, args.dst)} file(s) in place")
        return
    if args.command == "policy":
        sys.exit(policy_cli.run(args))
    if args.command == "static-token":
        secret, entry = new_entry(project_id=args.project, user_id=args.user, roles=list(args.role))
        print(json.dumps({"token": secret, "entry": entry}, indent=2))
        print("add 'entry' to the tokens file's \"tokens\" list; the token is not shown again", file=sys.stderr)
        return
    if args.command == "agent":
        # The agent listens on nothing: the server's listen address (and the checks made of it,
        # e.g. noauth only on loopback) are not its business.
        agent_settings = Settings(_env_file=args.config, host="127.0.0.1")  # type: ignore[call-arg]
        logconf.configure(fmt=agent_settings.log_format, level=agent_settings.log_level)
        from zunk8s.node.agent import run_agent  # the server's modules are not the agent's business

        asyncio.run(run_agent(agent_settings))
        return
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings(_env_file=args.config, **overrides)  # type: ignore[call-arg]
    logconf.configure(fmt=settings.log_format, level=settings.log_level)
    from aiohttp import web

    from zunk8s.app import create_app

    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=None,
        shutdown_timeout=settings.shutdown_timeout,
    )


if __name__ == "__main__":
    main()
