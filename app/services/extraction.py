"""Extraction (SPEC §7): the candidate claims an article states. It reads and stores nothing."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.orm import Session

from app import repository
from app.extraction import Candidate, Extractor, extract_candidates
from app.schemas import CandidateRead, ExtractBody, Extraction, FigureOut


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
    """The candidates the extractor finds in body.text, carrying its event, source and
    publication time as given."""
    published = body.published_at.date() if body.published_at else None
    found = extractor(body.text, published, tolerance)
    return Extraction(candidates=[_read(candidate, body) for candidate in found])


def _read(candidate: Candidate, body: ExtractBody) -> CandidateRead:
    fields = asdict(candidate) | {"figure": FigureOut(**asdict(candidate.figure))}
    given = {"event": body.event, "source": body.source, "published_at": body.published_at}
    return CandidateRead(**fields, **given)
