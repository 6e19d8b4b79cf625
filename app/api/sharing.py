"""Requests made through a share link (SPEC §12): `?share=<token>` and no Authorization.

The middleware lets such a GET past its key check; app.api.deps admits it for its one page
(app.services.share_links). Every answer to one is marked private and not for indexing, so
that no shared cache keeps it and no search engine lists it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.services.share_links import SHARE

SHARED_HEADERS = [(b"cache-control", b"private"), (b"x-robots-tag", b"noindex")]


def share_token(scope: Scope) -> str | None:
    """The share token of a request without Authorization, or None (one `share` parameter)."""
    if any(name == b"authorization" for name, _ in scope.get("headers", [])):
        return None
    query = scope.get("query_string", b"").decode("latin-1")
    if f"{SHARE}=" not in query:
        return None
    tokens = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == SHARE]
    return tokens[0] if len(tokens) == 1 and tokens[0] else None


class SharedAnswers:
    """Adds Cache-Control: private and X-Robots-Tag: noindex to answers through a share link."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or share_token(scope) is None:
            return await self.app(scope, receive, send)

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in {b"cache-control", b"x-robots-tag"}
                ]
                message["headers"] = kept + SHARED_HEADERS
            await send(message)

        await self.app(scope, receive, marked)
