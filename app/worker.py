"""The webhook delivery worker: inside `tally serve` as a thread, or alone as `tally worker`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import structlog
from sqlalchemy.orm import Session

from app.config import Settings
from app.services import delivery

log = structlog.get_logger()


class Worker:
    """Sends due deliveries until stopped; any number of workers may share one database."""

    def __init__(self, make_session: Callable[[], Session], settings: Settings) -> None:
        self.make_session = make_session
        self.settings = settings
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

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
        # No proxies from the environment (they would bypass the SSRF pinning), no redirects
        # (a redirect could lead to an address the check refused).
        timeout = httpx.Timeout(self.settings.webhook_timeout_seconds)
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            ThreadPoolExecutor(self.settings.webhook_concurrency, "tally-webhook-send") as pool,
        ):
            while not self.stopping.is_set():
                if not self._tick(client, pool):
                    self.stopping.wait(self.settings.webhook_poll_seconds)

    def _tick(self, client: httpx.Client, pool: ThreadPoolExecutor) -> bool:
        try:
            return delivery.deliver_due(self.make_session, self.settings, client, pool) > 0
        except Exception:  # the database may be away for a while: log, wait, try again
            log.exception("webhook worker error")
            return False
