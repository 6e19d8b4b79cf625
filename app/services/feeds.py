"""Atom 1.0 feeds (SPEC §12): an entry per conflict opened, cleared or resolved and per claim
retracted, newest first, made from the change feed's rows.

Entry ids are the change rows' (a tag URI under TALLY_PUBLIC_URL's host), so a reader that
polls sees each change once however often it asks; an entry links to the desk page
(alternate) and to the claim or conflict in the API (related).

Written with the standard library's ElementTree, which escapes every text and attribute:
feedgen 1.0.0, its latest release, drops `rel` and `type` from every entry link (its issue
#135, open since January 2024), which would give each entry two untyped alternate links —
invalid Atom (RFC 4287 §4.1.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring

from sqlalchemy.orm import Session

from app import repository
from app.domain.model import utcnow
from app.domain.newsroom import Change, ChangeFilter
from app.repository import changes as change_log
from app.services.alerts import alert_of

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
# Characters XML 1.0 cannot carry (claims may hold other control characters than NUL).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Feed:
    """What a feed is: its title, its own URL (also its id), its page on the desk."""

    title: str
    url: str  # the feed's own URL, without a share token
    desk_url: str
    filters: ChangeFilter


def check_event(session: Session, slug: str) -> None:
    """The event of an event's feed exists (NotFound)."""
    repository.resources.get_event(session, slug)


def check_filters(session: Session, filters: ChangeFilter) -> None:
    """The event and metric a feed names exist (InvalidInput naming the field)."""
    if filters.event is not None:
        repository.resources.get_event(session, filters.event, field="event")
    if filters.metric is not None:
        repository.resources.get_metric(session, filters.metric, field="metric")


def atom(session: Session, feed: Feed, base_url: str, limit: int) -> bytes:
    """The feed as Atom 1.0: its newest `limit` entries, newest first."""
    changes = change_log.latest_changes(session, feed.filters, limit)
    root = Element("feed", xmlns=ATOM_NS)
    _text(root, "id", feed.url)
    _text(root, "title", feed.title)
    _text(root, "updated", _stamp(max((c.at for c in changes), default=None) or utcnow()))
    _text(SubElement(root, "author"), "name", "Tally")
    _text(root, "generator", "Tally")
    SubElement(root, "link", href=feed.url, rel="self", type=ATOM_TYPE)
    SubElement(root, "link", href=feed.desk_url, rel="alternate", type="text/html")
    host = urlsplit(base_url).hostname or "localhost"
    for change in changes:
        root.append(_entry(change, base_url, host))
    body: bytes = tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _entry(change: Change, base_url: str, host: str) -> Element:
    payload = {"type": change.type, "timestamp": _stamp(change.at), "data": change.data}
    alert = alert_of(payload, base_url)
    noun = "conflicts" if change.type.startswith("conflict.") else "claims"
    api = f"{base_url}/v1/{noun}/{quote(change.subject, safe='')}"
    entry = Element("entry")
    _text(entry, "id", f"tag:{host},2026:tally/changes/{change.position.id}")
    _text(entry, "title", f"{alert.title} — {change.event}, {change.metric}")
    _text(entry, "updated", _stamp(change.at))
    _text(entry, "published", _stamp(change.at))
    _text(entry, "summary", alert.line)
    SubElement(entry, "link", href=alert.link, rel="alternate", type="text/html")
    SubElement(entry, "link", href=api, rel="related", type="application/json")
    for term in (change.type, change.kind):
        if term:
            SubElement(entry, "category", term=term)
    return entry


def _text(parent: Element, tag: str, text: str) -> None:
    SubElement(parent, tag).text = NOT_XML.sub("\ufffd", text)


def _stamp(moment: datetime) -> str:
    """An RFC 3339 timestamp, as Atom dates are."""
    return moment.isoformat().replace("+00:00", "Z")
