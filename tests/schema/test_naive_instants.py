"""A DateTime argument without an offset is the caller's mistake (BAD_USER_INPUT),
never INTERNAL: `organization(at:)`, `organizations(at:)`, `syncDailyAllowance(at:)`
and `analytics(start:, end:)` once computed cycles and windows from it and failed
(found by tests/system/test_fuzz.py)."""

from __future__ import annotations

import re

import pytest

from tests.factories import subscribed_with_operator
from tests.gateway_client import error_codes, gateway

NAIVE = "2026-01-15T10:00:00"
AWARE = "2026-01-15T10:00:00+00:00"
DOCUMENTS = {
    "organization": "query ($at: DateTime) "
    '{ organization(id: "org_a", at: $at) { cycle { start } meters { key } } }',
    "organizations": "query ($at: DateTime) "
    '{ organizations(ids: ["org_a"], at: $at) { cycle { start } credits { spent } } }',
    "syncDailyAllowance": "mutation ($at: DateTime) "
    '{ syncDailyAllowance(organizationId: "org_a", at: $at) { userErrors { code } } }',
    "analytics": "query ($at: DateTime!) "
    '{ organization(id: "org_a") { analytics(start: "2026-01-01T00:00:00Z", '
    "end: $at) { workspaceRuntimeHours } } }",
}


@pytest.mark.parametrize("field", DOCUMENTS)
async def test_a_naive_instant_is_refused_and_one_with_an_offset_answers(
    database_url: str, field: str
) -> None:
    operator = await subscribed_with_operator(database_url, "org_a")
    async with gateway(database_url) as api:
        naive = await api.execute(DOCUMENTS[field], {"at": NAIVE}, token=operator)
        aware = await api.execute(DOCUMENTS[field], {"at": AWARE}, token=operator)
        inline = re.sub(r"\(\$at: DateTime!?\) ", "", DOCUMENTS[field])
        literal = await api.execute(
            inline.replace("$at", f'"{NAIVE}"'), {}, token=operator
        )

    assert error_codes(naive) == ["BAD_USER_INPUT"], naive
    assert "must carry a time zone" in naive["errors"][0]["message"]
    assert error_codes(literal) == ["BAD_USER_INPUT"], literal
    assert "must carry a time zone" in literal["errors"][0]["message"]
    assert "errors" not in aware, aware
