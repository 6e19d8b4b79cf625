"""The day a figure counts to (as_of): the day words nearest it, seen from publication."""

from __future__ import annotations

import bisect
import re
from datetime import date, timedelta

__all__ = ["dateline_day", "find_days", "nearest_day"]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_NAMES = (
    "January Jan", "February Feb", "March Mar", "April Apr", "May", "June Jun", "July Jul",
    "August Aug", "September Sept Sep", "October Oct", "November Nov", "December Dec",
)  # fmt: skip
_MONTHS = {name.lower(): n for n, names in enumerate(_MONTH_NAMES, 1) for name in names.split()}
_MONTH = "(?-i:(?P<{}>" + "|".join(" ".join(_MONTH_NAMES).split()) + r"))\.?"
_DAY_RE = re.compile(
    r"(?<![\w-])(?:(?P<before>since|from|until|till|by|next|before)\s+(?:the\s+)?)?"
    r"(?:(?P<relative>(?P<day_before>yesterday|last\s+night)|(?P<week_before>last\s+week)"
    r"|today|tonight|this\s+(?:morning|afternoon|evening))"
    r"|(?-i:(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday))"
    rf"|{_MONTH.format('m1')}\s+(?P<d1>[0-9]{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y1>[0-9]{{4}}))?"
    rf"|(?P<d2>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH.format('m2')}"
    r"(?:,?\s+(?P<y2>[0-9]{4}))?)(?![\w-])",
    re.IGNORECASE,
)


def find_days(sentence: str, published: date | None) -> list[tuple[int, date, str]]:
    """(offset, date, words) of each day phrase in a sentence that names a date."""
    found = ((m, _day(m, published)) for m in _DAY_RE.finditer(sentence))
    return [(match.start(), day, match[0]) for match, day in found if day is not None]


def nearest_day(
    days: list[tuple[int, date, str]], at: int, published: date | None
) -> tuple[date | None, str | None]:
    """(as_of, the day words) for a figure at offset `at`: the nearest day word, else published."""
    if not days:
        return published, None
    n = bisect.bisect_left(days, at, key=lambda found: found[0])
    _, day, words = min(days[max(0, n - 1) : n + 1], key=lambda found: abs(found[0] - at))
    return day, words


def _day(match: re.Match[str], published: date | None) -> date | None:
    """The date a day phrase names, seen from the publication date; None when it can't say."""
    if match["before"]:
        return None  # "since January 2", "next Monday": not the day of the count
    if match["weekday"] or match["relative"]:
        return _relative_day(match, published) if published else None
    year_text = match["y1"] or match["y2"]
    year = int(year_text) if year_text else published.year if published else None
    month = _MONTHS[(match["m1"] or match["m2"]).lower()]
    try:
        day = date(year, month, int(match["d1"] or match["d2"])) if year else None
    except ValueError:
        return None
    if day is not None and not year_text and published is not None and day > published:
        return day.replace(year=day.year - 1)  # "December 30" in a January article
    return day


def _relative_day(match: re.Match[str], published: date) -> date:
    """The weekday on or before publication, or yesterday, today."""
    if match["weekday"]:
        back = (published.weekday() - _WEEKDAYS.index(match["weekday"].lower())) % 7
        return published - timedelta(days=back)
    # By the group matched, not by its letters: re.IGNORECASE matches a long s (U+017F) too.
    if match["week_before"]:
        return published - timedelta(days=7)
    return published - timedelta(days=1 if match["day_before"] else 0)


# "KABUL, Oct 9 (Reuters) -", "ANTAKYA, Turkey, Feb. 7, 2023 (AP) —": a place in capitals, an
# optional region, a date, the agency in parentheses and a dash, at the start of a paragraph.
_DATELINE_RE = re.compile(
    "[A-Z][A-Z'\u2019.\\- ]{1,40}"
    r"(?:,[^,(\n]{1,40}){0,2},?\s+"
    rf"{_MONTH.format('m1')}\s+(?P<d1>[0-9]{{1,2}})(?:,\s+(?P<y1>[0-9]{{4}}))?"
    r"\s*\([A-Za-z .]{1,30}\)\s*[-\u2013\u2014]"
)


def dateline_day(paragraph: str, published: date | None) -> date | None:
    """The date of a dateline opening a paragraph ("KABUL, Oct 9 (Reuters) -"), seen from the
    publication date for its year; None when there is none or no year to give it."""
    match = _DATELINE_RE.match(paragraph[:160])
    if match is None:
        return None
    if match["y1"] is None and published is None:
        return None
    year = int(match["y1"]) if match["y1"] else published.year if published else 0
    try:
        day = date(year, _MONTHS[match["m1"].lower()], int(match["d1"]))
    except ValueError:
        return None
    if not match["y1"] and published is not None and day > published:
        return day.replace(year=day.year - 1)  # "Dec 30" in a January article
    return day
