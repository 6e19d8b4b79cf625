"""Cursor pagination shared by every list endpoint."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query

from app.domain.model import InvalidInput, parse_id
from app.schemas import Page

T = TypeVar("T")

# A list's filter by name (an event's slug, a metric's name …): absent, or a name.
NameFilter = Annotated[str | None, Query(min_length=1, max_length=100)]
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page (at most 1,000)")]
Cursor = Annotated[
    str | None,
    Query(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="`next_cursor` of the previous page"),
]


def after_id(cursor: str | None) -> int:
    """The last id of the previous page; InvalidInput naming `cursor` when it is not ours."""
    if cursor is None:
        return 0
    try:
        value = parse_id(base64.urlsafe_b64decode(cursor.encode() + b"==").decode("ascii"))
    except ValueError:  # not base64, or not ASCII
        value = None
    if value is None:
        raise InvalidInput("The cursor is not one Tally gave out.", field="cursor")
    return value


def to_page(rows: Sequence[Any], limit: int, render: Callable[[Any], T]) -> Page[T]:
    """A page of rendered rows; `rows` holds up to limit+1, the extra one saying more follow."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = next_cursor(rows[-1].id) if more else None
    return Page[T](items=[render(r) for r in rows], next_cursor=cursor)


def next_cursor(last_id: int | str) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")
