"""User tokens are verified once per process, yet judged at every use: a token that
verified earlier still expires, and verifies only with the secret it was signed
with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auth.tokens import InvalidToken, issue_jwt, user_id_from_jwt

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
