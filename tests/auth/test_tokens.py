"""User tokens are verified once per process, yet judged at every use: a token that
verified earlier still expires, and verifies only with the secret it was signed
with. A token must carry `exp`, and live at most the gateway's cap (exp − iat, or
exp − now without iat)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from auth.tokens import InvalidToken, issue_jwt, user_id_from_jwt
from tests.gateway_client import error_codes, gateway, user_token

SECRET = "a-secret-that-is-long-enough-for-hs256-tokens"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_a_token_verified_before_it_expired_is_refused_after() -> None:
    token = issue_jwt("usr_1", SECRET, NOW + timedelta(minutes=5))

    assert user_id_from_jwt(token, SECRET, NOW) == "usr_1"
    with pytest.raises(InvalidToken, match="expired"):
        user_id_from_jwt(token, SECRET, NOW + timedelta(minutes=5))


def test_a_verified_token_is_refused_under_another_secret() -> None:
    token = issue_jwt("usr_1", SECRET, NOW + timedelta(minutes=5))
    assert user_id_from_jwt(token, SECRET, NOW) == "usr_1"

    with pytest.raises(InvalidToken, match="signature"):
        user_id_from_jwt(token, SECRET + "-rotated", NOW)


def test_a_forged_token_is_refused_every_time() -> None:
    forged = issue_jwt("usr_1", "another-secret-long-enough-for-hs256", NOW)

    for _ in range(2):
        with pytest.raises(InvalidToken, match="signature"):
            user_id_from_jwt(forged, SECRET, NOW)


def _signed(claims: dict[str, object]) -> str:
    return jwt.encode(claims, SECRET, algorithm="HS256")


def test_a_token_without_exp_is_refused() -> None:
    forever = _signed({"sub": "usr_1", "iat": int(NOW.timestamp())})

    for _ in range(2):  # refused again once its signature was seen
        with pytest.raises(InvalidToken, match="no exp"):
            user_id_from_jwt(forever, SECRET, NOW)


def test_a_token_living_longer_than_the_cap_is_refused() -> None:
    day = issue_jwt("usr_1", SECRET, NOW + timedelta(hours=24), issued_at=NOW)
    longer = issue_jwt("usr_1", SECRET, NOW + timedelta(hours=25), issued_at=NOW)

    assert user_id_from_jwt(day, SECRET, NOW) == "usr_1"
    with pytest.raises(InvalidToken, match="at most 86400 s"):
        user_id_from_jwt(longer, SECRET, NOW)
    # The lifetime is exp − iat: still too long an hour before it expires.
    with pytest.raises(InvalidToken, match="lives longer"):
        user_id_from_jwt(longer, SECRET, NOW + timedelta(hours=24))


def test_without_iat_the_lifetime_is_measured_from_now() -> None:
    token = _signed(
        {"sub": "usr_1", "exp": int((NOW + timedelta(hours=30)).timestamp())}
    )

    with pytest.raises(InvalidToken, match="lives longer"):
        user_id_from_jwt(token, SECRET, NOW)
    assert user_id_from_jwt(token, SECRET, NOW + timedelta(hours=7)) == "usr_1"


def test_an_iat_in_the_future_does_not_stretch_the_cap() -> None:
    later = NOW + timedelta(days=10)
    token = issue_jwt("usr_1", SECRET, later + timedelta(hours=1), issued_at=later)

    with pytest.raises(InvalidToken, match="lives longer"):
        user_id_from_jwt(token, SECRET, NOW)


def test_the_cap_holds_for_a_token_verified_under_a_longer_one() -> None:
    week = issue_jwt("usr_1", SECRET, NOW + timedelta(days=7), issued_at=NOW)

    assert user_id_from_jwt(week, SECRET, NOW, timedelta(days=7)) == "usr_1"
    with pytest.raises(InvalidToken, match="at most 3600 s"):
        user_id_from_jwt(week, SECRET, NOW, timedelta(hours=1))


def test_a_non_numeric_exp_or_iat_is_refused() -> None:
    bad: list[dict[str, object]] = [
        {"sub": "usr_1", "exp": "tomorrow"},
        {"sub": "usr_1", "exp": True},
        {"sub": "usr_1", "exp": int(NOW.timestamp()) + 60, "iat": "now"},
    ]
    for claims in bad:
        with pytest.raises(InvalidToken, match="not a number"):
            user_id_from_jwt(_signed(claims), SECRET, NOW)


async def test_the_gateway_caps_token_lifetimes_by_its_setting(sqlite_url: str) -> None:
    half_hour = user_token("usr_1", expires_in=timedelta(minutes=30))
    two_hours = user_token("usr_1", expires_in=timedelta(hours=2))
    async with gateway(sqlite_url, jwt_max_lifetime_seconds=3600) as api:
        accepted = await api.execute("{ viewer { id } }", token=half_hour)
        refused = await api.execute("{ viewer { id } }", token=two_hours)

    assert accepted["data"] == {"viewer": {"id": "usr_1"}}
    assert error_codes(refused) == ["UNAUTHENTICATED"]
    assert "at most 3600 s" in refused["errors"][0]["message"]
