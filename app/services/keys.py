"""API keys: created once, stored as hashes, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from app import repository
from app.config import Settings
from app.db import begin_write
from app.domain.records import ApiKey, Principal, Role

# Principal and Role live in app.domain.records; named here too for their earlier importers.
__all__ = [
    "KeyCache",
    "Principal",
    "Role",
    "authenticate",
    "create_key",
    "hash_key",
    "list_keys",
    "revoke_key",
]


def hash_key(key: str) -> str:
    # Keys are 256 random bits, so a plain SHA-256 is as strong as a slow hash here.
    return hashlib.sha256(key.encode()).hexdigest()


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


def authenticate(
    factory: sessionmaker[Session], key: str, settings: Settings, cache: KeyCache
) -> Principal | None:
    """The principal a bearer key stands for, or None for an unknown or revoked key.

    Asks the database on a connection of its own, returned before the caller goes on.
    """
    return cache.principal(key, lambda: _look_up(factory, key, settings))


def _look_up(factory: sessionmaker[Session], key: str, settings: Settings) -> Principal | None:
    admin = settings.admin_key.get_secret_value() if settings.admin_key else None
    if admin and hmac.compare_digest(key.encode(), admin.encode()):
        return Principal("admin", Role.ADMIN)
    return repository.keys.principal_by_hash(factory, hash_key(key))


def create_key(session: Session, name: str, role: Role) -> tuple[ApiKey, str]:
    """A new key and the key itself, which is never stored and never shown again."""
    key = "tly_" + secrets.token_urlsafe(32)
    begin_write(session)
    created = repository.keys.insert_key(
        session, name=name, role=role, key_hash=hash_key(key), prefix=key[:10]
    )
    session.commit()
    return created, key


def list_keys(session: Session, after: int, limit: int) -> list[ApiKey]:
    """Up to limit+1 keys after the id `after`: the extra one tells that more follow."""
    return repository.keys.key_page(session, after, limit)


def revoke_key(session: Session, key_id: str, cache: KeyCache) -> ApiKey:
    """Revoke a key; it answers 401 from now on. Revoking twice is harmless."""
    begin_write(session)
    revoked = repository.keys.revoke_key(session, key_id)
    session.commit()
    cache.clear()
    return revoked
