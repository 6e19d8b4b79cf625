"""How the desk answers: templates, the headers of every page, and errors as pages.

Every desk route is a DeskRoute: whatever a handler raises (a domain error, a refused form,
a database that cannot serve now) becomes a page a person can read, with the status the
API would give, never a JSON body or a traceback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import database_refusal
from app.domain import model as d
from app.web.chart import format_count, format_day

log = structlog.get_logger("tally.desk")

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

# No script runs, nothing loads from elsewhere, no site may frame a page.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Pages show what a signed-in key may read: kept by no cache, shown again by no Back button.
PRIVATE = {"Cache-Control": "no-store"}

STATUS_TITLES = {
    400: "The request could not be read",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not a page you can open this way",
    409: "That no longer fits",
    413: "Too large",
    422: "Something in the form needs fixing",
    500: "Something went wrong on our side",
    503: "Tally is busy",
}
DOMAIN_STATUS = {
    d.NotFound: 404,
    d.InvalidInput: 422,
    d.AlreadyExists: 409,
    d.StateConflict: 409,
    d.PreconditionRequired: 428,
    d.StaleVersion: 409,
    d.IdempotencyMismatch: 422,
    d.LimitExceeded: 413,
}


def _version(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


STATIC_VERSIONS = {p.name: _version(p.name) for p in STATIC.iterdir() if p.is_file()}


def static_url(name: str) -> str:
    """The address of a static file, with its digest: cached long, refreshed on change."""
    return f"/static/{name}?v={STATIC_VERSIONS.get(name, '0')}"


def moment(value: datetime | None) -> str:
    """10 Jan 2022, 08:00 UTC."""
    return "" if value is None else f"{format_day(value.date(), True)}, {value:%H:%M} UTC"


def day(value: date | None) -> str:
    return "" if value is None else format_day(value, True)


def count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def interval(bounds: Mapping[str, Any] | tuple[int, int | None] | None) -> str:
    """A range as words: 7,200 to 8,000; 164 or more; none."""
    if bounds is None:
        return "none"
    low, high = (bounds["low"], bounds["high"]) if isinstance(bounds, Mapping) else bounds
    if high is None:
        return f"{low:,} or more"
    return f"{low:,}" if low == high else f"{low:,} to {high:,}"


KIND_LABELS = {
    "value_mismatch": "Figures disagree",
    "downward_revision": "Toll revised down",
    "part_exceeds_whole": "Part larger than the whole",
    "retracted_figure": "Retracted figure",
    "cites_retracted": "Relays a retracted figure",
    "disputed": "Disputed",
    "source_unavailable": "Source unavailable",
    "figure_not_in_source": "Figure gone from the source",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def words(name: str | None) -> str:
    """A name as words: security_forces -> security forces."""
    return "" if name is None else name.replace("_", " ")


def options(items: Iterable[Any], value: str, text: str) -> list[tuple[str, str]]:
    """(value, text) pairs of a <select>, from records: names read as words."""
    return [(getattr(i, value), words(getattr(i, text))) for i in items]


def population_options(items: Iterable[Any]) -> list[tuple[str, str]]:
    """The populations of a <select>: `all` reads "everyone"."""
    return [(v, "everyone" if v == "all" else text) for v, text in options(items, "name", "name")]


templates.env.globals.update(
    static_url=static_url,
    kind_label=kind_label,
    options=options,
    population_options=population_options,
)
templates.env.filters.update(
    moment=moment, day=day, count=count, interval=interval, words=words, compact=format_count
)


def secure(response: Response) -> Response:
    """The response with the desk's security headers, kept by no cache."""
    response.headers.update(SECURITY_HEADERS | PRIVATE)
    return response


def render(
    request: Request, template: str, context: Mapping[str, Any], status: int = 200
) -> HTMLResponse:
    """The template as a page, with the signed-in user (if any) and the request at hand."""
    values = {"user": getattr(request.state, "desk_user", None), "path": request.url.path}
    response = templates.TemplateResponse(request, template, values | dict(context), status)
    return response


