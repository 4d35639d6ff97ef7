"""structlog set-up: console output in development, JSON in the cluster."""

from __future__ import annotations

import logging

import structlog


def configure(*, fmt: str, level: str) -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s %(message)s")
    # aiohttp's access log is noisy at info; request events are logged by our middleware.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
