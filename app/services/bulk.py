"""Bulk import of claims from NDJSON or CSV, and the export of the ledger in batches."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal

import structlog
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app import repository
from app.domain.model import Claim, ClaimFilter, DomainError, InvalidInput, LimitExceeded
from app.schemas import ClaimCreate
from app.services import claims

log = structlog.get_logger()
Kind = Literal["ndjson", "csv"]
COLUMNS = frozenset(ClaimCreate.model_fields)


@dataclass(frozen=True)
class Rejection:
    """Why a row was refused: a sentence, and (field, detail) for each field at fault.

    `fields` are the row's values when its schema refused it, so that its names can still be
    checked: a row lists every error it has, not only the first.
    """

    detail: str
    errors: tuple[tuple[str, str], ...]
    fields: dict[str, Any] | None = field(default=None, compare=False, repr=False)


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
    outcomes: list[Outcome] = []
    added = 0  # claims recorded since the table's statistics were last taken here
    for start in range(0, len(rows), BATCH_ROWS):
        batch = import_rows(
            session, rows[start : start + BATCH_ROWS], actor, tolerance, first=start + 1
        )
        outcomes += batch
        added += sum(1 for outcome in batch if outcome.id is not None)
        if repository.claims.refresh_statistics(session, added):
            added = 0
    return outcomes


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
    checker = _Checker(session, tolerance)
    for number, row in enumerate(rows, start=first):
        result = next(recorded) if isinstance(row, ClaimCreate) else row
        if isinstance(result, InvalidInput) and isinstance(row, ClaimCreate):
            result = checker.every_problem(row, result)
        elif isinstance(result, Rejection) and result.fields is not None:
            result = checker.with_references(result)
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
        return _rejection(errors, fields)


def _rejection(
    errors: Iterable[tuple[str, str]], fields: dict[str, Any] | None = None
) -> Rejection:
    """A row's refusal listing each of its `errors`, in one sentence too."""
    errors = tuple(errors)
    listed = "; ".join(f"{name}: {why}" for name, why in errors)
    return Rejection(f"Invalid input — {listed}", errors, fields)


REFERENCES = ("event", "metric", "population", "source")


class _Checker:
    """Every error of a refused row: the first error that refused it, and the others that
    checking its names, its cited claim and its figure finds (names looked up once per batch)."""

    def __init__(self, session: Session, tolerance: float) -> None:
        self.session, self.tolerance = session, tolerance
        self.names: dict[str, set[str]] = {}

    def every_problem(self, body: ClaimCreate, error: InvalidInput) -> Rejection:
        first = (error.field or "body", error.detail)
        values = {name: getattr(body, name) for name in (*REFERENCES, "cites", "figure")}
        others = [p for p in self._problems(values) if p[0] != first[0]]
        return _rejection([first, *others])

    def with_references(self, rejection: Rejection) -> Rejection:
        """A schema's refusal, with the unknown names among the fields it did not refuse."""
        faulty = {name.split(".")[0] for name, _ in rejection.errors}
        fields = {"population": "all"} | (rejection.fields or {})
        values = {
            name: value
            for name, value in fields.items()
            if name in REFERENCES and name not in faulty and isinstance(value, str)
        }
        extra = self._problems(values)
        return _rejection([*rejection.errors, *extra]) if extra else rejection

    def _problems(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        problems = [
            (kind, repository.common.unknown(kind, name, kind, self.session).detail)
            for kind, name in values.items()
            if kind in REFERENCES and name not in self._known(kind)
        ]
        try:
            if values.get("cites") is not None:
                repository.claims.get_claim(self.session, values["cites"], field="cites")
        except DomainError as error:
            problems.append(("cites", error.detail))
        try:
            if values.get("figure") is not None:
                claims.to_figure(values["figure"], self.tolerance)
        except InvalidInput as error:
            problems.append(("figure", error.detail))
        return problems

    def _known(self, kind: str) -> set[str]:
        if kind not in self.names:
            self.names[kind] = set(repository.common.known_names(self.session, kind) or ())
        return self.names[kind]


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