def redirect(location: str) -> RedirectResponse:
    """303 See Other: after a form, the browser GETs the page that shows the outcome."""
    return RedirectResponse(location, status_code=303)


def local_path(candidate: str | None, default: str = "/") -> str:
    """`candidate` when it is a path of this site (never another site: //host, /\\host)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return default
    if any(c in candidate for c in "\\\r\n\t") or not candidate.isprintable():
        return default
    return candidate


class SignInRequired(Exception):
    """The request needs a signed-in desk user, and has none."""


def error_page(
    request: Request, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    title = STATUS_TITLES.get(status, "Something went wrong")
    context = {"status": status, "title": title, "detail": detail}
    response = render(request, "error.html", context, status)
    response.headers.update(headers or {})
    return response


def page_of(request: Request, error: Exception) -> Response:
    """The page that tells a person what went wrong (see the module's docstring)."""
    if isinstance(error, SignInRequired):
        return redirect("/sign-in?next=" + quote(local_path(_here(request)), safe="/"))
    if isinstance(error, d.DomainError):
        status = next(s for cls, s in DOMAIN_STATUS.items() if isinstance(error, cls))
        return error_page(request, status, error.detail)
    if isinstance(error, HTTPException):
        detail = error.detail if isinstance(error.detail, str) else ""
        return error_page(request, error.status_code, detail, error.headers)
    if isinstance(error, RequestValidationError):
        return error_page(request, 422, _validation_detail(error))
    refusal = database_refusal(error)
    if refusal is not None:
        detail, retry = refusal
        return error_page(request, 503, detail, {"Retry-After": retry})
    log.exception("unhandled error", exc_info=error)
    return error_page(request, 500, "The error has been logged. Please try again later.")


def _here(request: Request) -> str:
    """Where to come back to after signing in: this page (a GET), or the page of a form."""
    if request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        return request.url.path + query
    return "/"


def _in_body(error: RequestValidationError) -> bool:
    return any(e.get("loc", ("",))[0] == "body" for e in error.errors())


def _validation_detail(error: RequestValidationError) -> str:
    names = sorted({str(e["loc"][-1]) for e in error.errors() if e.get("loc")})
    if not _in_body(error):
        return "The address asks for something Tally cannot show: " + ", ".join(names) + "."
    return "These fields could not be read: " + ", ".join(names) + "."


class DeskRoute(APIRoute):
    """A route whose errors are pages and whose every answer carries the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as error:
                response = page_of(request, error)
            return secure(response)

        return route


# --- beyond the desk's routes ----------------------------------------------------------------

# Paths that are not the desk's: their errors stay problem+json.
NOT_DESK = (
    "/v1/",
    "/docs",
    "/redoc",
    "/openapi",
    "/healthz",
    "/readyz",
    "/metrics",
    "/embed/",
    "/oembed",
)


def wants_page(request: Request) -> bool:
    """Whether an error at this address is for a person: a desk path asked for as HTML."""
    path = request.url.path
    return not path.startswith(NOT_DESK) and "text/html" in request.headers.get("accept", "")


def install_error_pages(app: Any) -> None:
    """Errors outside the desk's routes (no such page, another method) at desk addresses, asked
    for by a browser, become pages; everything else keeps the API's handlers."""
    api_handler = app.exception_handlers.get(HTTPException, http_exception_handler)

    async def handler(request: Request, error: Exception) -> Response:
        if wants_page(request) and isinstance(error, HTTPException):
            page = page_of(request, error)
            if error.status_code == 404:
                page = error_page(request, 404, "There is no page at this address.")
            return secure(page)
        response: Response = await api_handler(request, error)
        return response

    app.add_exception_handler(HTTPException, handler)


class DeskStatic:
    """The desk's stylesheet and icon: long cached (their address carries their digest)."""

    def __init__(self) -> None:
        from starlette.staticfiles import StaticFiles as Files

        self.files: ASGIApp = Files(directory=STATIC)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                cache = (b"cache-control", b"public, max-age=86400")
                message["headers"] = [*message.get("headers", []), *headers, cache]
            await send(message)

        await self.files(scope, receive, send_secured)
