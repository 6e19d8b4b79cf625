"""Bulk import of claims from NDJSON or CSV, and the export of the ledger in batches."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

import structlog
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app import repository
from app.domain.model import Claim, ClaimFilter, InvalidInput, LimitExceeded
from app.schemas import ClaimCreate
from app.services import claims

log = structlog.get_logger()
Kind = Literal["ndjson", "csv"]
COLUMNS = frozenset(ClaimCreate.model_fields)


@dataclass(frozen=True)
class Rejection:
    """Why a row was refused: a sentence, and (field, detail) for each field at fault."""

    detail: str
    errors: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Outcome:
    row: int  # 1 is the first row (a CSV header is not a row; blank lines are skipped)
    id: str | None = None
    rejection: Rejection | None = None


Row = ClaimCreate | Rejection


def read_rows(lines: Iterable[str], kind: Kind) -> Iterator[Row]:
    """Each row of NDJSON or CSV text, validated on its own as a new claim.

    A header naming unknown columns, or text that is not CSV, is InvalidInput for the whole
    file (raised while iterating, before any row past the fault).
    """
    return _ndjson(lines) if kind == "ndjson" else _csv(lines)


def import_text(
    session: Session, data: bytes, kind: Kind, actor: str, tolerance: float, max_rows: int
) -> list[Outcome]:
    """Import an uploaded file: every valid row recorded on its own, every row's outcome."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"The body is not UTF-8 text ({error.reason}).", field="body") from None
    # Read no further than one row past the limit: a file of millions of tiny rows is
    # refused after max_rows + 1 of them, not after building them all.
    rows = list(islice(read_rows(io.StringIO(text, newline=""), kind), max_rows + 1))
    if not rows:
        raise InvalidInput("The file holds no rows.", field="body")
    if len(rows) > max_rows:
        raise LimitExceeded(
            f"The file holds more than {max_rows} rows; send at most {max_rows} at once "
            "(`tally import` sends a larger file in parts)."
        )
    return [
        outcome
        for start in range(0, len(rows), BATCH_ROWS)
        for outcome in import_rows(
            session, rows[start : start + BATCH_ROWS], actor, tolerance, first=start + 1
        )
    ]


# Rows recorded in one transaction: bounds the memory and the write lock of a large import.
BATCH_ROWS = 500


def import_rows(
    session: Session, rows: list[Row], actor: str, tolerance: float, first: int = 1
) -> list[Outcome]:
    """Record the valid rows in one transaction, each on its own; numbered from `first`."""
    bodies = [row for row in rows if isinstance(row, ClaimCreate)]
    recorded = iter(
        claims.record_claims(session, [(b, actor) for b in bodies], tolerance) if bodies else []
    )
    outcomes = []
    for number, row in enumerate(rows, start=first):
        result = next(recorded) if isinstance(row, ClaimCreate) else row
        if isinstance(result, InvalidInput):
            result = Rejection(result.detail, ((result.field or "body", result.detail),))
        elif isinstance(result, Exception):
            log.exception("bulk row failed", row=number, exc_info=result)
            result = _rejected("row", "The row could not be read; the error has been logged.")
        if isinstance(result, Rejection):
            outcomes.append(Outcome(number, rejection=result))
        else:
            outcomes.append(Outcome(number, id=result.id))
    return outcomes


def _ndjson(lines: Iterable[str]) -> Iterator[Row]:
    for line in lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError) as error:
            yield _rejected("row", f"The line is not valid JSON: {error}")
            continue
        if not isinstance(value, dict):
            yield _rejected("row", "The line is not a JSON object of claim fields.")
            continue
        yield _validated(value)


def _csv(lines: Iterable[str]) -> Iterator[Row]:
    reader = csv.DictReader(lines)
    try:
        _check_header(reader.fieldnames)
        for record in reader:
            if None in record:
                yield _rejected("row", "The row has more cells than the header has columns.")
                continue
            yield _validated({k: v for k, v in record.items() if v is not None and v.strip()})
    except csv.Error as error:
        raise InvalidInput(
            f"Line {reader.line_num} is not valid CSV: {error}", field="body"
        ) from None


def _check_header(columns: Any) -> None:
    if not columns:
        raise InvalidInput("The CSV has no header naming the claim fields.", field="body")
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        names = ", ".join(repr(c) for c in unknown)
        raise InvalidInput(f"Unknown CSV columns: {names}.", field=str(unknown[0]))
    if len(set(columns)) < len(columns):
        raise InvalidInput("The CSV header names a column twice.", field="body")


def _validated(fields: dict[str, Any]) -> Row:
    try:
        return ClaimCreate.model_validate(fields)
    except ValidationError as error:
        errors = tuple((_field_name(e["loc"]), e["msg"]) for e in error.errors())
        return Rejection(f"Invalid input: {', '.join(sorted({f for f, _ in errors}))}.", errors)


def _field_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "row"


def _rejected(field: str, detail: str) -> Rejection:
    return Rejection(detail, ((field, detail),))


def export_claims(session: Session, filters: ClaimFilter, batch: int = 250) -> Iterator[Claim]:
    """The claims matching the list's filters, by id, read `batch` at a time: each batch is
    its own short read, and memory holds one batch (and its claimants' chains), never more.

    Unknown filter names are InvalidInput at once, before the first claim.
    """
    repository.claims.check_filter(session, filters)
    return _batches(session, filters, batch)


def _batches(session: Session, filters: ClaimFilter, size: int) -> Iterator[Claim]:
    after = 0
    while batch := _batch(session, filters, after, size):
        after = int(batch[-1].id)
        yield from batch
        del batch  # before reading the next one


def _batch(session: Session, filters: ClaimFilter, after: int, size: int) -> list[Claim]:
    found = repository.claims.page_claims(session, filters, after, size - 1)
    current = claims.with_successors(session, found) if found else []
    # End the read and forget the rows: no transaction stays open while the client reads.
    session.close()
    return current
