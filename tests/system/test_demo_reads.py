"""Every field of the five read operations returns real data on the demo."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway import demo
from rules.enums import ApiKeyKind
from store.api_keys import create_api_key
from store.db import create_engine, session_factory
from tests.gateway_client import gateway, operation, user_token

NOW = datetime.now(UTC)


def _nulls(value: Any, path: str = "") -> list[str]:
    """Paths of null leaves: fields that returned nothing at all."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            for found in _nulls(item, f"{path}.{key}")
        ]
    if isinstance(value, list):
        return [
            found
            for index, item in enumerate(value)
            for found in _nulls(item, f"{path}[{index}]")
        ]
    return []


async def test_the_five_read_operations_answer_every_demo_organization(
    sqlite_url: str,
) -> None:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await demo.load_demo(sessions, NOW)
    async with sessions() as session:
        _, operator = await create_api_key(session, ApiKeyKind.OPERATOR, "o", (), NOW)
        await session.commit()
    await engine.dispose()
    reads: dict[str, dict[str, str]] = {
        "usage_page": {},
        "members": {},
        "usage_chart": {"range": "LAST_30_DAYS"},
    }
    async with gateway(sqlite_url) as api:
        for organization in demo.DEMO_ORGANIZATIONS:
            for name, extra in reads.items():
                body = await api.execute(
                    operation(name), {"org": organization, **extra}, token=operator
                )
                assert "errors" not in body, (organization, name, body.get("errors"))
                assert body["data"]["organization"] is not None
        partner = await api.execute(
            operation("partner_billing_state"),
            {"ids": list(demo.DEMO_ORGANIZATIONS)},
            token=operator,
        )
        mobile = await api.execute(
            operation("mobile_summary"), token=user_token(demo.DEMO_MEMBER_USER)
        )
        page = await api.execute(
            operation("usage_page"),
            {"org": demo.DEMO_ORGANIZATION},
            token=user_token(demo.DEMO_ADMIN_USER),
        )

    assert "errors" not in partner
    assert len(partner["data"]["organizations"]) == len(demo.DEMO_ORGANIZATIONS)
    assert "errors" not in mobile
    summary = mobile["data"]["viewer"]["organizations"][0]
    assert summary["credits"]["unit"] == "CREDITS"
    assert summary["meters"]
    assert summary["myUsage"]["meters"]
    organization = page["data"]["organization"]
    # The admin's page of the CRM demo is complete: only honest nulls remain (no
    # price on a yearly plan, no expiry on the monthly pool, unlimited meters, ...).
    for field in (
        "plan",
        "cycle",
        "seats",
        "meters",
        "credits",
        "usageByOperation",
        "aiBudget",
        "myUsage",
        "members",
    ):
        assert organization[field] is not None, field
    assert organization["aiBudget"]["categories"]
    assert organization["credits"]["pools"][0]["kind"] == "MONTHLY"
