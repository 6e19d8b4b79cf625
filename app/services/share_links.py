"""Share links (SPEC §12): a URL that opens one page of the API to anyone holding it — a CSV
report for Google Sheets' IMPORTDATA or Datawrapper, a feed for a reader — and nothing else.

The token is 256 random bits, shown once and stored as its SHA-256. It admits a GET of
exactly the path and query it was made for, until it expires or is revoked. Every use asks
the database (no cache): a revocation holds at once in every server process.
"""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from sqlalchemy.orm import Session

from app.db import begin_write
from app.domain.model import InvalidInput, utcnow
from app.domain.newsroom import ShareLink
from app.domain.records import Principal, Role
from app.repository import share_links as stored_links
from app.schemas import ShareLinkCreate
from app.services.sessions import SessionFactory

SHARE = "share"  # the query parameter that carries the token
PREFIX = "tsl_"
# Pages no share link may open: what they show is for editors and admins only.
CLOSED = ("/v1/share-links", "/v1/keys", "/v1/webhooks")


class Refused(Exception):
    """A share link that does not open this page: unknown, expired or revoked (`forbidden`
    False), or made for another page or method (`forbidden` True)."""

    def __init__(self, detail: str, *, forbidden: bool) -> None:
        super().__init__(detail)
        self.detail, self.forbidden = detail, forbidden


def hash_token(token: str) -> str:
    # 256 random bits: a plain SHA-256 is as strong as a slow hash here (as for API keys).
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(
    session: Session, body: ShareLinkCreate, actor: str, base_url: str
) -> tuple[ShareLink, str, str]:
    """A new link, its URL and its token (both shown this once); InvalidInput names `path` or
    `expires_at`."""
    path = page_of(body.path)
    if body.expires_at is not None and body.expires_at <= utcnow():
        raise InvalidInput("The link would have expired already.", field="expires_at")
    token = PREFIX + secrets.token_urlsafe(32)
    begin_write(session)
    link = stored_links.insert_link(
        session,
        token_hash=hash_token(token),
        path=path,
        note=body.note,
        created_by=actor,
        expires_at=body.expires_at,
    )
    session.commit()
    separator = "&" if "?" in path else "?"
    return link, f"{base_url}{path}{separator}{urlencode({SHARE: token})}", token


def page_of(text: str) -> str:
    """The path and query a link may open, from a path or a URL of Tally (InvalidInput
    naming `path` for anything else)."""
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        raise InvalidInput("The path is not a URL path.", field="path") from None
    path = parts.path
    if not path.startswith("/v1/") or any(ord(c) < 0x21 for c in path + parts.query):
        raise InvalidInput("The path must be a page of the API, under /v1/.", field="path")
    if path.rstrip("/").startswith(CLOSED) or unquote(path).rstrip("/").startswith(CLOSED):
        raise InvalidInput("Share links cannot open keys, webhooks or share links.", field="path")
    if any(name == SHARE for name, _ in parse_qsl(parts.query, keep_blank_values=True)):
        raise InvalidInput(f"The path must not carry a `{SHARE}` parameter.", field="path")
    return f"{path}?{parts.query}" if parts.query else path


def list_links(session: Session, after: int, limit: int) -> list[ShareLink]:
    """Up to limit+1 links after the id `after` (revoked and expired ones too)."""
    return stored_links.link_page(session, after, limit)


def revoke_link(session: Session, link_id: str) -> ShareLink:
    """Revoke a link: from this commit on, no server process lets it open anything."""
    begin_write(session)
    link = stored_links.revoke_link(session, link_id, utcnow())
    session.commit()
    return link


def admit(factory: SessionFactory, token: str, method: str, path: str, query: str) -> Principal:
    """The reader a share token stands for on this request, or Refused.

    `path` as the server decoded it; `query` as sent (the token's own parameter is set
    aside). Looked up on a connection of its own, returned before this returns.
    """
    with factory() as session:
        link = stored_links.link_by_hash(session, hash_token(token))
    if link is None or not link.open_at(utcnow()):
        raise Refused("The share link is not valid (unknown, expired or revoked).", forbidden=False)
    if method != "GET":
        raise Refused("A share link only reads: it opens its page with GET.", forbidden=True)
    if not opens(link.path, path, query):
        raise Refused("The share link opens another page.", forbidden=True)
    return Principal(f"share link {link.id}", Role.READER)


def opens(page: str, path: str, query: str) -> bool:
    """Whether a link to `page` opens this path and query: the same path, and the same
    parameters with the same values (in any order), the share token aside."""
    parts = urlsplit(page)
    asked = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != SHARE]
    given = parse_qsl(parts.query, keep_blank_values=True)
    return unquote(parts.path) == path and sorted(asked) == sorted(given)
