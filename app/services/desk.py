"""The desk's sign-in sessions and CSRF tokens (SPEC §11), and the reads only the desk makes.

A browser signs in with an API key and gets a random session id, which it holds in a
cookie; the database keeps only hashes, of the id and of the key. Each request finds its
session by the id's hash and its principal by the key's hash, so a revoked key ends its
sessions at once. The CSRF token of a session is an HMAC of its id: only a page that the
session was shown can carry it, and nothing else needs storing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import begin_write
from app.domain.model import utcnow
from app.domain.records import Principal, Role
from app.repository import desk as stored
from app.repository.desk import EventActivity
from app.services import keys

__all__ = [
    "IDLE",
    "LIFETIME",
    "DeskUser",
    "EventActivity",
    "csrf_token",
    "events_by_activity",
    "same_token",
    "sign_in",
    "sign_out",
    "signed_in",
]

IDLE = timedelta(hours=8)  # a session unused this long ends: about a working shift
LIFETIME = timedelta(days=7)  # and none outlives this, used or not
TOUCH_EVERY = timedelta(minutes=1)  # how stale last_seen_at may be: not a write per page


@dataclass(frozen=True, slots=True)
class DeskUser:
    """Who is signed in, and the CSRF token their forms carry."""

    principal: Principal
    csrf: str

    @property
    def can_edit(self) -> bool:
        return self.principal.role.admits(Role.EDITOR)


def _digest(text: str) -> str:
    # Session ids are 256 random bits, so a plain SHA-256 is as strong as a slow hash here.
    return hashlib.sha256(text.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    """The CSRF token of the session with that id (HMAC-SHA256 keyed by the id)."""
    return hmac.new(session_id.encode(), b"tally desk csrf", hashlib.sha256).hexdigest()


def same_token(expected: str, sent: str | None) -> bool:
    """Whether a form's token is the expected one (compared in constant time)."""
    return sent is not None and hmac.compare_digest(expected.encode(), sent.encode())


def sign_in(
    factory: sessionmaker[Session], key: str, settings: Settings, cache: keys.KeyCache
) -> tuple[str, DeskUser] | None:
    """A new session id and its user for a valid API key, or None; ends stale sessions."""
    principal = keys.authenticate(factory, key, settings, cache) if key else None
    if principal is None:
        return None
    session_id, now = secrets.token_urlsafe(32), utcnow()
    with factory() as session:
        begin_write(session)
        stored.purge_sessions(session, now - IDLE, now - LIFETIME)
        stored.insert_session(session, _digest(session_id), keys.hash_key(key), now)
        session.commit()
    return session_id, DeskUser(principal, csrf_token(session_id))


def signed_in(
    factory: sessionmaker[Session], session_id: str, settings: Settings, now: datetime | None = None
) -> DeskUser | None:
    """The user of a session id, or None when it is unknown, expired or its key revoked.

    Notes the session's use (at most once a minute); an ended session is deleted.
    """
    now = now or utcnow()
    with factory() as session:
        found = stored.find_session(session, _digest(session_id))
        session.rollback()  # ends the read: a write below begins as a writer
        if found is None:
            return None
        principal = found.principal or _admin(found.key_hash, settings)
        ended = now - found.last_seen_at > IDLE or now - found.created_at > LIFETIME
        if principal is None or ended:
            _end(session, session_id)
            return None
        if now - found.last_seen_at > TOUCH_EVERY:
            begin_write(session)
            stored.touch_session(session, found.id, now)
            session.commit()
    return DeskUser(principal, csrf_token(session_id))


def _admin(key_hash: str, settings: Settings) -> Principal | None:
    """The admin principal when `key_hash` is the hash of TALLY_ADMIN_KEY."""
    admin = settings.admin_key.get_secret_value() if settings.admin_key else None
    if admin and hmac.compare_digest(keys.hash_key(admin), key_hash):
        return Principal("admin", Role.ADMIN)
    return None


def sign_out(factory: sessionmaker[Session], session_id: str) -> None:
    """End the session (signing out twice is harmless)."""
    with factory() as session:
        _end(session, session_id)


def _end(session: Session, session_id: str) -> None:
    begin_write(session)
    stored.delete_session(session, _digest(session_id))
    session.commit()


def events_by_activity(session: Session, page: int, per_page: int) -> list[EventActivity]:
    """Up to per_page+1 events of the 1-based `page`, the most recently active first, with
    their claim counts and open conflicts by kind: the extra one tells that more follow."""
    return stored.event_activity(session, (page - 1) * per_page, per_page + 1)
