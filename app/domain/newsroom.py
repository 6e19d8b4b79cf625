"""The values of SPEC §12 (where newsrooms work): the change feed's rows and its cursor, the
filters of alerts and feeds, and share links.

A change is one event of SPEC §7 as it was committed. Its place in the feed is a Position:
(txid, id) — the writing transaction's id on PostgreSQL (0 on SQLite) and the row's id. The
feed is read in that order, and only below the oldest transaction still running, so that a
row committed late never lands before a cursor a reader already holds (app.repository.changes).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

CLAIM_EVENTS = ("claim.created", "claim.updated", "claim.retracted", "claim.disputed")
CONFLICT_EVENTS = ("conflict.opened", "conflict.cleared", "conflict.resolved")
# What the Atom feeds tell: every conflict opened, cleared or resolved, every claim retracted.
FEED_EVENTS = (*CONFLICT_EVENTS, "claim.retracted")


class AlertFormat(StrEnum):
    """The body a webhook is sent: Standard Webhooks JSON, or a chat message."""

    STANDARD = "standard"
    SLACK = "slack"
    TEAMS = "teams"


@dataclass(frozen=True, order=True, slots=True)
class Position:
    """A change's place in the feed: ordered by the writing transaction, then by row."""

    txid: int
    id: int

    @property
    def cursor(self) -> str:
        """The opaque text a client passes back as `after`."""
        return base64.urlsafe_b64encode(f"{self.txid}.{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def of_cursor(cls, text: str) -> Position | None:
        """The position a cursor stands for, or None when Tally did not give it out."""
        try:
            decoded = base64.urlsafe_b64decode(text.encode("ascii") + b"==").decode("ascii")
        except (binascii.Error, UnicodeError, ValueError):
            return None
        txid, dot, row = decoded.partition(".")
        if not (dot and _digits(txid) and _digits(row)):
            return None
        return cls(int(txid), int(row))


START = Position(0, 0)  # before every change


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 19


@dataclass(frozen=True, slots=True)
class Change:
    """One committed event of SPEC §7: its type, when, what it is about, and its data (the
    claim or conflict exactly as the API showed it then)."""

    position: Position
    type: str
    at: datetime
    subject: str  # the claim's or the conflict's id
    event: str | None
    metric: str | None
    kind: str | None  # the conflict's kind; None for claims
    data: dict[str, Any]


@dataclass(frozen=True)
class ChangeFilter:
    """Which changes: of these types (None: all), of an event, a metric, a conflict kind."""

    types: tuple[str, ...] | None = None
    event: str | None = None
    metric: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Version:
    """What a set of changes looked like when read: it differs as soon as a change joins it
    (`key`), and the time of its latest change (`at`, None when there is none)."""

    key: tuple[Any, ...]
    at: datetime | None


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A read-only link to one path and query; the token itself is never kept, only its hash."""

    id: int
    path: str  # with its query, as the editor gave it
    note: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def open_at(self, now: datetime) -> bool:
        """Whether the link still opens its page: not revoked, not expired."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)
