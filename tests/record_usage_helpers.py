"""recordUsage over HTTP with two organizations on one capped plan, and the rows a
decision wrote: shared by `tests/resolvers/test_record_usage_over_http.py` and
`tests/system/test_accepted_ranges.py`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from rules.enums import ApiKeyKind
from store.api_keys import create_api_key
from store.db import create_engine, session_factory
from store.models import (
    CreditCycleSpend,
    CreditDraw,
    UsageCycleRollup,
    UsageEvent,
    UsageRollup,
)
from tests import factories as f
from tests.gateway_client import Gateway, operation

NOW = datetime.now(UTC)
ANCHOR = NOW - timedelta(days=1)


async def seed(url: str) -> tuple[str, str]:
    """`org_a` and `org_b` on `pro` (enrichments capped at 3, 1 credit per unit, 100
    MONTHLY credits); returns (a SERVICE key of org_a, an operator key)."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await f.add_all(
                session,
                f.organization("org_a"),
                f.organization("org_b"),
                f.plan("pro", monthly_credits=Decimal(100)),
                f.limit("pro", "enrichments", "3", credits_per_unit=Decimal(1)),
                f.subscription("org_a", "pro", anchor=ANCHOR),
                f.subscription("org_b", "pro", anchor=ANCHOR),
            )
            _, service = await create_api_key(
                session, ApiKeyKind.SERVICE, "metering", ("org_a",), NOW
            )
            _, operator = await create_api_key(
                session, ApiKeyKind.OPERATOR, "operator", (), NOW
            )
            await session.commit()
    finally:
        await engine.dispose()
    return service, operator


def ev(key: str, org: str = "org_a", quantity: Any = "1", **more: Any) -> Any:
    return {
        "idempotencyKey": key,
        "organizationId": org,
        "meter": "enrichments",
        "quantity": quantity,
        **more,
    }


async def send(api: Gateway, token: str, *events: Any) -> dict[str, Any]:
    return await api.execute(
        operation("record_usage"), {"events": list(events)}, token=token
    )


async def rows_written(url: str) -> dict[str, int]:
    """Rows of every table a decision writes, per organization where it has one."""
    engine = create_engine(url)
    found: dict[str, int] = {}
    try:
        async with session_factory(engine)() as session:
            for model in (
                UsageEvent,
                UsageRollup,
                UsageCycleRollup,
                CreditDraw,
                CreditCycleSpend,
            ):
                rows = (
                    await session.execute(
                        select(model.organization_id, func.count()).group_by(
                            model.organization_id
                        )
                    )
                ).all()
                for org, count in rows:
                    found[f"{model.__tablename__}:{org}"] = int(count)
    finally:
        await engine.dispose()
    return found


NOTHING: dict[str, int] = {}
