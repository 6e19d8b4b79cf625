"""The one place where errors become RFC 9457 application/problem+json responses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from app.domain import model as d

log = structlog.get_logger()

PROBLEM = "application/problem+json"

STATUS = {
    d.NotFound: 404,
    d.InvalidInput: 422,
    d.AlreadyExists: 409,
    d.StateConflict: 409,
    d.PreconditionRequired: 428,
    d.StaleVersion: 412,
    d.IdempotencyMismatch: 422,
    d.LimitExceeded: 413,
}
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldProblem(BaseModel):
    field: str
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` lists the fields at fault."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] = []


def problem_body(status: int, detail: str, errors: Iterable[tuple[str, str]] = ()) -> Problem:
    """The problem details of every error Tally answers: `type` and `title` name the status;
    `errors` lists (field, detail) for each field at fault."""
    return Problem(
        type=f"https://tally.dev/problems/{status}",
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        errors=[FieldProblem(field=field, detail=why) for field, why in errors],
    )


def problem(
    status: int,
    detail: str,
    errors: Iterable[tuple[str, str]] = (),
    *,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response (see problem_body)."""
    body = problem_body(status, detail, errors).model_dump()
    return JSONResponse(body, status, headers=headers, media_type=PROBLEM)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(400, "The request body is not valid JSON.")
    fields = [(_field_name(e["loc"]), str(e["msg"])) for e in errors]
    names = ", ".join(sorted({field for field, _ in fields}))
    return problem(422, f"Invalid input: {names}.", fields)


def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, d.DomainError)
    status = next(s for cls, s in STATUS.items() if isinstance(exc, cls))
    errors = [(exc.field, exc.detail)] if exc.field else []
    return problem(status, exc.detail, errors)


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
    return problem(exc.status_code, detail, headers=dict(exc.headers or {}))


def _overloaded(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, OperationalError) and "locked" not in str(exc.orig):
        return _unexpected(_, exc)
    log.warning("database busy", error=str(exc))
    return problem(503, "The database is busy; retry shortly.", headers={"Retry-After": "1"})


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "An unexpected error occurred; it has been logged.")


def install_error_handlers(app: FastAPI) -> None:
    """Map every error, from routing to the database, to problem+json."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(d.DomainError, _domain)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(PoolTimeout, _overloaded)
    app.add_exception_handler(OperationalError, _overloaded)
    app.add_exception_handler(Exception, _unexpected)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": TITLES[status], "content": {PROBLEM: {}}}
    for status in (400, 401, 403, 404, 409, 412, 413, 422, 428, 503)
}
