"""Daily allowance snapshots, computed by hand over 24 h and 48 h windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from rules.enums import AllowanceStatus, PricingCoverage
from store.allowance import compute_snapshot, latest_snapshots, sync_daily_allowance
from store.db import SessionFactory
from store.models import AllowanceSnapshot
from tests import factories as f

AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def _org_with_allowance(sessions: SessionFactory, units: str | None) -> None:
    async with sessions() as session:
        await f.add_all(
            session,
            f.organization("org_a"),
            f.plan(
                "pro", daily_allowance_units=None if units is None else Decimal(units)
            ),
            f.subscription("org_a", "pro"),
        )


def _ai(cost: str | None, at: datetime, **fields: object) -> object:
    return f.event(
        "org_a",
        "ai_tokens",
        "100",
        at,
        cost_usd=None if cost is None else Decimal(cost),
        unpriced=cost is None,
        model="m",
        **fields,
    )


async def test_snapshot_within_limit_counts_cost_units(
    sessions: SessionFactory,
) -> None:
    await _org_with_allowance(sessions, "1000")
    async with sessions() as session:
        await f.add_all(
            session,
            _ai("0.250", AT - timedelta(hours=1)),
            _ai("0.5", AT - timedelta(hours=23)),
        )
        snapshot = await compute_snapshot(session, "org_a", AT)

    assert snapshot.used_units == Decimal("750")
    assert snapshot.limit_units == Decimal("1000")
    assert snapshot.status is AllowanceStatus.WITHIN_LIMIT
    assert snapshot.coverage is PricingCoverage.COMPLETE
    assert snapshot.unpriced_event_count == 0


async def test_snapshot_over_limit_when_used_passes_it(
    sessions: SessionFactory,
) -> None:
    await _org_with_allowance(sessions, "500")
    async with sessions() as session:
        await f.add_all(session, _ai("0.500001", AT - timedelta(minutes=5)))
        snapshot = await compute_snapshot(session, "org_a", AT)

    assert snapshot.used_units == Decimal("500.001")
    assert snapshot.status is AllowanceStatus.OVER_LIMIT


async def test_snapshot_exactly_at_limit_is_within(sessions: SessionFactory) -> None:
    await _org_with_allowance(sessions, "500")
    async with sessions() as session:
        await f.add_all(session, _ai("0.5", AT - timedelta(minutes=5)))
        snapshot = await compute_snapshot(session, "org_a", AT)

    assert snapshot.status is AllowanceStatus.WITHIN_LIMIT


async def test_snapshot_without_plan_allowance_is_unlimited(
    sessions: SessionFactory,
) -> None:
    await _org_with_allowance(sessions, None)
    async with sessions() as session:
        await f.add_all(session, _ai("3", AT - timedelta(minutes=5)))
        snapshot = await compute_snapshot(session, "org_a", AT)

    assert snapshot.status is AllowanceStatus.UNLIMITED
    assert snapshot.limit_units is None


async def test_event_exactly_24_hours_before_is_outside_the_window(
    sessions: SessionFactory,
) -> None:
    await _org_with_allowance(sessions, "1000")
    async with sessions() as session:
        await f.add_all(
            session,
            _ai("0.1", AT - timedelta(hours=24)),
            _ai("0.2", AT - timedelta(hours=24) + timedelta(microseconds=1)),
            _ai("0.4", AT),
        )
        snapshot = await compute_snapshot(session, "org_a", AT)

    assert snapshot.used_units == Decimal("600")
    assert (snapshot.window_start, snapshot.window_end) == (
        AT - timedelta(hours=24),
        AT,
    )


async def test_unpriced_events_make_coverage_partial_with_their_count(
    sessions: SessionFactory,
) -> None:
    await _org_with_allowance(sessions, "1000")
    async with sessions() as session:
        await f.add_all(
            session,
            _ai(None, AT - timedelta(hours=1)),
            _ai(None, AT - timedelta(hours=2)),
            _ai("0.1", AT - timedelta(hours=3)),
        )
        snapshot = await compute_snapshot(session, "org_a", AT)

    assert snapshot.coverage is PricingCoverage.PARTIAL
    assert snapshot.unpriced_event_count == 2
    assert snapshot.used_units == Decimal("100")


async def test_top_definitions_keep_25_of_30_relative_to_the_most_expensive(
    sessions: SessionFactory,
) -> None:
    await _org_with_allowance(sessions, "1000")
    # Definition d01 costs $30, d02 $29, ... d30 $1, all within 48 hours.
    rows = [
        _ai(
            str(31 - n),
            AT - timedelta(hours=47),
            definition_id=f"d{n:02d}",
            definition_name=f"Definition {n}",
        )
        for n in range(1, 31)
    ]
    async with sessions() as session:
        await f.add_all(session, *rows)
        snapshot = await compute_snapshot(session, "org_a", AT)

    top = snapshot.top_definitions
    assert len(top) == 25
    assert top[0] == {
        "definitionId": "d01",
        "name": "Definition 1",
        "relativeCostPercent": 100,
    }
    # d02: 29 / 30 = 96.67 % -> 97; d25: 6 / 30 = 20 %.
    assert top[1]["relativeCostPercent"] == 97
    assert top[24] == {
        "definitionId": "d25",
        "name": "Definition 25",
        "relativeCostPercent": 20,
    }
    # The 24-hour usage window does not include these 47-hour-old events.
    assert snapshot.used_units == Decimal(0)


async def test_definitions_older_than_48_hours_are_not_ranked(
    sessions: SessionFactory,
) -> None:
    await _org_with_allowance(sessions, "1000")
    async with sessions() as session:
        await f.add_all(
            session,
            _ai("5", AT - timedelta(hours=48), definition_id="old"),
            _ai("1", AT - timedelta(hours=1), definition_id="new"),
        )
        snapshot = await compute_snapshot(session, "org_a", AT)

    assert [entry["definitionId"] for entry in snapshot.top_definitions] == ["new"]


async def test_second_sync_at_the_same_instant_keeps_one_snapshot(
    sessions: SessionFactory,
) -> None:
    await _org_with_allowance(sessions, "1000")
    async with sessions() as session:
        _, first_created = await sync_daily_allowance(session, "org_a", AT)
    async with sessions() as session:
        _, second_created = await sync_daily_allowance(session, "org_a", AT)
        stored = await session.scalar(
            select(func.count()).select_from(AllowanceSnapshot)
        )

    assert (first_created, second_created, stored) == (True, False, 1)


async def test_a_sync_again_counts_events_that_arrived_late_in_the_window(
    sessions: SessionFactory,
) -> None:
    await _org_with_allowance(sessions, "1000")
    async with sessions() as session:
        await f.add_all(session, _ai("1", AT - timedelta(hours=2)))
    async with sessions() as session:
        first, _ = await sync_daily_allowance(session, "org_a", AT)
        first_used = first.used_units
    async with sessions() as session:
        # Late: occurred inside the window, arrived after the first sync.
        await f.add_all(session, _ai("2", AT - timedelta(hours=1)))
    async with sessions() as session:
        again, created = await sync_daily_allowance(session, "org_a", AT)
        stored = await session.scalar(
            select(func.count()).select_from(AllowanceSnapshot)
        )

    assert created is False
    assert stored == 1
    assert again.used_units == 3 * first_used


async def test_latest_snapshot_is_the_newest_at_or_before_the_instant(
    sessions: SessionFactory,
) -> None:
    await _org_with_allowance(sessions, "1000")
    for hours in (0, 1, 2):
        async with sessions() as session:
            await sync_daily_allowance(session, "org_a", AT + timedelta(hours=hours))
    async with sessions() as session:
        latest = await latest_snapshots(
            session, ["org_a"], AT + timedelta(hours=1, minutes=30)
        )

    assert latest["org_a"].synced_at == AT + timedelta(hours=1)
