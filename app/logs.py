"""Structured JSON logs; API keys never reach them."""

from __future__ import annotations

import logging

import structlog


def configure_logging(level: str) -> None:
    """JSON lines on stderr, with the request id bound by the middleware."""
    logging.basicConfig(format="%(message)s", level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=False,  # lets tests capture logs
    )
