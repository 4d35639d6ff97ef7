"""The ``zunk8s`` command: ``zunk8s serve``."""

from __future__ import annotations

import argparse

from aiohttp import web

from zunk8s import logconf
from zunk8s.app import create_app
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
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings(_env_file=args.config, **overrides)  # type: ignore[call-arg]
    logconf.configure(fmt=settings.log_format, level=settings.log_level)
    web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None)


if __name__ == "__main__":
    main()
