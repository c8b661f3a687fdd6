"""Pages read whole cycles from `usage_cycle_rollups`, and never a stale one.

Usage is recorded through the real write path, which keeps per-cycle rows beside the
hourly ones; a page pinned at the end of a cycle reads the cycle's rows (no hourly
scan), and moving the subscription's anchor after usage was recorded makes the
pages read hours again until cycles start after the move. Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from rules.enums import PlanTier, Role, UsageStatus
from store import provisioning as p
from store.db import SessionFactory, StatementCounter
from store.recording import UsageEventSpec, record_usage
from tests.gateway_client import Gateway, gateway, user_token

ADMIN = "admin"
SETUP = datetime(2025, 12, 1, tzinfo=UTC)
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
PAGE = """
query Page($at: DateTime) {
  organization(id: "org_a", at: $at) {
    cycle { start end }
    meters(keys: ["enrichments", "contacts"]) {
      key used trend(months: 3) { start value }
    }
    usageByOperation { operationType units }
  }
}
"""


async def _provision(sessions: SessionFactory) -> None:
    async with sessions() as session, session.begin():
        await p.upsert_plan(
            session,
            p.PlanSpec(
                key="pro",
                name="Pro",
                tier=PlanTier.PRO,
                limits=(
                    p.PlanLimitSpec(meter="enrichments", limit=Decimal(1000)),
                    p.PlanLimitSpec(meter="sms", free_units=Decimal(100)),
                ),
            ),
        )
        await p.upsert_organization(
            session, p.OrganizationSpec(id="org_a", name="A"), SETUP
        )
        await p.set_subscription(
            session, p.SubscriptionSpec("org_a", "pro", 5, anchor=JAN_1), SETUP
        )
        await p.upsert_member(
            session,
            p.MemberSpec("org_a", ADMIN, "admin@example.com", "Admin", role=Role.ADMIN),
            SETUP,
        )


async def _record(sessions: SessionFactory, *events: tuple[str, str, datetime]) -> None:
    specs = [
        UsageEventSpec(
            idempotency_key=f"{meter}-{at.isoformat()}",
            organization_id="org_a",
            meter=meter,
            quantity=Decimal(quantity),
            occurred_at=at,
        )
        for meter, quantity, at in events
    ]
    now = max(at for _, _, at in events) + timedelta(minutes=1)
    outcomes = await record_usage(sessions, specs, now)
    assert {o.status for o in outcomes} == {UsageStatus.ACCEPTED}


async def _page(api: Gateway, at: datetime) -> tuple[dict[str, Any], list[str]]:
    assert api.app is not None
    with StatementCounter(api.app.state.engine) as counter:
        body = await api.execute(PAGE, {"at": at.isoformat()}, token=user_token(ADMIN))
    assert "errors" not in body, body["errors"]
    return body["data"]["organization"], counter.statements


def _trend(data: dict[str, Any], key: str) -> list[str]:
    [meter] = [m for m in data["meters"] if m["key"] == key]
    return [point["value"] for point in meter["trend"]]


def _reads(statements: list[str], table: str) -> bool:
    return any(f"FROM {table}" in " ".join(s.split()) for s in statements)


USAGE = (
    ("enrichments", "5", datetime(2026, 1, 20, 10, 30, tzinfo=UTC)),
    ("enrichments", "7", datetime(2026, 2, 5, 8, 15, tzinfo=UTC)),
    ("enrichments", "11", datetime(2026, 2, 25, 23, 59, tzinfo=UTC)),
    ("contacts", "40", datetime(2026, 1, 3, tzinfo=UTC)),
    ("contacts", "-15", datetime(2026, 2, 26, 12, tzinfo=UTC)),
    ("sms", "3", datetime(2026, 2, 10, 9, 45, tzinfo=UTC)),
)


async def test_a_page_at_the_end_of_a_cycle_reads_its_cycle_rows(
    database_url: str, sessions: SessionFactory
) -> None:
    await _provision(sessions)
    await _record(sessions, *USAGE)
    end_of_february = datetime(2026, 2, 28, 23, 59, tzinfo=UTC)
    async with gateway(database_url) as api:
        data, statements = await _page(api, end_of_february)

    assert _reads(statements, "usage_cycle_rollups")
    meters = {m["key"]: m["used"] for m in data["meters"]}
    assert meters == {"enrichments": "18", "contacts": "25"}
    assert data["usageByOperation"] == [{"operationType": "sms", "units": "3"}]
    assert _trend(data, "enrichments") == ["0", "5", "18"]


async def test_moving_the_anchor_after_usage_reads_hours_for_earlier_cycles(
    database_url: str, sessions: SessionFactory
) -> None:
    await _provision(sessions)
    await _record(sessions, *USAGE)
    moved = datetime(2026, 2, 28, tzinfo=UTC)
    async with sessions() as session, session.begin():
        # Cycles now start on the 10th: rows kept per calendar month no longer fit.
        await p.set_subscription(
            session,
            p.SubscriptionSpec(
                "org_a", "pro", 5, anchor=datetime(2026, 1, 10, tzinfo=UTC)
            ),
            moved,
        )
    async with gateway(database_url) as api:
        data, statements = await _page(api, moved)

    assert data["cycle"]["start"] == "2026-02-10T00:00:00+00:00"
    assert not _reads(statements, "usage_cycle_rollups")
    meters = {m["key"]: m["used"] for m in data["meters"]}
    # Since Feb 10: 11 enrichments; contacts are cumulative: 40 - 15.
    assert meters == {"enrichments": "11", "contacts": "25"}
    assert data["usageByOperation"] == [{"operationType": "sms", "units": "3"}]
    # Cycles from Dec 10, Jan 10 and Feb 10.
    assert _trend(data, "enrichments") == ["0", "12", "11"]


async def test_cycles_starting_after_the_move_read_their_rows_again(
    database_url: str, sessions: SessionFactory
) -> None:
    await _provision(sessions)
    await _record(sessions, *USAGE)
    async with sessions() as session, session.begin():
        await p.set_subscription(
            session,
            p.SubscriptionSpec(
                "org_a", "pro", 5, anchor=datetime(2026, 1, 10, tzinfo=UTC)
            ),
            datetime(2026, 2, 28, tzinfo=UTC),
        )
    await _record(
        sessions,
        ("enrichments", "2", datetime(2026, 3, 12, tzinfo=UTC)),
        ("enrichments", "4", datetime(2026, 4, 1, tzinfo=UTC)),
    )
    async with gateway(database_url) as api:
        data, statements = await _page(api, datetime(2026, 4, 9, 23, tzinfo=UTC))

    assert data["cycle"]["start"] == "2026-03-10T00:00:00+00:00"
    assert _reads(statements, "usage_cycle_rollups")
    assert {m["key"]: m["used"] for m in data["meters"]}["enrichments"] == "6"
