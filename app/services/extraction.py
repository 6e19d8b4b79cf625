"""Extraction (SPEC §7): the candidate claims an article states. It reads and stores nothing."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.orm import Session

from app import repository
from app.extraction import Candidate, Extractor, extract_candidates
from app.schemas import MAX_CANDIDATES, CandidateRead, ExtractBody, Extraction, FigureOut


def extract(
    session: Session,
    body: ExtractBody,
    tolerance: float,
    extractor: Extractor = extract_candidates,
) -> Extraction:
    """The candidates in body.text; InvalidInput naming an unknown event or source."""
    if body.event is not None:
        repository.resources.get_event(session, body.event, field="event")
    if body.source is not None:
        repository.resources.get_source(session, body.source, field="source")
    return propose(body, tolerance, extractor)


def propose(
    body: ExtractBody, tolerance: float, extractor: Extractor = extract_candidates
) -> Extraction:
    """The first MAX_CANDIDATES candidates the extractor finds in body.text, carrying its
    event, source and publication time as given; `truncated` when there were more."""
    published = body.published_at.date() if body.published_at else None
    found = extractor(body.text, published, tolerance)
    kept = _first_sentences(found, MAX_CANDIDATES)
    return Extraction(
        candidates=[_read(candidate, body) for candidate in kept],
        truncated=len(kept) < len(found),
    )


def _first_sentences(found: list[Candidate], limit: int) -> list[Candidate]:
    """At most `limit` candidates from the start, and no sentence cut short when more follow
    (but for a first sentence of more than `limit`), so that one can read on after them."""
    if len(found) <= limit:
        return found
    next_span = found[limit].span
    whole = [candidate for candidate in found[:limit] if candidate.span != next_span]
    return whole or found[:limit]


def _read(candidate: Candidate, body: ExtractBody) -> CandidateRead:
    fields = asdict(candidate) | {"figure": FigureOut(**asdict(candidate.figure))}
    given = {"event": body.event, "source": body.source, "published_at": body.published_at}
    return CandidateRead(**fields, **given)
