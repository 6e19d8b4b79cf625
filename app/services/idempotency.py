"""Idempotency-Key records: the first response to a POST, replayed to its retries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.db import begin_write
from app.domain.model import utcnow
from app.domain.records import StoredResponse
from app.repository import idempotency

__all__ = ["IdempotencyStore", "Reservation", "StoredResponse", "purge_expired"]

Reservation = StoredResponse | Literal["proceed", "mismatch", "pending"]


class IdempotencyStore:
    """The Idempotency-Key records of one database, kept for `ttl`; each call is a short
    transaction of its own, apart from the request's.

    A request holds its key under a lease of `lease` that it renews while it runs; should
    its process die, the lease lapses and a retry takes the key over. This holds for any
    number of processes on one database, as long as their clocks agree to well within
    `lease`.
    """

    def __init__(self, factory: sessionmaker[Session], ttl: timedelta, lease: timedelta) -> None:
        self._factory = factory
        self._ttl = ttl
        self._lease = lease

    def claim(self, scope: str, key: str, request_hash: str, owner: str) -> Reservation:
        """Reserve the key for this request, held by `owner` ("proceed"), or say why not
        ("mismatch": another body; "pending": its first request is still being handled),
        or give the stored first response."""
        with self._factory() as session:
            begin_write(session)
            now = utcnow()
            idempotency.forget_expired(session, scope, key, now)
            record = idempotency.find(session, scope, key, now)
            if record is None:
                return self._reserve(session, scope, key, request_hash, owner)
            if record.request_hash != request_hash:
                return "mismatch"
            return record.response or "pending"

    def _reserve(
        self, session: Session, scope: str, key: str, request_hash: str, owner: str
    ) -> Literal["proceed", "pending"]:
        lease_until = utcnow() + self._lease
        try:
            idempotency.reserve(session, scope, key, request_hash, owner, lease_until)
            session.commit()
        except IntegrityError:  # a concurrent twin reserved it first
            session.rollback()
            return "pending"
        return "proceed"

    def peek(self, scope: str, key: str, request_hash: str) -> Reservation | None:
        """What claim would say, without reserving: None when the key is free (never used,
        expired, or its holder's lease lapsed)."""
        with self._factory() as session:
            record = idempotency.find(session, scope, key, utcnow())
        if record is None:
            return None
        if record.request_hash != request_hash:
            return "mismatch"
        return record.response or "pending"

    def renew(self, scope: str, key: str, owner: str) -> None:
        """Extend `owner`'s lease on the key by `lease` from now."""
        with self._factory() as session:
            begin_write(session)
            idempotency.renew(session, scope, key, owner, utcnow() + self._lease)
            session.commit()

    def store(self, scope: str, key: str, owner: str, response: StoredResponse | None) -> None:
        """Keep the response for replays until `ttl` from now, or (None) release the key so
        that a retry runs afresh; either only while `owner` still holds the key."""
        with self._factory() as session:
            begin_write(session)
            if response is None:
                idempotency.release(session, scope, key, owner)
            else:
                expires_at = utcnow() + self._ttl
                idempotency.store(session, scope, key, owner, response, expires_at)
            session.commit()


def purge_expired(factory: Callable[[], Session], grace: timedelta, batch: int = 1000) -> int:
    """Delete every expired record, `batch` per transaction (each holds the write lock only
    briefly); how many were deleted. A pending record goes only once its lease lapsed more
    than `grace` ago: its owner may be alive but held off renewing (a retry takes over a
    lapsed record at once anyway)."""
    deleted, now = 0, utcnow()
    while True:
        with factory() as session:
            begin_write(session)
            count = idempotency.purge_expired(session, now, now - grace, batch)
            session.commit()
        deleted += count
        if count < batch:
            return deleted
