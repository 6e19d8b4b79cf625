"""What an extractor proposes: one candidate claim, for a person to check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.model import Figure

__all__ = ["Candidate"]


@dataclass(frozen=True)
class Candidate:
    """A claim an article seems to state, for a person to check; quote == text[span]."""

    figure: Figure
    metric: str | None
    population: str
    claimant: str | None
    as_of: date | None
    quote: str
    span: tuple[int, int]
    confidence: float
    why: str
    kind: str = "count"  # "increment" ("two more bodies"), "forecast" ("could reach"): not to post
