"""`?recorded_at=`: a claim or a report as the ledger stood at a moment (time travel over
recorded time). Its first name, `?as_of=`, keeps working, though it reads like a claim's
`as_of`, the date a figure refers to."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from app.domain.model import InvalidInput
from app.schemas import Moment

EXAMPLE = "2022-01-10T12:00:00Z"
RecordedAt = Annotated[
    Moment | None,
    Query(
        description="As the ledger stood at this moment (ISO 8601; a date alone is midnight "
        "UTC): what it had recorded by then, corrections, retractions and disputes included. "
        "This is recorded time, not the date a figure refers to (a claim's `as_of`).",
        examples=[EXAMPLE],
    ),
]
OldName = Annotated[
    Moment | None,
    Query(
        description="The first name of `recorded_at`, kept for the clients that use it: the "
        "moment the ledger recorded, not a figure's date.",
        deprecated=True,
    ),
]


async def ledger_moment(recorded_at: RecordedAt = None, as_of: OldName = None) -> datetime | None:
    """The moment asked for under either name; InvalidInput when the two disagree (async:
    no trip through the thread pool for what reads no database)."""
    if recorded_at is not None and as_of is not None and recorded_at != as_of:
        raise InvalidInput(
            "Give recorded_at, or as_of (its first name), not two different moments.",
            field="recorded_at",
        )
    return recorded_at if recorded_at is not None else as_of


LedgerMoment = Annotated[datetime | None, Depends(ledger_moment)]
