"""Hourly rollups: what each event adds, and exact sums over any [start, end)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rules.cycles import UNSUBSCRIBED_ANCHOR, cycle_for
from rules.enums import AiFeature, UsageSource
from store.db import SessionFactory, StatementCounter
from store.models import UsageCycleRollup, UsageRollup
from store.rollup_sums import sum_rollups, sum_rollups_many
from store.rollups import RollupRequest, Totals, add_to_rollups, hour_of
from tests.store.rollup_events import (
    ORG,
    T0,
    by_hand,
    event,
    record,
)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def totals(
    quantity: str,
    credits: str = "0",
    cost_usd: str = "0",
    free_units_used: str = "0",
    events: int = 1,
    unpriced_events: int = 0,
) -> Totals:
    return Totals(
        Decimal(quantity),
        Decimal(credits),
        Decimal(cost_usd),
        Decimal(free_units_used),
        events,
        unpriced_events,
    )


async def test_hour_of_truncates_to_the_utc_hour() -> None:
    from datetime import timezone

    paris = timezone(timedelta(hours=1))
    assert hour_of(datetime(2025, 3, 10, 13, 59, 59, 999999, tzinfo=paris)) == T0
    assert hour_of(T0) == T0


async def test_events_of_one_hour_share_one_row_per_dimension_key(
    sessions: SessionFactory,
) -> None:
    await record(
        sessions,
        [
            event("emails_sent", "2", at(0.1), credits="1", user_id="ann"),
            event("emails_sent", "3", at(0.9), credits="2", user_id="bob"),
            event("emails_sent", "4", at(0.5), source=UsageSource.WEB, user_id="ann"),
        ],
    )
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    UsageRollup.dimension,
                    UsageRollup.dimension_key,
                    UsageRollup.quantity,
                    UsageRollup.credits,
                    UsageRollup.events,
                ).order_by(UsageRollup.dimension, UsageRollup.dimension_key)
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("source", "API", Decimal(5), Decimal(3), 2),
        ("source", "WEB", Decimal(4), Decimal(0), 1),
        ("total", "", Decimal(9), Decimal(3), 3),
        ("user", "ann", Decimal(6), Decimal(1), 2),
        ("user", "bob", Decimal(3), Decimal(2), 1),
    ]


async def test_a_second_batch_adds_to_existing_rows(sessions: SessionFactory) -> None:
    await record(sessions, [event("api_calls", "1.5", at(0.2), credits="0.25")])
    await record(sessions, [event("api_calls", "2.25", at(0.7), credits="0.5")])
    async with sessions() as session:
        row = (
            await session.execute(
                select(UsageRollup).where(UsageRollup.dimension == "total")
            )
        ).scalar_one()
    assert (row.hour, row.quantity, row.credits, row.events) == (
        T0,
        Decimal("3.75"),
        Decimal("0.75"),
        2,
    )


async def test_ai_cost_also_counts_on_the_ai_budget_meter(
    sessions: SessionFactory,
) -> None:
    await record(
        sessions,
        [
            event(
                "ai_tokens",
                "1200",
                at(0.5),
                credits="3",
                cost_usd="0.012",
                user_id="ann",
                workspace_id="ws-1",
                feature=AiFeature.CHAT,
                model="gpt-x",
            ),
            event(
                "ai_tokens",
                "800",
                at(0.6),
                unpriced=True,
                feature=AiFeature.CHAT,
                model="mystery",
            ),
        ],
    )
    async with sessions() as session:
        by_feature_model = await sum_rollups(session, ORG, "feature_model", None, at(1))
        by_workspace = await sum_rollups(session, ORG, "workspace", None, at(1))
    assert by_feature_model == {
        ("ai_tokens", "CHAT|gpt-x"): totals("1200", "3", "0.012"),
        ("ai_tokens", "CHAT|mystery"): totals("800", unpriced_events=1),
        # Only the dollars move to the AI budget: events and credits stay on
        # ai_tokens, so summing them across meters counts each event once.
        ("ai_spend_usd", "CHAT|gpt-x"): totals("0.012", events=0),
    }
    assert by_workspace == {
        ("ai_tokens", "ws-1"): totals("1200", "3", "0.012"),
        ("ai_spend_usd", "ws-1"): totals("0.012", events=0),
    }


async def test_events_without_a_dimension_value_are_not_counted_under_it(
    sessions: SessionFactory,
) -> None:
    await record(
        sessions,
        [event("insights", "1", at(0.5), feature=AiFeature.SUMMARY)],
    )
    async with sessions() as session:
        assert await sum_rollups(session, ORG, "user", None, at(1)) == {}
        assert await sum_rollups(session, ORG, "feature_model", None, at(1)) == {}
        assert await sum_rollups(session, ORG, "feature", None, at(1)) == {
            ("insights", "SUMMARY"): totals("1")
        }


async def test_partial_hours_at_both_edges_are_exact(sessions: SessionFactory) -> None:
    await record(
        sessions,
        [
            event("enrichments", "1", at(0.25)),  # before the start
            event("enrichments", "10", at(0.5)),  # start edge, at the start
            event("enrichments", "100", at(1.5)),  # whole hour
            event("enrichments", "1000", at(2.25)),  # end edge
            event("enrichments", "10000", at(2.75)),  # at the end: excluded
        ],
    )
    async with sessions() as session:
        result = await sum_rollups(session, ORG, "total", at(0.5), at(2.75))
    assert result == {("enrichments", ""): totals("1110", events=3)}


async def test_a_range_inside_one_hour_reads_only_raw_events(
    sessions: SessionFactory,
) -> None:
    await record(
        sessions,
        [
            event("enrichments", "1", at(0.1)),
            event("enrichments", "2", at(0.2)),
            event("enrichments", "4", at(0.3)),
        ],
    )
    async with sessions() as session:
        assert await sum_rollups(session, ORG, "total", at(0.15), at(0.3)) == {
            ("enrichments", ""): totals("2")
        }
        assert await sum_rollups(session, ORG, "total", at(0.3), at(0.3)) == {}


async def test_whole_hours_come_from_the_rollups_not_the_events(
    sessions: SessionFactory,
) -> None:
    # Events stored without rollups are invisible in whole hours and visible at the
    # edges: proof that whole hours never scan events.
    await record(sessions, [event("api_calls", "1", at(1.5))])
    async with sessions() as session, session.begin():
        session.add_all(
            [event("api_calls", "7", at(1.2)), event("api_calls", "9", at(3.5))]
        )
    async with sessions() as session:
        result = await sum_rollups(session, ORG, "total", at(1), at(3.75))
    assert result == {("api_calls", ""): totals("10", events=2)}


async def test_meter_filter(sessions: SessionFactory) -> None:
    await record(
        sessions,
        [
            event("sms", "3", at(0.5)),
            event("mms", "5", at(0.5)),
            event("ai_text", "2", at(0.5), cost_usd="0.5"),
        ],
    )
    async with sessions() as session:
        assert await sum_rollups(
            session,
            ORG,
            "total",
            at(0.25),
            at(0.75),
            meter_keys=["sms", "ai_spend_usd"],
        ) == {("sms", ""): totals("3"), ("ai_spend_usd", ""): totals("0.5", events=0)}
        assert (
            await sum_rollups(session, ORG, "total", None, at(5), meter_keys=[]) == {}
        )


async def test_sums_match_the_events_for_random_ranges(
    sessions: SessionFactory,
) -> None:
    generator = random.Random(20250310)
    sources = list(UsageSource)
    events = [
        event(
            generator.choice(["voice", "ai_text", "storage_bytes"]),
            str(Decimal(generator.randint(-5, 50)) / 4),
            T0 + timedelta(minutes=generator.randint(0, 6 * 60)),
            credits=str(Decimal(generator.randint(0, 9)) / 8),
            cost_usd=generator.choice([None, "0.000125", "1.5"]),
            source=generator.choice(sources),
            user_id=generator.choice([None, "ann", "bob"]),
        )
        for _ in range(120)
    ]
    await record(sessions, events)
    async with sessions() as session:
        for _ in range(25):
            start = T0 + timedelta(seconds=generator.randint(-600, 7 * 3600))
            end = start + timedelta(seconds=generator.randint(1, 5 * 3600))
            for dimension in ("total", "user", "source"):
                expected = by_hand(events, dimension, start, end)
                assert (
                    await sum_rollups(session, ORG, dimension, start, end) == expected
                ), (dimension, start, end)
        assert await sum_rollups(session, ORG, "total", None, at(4)) == by_hand(
            events, "total", None, at(4)
        )


async def test_one_statement_per_table_whatever_the_number_of_events(
    sessions: SessionFactory, engine: AsyncEngine
) -> None:
    few = [event("voice", "1", at(0.5))]
    many = [event("voice", "1", at(n / 100), user_id=f"u{n % 7}") for n in range(500)]
    await record(sessions, [])
    for batch in (few, many):
        async with sessions() as session, session.begin():
            session.add_all(batch)
            await session.flush()
            with StatementCounter(engine) as counter:
                await add_to_rollups(session, batch)
            # The hourly rows, then the cycle rows.
            assert counter.count == 2
        async with sessions() as session:
            with StatementCounter(engine) as counter:
                await sum_rollups(session, ORG, "user", at(0.25), at(4.5))
            assert counter.count == 1
        async with sessions() as session, session.begin():
            await session.execute(delete(UsageRollup))
            await session.execute(delete(UsageCycleRollup))


async def test_more_rows_than_one_statement_holds_are_all_written(
    sessions: SessionFactory,
) -> None:
    # 600 events × (unique user, workspace and feature_model keys) × 2 meters: more
    # rows than SQLite's parameter limit allows in one statement.
    events = [
        event(
            "ai_text",
            "1",
            at(0.5),
            cost_usd="0.5",
            user_id=f"user-{n}",
            workspace_id=f"ws-{n}",
            feature=AiFeature.AGENT,
            model=f"model-{n}",
        )
        for n in range(600)
    ]

    await record(sessions, events)

    async with sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(UsageRollup))
        by_user = await sum_rollups(session, ORG, "user", None, at(1))
    assert rows == 2 * (3 + 3 * 600)  # total, source, feature + 3 unique keys each
    assert len(by_user) == 1200
    assert by_user[("ai_spend_usd", "user-599")] == totals("0.5", events=0)


async def test_many_sums_in_one_statement_answer_in_the_order_asked(
    sessions: SessionFactory, engine: AsyncEngine
) -> None:
    await record(
        sessions,
        [
            event("sms", "1", at(0.5), user_id="ann"),
            event("sms", "2", at(1.5), user_id="bob"),
            event("mms", "4", at(2.5)),
        ],
    )
    requests = [
        RollupRequest(ORG, "total", at(1), at(3)),
        RollupRequest(ORG, "user", None, at(1.75), ("sms",)),
        RollupRequest(ORG, "total", at(2), at(2)),  # empty range
        RollupRequest(ORG, "total", None, at(3), ()),  # no meter asked
        RollupRequest("org-other", "total", None, at(3)),
    ]
    async with sessions() as session:
        with StatementCounter(engine) as counter:
            results = await sum_rollups_many(session, requests)

    assert counter.count == 1
    assert results == [
        {("sms", ""): totals("2"), ("mms", ""): totals("4")},
        {("sms", "ann"): totals("1"), ("sms", "bob"): totals("2")},
        {},
        {},
        {},
    ]


async def test_unknown_dimension_is_a_programming_error(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError, match="unknown rollup dimension"):
            await sum_rollups(session, ORG, "team", None, at(1))


async def test_no_events_sum_to_nothing(sessions: SessionFactory) -> None:
    await record(sessions, [])
    async with sessions() as session:
        assert await sum_rollups(session, ORG, "total", None, at(1)) == {}
        assert await session.scalar(select(func.count()).select_from(UsageRollup)) == 0


async def test_cycle_rows_hold_each_calendar_month_without_a_subscription(
    sessions: SessionFactory,
) -> None:
    march, april = (
        datetime(2025, 3, 31, 23, 30, tzinfo=UTC),
        datetime(2025, 4, 1, 0, 30, tzinfo=UTC),
    )
    await record(
        sessions,
        [event("voice", "2", march), event("voice", "3", april, user_id="ann")],
    )
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    UsageCycleRollup.cycle_start,
                    UsageCycleRollup.dimension,
                    UsageCycleRollup.quantity,
                ).order_by(UsageCycleRollup.cycle_start, UsageCycleRollup.dimension)
            )
        ).all()
    assert [(start.month, dimension, q) for start, dimension, q in rows] == [
        (3, "source", Decimal(2)),
        (3, "total", Decimal(2)),
        (4, "source", Decimal(3)),
        (4, "total", Decimal(3)),
        (4, "user", Decimal(3)),
    ]


async def test_sums_through_cycle_rows_match_the_events_for_random_ranges(
    sessions: SessionFactory,
) -> None:
    generator = random.Random(20251122)
    first = datetime(2025, 1, 20, tzinfo=UTC)
    events = [
        event(
            generator.choice(["voice", "ai_text", "storage_bytes"]),
            str(Decimal(generator.randint(-5, 50)) / 4),
            first + timedelta(minutes=generator.randint(0, 90 * 24 * 60)),
            credits=str(Decimal(generator.randint(0, 9)) / 8),
            cost_usd=generator.choice([None, "0.000125", "1.5"]),
            user_id=generator.choice([None, "ann", "bob"]),
        )
        for _ in range(300)
    ]
    await record(sessions, events)
    async with sessions() as session:
        for _ in range(20):
            inside = first + timedelta(minutes=generator.randint(0, 90 * 24 * 60))
            cycle = cycle_for(UNSUBSCRIBED_ANCHOR, inside)
            start = cycle.start + (inside - cycle.start) * generator.random()
            end = start + (cycle.end - start) * generator.random()
            for dimension in ("total", "user"):
                for since in (start, None):
                    request = RollupRequest(ORG, dimension, since, end, cycle=cycle)
                    [found] = await sum_rollups_many(session, [request])
                    assert found == by_hand(events, dimension, since, end), (
                        dimension,
                        since,
                        end,
                    )


async def test_a_range_outside_its_cycle_is_a_programming_error(
    sessions: SessionFactory,
) -> None:
    cycle = cycle_for(UNSUBSCRIBED_ANCHOR, T0)
    request = RollupRequest(
        ORG, "total", None, cycle.end + timedelta(hours=1), cycle=cycle
    )
    async with sessions() as session:
        with pytest.raises(ValueError, match="not within the cycle"):
            await sum_rollups_many(session, [request])
