"""Who is on a websocket, and what time it is there.

Browsers cannot set headers on a websocket, so graphql-transport-ws clients send the
token in the connection_init payload (`{"Authorization": "Bearer <token>"}`); the
handshake's own Authorization header is the fallback. A websocket outlives the
instant its context was made: `current_time` asks the app's clock again.

Kept apart from `resolvers.live` so that the app can import it before the schema.
"""

from __future__ import annotations

from datetime import UTC, datetime

from auth.identity import identify
from auth.tokens import InvalidToken
from resolvers.context import Context


async def authenticate(context: Context) -> None:
    """(Re)identify the caller; a bad token leaves no identity and says why."""
    try:
        context.identity = await identify(
            _authorization(context),
            context.sessions,
            context.jwt_secret,
            current_time(context),
            context.keys,
            context.jwt_max_lifetime,
        )
        context.auth_error = None
    except InvalidToken as error:
        context.identity, context.auth_error = None, str(error)


def current_time(context: Context) -> datetime:
    return context.clock() if context.clock is not None else datetime.now(UTC)


def _authorization(context: Context) -> str | None:
    for key, value in (context.connection_params or {}).items():
        if key.lower() == "authorization" and isinstance(value, str):
            return value
    headers = getattr(context.request, "headers", None)
    return None if headers is None else headers.get("authorization")
