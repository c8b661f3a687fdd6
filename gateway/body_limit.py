"""Refuse request bodies over a size before anyone parses them (pure ASGI).

A declared `Content-Length` over the limit is refused before reading. A body without
one (chunked) is read here, up to the limit, and handed on only once it is whole:
past the limit the client gets the same 413. (Answering the application with a
fake `http.disconnect` instead made Starlette raise ClientDisconnect: a 500.) The
gateway reads whole bodies anyway, so holding at most `max_bytes` costs nothing.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.graphql_http import CONTENT_TYPES, negotiate, request_error_body


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > self.max_bytes:
                await self._refuse(send, headers)
                return
            # The server holds the body to its declared length.
            await self.app(scope, receive, send)
            return
        messages = await self._read(receive)
        if messages is None:
            await self._refuse(send, headers)
            return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()  # after the body: the client's disconnect

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> list[Message] | None:
        """The body's messages, or None once they pass `max_bytes`."""
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client left; the application hears it
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                return None
            if not message.get("more_body", False):
                return messages

    async def _refuse(self, send: Send, headers: Headers) -> None:
        media_type = negotiate(headers.get("accept"))
        body = request_error_body(f"the request body is over {self.max_bytes} bytes")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", CONTENT_TYPES[media_type].encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"vary", b"Accept"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
