"""Bearer tokens: HS256 JWTs for users, `ugk_` API keys for machines.

Keys are random 256-bit secrets; only their SHA-256 is stored (a slow hash buys nothing
for secrets with this much entropy, and lookups stay a single indexed equality).

A user token must say when it expires (`exp`), and may live at most `max_lifetime`
(the setting `JWT_MAX_LIFETIME_SECONDS`, 24 h by default): `exp` − `iat`, measured
from now instead when there is no `iat` or it lies in the future, so a token can
never be good for longer than the cap from the moment it is shown. A stolen token
without `exp` would otherwise be good forever. Signatures are verified once per
process; these rules are judged at every use, so the cache cannot outlive them.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any, TypeGuard

import jwt

from store.api_keys import API_KEY_PREFIX

MAX_TOKEN_LIFETIME = timedelta(hours=24)
"""The default of `Settings.jwt_max_lifetime_seconds`."""


class InvalidToken(Exception):
    """The bearer token cannot be trusted; the message is safe to show the caller."""


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def user_id_from_jwt(
    token: str,
    secret: str,
    now: datetime,
    max_lifetime: timedelta = MAX_TOKEN_LIFETIME,
) -> str:
    """The `sub` of a valid token: `exp` required and honoured against `now`, its
    lifetime at most `max_lifetime`."""
    if not secret:
        raise InvalidToken("user tokens are not accepted: no JWT secret is configured")
    claims = _verified_claims(token, secret)
    expires = claims.get("exp")
    if not _is_number(expires):
        raise InvalidToken("the token's exp is not a number")
    issued = claims.get("iat", None)
    if issued is not None and not _is_number(issued):
        raise InvalidToken("the token's iat is not a number")
    instant = now.timestamp()
    if instant >= expires:
        raise InvalidToken("the token has expired")
    start = instant if issued is None else min(issued, instant)
    if expires - start > max_lifetime.total_seconds():
        raise InvalidToken(
            "the token lives longer than this gateway accepts (at most "
            f"{int(max_lifetime.total_seconds())} s from iat to exp)"
        )
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("the token has no subject")
    return subject


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


_VERIFIED: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
_VERIFIED_ENTRIES = 4096


def _verified_claims(token: str, secret: str) -> dict[str, Any]:
    """The claims of a token whose signature holds and which has `sub` and `exp`,
    verified once per process (the same token and secret verify the same way;
    `exp`, `iat` and the lifetime are judged at every use)."""
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
            options={
                "require": ["sub", "exp"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.MissingRequiredClaimError as error:
        raise InvalidToken(f"the token has no {error.claim} claim") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("the token is malformed or its signature is wrong") from None
    _VERIFIED[key] = claims
    if len(_VERIFIED) > _VERIFIED_ENTRIES:
        _VERIFIED.popitem(last=False)
    return claims


def issue_jwt(
    user_id: str, secret: str, expires_at: datetime, issued_at: datetime | None = None
) -> str:
    """A user token, for the demo's printed headers and for tests. `iat`: now by
    default (the lifetime cap measures from it)."""
    issued = datetime.now(expires_at.tzinfo) if issued_at is None else issued_at
    return jwt.encode(
        {
            "sub": user_id,
            "iat": int(issued.timestamp()),
            "exp": int(expires_at.timestamp()),
        },
        secret,
        algorithm="HS256",
    )
