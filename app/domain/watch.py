"""Source watch (SPEC §13), pure: what the checks of a claim's page have shown, and whether a
figure appears in a page's text.

Each check advances the claim's `WatchState` (`advance`); the two rules of
app.domain.conflicts read it: `source_unavailable` holds while the state is `unavailable`
(the page answered 404 or 410, or every check failed — an error or a 5xx — for the grace
period), `figure_not_in_source` while it is `figure_missing` (the page is read, and no longer
shows the figure or quote that an earlier check found). A page that is read again with the
figure clears both. Failed checks within the grace period change nothing: a page that is
briefly down neither opens nor clears anything.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class Outcome(StrEnum):
    """How a check went, by the answer it got."""

    READ = "read"  # 2xx: the page was read
    UNCHANGED = "unchanged"  # 304: the page is as the previous check read it
    GONE = "gone"  # 404 or 410
    FAILED = "failed"  # no answer (an error), a 5xx, or any other answer


def outcome_of(status: int | None) -> Outcome:
    """The outcome of a check that got the HTTP `status` (None: no answer)."""
    if status is None:
        return Outcome.FAILED
    if 200 <= status < 300:
        return Outcome.READ
    if status == 304:
        return Outcome.UNCHANGED
    if status in (404, 410):
        return Outcome.GONE
    return Outcome.FAILED


class State(StrEnum):
    """A watch state in one word, as a check records it and clients read it."""

    UNCHECKED = "unchecked"  # no check has read the page yet
    FOUND = "found"  # the page shows the figure or the quote
    NOT_FOUND = "not_found"  # the page is read; no check ever found the figure on it
    FIGURE_MISSING = "figure_missing"  # figure_not_in_source holds
    FAILING = "failing"  # the latest checks failed, for less than the grace period
    UNAVAILABLE = "unavailable"  # source_unavailable holds


@dataclass(frozen=True, slots=True)
class Check:
    """One check of a page: what it got and whether the figure was in the text it read."""

    checked_at: datetime
    status: int | None  # the HTTP status; None when no answer came
    error: str | None = None  # why no answer, or what was wrong with it
    figure_found: bool | None = None  # None: no text was read (a 304, an error, not text)

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.status) if self.error is None else Outcome.FAILED


@dataclass(frozen=True, slots=True)
class WatchState:
    """What the checks of a claim's `url` have shown so far: the inputs of the two rules."""

    url: str
    checked_at: datetime | None = None  # the latest check
    status: int | None = None  # its HTTP status
    unavailable: bool = False  # source_unavailable holds
    failing_since: datetime | None = None  # the first of the checks failed since one succeeded
    figure_seen: bool = False  # a check found the figure or quote on the page
    figure_found: bool | None = None  # whether the latest page read shows it

    @property
    def figure_missing(self) -> bool:
        """figure_not_in_source: the page is there, and lost the figure an earlier check found.
        (While the page is unavailable, that is the one signal: one conflict per claim.)"""
        return not self.unavailable and self.figure_seen and self.figure_found is False

    @property
    def state(self) -> State:
        if self.unavailable:
            return State.UNAVAILABLE
        if self.figure_missing:
            return State.FIGURE_MISSING
        if self.failing_since is not None:
            return State.FAILING
        if self.figure_found is None:
            return State.UNCHECKED
        return State.FOUND if self.figure_found else State.NOT_FOUND


def advance(state: WatchState, check: Check, grace: timedelta) -> WatchState:
    """The state after `check`: a page read (or unchanged) clears unavailability and judges
    the figure; 404/410 makes the source unavailable at once; other failures do so once every
    check has failed for `grace`, and until then change nothing."""
    moved = replace(state, checked_at=check.checked_at, status=check.status)
    outcome = check.outcome
    if outcome in (Outcome.READ, Outcome.UNCHANGED):
        found = state.figure_found if check.figure_found is None else check.figure_found
        return replace(
            moved,
            unavailable=False,
            failing_since=None,
            figure_found=found,
            figure_seen=state.figure_seen or bool(found),
        )
    since = state.failing_since or check.checked_at
    expired = check.checked_at - since >= grace
    unavailable = state.unavailable or outcome is Outcome.GONE or expired
    return replace(moved, failing_since=since, unavailable=unavailable)


# --- finding the figure in a page's text ----------------------------------------------------

# Digits grouped by thousands: 8,000 / 8 000 / 8.000 / 8'000 (and the no-break spaces).
_GROUPED = re.compile(r"(?<!\d)\d{1,3}(?:[,.'\u00a0\u202f\u2009 ]\d{3})+(?!\d)")
_SEPARATORS = re.compile(r"[,.'\u00a0\u202f\u2009 ]")
# Typographic quotes and dashes read as their plain forms: a quote is often retyped.
_PLAIN = str.maketrans(
    "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u2010\u2011\u2013\u2014", "''''\"\"\"----"
)


def normalise_text(text: str, *, ungroup: bool) -> str:
    """Text as the watch compares it: compatibility forms (NFKC), no invisible format
    characters, case folded, typographic quotes and dashes plain, runs of white space as
    one space; with `ungroup`, thousands separators dropped from numbers ("8,000" and
    "8 000" read "8000")."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf").casefold()
    text = " ".join(text.translate(_PLAIN).split())
    if ungroup:
        text = _GROUPED.sub(lambda match: _SEPARATORS.sub("", match.group()), text)
    return text


def appears(needle: str, page: str) -> bool:
    """Whether `needle` is in `page`, compared as `figure_in` compares."""
    return figure_in(page, needle, None)


def figure_in(page: str, figure_text: str, quote: str | None) -> bool:
    """SPEC §13's figure_found: the figure's text or the quote appears in the page's text,
    compared case- and space-insensitively, with or without thousands separators; a number
    never matches part of a longer one ("164" is not in "1640")."""
    needles = [figure_text, *([quote] if quote is not None else [])]
    for ungroup in (True, False):
        text = normalise_text(page, ungroup=ungroup)
        for needle in needles:
            wanted = normalise_text(needle, ungroup=ungroup)
            if wanted and _contains(text, wanted):
                return True
    return False


def _contains(text: str, wanted: str) -> bool:
    """Whether `wanted` is in `text` where the digits at its ends are not part of a longer
    number."""
    start = text.find(wanted)
    while start >= 0:
        end = start + len(wanted)
        before_ok = start == 0 or not (wanted[0].isdigit() and text[start - 1].isdigit())
        after_ok = end == len(text) or not (wanted[-1].isdigit() and text[end].isdigit())
        if before_ok and after_ok:
            return True
        start = text.find(wanted, start + 1)
    return False


# --- the values the watch passes between its layers ----------------------------------------


@dataclass(frozen=True, slots=True)
class Lease:
    """A claim's url taken for one check: what the check needs, until when it is reserved."""

    claim_id: str
    host_id: int
    url: str
    figure_text: str
    quote: str | None
    etag: str | None  # the validators of the page last read
    last_modified: str | None
    content_hash: str | None
    state: WatchState
    until: datetime


@dataclass(frozen=True, slots=True)
class StoredCheck:
    """A check as Tally keeps it (SPEC §13)."""

    id: str
    claim: str
    checked_at: datetime
    url: str
    status: int | None
    error: str | None
    content_hash: str | None
    figure_found: bool | None
    truncated: bool
    state: State  # the watch state after it
    changed: bool  # the state differs from the one before it
