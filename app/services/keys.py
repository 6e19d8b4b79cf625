"""API keys: created once, stored as hashes, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app import models, repository
from app.config import Settings
from app.db import begin_write
from app.domain.model import NotFound
from app.models import utcnow


class Role(StrEnum):
    READER = "reader"
    EDITOR = "editor"
    ADMIN = "admin"

    def admits(self, needed: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role


def hash_key(key: str) -> str:
    # Keys are 256 random bits, so a plain SHA-256 is as strong as a slow hash here.
    return hashlib.sha256(key.encode()).hexdigest()


def authenticate(connection: Connection, key: str, settings: Settings) -> Principal | None:
    """The principal a bearer key stands for, or None for an unknown or revoked key."""
    admin = settings.admin_key.get_secret_value() if settings.admin_key else None
    if admin and hmac.compare_digest(key.encode(), admin.encode()):
        return Principal("admin", Role.ADMIN)
    row = repository.keys.api_key_by_hash(connection, hash_key(key))
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.name, Role(row.role))


class KeyCache:
    """The principals of keys recently found valid, remembered for `seconds` (0: not at all).

    Looking the key up cost a tenth of a write's CPU (bench/changes.md). Unknown and revoked
    keys are looked up every time, so the cache holds at most the valid keys. A key revoked
    through this process fails at once (the revoke clears the cache); through another server
    process on the same database, within `seconds`.
    """

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._known: dict[str, tuple[float, Principal]] = {}  # by hash: until, principal

    def principal(self, key: str, look_up: Callable[[], Principal | None]) -> Principal | None:
        digest, now = hash_key(key), time.monotonic()
        known = self._known.get(digest)
        if known is not None and now < known[0]:
            return known[1]
        principal = look_up()
        if principal is None or not self._seconds:
            self._known.pop(digest, None)
        else:
            self._known[digest] = (now + self._seconds, principal)
        return principal

    def clear(self) -> None:
        self._known.clear()


def create_key(session: Session, name: str, role: Role) -> tuple[models.ApiKey, str]:
    """A new key row and the key itself, which is never stored and never shown again."""
    key = "tly_" + secrets.token_urlsafe(32)
    begin_write(session)
    row = models.ApiKey(name=name, role=role.value, key_hash=hash_key(key), prefix=key[:10])
    session.add(row)
    session.commit()
    return row, key


def revoke_key(session: Session, key_id: int) -> models.ApiKey:
    """Revoke a key; it answers 401 from now on. Revoking twice is harmless."""
    begin_write(session)
    row = session.get(models.ApiKey, key_id)
    if row is None:
        raise NotFound(f"No API key with id {key_id}.")
    row.revoked_at = row.revoked_at or utcnow()
    session.commit()
    return row
