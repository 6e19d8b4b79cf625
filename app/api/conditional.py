"""Conditional requests (SPEC §12): a strong ETag on reports, feeds, exports and lists, and
`If-None-Match` answered 304 before the answer is built.

The tag is a digest of the request's path and query (the share token aside) and of the
version of what the answer is made of, which a service reads from an index
(app.services.changes) before the answer is built: it changes when the data behind the
answer changes, whoever asks and however often. The version is read before the answer: a
change committed in between makes the answer newer than its tag, so the next request gets a
200, never a stale 304.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response

from app.domain.newsroom import Version
from app.services.share_links import SHARE

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the ETag sent in If-None-Match still holds"}
}


def etag(request: Request, version: Version) -> str:
    """The strong ETag of this request's answer at `version`."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    params = sorted((k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != SHARE)
    basis = repr((request.scope["path"], params, version.key))
    return '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'


def validators(tag: str, modified: datetime | None = None) -> dict[str, str]:
    """ETag, and Last-Modified when the time of the latest change is known."""
    headers = {"ETag": tag}
    if modified is not None:
        headers["Last-Modified"] = format_datetime(modified, usegmt=True)
    return headers


def not_modified(request: Request, tag: str, modified: datetime | None = None) -> Response | None:
    """A 304 when If-None-Match names `tag` (or is `*`), else None: build the answer then.

    If-Modified-Since is not evaluated (RFC 9110 lets a server ignore it): a change committed
    late may carry an earlier time than one already shown, while the ETag sees it.
    """
    sent = request.headers.get("if-none-match")
    if sent is None or not matches(sent, tag):
        return None
    return Response(status_code=304, headers=validators(tag, modified))


def matches(header: str, tag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110 §13.1.2): W/ is ignored."""
    sent = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in sent or tag in sent


def fresh(response: Response, tag: str, modified: datetime | None = None) -> Response:
    """The response with its validators."""
    response.headers.update(validators(tag, modified))
    return response


def check(request: Request, response: Response, version: Version) -> Response | None:
    """Give the answer (`response`, the route's own) its validators at `version`; a 304 when
    If-None-Match already names them, else None: build the answer then."""
    tag = etag(request, version)
    response.headers.update(validators(tag, version.at))
    return not_modified(request, tag, version.at)


def carry(response: Response, answer: Response) -> Response:
    """The answer a route returns itself, with the validators that `check` gave `response`."""
    for name in ("ETag", "Last-Modified"):
        if name in response.headers:
            answer.headers[name] = response.headers[name]
    return answer
