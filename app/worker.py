"""The background worker: inside `tally serve` as a thread, or alone as `tally worker`. It
sends webhook deliveries and deletes expired Idempotency-Key records."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import structlog
from sqlalchemy.orm import Session

from app.config import Settings
from app.services import delivery, idempotency, watch

log = structlog.get_logger()


class Worker:
    """Sends due deliveries and purges expired Idempotency-Key records until stopped; any
    number of workers may share one database."""

    def __init__(self, make_session: Callable[[], Session], settings: Settings) -> None:
        self.make_session = make_session
        self.settings = settings
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.next_purge = 0.0  # time.monotonic() of the next purge: the first at start

    def start(self) -> None:
        """Run in a background thread."""
        self.thread = threading.Thread(target=self.run, name="tally-webhooks", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Ask the loop to end and wait for the attempts in flight (bounded by their timeout)."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(delivery.lease_seconds(self.settings))

    def run(self) -> None:
        """Deliver until stopped: drain what is due, then poll every webhook_poll_seconds."""
        # The source watch (SPEC §13) in a thread of its own: a slow page never holds a delivery.
        watch.Watcher(self.make_session, self.settings, self.stopping).start()
        # No proxies from the environment (they would bypass the SSRF pinning), no redirects
        # (a redirect could lead to an address the check refused).
        timeout = httpx.Timeout(self.settings.webhook_timeout_seconds)
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            ThreadPoolExecutor(self.settings.webhook_concurrency, "tally-webhook-send") as pool,
        ):
            while not self.stopping.is_set():
                self.purge_when_due()
                if not self._tick(client, pool):
                    self.stopping.wait(self.settings.webhook_poll_seconds)

    def _tick(self, client: httpx.Client, pool: ThreadPoolExecutor) -> bool:
        try:
            return delivery.deliver_due(self.make_session, self.settings, client, pool) > 0
        except Exception:  # the database may be away for a while: log, wait, try again
            log.exception("webhook worker error")
            return False

    def purge_when_due(self) -> None:
        """Delete expired Idempotency-Key records, every idempotency_purge_seconds."""
        if time.monotonic() < self.next_purge:
            return
        self.next_purge = time.monotonic() + self.settings.idempotency_purge_seconds
        try:
            grace = timedelta(hours=self.settings.idempotency_ttl_hours)
            deleted = idempotency.purge_expired(self.make_session, grace)
        except Exception:  # the database may be away: the next purge catches up
            log.exception("idempotency purge error")
            return
        if deleted:
            log.info("idempotency records purged", count=deleted)
