"""Tally in uvicorn's worker processes (`bench --workers N`): each worker builds the app as
`tally serve` does (settings, logs, the collector tuned after start-up), on one shared socket.

Run: TALLY_DATABASE_URL=... uvicorn --factory bench.workers:tally_app --workers 2
"""

from __future__ import annotations

import gc

from fastapi import FastAPI

from app.cli import configure_logs, settings_or_exit
from app.main import create_app


def tally_app() -> FastAPI:
    """The app of one worker process, as app.cli.serve builds it (SQLite is migrated by the
    bench beforehand, so not here)."""
    settings = settings_or_exit()
    configure_logs(settings.log_level)
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
    return app
