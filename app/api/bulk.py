"""Bulk import (NDJSON or CSV, answered row by row) and the streamed export of the ledger."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from app.api import conditional, formats
from app.api.claims import ClaimFilters
from app.api.deps import Editor, Reader, ReadSessionDep, SessionDep, SettingsDep
from app.api.errors import ERROR_RESPONSES, TITLES, Problem, problem_body
from app.domain.model import Claim
from app.schemas import ClaimRead
from app.services import bulk, changes

router = APIRouter(prefix="/v1/claims", tags=["claims"], responses=ERROR_RESPONSES)

MEDIA_TYPES: dict[str, bulk.Kind] = {"application/x-ndjson": "ndjson", "text/csv": "csv"}
EXAMPLE = (
    '{"event": "kazakhstan-unrest-2022", "metric": "deaths", "figure": "at least 164", '
    '"claimant": "Kazakhstan Ministry of Health", "source": "khabar-24", "as_of": "2022-01-09"}\n'
)
UPLOAD = {
    "requestBody": {
        "required": True,
        "description": "One claim per line (NDJSON), or a CSV whose header names the claim fields "
        "(the figure as text; an empty cell leaves the field out).",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}, "example": EXAMPLE},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}
UNSUPPORTED = {415: {"model": Problem, "description": TITLES[415]}}


class RowOutcome(BaseModel):
    row: int
    status: Literal[201, 422]
    id: str | None = None
    problem: Problem | None = None


class BulkResult(BaseModel):
    results: list[RowOutcome]


async def upload(request: Request, settings: SettingsDep) -> tuple[bulk.Kind, bytes]:
    """The body and its kind; 415 for another media type, 413 past the bulk size limit."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise HTTPException(415, "Send the claims as application/x-ndjson or text/csv.")
    limit = settings.bulk_max_bytes
    too_large = HTTPException(413, f"The file is larger than {limit} bytes; split it up.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():  # counted as it arrives: never more than the limit
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return MEDIA_TYPES[media_type], b"".join(chunks)


@router.post(
    "/bulk",
    response_model_exclude_none=True,
    openapi_extra=UPLOAD,
    responses=UNSUPPORTED,  # type: ignore[arg-type]
)
def import_claims(
    session: SessionDep,
    settings: SettingsDep,
    who: Editor,
    body: Annotated[tuple[bulk.Kind, bytes], Depends(upload)],
) -> BulkResult:
    """Record each row as a new claim on its own; one outcome per row, in order."""
    kind, data = body
    tolerance, max_rows = settings.figure_tolerance, settings.bulk_max_rows
    outcomes = bulk.import_text(session, data, kind, who.name, tolerance, max_rows)
    return BulkResult(results=[_row(outcome) for outcome in outcomes])


def _row(outcome: bulk.Outcome) -> RowOutcome:
    if outcome.rejection is None:
        return RowOutcome(row=outcome.row, status=201, id=outcome.id)
    problem = problem_body(422, outcome.rejection.detail, outcome.rejection.errors)
    return RowOutcome(row=outcome.row, status=422, problem=problem)


EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
EXPORTED = {
    200: {
        "content": {"application/x-ndjson": {}, "text/csv": {}},
        "description": "Every matching claim: one JSON claim per line, or one CSV row per claim",
    },
    **conditional.NOT_MODIFIED,
}
EXPORT_COLUMNS = [
    "id", "version", "status", "disputed", "superseded_by", "event", "metric", "population",
    "location", "figure", "low", "high", "point", "qualifier", "as_of", "claimant", "source",
    "url", "quote", "published_at", "cites", "note", "retracted_at", "retraction_reason",
    "retraction_url", "created_at", "updated_at",
]  # fmt: skip


@router.get("/export", response_class=StreamingResponse, responses=EXPORTED)
def export_claims(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    _: Reader,
    filters: ClaimFilters,
    format: Literal["ndjson", "csv"] = "ndjson",
) -> Response:
    """Stream the whole ledger (filtered like the claims list) in constant memory."""
    version = changes.claims_version(session, filters.event)
    unchanged = conditional.check(request, response, version)
    if unchanged is not None:
        return unchanged
    claims = bulk.export_claims(session, filters)
    lines = (
        formats.csv_rows(EXPORT_COLUMNS, map(_cells, claims))
        if format == "csv"
        else map(_json_line, claims)
    )
    disposition = {"Content-Disposition": f'attachment; filename="claims.{format}"'}
    answer = StreamingResponse(_joined(lines), media_type=EXPORT_TYPES[format], headers=disposition)
    return conditional.carry(response, answer)


def _json_line(claim: Claim) -> str:
    return ClaimRead.of(claim).model_dump_json() + "\n"


def _cells(claim: Claim) -> list[Any]:
    """The claim's export row: EXPORT_COLUMNS, each a field of the claim as clients see it."""
    read = ClaimRead.of(claim).model_dump(mode="json")
    figure, retraction = read.pop("figure"), read.pop("retraction") or {}
    cells = read | {
        "figure": figure["text"], "low": figure["low"], "high": figure["high"],
        "point": figure["point"], "qualifier": figure["qualifier"],
        "retracted_at": retraction.get("retracted_at"),
        "retraction_reason": retraction.get("reason"), "retraction_url": retraction.get("url"),
    }  # fmt: skip
    return [cells[name] for name in EXPORT_COLUMNS]


def _joined(lines: Iterable[str], size: int = 65_536) -> Iterator[str]:
    """Lines sent about `size` characters at a time: few writes, little held in memory."""
    chunk: list[str] = []
    held = 0
    for line in lines:
        chunk.append(line)
        held += len(line)
        if held >= size:
            yield "".join(chunk)
            chunk, held = [], 0
    if chunk:
        yield "".join(chunk)
