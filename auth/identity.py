"""Who is asking: resolved once per request from the Authorization header."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from auth.tokens import MAX_TOKEN_LIFETIME, InvalidToken, is_api_key, user_id_from_jwt
from rules.enums import ApiKeyKind, ViewerKind
from store.api_keys import ActiveKeys, find_active_key
from store.db import SessionFactory, read_without_transaction


@dataclass(frozen=True)
class Identity:
    """A signed-in user, or an API key with the organizations it lists."""

    kind: ViewerKind
    id: str
    key_organization_ids: tuple[str, ...] = field(default=())
    key_name: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.kind is ViewerKind.OPERATOR

    @property
    def is_user(self) -> bool:
        return self.kind is ViewerKind.USER


_KEY_VIEWER = {
    ApiKeyKind.OPERATOR: ViewerKind.OPERATOR,
    ApiKeyKind.SERVICE: ViewerKind.SERVICE,
    ApiKeyKind.PARTNER: ViewerKind.PARTNER,
}


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("the Authorization header must be 'Bearer <token>'")
    return token.strip()


async def identify(
    authorization: str | None,
    sessions: SessionFactory,
    jwt_secret: str,
    now: datetime,
    keys: ActiveKeys | None = None,
    max_token_lifetime: timedelta = MAX_TOKEN_LIFETIME,
) -> Identity | None:
    """The caller, or None without a header; raises InvalidToken for a bad one.
    `keys`: the process's known keys (with Redis), else each key is looked up."""
    token = bearer_token(authorization)
    if token is None:
        return None
    if is_api_key(token):
        if keys is not None:
            key = await keys.find(sessions, token, now)
        else:
            async with sessions() as session:
                await read_without_transaction(session)
                key = await find_active_key(session, token, now)
        if key is None:
            raise InvalidToken("the API key is unknown or revoked")
        return Identity(_KEY_VIEWER[key.kind], key.id, key.organization_ids, key.name)
    return Identity(
        ViewerKind.USER,
        user_id_from_jwt(token, jwt_secret, now, max_token_lifetime),
    )
