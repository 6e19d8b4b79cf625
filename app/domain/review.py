"""Tally's finding about one claim, stated as a fact-checker's rating (schema.org ClaimReview).

The rating scale, worst first: 1 retracted by the source, 2 disputed, 3 in conflict with
other figures, 4 no conflict found. The first that applies is the finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WORST_RATING, BEST_RATING = 1, 4


@dataclass(frozen=True)
class Verdict:
    rating: int  # on the scale above
    label: str  # the textual rating fact-check readers see
    explanation: str


def verdict(
    retraction_reason: str | None,
    open_disputes: Sequence[tuple[str, str]],
    value_conflicts: Sequence[tuple[str, str]],
) -> Verdict:
    """The finding from a retraction, open disputes (by, reason) and open value conflicts
    (the other claim's id, the conflict's sentence)."""
    if retraction_reason is not None:
        return Verdict(1, "Retracted by the source", f"The source withdrew it: {retraction_reason}")
    if open_disputes:
        parties = "; ".join(f"{by}: {reason}" for by, reason in open_disputes)
        return Verdict(2, "Disputed", f"Disputed by {parties}")
    others = len({other for other, _ in value_conflicts})
    if others:
        label = f"Conflicts with {others} other figure{'' if others == 1 else 's'}"
        return Verdict(3, label, " ".join(dict.fromkeys(detail for _, detail in value_conflicts)))
    return Verdict(
        BEST_RATING,
        "No conflict found",
        "No other figure in Tally's ledger contradicts it, and no one disputes it.",
    )
