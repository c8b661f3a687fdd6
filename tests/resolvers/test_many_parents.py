"""Operations over many parents: 1, 100 and 1,000 organizations, on SQLite (the
embedded default) and PostgreSQL.

A partner pulls PartnerBillingState for every organization its key lists; a user
who belongs to many organizations opens MobileSummary (`viewer.organizations`).
Each answers every organization with its own figures (seats, credits, usage), in
the same number of SQL statements for one organization as for a thousand: the
loaders batch by organization, and no statement grows past what a database accepts
(SQLite refused more than 500 terms in one compound SELECT: one UNION ALL branch
per organization and sum).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from rules.cycles import UNSUBSCRIBED_ANCHOR, cycle_for
from rules.enums import AiFeature, ApiKeyKind, Role, SeatType, UsageSource, UsageStatus
from store.api_keys import create_api_key
from store.db import SessionFactory, StatementCounter, create_engine, session_factory
from store.models import Workspace
from store.recording import UsageEventSpec, record_usage
from store.rollup_sums import sum_rollups_many
from store.rollups import DIMENSIONS, RollupRequest
from tests import factories as f
from tests.gateway_client import Gateway, gateway, operation, user_token
from tests.store import rollup_events as rollups

NOW = datetime.now(UTC)
ANCHOR = NOW - timedelta(days=3)
USER = "usr_everywhere"
USER_OF_ONE = "usr_of_one"
MONTHLY_CREDITS = 100


def _org_id(index: int) -> str:
    return f"org_{index:04}"


def _seats(index: int) -> int:
    return 1 + index % 9


def _voice(index: int) -> int:
    """Voice units (one credit each) the organization used this cycle."""
    return 1 + index % 5


@asynccontextmanager
async def _store(url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def _seed(url: str, count: int) -> tuple[list[str], str]:
    """`count` organizations on one plan, each with its own seats and voice usage,
    `USER` an admin on a seat in every one (`USER_OF_ONE` in the first); the ids
    and a PARTNER key listing them all."""
    ids = [_org_id(index) for index in range(count)]
    async with _store(url) as sessions:
        async with sessions() as session:
            session.add(
                f.plan("pro", monthly_credits=Decimal(MONTHLY_CREDITS)),
            )
            user, _ = f.member(ids[0], USER, Role.ADMIN)
            user_of_one, membership_of_one = f.member(ids[0], USER_OF_ONE, Role.ADMIN)
            session.add_all([user, user_of_one])
            await session.flush()
            session.add(f.limit("pro", "voice", None, credits_per_unit=Decimal(1)))
            session.add_all(f.organization(org_id) for org_id in ids)
            await session.flush()
            session.add_all(
                f.subscription(org_id, "pro", seats=_seats(index), anchor=ANCHOR)
                for index, org_id in enumerate(ids)
            )
            session.add_all(
                f.member(org_id, USER, Role.ADMIN, seat_type=SeatType.POWER)[1]
                for org_id in ids
            )
            session.add(membership_of_one)
            _, secret = await create_api_key(
                session, ApiKeyKind.PARTNER, "billing system", tuple(ids), ANCHOR
            )
            await session.commit()
        events = [
            UsageEventSpec(
                idempotency_key=f"voice-{org_id}",
                organization_id=org_id,
                meter="voice",
                quantity=Decimal(_voice(index)),
                occurred_at=NOW - timedelta(minutes=5),
            )
            for index, org_id in enumerate(ids)
        ]
        outcomes = await record_usage(sessions, events, NOW)
    assert {o.status for o in outcomes} == {UsageStatus.ACCEPTED}, outcomes[:3]
    return ids, secret


async def _counted(
    api: Gateway, document: str, variables: dict[str, Any], token: str
) -> tuple[list[str], dict[str, Any]]:
    """The statements one request runs (their first words), and its data."""
    assert api.app is not None
    with StatementCounter(api.app.state.engine) as counter:
        body = await api.execute(document, variables, token=token)
    assert "errors" not in body, body["errors"][:3]
    data: dict[str, Any] = body["data"]
    return [" ".join(s.split())[:100] for s in counter.statements], data


def _check_billing_state(organizations: list[dict[str, Any]], ids: list[str]) -> None:
    assert [org["id"] for org in organizations] == ids
    for org in organizations:
        index = int(org["id"].removeprefix("org_"))
        assert org["subscription"]["seats"] == _seats(index), org
        assert org["subscription"]["status"] == "ACTIVE"
        assert org["credits"]["unit"] == "CREDITS"
        assert Decimal(org["credits"]["granted"]) == MONTHLY_CREDITS, org
        assert Decimal(org["credits"]["spent"]) == _voice(index), org
        assert Decimal(org["credits"]["remaining"]) == MONTHLY_CREDITS - _voice(index)


def _check_summary(organizations: list[dict[str, Any]], ids: list[str]) -> None:
    assert sorted(org["id"] for org in organizations) == ids
    for org in organizations:
        index = int(org["id"].removeprefix("org_"))
        remaining = Decimal(org["credits"]["remaining"])
        assert remaining == MONTHLY_CREDITS - _voice(index), org


def _same_count(one: list[str], every: list[str]) -> None:
    assert len(every) == len(one), "\n".join(["one:", *one, "every:", *every])


@pytest.mark.parametrize("count", [1, 100, 1000])
async def test_partner_billing_state_for_many_organizations(
    database_url: str, count: int
) -> None:
    """Pinned at an instant (SQL sums for every organization), live with counters
    to fill (each organization's first live read), and live from the counters."""
    ids, secret = await _seed(database_url, count)
    document = operation("partner_billing_state")
    pinned = {"at": NOW.isoformat()}
    async with gateway(database_url) as api:
        # Warm-up: connections set up, the process's catalog loaded.
        await api.execute(document, {"ids": ids[:1], **pinned}, token=secret)
        answers = {
            "pinned, one": await _counted(
                api, document, {"ids": ids[:1], **pinned}, secret
            ),
            "pinned, every": await _counted(
                api, document, {"ids": ids, **pinned}, secret
            ),
            "filling, one": await _counted(api, document, {"ids": ids[:1]}, secret),
            "filling, the others": await _counted(
                api, document, {"ids": ids[1:] or ids}, secret
            ),
            "live, every": await _counted(api, document, {"ids": ids}, secret),
            "live, one": await _counted(api, document, {"ids": ids[:1]}, secret),
        }

    for name, (_, data) in answers.items():
        asked = ids[:1] if name.endswith("one") else ids
        if name == "filling, the others":
            asked = ids[1:] or ids
        _check_billing_state(data["organizations"], asked)
    counts = {name: statements for name, (statements, _) in answers.items()}
    _same_count(counts["pinned, one"], counts["pinned, every"])
    if count > 1:
        _same_count(counts["filling, one"], counts["filling, the others"])
    _same_count(counts["live, one"], counts["live, every"])


@pytest.mark.parametrize("count", [1, 100, 1000])
async def test_mobile_summary_of_a_user_in_many_organizations(
    database_url: str, count: int
) -> None:
    """Counters to fill (the first read of each organization), then from them."""
    ids, _ = await _seed(database_url, count)
    document = operation("mobile_summary")
    one, every = user_token(USER_OF_ONE), user_token(USER)
    async with gateway(database_url) as api:
        # Warm-up, pinned: the catalog loaded, no counters filled.
        pinned = {"org": ids[0], "at": NOW.isoformat()}
        await api.execute(operation("usage_page"), pinned, token=one)
        filling_one, filling_one_data = await _counted(api, document, {}, one)
        filling, filling_data = await _counted(api, document, {}, every)
        live, data = await _counted(api, document, {}, every)
        live_one, live_one_data = await _counted(api, document, {}, one)

    for answer, asked in (
        (filling_one_data, ids[:1]),
        (filling_data, ids),
        (data, ids),
        (live_one_data, ids[:1]),
    ):
        _check_summary(answer["viewer"]["organizations"], asked)
    if count > 1:
        _same_count(filling_one, filling)
    _same_count(live_one, live)


@pytest.mark.parametrize("count", [1, 100, 1000])
async def test_record_usage_for_many_organizations_in_one_call(
    database_url: str, count: int
) -> None:
    """One recordUsage call of `count` events, each for its own organization:
    every event decided and stored, in as many statements as a call of one."""
    ids, _ = await _seed(database_url, count)
    async with _store(database_url) as sessions, sessions() as session:
        _, operator = await create_api_key(
            session, ApiKeyKind.OPERATOR, "ops", (), ANCHOR
        )
        await session.commit()
    document = operation("record_usage")

    def events(organizations: list[str], round_: str) -> dict[str, Any]:
        return {
            "events": [
                {
                    "idempotencyKey": f"{round_}-{org_id}",
                    "organizationId": org_id,
                    "meter": "voice",
                    "quantity": "2",
                }
                for org_id in organizations
            ]
        }

    async with gateway(database_url) as api:
        # Warm-up, and each organization's counters built by its first decision.
        await api.execute(document, events(ids, "warm-up"), token=operator)
        one, one_data = await _counted(api, document, events(ids[:1], "a"), operator)
        every, data = await _counted(api, document, events(ids, "b"), operator)
        # Pinned (read from SQL) after the calls: what was stored.
        pinned = {"ids": ids, "at": datetime.now(UTC).isoformat()}
        _, after = await _counted(
            api, operation("partner_billing_state"), pinned, operator
        )

    assert one_data["recordUsage"]["accepted"] == 1
    assert data["recordUsage"]["accepted"] == count
    assert {r["status"] for r in data["recordUsage"]["results"]} == {"ACCEPTED"}
    _same_count(one, every)
    for org in after["organizations"]:
        index = int(org["id"].removeprefix("org_"))
        # The seed's voice, the warm-up's 2, round a's 2 (the first only), b's 2.
        spent = _voice(index) + 2 + 2 + (2 if index == 0 else 0)
        assert Decimal(org["credits"]["spent"]) == spent, org


async def _members_and_workspaces(url: str, count: int) -> None:
    """`org_wide`: `count` members, each with usage in a workspace of its own."""
    async with _store(url) as sessions:
        async with sessions() as session:
            session.add(f.plan("wide", monthly_credits=Decimal(10_000)))
            session.add(f.organization("org_wide"))
            await session.flush()
            session.add(f.limit("wide", "voice", None, credits_per_unit=Decimal(1)))
            session.add(f.subscription("org_wide", "wide", seats=count, anchor=ANCHOR))
            for index in range(count):
                user, member = f.member(
                    "org_wide",
                    f"usr_{index:04}",
                    Role.ADMIN if index == 0 else Role.MEMBER,
                    seat_type=SeatType.POWER,
                )
                session.add(user)
                await session.flush()
                session.add(member)
                session.add(
                    Workspace(
                        organization_id="org_wide",
                        id=f"ws_{index:04}",
                        name=f"Workspace {index}",
                    )
                )
            await session.commit()
        outcomes = await record_usage(
            sessions,
            [
                UsageEventSpec(
                    idempotency_key=f"wide-{index}",
                    organization_id="org_wide",
                    meter="voice",
                    quantity=Decimal(index + 1),
                    occurred_at=NOW - timedelta(minutes=5),
                    user_id=f"usr_{index:04}",
                    workspace_id=f"ws_{index:04}",
                )
                for index in range(count)
            ],
            NOW,
        )
    assert {o.status for o in outcomes} == {UsageStatus.ACCEPTED}


@pytest.mark.parametrize("count", [1, 100])
async def test_pages_of_members_workspaces_and_users(
    database_url: str, count: int
) -> None:
    """MemberDirectory, UsagePage's members and UsageChart's top tables at their
    largest page (100): one page of one as many statements as a page of 100."""
    await _members_and_workspaces(database_url, count)
    admin = user_token("usr_0000")
    at = {"at": NOW.isoformat()}
    async with gateway(database_url) as api:
        await api.execute(
            operation("usage_page"), {"org": "org_wide", **at}, token=admin
        )
        counted = {
            first: (
                await _counted(
                    api,
                    operation("members"),
                    {"org": "org_wide", "first": first},
                    admin,
                ),
                await _counted(
                    api,
                    operation("usage_page"),
                    {"org": "org_wide", "membersFirst": first, **at},
                    admin,
                ),
                await _counted(
                    api,
                    operation("usage_chart"),
                    {"org": "org_wide", "range": "LAST_30_DAYS", "first": first, **at},
                    admin,
                ),
            )
            for first in (1, 100)
        }

    for first, answers in counted.items():
        shown = min(first, count)
        (_, directory), (_, page), (_, chart) = answers
        members = directory["organization"]["members"]
        assert members["totalCount"] == count
        assert [e["node"]["userId"] for e in members["edges"]] == [
            f"usr_{index:04}" for index in range(shown)
        ]
        assert all(e["node"]["seatType"] == "POWER" for e in members["edges"])
        assert len(page["organization"]["members"]["edges"]) == shown
        assert page["organization"]["seats"]["allocated"] == count
        top = chart["organization"]["topWorkspaces"]
        assert top["totalCount"] == count
        # The largest first: workspace N-1 used N units.
        assert [Decimal(e["node"]["amount"]) for e in top["edges"]] == [
            Decimal(count - index) for index in range(shown)
        ]
        users = chart["organization"]["topUsers"]
        assert users["totalCount"] == count
        assert len(users["edges"]) == shown
    for small, large in zip(counted[1], counted[100], strict=True):
        _same_count(small[0], large[0])


async def test_the_json_document_sums_exactly_what_the_union_sums(
    sessions: SessionFactory,
) -> None:
    """Batches past the databases' limits are read through a JSON document of their
    parts (`store.rollup_sums`): every dimension, meter and key filter, edge hours,
    cycles read through their rows, give the same sums as the UNION ALL of selects
    that reads smaller batches, and as the events themselves."""
    generator = random.Random(20261207)
    first = datetime(2025, 1, 20, tzinfo=UTC)
    events = [
        rollups.event(
            generator.choice(["voice", "ai_text", "storage_bytes"]),
            str(Decimal(generator.randint(-5, 50)) / 4),
            first + timedelta(minutes=generator.randint(0, 90 * 24 * 60)),
            credits=str(Decimal(generator.randint(0, 9)) / 8),
            cost_usd=generator.choice([None, "0.000125", "1.5"]),
            unpriced=generator.random() < 0.1,
            source=generator.choice(list(UsageSource)),
            user_id=generator.choice([None, "ann", "bob"]),
            workspace_id=generator.choice([None, "ws_1", "ws_2"]),
            feature=generator.choice([None, *AiFeature]),
            model=generator.choice([None, "big", "fast"]),
        )
        for _ in range(400)
    ]
    await rollups.record(sessions, events)
    keys = {
        "user": ("ann",),
        "source": ("API", "WEB"),
        "workspace": ("ws_2",),
        "feature": ("CHAT",),
        "feature_model": ("CHAT|big", "EMAIL|fast"),
        "total": ("",),
    }
    requests: list[RollupRequest] = []
    for _ in range(40):
        inside = first + timedelta(minutes=generator.randint(0, 90 * 24 * 60))
        cycle = cycle_for(UNSUBSCRIBED_ANCHOR, inside)
        start = cycle.start + (inside - cycle.start) * generator.random()
        end = start + (cycle.end - start) * generator.random()
        for dimension in DIMENSIONS:
            meters = generator.choice([None, ("voice",), ("ai_spend_usd", "ai_text")])
            only = generator.choice([None, keys[dimension]])
            for since in (start, None):
                plain = RollupRequest(rollups.ORG, dimension, since, end, meters, only)
                requests += [plain, replace(plain, cycle=cycle)]
    async with sessions() as session:
        union = []
        for offset in range(0, len(requests), 10):
            union += await sum_rollups_many(session, requests[offset : offset + 10])
        document = await sum_rollups_many(session, requests, as_document=True)
        large = await sum_rollups_many(session, requests)  # past the union's limit

    assert document == union
    assert large == union
    for request, found in zip(requests, union, strict=True):
        if request.dimension in ("total", "user", "source") and (
            request.meter_keys is None and request.dimension_keys is None
        ):
            expected = rollups.by_hand(
                events, request.dimension, request.start, request.end
            )
            # (The helper does not count unpriced events: compare the rest.)
            assert {key: replace(t, unpriced_events=0) for key, t in found.items()} == {
                key: replace(t, unpriced_events=0) for key, t in expected.items()
            }, request
