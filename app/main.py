"""create_app(): routers, error handlers, middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio.to_thread
from fastapi import FastAPI

from app.api import (
    bulk,
    claimreview,
    claims,
    conflicts,
    extract,
    keys,
    ops,
    reports,
    resources,
    webhooks,
)
from app.api.errors import install_error_handlers
from app.api.idempotency import Idempotency
from app.api.middleware import RequestContext
from app.config import Settings, get_settings
from app.db import make_engine, make_sessionmaker
from app.services.group_commit import ClaimRecorder
from app.services.idempotency import IdempotencyStore
from app.services.keys import KeyCache
from app.worker import Worker

DESCRIPTION = """A ledger of the numbers in the news — who said each figure, where, every change
made to it — and the conflicts among them. Send `Authorization: Bearer <key>`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The Tally application, configured by `settings` (default: the environment)."""
    settings = settings or get_settings()
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # One thread per pooled connection: see Settings.threads.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        worker = Worker(sessions, settings) if settings.run_worker else None
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            worker.stop()
        engine.dispose()

    app = FastAPI(title="Tally", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    # What app.api.deps hands to routes.
    app.state.settings = settings
    app.state.sessionmaker = sessions
    app.state.key_cache = KeyCache(settings.key_cache_seconds)
    app.state.claim_recorder = ClaimRecorder(
        sessions, settings.figure_tolerance, settings.db_timeout_seconds
    )
    # bulk before claims: /v1/claims/export and /bulk must not be read as a claim id.
    routers = (ops, resources, bulk, claimreview, claims, conflicts, reports, keys, webhooks)
    for module in (*routers, extract):
        app.include_router(module.router)
    install_error_handlers(app)
    app.add_middleware(
        Idempotency,
        store=IdempotencyStore(sessions, timedelta(hours=settings.idempotency_ttl_hours)),
        max_body_bytes=settings.bulk_max_bytes,
        wait_seconds=settings.db_timeout_seconds,
    )
    app.add_middleware(
        RequestContext,
        max_in_flight=settings.max_in_flight,
        max_body_bytes=settings.max_body_bytes,
        max_active=settings.threads,  # no more requests handled at once than threads
        queue_seconds=settings.db_timeout_seconds,
    )
    return app
