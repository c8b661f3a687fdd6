"""Text frames for graphql-transport-ws: what every stock client expects.

The protocol's messages are JSON text. Strawberry's adapter sends bytes as binary
frames, and our `encode_json` (orjson) returns bytes: graphql-ws (Node, with `ws`)
then fails every subscription ("Message is missing the 'type' property", 4004),
GraphiQL the same, and a browser receives a Blob. orjson's output is UTF-8, so
decoding it is exact and cheap.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's ASGI adapter, always sending text frames."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        text = encoded.decode() if isinstance(encoded, bytes) else encoded
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc
