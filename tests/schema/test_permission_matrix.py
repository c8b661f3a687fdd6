"""Every role and key kind against every field and mutation of the contract.

V: a value, N: null without error (redaction), or the error code of a denial.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from rules.enums import ApiKeyKind, BillingModel, Role
from store.api_keys import create_api_key
from store.db import SessionFactory, create_engine, session_factory
from tests import factories as f
from tests.gateway_client import gateway, user_token

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
V, N = "V", "N"
VIEWERS = (
    "member",
    "manager",
    "admin",
    "super_admin",
    "operator",
    "service",
    "partner",
)

# Organization field -> (selection, outcome per viewer in VIEWERS order).
ORGANIZATION_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "id": ("id", (V, V, V, V, V, V, V)),
    "name": ("name", (V, V, V, V, V, V, V)),
    "billingModel": ("billingModel", (V, V, V, V, V, V, V)),
    "billingState": ("billingState", (V, V, V, V, V, V, V)),
    "aiAccessPaused": ("aiAccessPaused", (V, V, V, V, V, V, V)),
    "subscription": ("subscription { status seats }", (V, V, V, V, V, V, V)),
    "credits": ("credits { unit granted spent remaining }", (V, V, V, V, V, V, V)),
    "workspaceCreation": ("workspaceCreation { allowed }", (V, V, V, V, V, V, V)),
    "reconciliation": ("reconciliation { status }", (V, V, V, V, V, V, V)),
    "viewerRole": ("viewerRole", (V, V, V, V, N, N, "FORBIDDEN")),
    "viewerCan": ("viewerCan { viewDollars }", (V, V, V, V, V, V, "FORBIDDEN")),
    "plan": ("plan { key }", (V, V, V, V, V, V, "FORBIDDEN")),
    "planActions": ("planActions { manage }", (V, V, V, V, V, V, "FORBIDDEN")),
    "cycle": ("cycle { start }", (V, V, V, V, V, V, "FORBIDDEN")),
    "seats": ("seats { total }", (V, V, V, V, V, V, "FORBIDDEN")),
    "meters": ("meters { key }", (V, V, V, V, V, V, "FORBIDDEN")),
    "usageByOperation": ("usageByOperation { label }", (V, V, V, V, V, V, "FORBIDDEN")),
    "aiBudget": ("aiBudget { percentUsed }", (V, V, V, V, V, V, "FORBIDDEN")),
    "myUsage": ("myUsage { meters { key } }", (V, V, V, V, N, N, "FORBIDDEN")),
    "dailyAllowance": ("dailyAllowance { message }", (N, N, V, V, V, V, "FORBIDDEN")),
    "members": ("members { totalCount }", (N, N, V, V, V, V, "FORBIDDEN")),
    "usageSeries": (
        "usageSeries(range: LAST_7_DAYS) { unit }",
        (V, V, V, V, V, V, "FORBIDDEN"),
    ),
    "topWorkspaces": ("topWorkspaces { totalCount }", (N, N, V, V, V, V, "FORBIDDEN")),
    "topWorkspaceGroups": (
        "topWorkspaceGroups { totalCount }",
        (N, N, V, V, V, V, "FORBIDDEN"),
    ),
    "topUsers": ("topUsers { totalCount }", (N, N, V, V, V, V, "FORBIDDEN")),
    "analytics": (
        'analytics(start: "2026-06-01T00:00:00Z", end: "2026-06-15T00:00:00Z") '
        "{ billingState providerProjectId }",
        ("FORBIDDEN", "FORBIDDEN", V, V, V, V, "FORBIDDEN"),
    ),
}

# Dollar amounts of a BYOM (USD) organization: null for those without the permission.
DOLLAR_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "credits.granted": ("credits { granted }", (N, N, V, V, V, V, V)),
    "aiBudget.spentUsd": ("aiBudget { spentUsd }", (N, N, V, V, V, V, "FORBIDDEN")),
    "usageSeries": (
        "usageSeries(range: LAST_24_HOURS) { unit }",
        (N, N, V, V, V, V, "FORBIDDEN"),
    ),
}

MUTATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "upsertMeter": (
        'upsertMeter(input: {key: "widgets", label: "Widgets", category: QUOTA, '
        'unitLabel: "widgets", resets: CYCLE}) { meter { key } }',
        ("FORBIDDEN",) * 4 + (V,) + ("FORBIDDEN",) * 2,
    ),
    "upsertOrganization": (
        'upsertOrganization(input: {id: "org_new", name: "New"}) '
        "{ organization { id } }",
        ("FORBIDDEN",) * 4 + (V,) + ("FORBIDDEN",) * 2,
    ),
    "createApiKey": (
        'createApiKey(input: {kind: OPERATOR, name: "x"}) { secret }',
        ("FORBIDDEN",) * 4 + (V,) + ("FORBIDDEN",) * 2,
    ),
    "syncDailyAllowance": (
        'syncDailyAllowance(organizationId: "org_a") { snapshot { status } }',
        ("FORBIDDEN",) * 4 + (V,) + ("FORBIDDEN",) * 2,
    ),
    "upsertPlan": (
        'upsertPlan(input: {key: "basic", name: "Basic", tier: STARTER}) '
        "{ plan { key } }",
        ("FORBIDDEN",) * 4 + (V,) + ("FORBIDDEN",) * 2,
    ),
    "setSubscription": (
        'setSubscription(input: {organizationId: "org_a", planKey: "pro", seats: 20}) '
        "{ subscription { seats } }",
        ("FORBIDDEN",) * 4 + (V,) + ("FORBIDDEN",) * 2,
    ),
    "upsertMember": (
        'upsertMember(input: {organizationId: "org_a", userId: "new", '
        'email: "new@example.com", name: "New"}) { member { userId } }',
        ("FORBIDDEN",) * 4 + (V,) + ("FORBIDDEN",) * 2,
    ),
    "upsertWorkspace": (
        'upsertWorkspace(input: {organizationId: "org_a", id: "w1", name: "W"}) '
        "{ workspace { id } }",
        ("FORBIDDEN",) * 4 + (V,) + ("FORBIDDEN",) * 2,
    ),
    "grantCredits": (
        'grantCredits(input: {organizationId: "org_a", kind: BONUS, amount: "5"}) '
        "{ grant { amount } }",
        ("FORBIDDEN",) * 4 + (V,) + ("FORBIDDEN",) * 2,
    ),
    "setModelPrice": (
        'setModelPrice(input: {model: "m", tier: FAST, inputPerMillionUsd: "1", '
        'outputPerMillionUsd: "2"}) { userErrors { code } }',
        ("FORBIDDEN",) * 4 + (V,) + ("FORBIDDEN",) * 2,
    ),
    "setReconciliation": (
        'setReconciliation(input: {organizationId: "org_a", status: PENDING}) '
        "{ userErrors { code } }",
        ("FORBIDDEN",) * 4 + (V,) + ("FORBIDDEN",) * 2,
    ),
    "revokeApiKey": (
        'revokeApiKey(id: "key_none") { userErrors { code } }',
        ("FORBIDDEN",) * 4 + (V,) + ("FORBIDDEN",) * 2,
    ),
    "deallocateSeat": (
        'deallocateSeat(organizationId: "org_a", userId: "member") { seats { total } }',
        ("FORBIDDEN", "FORBIDDEN", V, V, V, V, "FORBIDDEN"),
    ),
    "recordUsage": (
        'recordUsage(events: [{idempotencyKey: "k1", organizationId: "org_a", '
        'meter: "api_calls", quantity: "1"}]) { accepted }',
        ("FORBIDDEN",) * 4 + (V, V, "FORBIDDEN"),
    ),
    "allocateSeat": (
        'allocateSeat(organizationId: "org_a", userId: "member") { seats { total } }',
        ("FORBIDDEN", "FORBIDDEN", V, V, V, V, "FORBIDDEN"),
    ),
    "changeSeats": (
        'changeSeats(organizationId: "org_a", total: 10) { seats { total } }',
        ("FORBIDDEN", "FORBIDDEN", V, V, V, V, "FORBIDDEN"),
    ),
    "setPersonalAllocation": (
        'setPersonalAllocation(organizationId: "org_a", userId: "member", '
        'meter: "ai_tokens", limit: "10") { allocation { limit } }',
        ("FORBIDDEN", "FORBIDDEN", V, V, V, V, "FORBIDDEN"),
    ),
}

QUERIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "usageCheck": (
        'usageCheck(organizationId: "org_a", meter: "api_calls", quantity: "1") '
        "{ allowed }",
        ("FORBIDDEN",) * 4 + (V, V, "FORBIDDEN"),
    ),
}


@dataclass(frozen=True)
class World:
    url: str
    tokens: dict[str, str]


@pytest.fixture
async def world(database_url: str) -> World:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    tokens = await _build(sessions)
    await engine.dispose()
    return World(database_url, tokens)


async def _build(sessions: SessionFactory) -> dict[str, str]:
    async with sessions() as session:
        await f.add_all(
            session,
            f.plan("pro", daily_allowance_units=Decimal(100)),
            f.limit("pro", "ai_spend_usd", "50"),
            f.organization("org_a", allowance_ui_details=True),
            f.organization("org_b", billing_model=BillingModel.USD),
            f.subscription("org_a", "pro", seats=20),
            f.subscription("org_b", "pro"),
            f.member("org_a", "member", Role.MEMBER),
            f.member("org_a", "manager", Role.MANAGER),
            f.member("org_a", "admin", Role.ADMIN),
            f.member("org_a", "super_admin", Role.SUPER_ADMIN),
            f.member("org_b", "outsider", Role.SUPER_ADMIN),
        )
        _, operator = await create_api_key(session, ApiKeyKind.OPERATOR, "o", (), NOW)
        _, service = await create_api_key(
            session, ApiKeyKind.SERVICE, "s", ("org_a",), NOW
        )
        _, partner = await create_api_key(
            session, ApiKeyKind.PARTNER, "p", ("org_a",), NOW
        )
        _, service_b = await create_api_key(
            session, ApiKeyKind.SERVICE, "sb", ("org_b",), NOW
        )
        _, partner_b = await create_api_key(
            session, ApiKeyKind.PARTNER, "pb", ("org_b",), NOW
        )
        await session.commit()
    tokens = {role: user_token(role) for role in ("member", "manager", "admin")}
    tokens["super_admin"] = user_token("super_admin")
    tokens["outsider"] = user_token("outsider")
    tokens.update(
        operator=operator,
        service=service,
        partner=partner,
        service_b=service_b,
        partner_b=partner_b,
    )
    return tokens


def _outcome(body: dict[str, Any], path: list[str]) -> str:
    errors = body.get("errors") or []
    if errors:
        assert len(errors) == 1, errors
        return str(errors[0]["extensions"]["code"])
    value: Any = body["data"]
    for key in path:
        if value is None:
            break
        value = value[key]
    return N if value is None else V


CASES = [
    (field, viewer, selection, expected[position], "org_a")
    for field, (selection, expected) in ORGANIZATION_FIELDS.items()
    for position, viewer in enumerate(VIEWERS)
] + [
    (f"byom {field}", viewer, selection, expected[position], "org_b")
    for field, (selection, expected) in DOLLAR_FIELDS.items()
    for position, viewer in enumerate(VIEWERS)
]


@pytest.mark.parametrize(("field", "viewer", "selection", "expected", "org"), CASES)
async def test_organization_field(
    world: World, field: str, viewer: str, selection: str, expected: str, org: str
) -> None:
    if org == "org_b":
        # The same roles, in the BYOM organization: memberships and keys of org_b.
        await _join_org_b(world, viewer)
    token = world.tokens[_viewer_in(viewer, org)]
    path = ["organization", field.split(" ")[-1].split(".")[0]]
    if "." in field:
        path.append(field.split(".")[-1])
    async with gateway(world.url) as api:
        body = await api.execute(
            f'{{ organization(id: "{org}", at: "{NOW.isoformat()}") '
            f"{{ {selection} }} }}",
            token=token,
        )

    assert _outcome(body, path) == expected


def _viewer_in(viewer: str, org: str) -> str:
    if org == "org_b" and viewer in ("service", "partner"):
        return f"{viewer}_b"
    return viewer


async def _join_org_b(world: World, viewer: str) -> None:
    if viewer not in ("member", "manager", "admin", "super_admin"):
        return
    engine = create_engine(world.url)
    async with session_factory(engine)() as session:
        _, membership = f.member("org_b", viewer, Role[viewer.upper()])
        session.add(membership)
        await session.commit()
    await engine.dispose()


@pytest.mark.parametrize(
    ("name", "viewer", "selection", "expected"),
    [
        (name, viewer, selection, expected[position])
        for name, (selection, expected) in MUTATIONS.items()
        for position, viewer in enumerate(VIEWERS)
    ],
)
async def test_mutation(
    world: World, name: str, viewer: str, selection: str, expected: str
) -> None:
    async with gateway(world.url) as api:
        body = await api.execute(
            f"mutation {{ {selection} }}", token=world.tokens[viewer]
        )

    assert _outcome(body, [name]) == expected


@pytest.mark.parametrize(
    ("name", "viewer", "selection", "expected"),
    [
        (name, viewer, selection, expected[position])
        for name, (selection, expected) in QUERIES.items()
        for position, viewer in enumerate(VIEWERS)
    ],
)
async def test_root_query(
    world: World, name: str, viewer: str, selection: str, expected: str
) -> None:
    async with gateway(world.url) as api:
        body = await api.execute(f"{{ {selection} }}", token=world.tokens[viewer])

    assert _outcome(body, [name]) == expected


@pytest.mark.parametrize("viewer", ["outsider", "service_b", "partner_b"])
async def test_an_organization_without_relation_is_not_found(
    world: World, viewer: str
) -> None:
    async with gateway(world.url) as api:
        body = await api.execute(
            '{ organization(id: "org_a") { id name } }', token=world.tokens[viewer]
        )
        seats = await api.execute(
            'mutation { changeSeats(organizationId: "org_a", total: 3) '
            "{ seats { total } } }",
            token=world.tokens[viewer],
        )

    assert _outcome(body, ["organization"]) == "NOT_FOUND"
    assert _outcome(seats, ["changeSeats"]) == "NOT_FOUND"


async def test_anonymous_callers_are_unauthenticated_everywhere(world: World) -> None:
    async with gateway(world.url) as api:
        query = await api.execute('{ organization(id: "org_a") { id } }')
        mutation = await api.execute(
            'mutation { upsertOrganization(input: {id: "x", name: "x"}) '
            "{ userErrors { code } } }"
        )

    assert _outcome(query, ["organization"]) == "UNAUTHENTICATED"
    assert _outcome(mutation, ["upsertOrganization"]) == "UNAUTHENTICATED"


async def test_partners_list_only_their_organizations(world: World) -> None:
    async with gateway(world.url) as api:
        body = await api.execute(
            "{ viewer { organizations { id } } }", token=world.tokens["partner"]
        )
        both = await api.execute(
            '{ organizations(ids: ["org_a", "org_b"]) { id } }',
            token=world.tokens["partner"],
        )

    assert body["data"] == {"viewer": {"organizations": [{"id": "org_a"}]}}
    assert both["data"] == {"organizations": [{"id": "org_a"}, None]}
    assert [error["extensions"]["code"] for error in both["errors"]] == ["NOT_FOUND"]
    assert [error["path"] for error in both["errors"]] == [["organizations", 1]]


@pytest.mark.parametrize(
    ("viewer", "shown"),
    [("member", False), ("manager", False), ("admin", True), ("operator", True)],
)
async def test_a_meter_counting_dollars_shows_amounts_only_with_the_permission(
    world: World, viewer: str, shown: bool
) -> None:
    query = (
        '{ organization(id: "org_a") { meters(keys: ["ai_spend_usd", "api_calls"]) '
        "{ key used limit remaining percent level } } }"
    )
    async with gateway(world.url) as api:
        body = await api.execute(query, token=world.tokens[viewer])

    assert "errors" not in body
    dollars, calls = body["data"]["organization"]["meters"]
    amounts = (dollars["used"], dollars["limit"], dollars["remaining"])
    assert amounts == (("0", "50", "50") if shown else (None, None, None))
    assert (dollars["percent"], dollars["level"]) == (0.0, "NORMAL")
    assert calls["used"] == "0"
