"""Property: no response ever holds data of an organization the caller may not see.

Hypothesis builds random worlds (organizations, members with roles, SERVICE and
PARTNER keys, usage) and random callers sending the contract's operations at random
organizations. Each organization's data carries markers (its name, its members' names
and emails, its workspaces' names) that appear nowhere else; a response to a caller
must hold no marker of an organization the caller is not entitled to.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.enums import ApiKeyKind, BillingModel, PlanTier, Role, UsageSource
from store import provisioning as p
from store.api_keys import create_api_key
from store.db import create_engine, session_factory
from store.migrate import upgrade
from store.recording import UsageEventSpec, record_usage
from tests.gateway_client import gateway, operation, user_token

NOW = datetime(2026, 7, 20, 12, 0, tzinfo=UTC)
OPERATIONS = (
    "usage_page",
    "mobile_summary",
    "members",
    "usage_chart",
    "meters",
    "partner_billing_state",
    "analytics",
)


@dataclass(frozen=True)
class OrgShape:
    roles: tuple[Role, ...]
    byom: bool


@dataclass(frozen=True)
class Caller:
    kind: str  # "user", "service" or "partner"
    organizations: frozenset[int]  # memberships, or the key's scope
    user: tuple[int, int] | None = None  # (organization, member) for users


@dataclass(frozen=True)
class Request:
    caller: int
    operation: str
    target: int


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[OrgShape], list[Caller], list[Request]]:
    shapes = draw(
        st.lists(
            st.builds(
                OrgShape,
                st.lists(st.sampled_from(list(Role)), min_size=1, max_size=3).map(
                    tuple
                ),
                st.booleans(),
            ),
            min_size=2,
            max_size=3,
        )
    )
    count = len(shapes)
    callers: list[Caller] = []
    for org, shape in enumerate(shapes):
        for member in range(len(shape.roles)):
            callers.append(Caller("user", frozenset({org}), (org, member)))
    callers.append(Caller("service", frozenset({draw(st.integers(0, count - 1))})))
    callers.append(
        Caller(
            "partner",
            frozenset(
                draw(st.sets(st.integers(0, count - 1), min_size=1, max_size=count))
            ),
        )
    )
    requests = draw(
        st.lists(
            st.builds(
                Request,
                st.integers(0, len(callers) - 1),
                st.sampled_from(OPERATIONS),
                st.integers(0, count - 1),
            ),
            min_size=3,
            max_size=6,
        )
    )
    return shapes, callers, requests


def markers(org: int, shape: OrgShape) -> list[str]:
    return [
        f"Tenant{org}Name",
        f"tenant{org}-ws",
        *(f"Tenant{org}Person{member}" for member in range(len(shape.roles))),
        *(f"person{member}@tenant{org}.example" for member in range(len(shape.roles))),
    ]


async def build(url: str, shapes: list[OrgShape], callers: list[Caller]) -> list[str]:
    engine = create_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    async with sessions() as session:
        await p.upsert_plan(
            session,
            p.PlanSpec(
                key="pro",
                name="Pro",
                tier=PlanTier.PRO,
                monthly_credits=Decimal(1000),
                limits=(p.PlanLimitSpec(meter="api_calls", limit=Decimal(100000)),),
            ),
        )
        for org, shape in enumerate(shapes):
            organization_id = f"org{org}"
            await p.upsert_organization(
                session,
                p.OrganizationSpec(
                    id=organization_id,
                    name=f"Tenant{org}Name",
                    billing_model=BillingModel.USD
                    if shape.byom
                    else BillingModel.CREDITS,
                ),
                NOW,
            )
            await p.set_subscription(
                session,
                p.SubscriptionSpec(
                    organization_id=organization_id,
                    plan_key="pro",
                    seats=10,
                    anchor=NOW - timedelta(days=40),
                ),
                NOW,
            )
            await p.upsert_workspace(
                session,
                p.WorkspaceSpec(
                    organization_id=organization_id,
                    id=f"ws{org}",
                    name=f"tenant{org}-ws",
                ),
            )
            for member, role in enumerate(shape.roles):
                await p.upsert_member(
                    session,
                    p.MemberSpec(
                        organization_id=organization_id,
                        user_id=f"t{org}u{member}",
                        email=f"person{member}@tenant{org}.example",
                        name=f"Tenant{org}Person{member}",
                        role=role,
                    ),
                    NOW,
                )
        tokens = []
        for caller in callers:
            if caller.kind == "user":
                assert caller.user is not None
                tokens.append(user_token(f"t{caller.user[0]}u{caller.user[1]}"))
                continue
            kind = (
                ApiKeyKind.SERVICE if caller.kind == "service" else ApiKeyKind.PARTNER
            )
            scope = tuple(f"org{org}" for org in sorted(caller.organizations))
            _, secret = await create_api_key(session, kind, caller.kind, scope, NOW)
            tokens.append(secret)
        await session.commit()
    await record_usage(
        sessions,
        [
            UsageEventSpec(
                idempotency_key=f"e{org}-{member}",
                organization_id=f"org{org}",
                meter="api_calls",
                quantity=Decimal(3 + member),
                occurred_at=NOW - timedelta(hours=member + 1),
                user_id=f"t{org}u{member}",
                workspace_id=f"ws{org}",
                source=UsageSource.WEB,
            )
            for org, shape in enumerate(shapes)
            for member in range(len(shape.roles))
        ],
        NOW,
    )
    await engine.dispose()
    return tokens


def variables(name: str, target: int, count: int) -> dict[str, object]:
    at = NOW.isoformat()
    if name == "partner_billing_state":
        return {"ids": [f"org{org}" for org in range(count)], "at": at}
    if name == "mobile_summary":
        return {}
    found: dict[str, object] = {"org": f"org{target}"}
    if name == "usage_chart":
        found.update(range="LAST_7_DAYS", at=at)
    if name in ("usage_page", "meters"):
        found["at"] = at
    if name == "analytics":
        found.update(start=(NOW - timedelta(days=30)).isoformat(), end=at)
    return found


async def check(
    url: str, shapes: list[OrgShape], callers: list[Caller], requests: list[Request]
) -> None:
    tokens = await build(url, shapes, callers)
    async with gateway(url) as api:
        for request in requests:
            caller = callers[request.caller]
            body = await api.execute(
                operation(request.operation),
                variables(request.operation, request.target, len(shapes)),
                token=tokens[request.caller],
            )
            text = json.dumps(body)
            for org, shape in enumerate(shapes):
                if org in caller.organizations:
                    continue
                for marker in markers(org, shape):
                    assert marker not in text, (request, caller, marker)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_no_response_holds_another_organizations_data(
    tmp_path_factory: pytest.TempPathFactory,
    world: tuple[list[OrgShape], list[Caller], list[Request]],
) -> None:
    shapes, callers, requests = world
    folder: Path = tmp_path_factory.mktemp("isolation")
    url = f"sqlite+aiosqlite:///{folder / 'world.sqlite3'}"
    asyncio.run(check(url, shapes, callers, requests))
