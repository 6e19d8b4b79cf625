"""The arithmetic of SPEC §6 for one report group (metric, population, location)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from app.domain.model import ClaimFacts

Interval = tuple[int, int | None]  # (low, high); high None = open


def latest_by_claimant(claims: Iterable[ClaimFacts]) -> list[ClaimFacts]:
    """Each claimant's latest active claim (as_of, then recorded_at, then id), by claimant_key."""
    latest: dict[str, ClaimFacts] = {}
    for claim in claims:
        held = latest.get(claim.claimant_key)
        if not claim.retracted and (held is None or _chronology(claim) > _chronology(held)):
            latest[claim.claimant_key] = claim
    return [latest[key] for key in sorted(latest)]


def value_range(latest: Iterable[ClaimFacts]) -> Interval | None:
    """(lowest low, highest high), high None when any is open; None when there are no claims."""
    figures = [claim.figure for claim in latest]
    if not figures:
        return None
    highs = [figure.high for figure in figures]
    high = None if None in highs else max(h for h in highs if h is not None)
    return (min(figure.low for figure in figures), high)


def consensus(latest: Iterable[ClaimFacts]) -> Interval | None:
    """The intersection of the claims' intervals; None when it is empty or there are no claims."""
    figures = [claim.figure for claim in latest]
    if not figures:
        return None
    low = max(figure.low for figure in figures)
    high = min((f.high for f in figures if f.high is not None), default=None)
    return None if high is not None and low > high else (low, high)


def independent_origins(
    latest: Iterable[ClaimFacts], all_claims_by_id: Mapping[str, ClaimFacts]
) -> int:
    """The number of distinct claimants at the roots of the claims' `cites` chains."""
    return len({_origin(claim, all_claims_by_id).claimant_key for claim in latest})


def _origin(claim: ClaimFacts, by_id: Mapping[str, ClaimFacts]) -> ClaimFacts:
    """The claim at the end of `claim`'s cites chain: the last one found, or a cycle's least id."""
    path = [claim]
    position = {claim.id: 0}
    while (cited := _cited(path[-1], by_id)) is not None:
        if cited.id in position:
            # Any member of a cycle could be its root; the least id makes it the same for all.
            return min(path[position[cited.id] :], key=lambda c: c.id)
        position[cited.id] = len(path)
        path.append(cited)
    return path[-1]


def _cited(claim: ClaimFacts, by_id: Mapping[str, ClaimFacts]) -> ClaimFacts | None:
    """The claim `claim` cites, None when it cites nothing or an id not given."""
    return None if claim.cites is None else by_id.get(claim.cites)


def _chronology(claim: ClaimFacts) -> tuple[date, datetime, int, str]:
    """The order of claims in time, as in conflicts.chronology (kept local: no sibling imports)."""
    return (claim.as_of, claim.recorded_at, len(claim.id), claim.id)
