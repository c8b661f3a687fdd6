"""Bearer tokens: HS256 JWTs for users, `ugk_` API keys for machines.

Keys are random 256-bit secrets; only their SHA-256 is stored (a slow hash buys nothing
for secrets with this much entropy, and lookups stay a single indexed equality).
"""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from datetime import datetime
from typing import Any

import jwt

API_KEY_PREFIX = "ugk_"


class InvalidToken(Exception):
    """The bearer token cannot be trusted; the message is safe to show the caller."""


def new_api_key_secret() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def user_id_from_jwt(token: str, secret: str, now: datetime) -> str:
    """The `sub` of a valid token; `exp` is honoured against `now`."""
    if not secret:
        raise InvalidToken("user tokens are not accepted: no JWT secret is configured")
    claims = _verified_claims(token, secret)
    expires = claims.get("exp")
    if expires is not None:
        if not isinstance(expires, int | float):
            raise InvalidToken("the token's exp is not a number")
        if now.timestamp() >= expires:
            raise InvalidToken("the token has expired")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("the token has no subject")
    return subject


_VERIFIED: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
_VERIFIED_ENTRIES = 4096


def _verified_claims(token: str, secret: str) -> dict[str, Any]:
    """The claims of a token whose signature holds, verified once per process (the
    same token and secret verify the same way; `exp` is checked at every use)."""
    key = (token, secret)
    claims = _VERIFIED.get(key)
    if claims is not None:
        _VERIFIED.move_to_end(key)
        return claims
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["sub"], "verify_exp": False},
        )
    except jwt.InvalidTokenError:
        raise InvalidToken("the token is malformed or its signature is wrong") from None
    _VERIFIED[key] = claims
    if len(_VERIFIED) > _VERIFIED_ENTRIES:
        _VERIFIED.popitem(last=False)
    return claims


def issue_jwt(user_id: str, secret: str, expires_at: datetime) -> str:
    """A user token, for the demo's printed headers and for tests."""
    return jwt.encode(
        {"sub": user_id, "exp": int(expires_at.timestamp())}, secret, algorithm="HS256"
    )
