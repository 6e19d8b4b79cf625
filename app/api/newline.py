"""JSON answers end with a newline, so that a terminal prompt does not stick to them."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_BODY = frozenset({204, 304})


def is_json(content_type: str) -> bool:
    """application/json and the +json types (problem+json, ld+json), whatever the parameters."""
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and "+json" in media)


class TrailingNewline:
    """Adds b"\\n" to the end of every JSON body (and one to its Content-Length).

    A middleware rather than a response class: FastAPI writes a response model's JSON with
    pydantic in one step only for its own default response class, twice as fast for a list.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        adding = False

        async def send_with_newline(message: Message) -> None:
            nonlocal adding
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                adding = message["status"] not in NO_BODY and is_json(
                    headers.get("content-type", "")
                )
                length = headers.get("content-length")
                if adding and length is not None:
                    if length == "0":  # no body: nothing to end
                        adding = False
                    else:
                        headers["content-length"] = str(int(length) + 1)
            elif message["type"] == "http.response.body" and adding and not head:
                last = not message.get("more_body", False)
                message = {**message, "body": message.get("body", b"") + (b"\n" if last else b"")}
            await send(message)

        await self.app(scope, receive, send_with_newline)
