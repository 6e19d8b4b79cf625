"""The one place where errors become RFC 9457 application/problem+json responses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from app.api.newline import is_json
from app.domain import model as d
from app.services.ops import unavailability

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
    408: "Request timeout",
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
    field: str = Field(description="The field at fault, dotted for nested ones (`figure.low`)")
    detail: str = Field(description="What is wrong with it")


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` lists the fields at fault."""

    type: str = Field(default="about:blank", description="A URI naming the kind of problem")
    title: str = Field(description="The HTTP status in words")
    status: int = Field(description="The HTTP status")
    detail: str = Field(description="What went wrong, in a sentence, and how to put it right")
    errors: list[FieldProblem] = Field(
        default=[], description="Every field at fault, each with what is wrong with it"
    )


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


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(400, "The request body is not valid JSON.")
    content_type = request.headers.get("content-type")
    if _body_unread(errors) and not is_json(content_type or ""):
        return problem(415, _not_json(content_type), [("body", _not_json(content_type))])
    fields = [(_field_name(e["loc"]), _why(e)) for e in errors]
    listed = "; ".join(f"{field}: {why}" for field, why in fields)
    return problem(422, f"Invalid input — {listed}", fields)


def _why(error: Any) -> str:
    if tuple(error["loc"]) == ("body",):  # the body as a whole
        return "the request has no body" if error["type"] == "missing" else "must be a JSON object"
    return str(error["msg"])


def _body_unread(errors: list[Any]) -> bool:
    """Whether the body as a whole was missing or not an object (not one of its fields)."""
    return any(tuple(e["loc"]) == ("body",) for e in errors)


def _not_json(content_type: str | None) -> str:
    said = f'"Content-Type: {content_type}"' if content_type else "no Content-Type"
    return (
        f"Send the body as JSON with the header Content-Type: application/json; this request "
        f"had {said}. (curl: add -H 'Content-Type: application/json'.)"
    )


def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, d.DomainError)
    status = next(s for cls, s in STATUS.items() if isinstance(exc, cls))
    errors = [(exc.field, exc.detail)] if exc.field else []
    return problem(status, exc.detail, errors)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request, headers.get("Allow", ""))
    return problem(exc.status_code, detail, headers=headers)


def allowed_methods(request: Request, first: str) -> str:
    """Every method the API answers at the request's path, by its OpenAPI document, with
    `first` (Starlette's own Allow names only the methods of the first route that matched)."""
    methods = {m.strip() for m in first.split(",") if m.strip()}
    for template, operations in request.app.openapi()["paths"].items():
        if _fits(template, request.scope["path"]):
            methods |= {method.upper() for method in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def _fits(template: str, path: str) -> bool:
    """Whether `path` is an instance of the OpenAPI path `template` ("/v1/claims/{claim_id}")."""
    wanted, given = template.split("/"), path.split("/")
    return len(wanted) == len(given) and all(
        w == g or (w.startswith("{") and g != "") for w, g in zip(wanted, given, strict=True)
    )


DATABASE_REFUSALS = {  # detail, Retry-After
    "busy": ("The database is busy; retry shortly.", "1"),
    "unavailable": ("The database is unavailable; retry later.", "5"),
}


def database_refusal(error: Exception) -> tuple[str, str] | None:
    """(detail, Retry-After) of the 503 that `error` calls for when it says the database
    cannot serve now (see services.ops.unavailability), else None."""
    kind = unavailability(error)
    if kind is None:
        return None
    log.warning("database unavailable", kind=kind, error=str(error).partition("\n")[0])
    return DATABASE_REFUSALS[kind]


def _database(request: Request, exc: Exception) -> JSONResponse:
    refusal = database_refusal(exc)
    if refusal is None:
        return _unexpected(request, exc)
    detail, retry = refusal
    return problem(503, detail, headers={"Retry-After": retry})


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "An unexpected error occurred; it has been logged.")


def install_error_handlers(app: FastAPI) -> None:
    """Map every error, from routing to the database, to problem+json."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(d.DomainError, _domain)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(PoolTimeout, _database)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(Exception, _unexpected)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": TITLES[status], "content": {PROBLEM: {}}}
    for status in (400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 503)
}
