"""The INTROSPECTION setting: public, authenticated callers only, or off."""

from __future__ import annotations

from graphql import get_introspection_query

from gateway.settings import load_settings
from tests.gateway_client import error_codes, gateway, user_token

QUERY = get_introspection_query(descriptions=True)
TOKEN = user_token("u1")


def test_introspection_is_for_authenticated_callers_by_default() -> None:
    assert load_settings().introspection == "authenticated"


async def test_public_introspection_answers_anyone(sqlite_url: str) -> None:
    async with gateway(sqlite_url, introspection="public") as api:
        body = await api.execute(QUERY)

    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_authenticated_introspection_needs_a_token(sqlite_url: str) -> None:
    async with gateway(sqlite_url, introspection="authenticated") as api:
        anonymous = await api.execute(QUERY)
        signed_in = await api.execute(QUERY, token=TOKEN)
        anonymous_again = await api.execute(QUERY)
        through_a_fragment = await api.execute(
            '{ ...T } fragment T on Query { __type(name: "Query") { name } }'
        )
        typename = await api.execute("{ __typename }")

    assert anonymous["data"] is None
    assert error_codes(anonymous) == ["INTROSPECTION_DISABLED"]
    assert signed_in["data"]["__schema"]["queryType"]["name"] == "Query"
    # The validation cached for the signed-in caller does not answer the anonymous.
    assert error_codes(anonymous_again) == ["INTROSPECTION_DISABLED"]
    assert error_codes(through_a_fragment) == ["INTROSPECTION_DISABLED"]
    assert typename["data"] == {"__typename": "Query"}


async def test_introspection_off_refuses_everyone(sqlite_url: str) -> None:
    async with gateway(sqlite_url, introspection="off") as api:
        body = await api.execute(QUERY, token=TOKEN)

    assert error_codes(body) == ["INTROSPECTION_DISABLED"]
    assert body["errors"][0]["message"] == "introspection is disabled"
