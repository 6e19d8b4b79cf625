"""create_app(): routers, error handlers, middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio.to_thread
from fastapi import FastAPI

from app import web
from app.api import (
    bulk,
    changes,
    checks,
    claimreview,
    claims,
    conflicts,
    extract,
    feeds,
    keys,
    ops,
    reports,
    resources,
    share_links,
    webhooks,
)
from app.api.docs import install_docs
from app.api.errors import install_error_handlers
from app.api.idempotency import Idempotency
from app.api.middleware import Authenticator, RequestContext
from app.api.newline import TrailingNewline
from app.api.sharing import SharedAnswers
from app.config import Settings, get_settings
from app.db import ReadSessions, make_engine, make_read_engine, make_sessionmaker
from app.services.group_commit import ClaimRecorder
from app.services.idempotency import IdempotencyStore
from app.services.kept import Kept
from app.services.keys import KeyCache
from app.services.reports import claims_held
from app.worker import Worker

DESCRIPTION = """A ledger of the numbers in the news — who said each figure, where, every change
made to it — and the conflicts among them.

Send `Authorization: Bearer <key>` (the **Authorize** button here) and JSON bodies with
`Content-Type: application/json`. Every error is `application/problem+json` naming each field
at fault.

Two kinds of time: a claim's `as_of` is the **date the figure refers to** (YYYY-MM-DD);
`recorded_at` is the **moment the ledger recorded** something (ISO 8601), and
`?recorded_at=` reads a claim or a report as the ledger stood then."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The Tally application, configured by `settings` (default: the environment)."""
    settings = settings or get_settings()
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    read_engine = make_read_engine(settings)

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
        if read_engine is not None:
            read_engine.dispose()

    # /docs and /redoc are served from Tally's own assets (app/api/docs.py), not from a CDN.
    app = FastAPI(
        title="Tally",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)
    # What app.api.deps hands to routes.
    app.state.settings = settings
    app.state.sessionmaker = sessions
    app.state.read_sessions = ReadSessions(sessions, read_engine, settings.read_max_lag_seconds)
    app.state.key_cache = key_cache = KeyCache(settings.key_cache_seconds)
    app.state.report_cache = Kept(settings.report_cache_claims, claims_held)
    app.state.page_cache = Kept(settings.page_cache_mb * 2**20, len)
    app.state.claim_recorder = ClaimRecorder(
        sessions, settings.figure_tolerance, settings.db_timeout_seconds
    )
    # bulk before claims: /v1/claims/export and /bulk must not be read as a claim id.
    routers = (ops, resources, bulk, claimreview, claims, conflicts, reports, keys, webhooks)
    for module in (*routers, changes, checks, feeds, share_links, extract):
        app.include_router(module.router)
    app.include_router(web.router)  # the desk (SPEC §11): `/` and the pages beside the API
    app.mount("/static", web.DeskStatic(), name="static")
    install_error_handlers(app)
    web.install_error_pages(app)  # after the API's: errors at desk addresses become pages
    app.add_middleware(SharedAnswers)  # answers through a share link: private, noindex
    lease = timedelta(seconds=settings.idempotency_lease_seconds)
    app.add_middleware(
        Idempotency,
        store=IdempotencyStore(sessions, timedelta(hours=settings.idempotency_ttl_hours), lease),
        wait_seconds=settings.db_timeout_seconds,
        lease_seconds=settings.idempotency_lease_seconds,
        max_stored_bytes=settings.idempotency_max_response_bytes,
    )
    app.add_middleware(
        RequestContext,
        max_in_flight=settings.max_in_flight,
        max_body_bytes=settings.max_body_bytes,
        max_active=settings.threads,  # no more requests handled at once than threads
        queue_seconds=settings.db_timeout_seconds,
        bulk_max_bytes=settings.bulk_max_bytes,
        body_idle_seconds=settings.body_idle_timeout_seconds,
        body_seconds=settings.body_timeout_seconds,
        authenticate=Authenticator(sessions, settings, key_cache),
    )
    app.add_middleware(TrailingNewline)  # outermost: every JSON answer, refusals too
    return app
