"""The API documentation, offline: Swagger UI at /docs and ReDoc at /redoc, drawn with the
assets of the fastapi-offline package and served by Tally itself (no CDN, no font service);
and the OpenAPI document's words for the query, path and header parameters that routes share."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs/assets"
# swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js and favicon.png, from PyPI.
ASSETS = Path(str(files("fastapi_offline") / "static"))
SWAGGER_UI = {
    # No validator badge: Swagger UI would fetch it from validator.swagger.io.
    "validatorUrl": None,
    "docExpansion": "list",
    "defaultModelsExpandDepth": 0,  # the schemas are shown with each operation
    "tryItOutEnabled": True,
}

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over /openapi.json, with every asset from Tally itself."""
    root = request.scope.get("root_path", "")
    page = get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title="Tally API",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        swagger_ui_parameters=SWAGGER_UI,
    )
    return _own_assets_only(page)


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc over /openapi.json, with every asset from Tally itself (no web fonts)."""
    root = request.scope.get("root_path", "")
    page = get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title="Tally API",
        redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    )
    return _own_assets_only(page)


INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def _own_assets_only(page: HTMLResponse) -> HTMLResponse:
    """The page with a Content-Security-Policy that lets it load nothing but Tally's own: the
    browser does not even try what the bundles would fetch from elsewhere (ReDoc's logo)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(bytes(page.body))
    )
    page.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
    )
    return page


EVENT, SOURCE = "kazakhstan-unrest-2022", "dpa"
# The parameters that several routes share, by name: (description, example or None). Routes
# that say more about one of theirs keep their own words.
PARAMETERS: dict[str, tuple[str, Any]] = {
    "event": ("Only items of the event with this slug.", EVENT),
    "metric": ("Only items counting this metric (deaths, injuries, arrests …).", "deaths"),
    "population": ("Only items about this population (all, civilians …).", "security_forces"),
    "source": ("Only claims published by the source with this slug.", SOURCE),
    "claimant": (
        "Only claims stated by this claimant, compared case- and space-insensitively.",
        "Kazakhstan Ministry of Health",
    ),
    "status": ("Only items with this status.", None),
    "kind": ("Only conflicts of this kind.", "cites_retracted"),
    "since": ("Only conflicts opened at or after this ISO 8601 moment.", "2022-01-10T00:00:00Z"),
    "format": ("The form of the answer.", None),
    "claim_id": ("The claim's id, as its creation answered it.", "3"),
    "dispute_id": ("The dispute's id, as its creation answered it.", "1"),
    "conflict_id": ("The conflict's id.", "1"),
    "key_id": ("The API key's id (GET /v1/keys lists them).", "2"),
    "webhook_id": ("The webhook's id, as its creation answered it.", "1"),
    "link_id": ("The share link's id, as its creation answered it.", "1"),
    "name": ("The name of the metric or population.", "deaths"),
    "if-match": (
        'The claim\'s ETag as you last read it, e.g. "2": a correction applies only to the '
        "version you saw (412 when another was written meanwhile).",
        '"2"',
    ),
}
SLUGS = {  # the path parameter `slug`, by the noun the path names
    "/v1/sources/": ("The source's slug.", SOURCE),
    "/v1/events/": ("The event's slug.", EVENT),
}
TAGS = [
    {"name": "events", "description": "The stories the figures are about."},
    {"name": "sources", "description": "Publishers of claims: agencies, broadcasters …"},
    {"name": "metrics", "description": "What is counted: deaths, arrests …"},
    {"name": "populations", "description": "Who is counted: all, civilians, children …"},
    {"name": "claims", "description": "Figures as stated by a claimant in a publication."},
    {"name": "conflicts", "description": "The discrepancies Tally found among claims."},
    {"name": "reports", "description": "An event's figures and conflicts; discrepancies."},
]


def install_docs(app: FastAPI) -> None:
    """Serve /docs, /redoc and their assets, and describe every parameter in /openapi.json."""
    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    app.openapi_tags = TAGS
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_parameters(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe_parameters(schema: dict[str, Any]) -> dict[str, Any]:
    """The document with a description (and an example) on every parameter that lacks one."""
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                _describe(path, parameter)
    return schema


def _describe(path: str, parameter: dict[str, Any]) -> None:
    name = parameter["name"].lower()
    words = PARAMETERS.get(name)
    if name == "slug":
        words = next((w for prefix, w in SLUGS.items() if path.startswith(prefix)), None)
    if words is None:
        return
    description, example = words
    parameter.setdefault("description", description)
    if example is not None and "example" not in parameter and "examples" not in parameter:
        parameter["example"] = example
