"""Idempotency-Key records: the first response to a POST, replayed to its retries."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.db import begin_write
from app.domain.model import utcnow
from app.domain.records import StoredResponse
from app.repository import idempotency

__all__ = ["IdempotencyStore", "Reservation", "StoredResponse"]

Reservation = StoredResponse | Literal["proceed", "mismatch", "pending"]


class IdempotencyStore:
    """The Idempotency-Key records of one database, kept for `ttl`; each call is a short
    transaction of its own, apart from the request's."""

    def __init__(self, factory: sessionmaker[Session], ttl: timedelta) -> None:
        self._factory = factory
        self._ttl = ttl

    def claim(self, scope: str, key: str, request_hash: str) -> Reservation:
        """Reserve the key for this request ("proceed"), or say why not ("mismatch",
        "pending"), or give the stored first response."""
        with self._factory() as session:
            begin_write(session)
            idempotency.forget_expired(session, scope, key, utcnow())
            record = idempotency.find(session, scope, key)
            if record is None:
                return self._reserve(session, scope, key, request_hash)
            if record.request_hash != request_hash:
                return "mismatch"
            return record.response or "pending"

    def _reserve(
        self, session: Session, scope: str, key: str, request_hash: str
    ) -> Literal["proceed", "pending"]:
        try:
            idempotency.reserve(session, scope, key, request_hash, utcnow() + self._ttl)
            session.commit()
        except IntegrityError:  # a concurrent twin reserved it first
            session.rollback()
            return "pending"
        return "proceed"

    def store(self, scope: str, key: str, response: StoredResponse | None) -> None:
        """Keep the response for replays, or (None) release the key so a retry runs afresh."""
        with self._factory() as session:
            begin_write(session)
            if response is None:
                idempotency.release(session, scope, key)
            else:
                idempotency.store(session, scope, key, response)
            session.commit()

    def read(self, scope: str, key: str) -> StoredResponse | None:
        """The key's stored response, or None while its first request is being handled."""
        with self._factory() as session:
            record = idempotency.find(session, scope, key)
            return None if record is None else record.response
