"""N+1 guards: a page costs the same number of SQL statements however much it shows.

The contract's UsagePage for an organization with one meter used, one member, one
pool and one operation issues exactly as many statements as for one with many of
each; PartnerBillingState for a hundred organizations as many as for one. Counted on
PostgreSQL (the production database) around the HTTP request, after a warm-up request
so that connection set-up is not counted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from rules.enums import (
    AiFeature,
    ApiKeyKind,
    BillingModel,
    BillingState,
    CreditPoolKind,
    ModelTier,
    PlanTier,
    ReconciliationStatus,
    Role,
    SeatType,
    SubscriptionStatus,
    UsageSource,
)
from rules.pricing import TokenCounts
from store import provisioning as p
from store.api_keys import create_api_key
from store.db import SessionFactory, StatementCounter
from tests.gateway_client import Gateway, gateway, operation, user_token
from tests.resolvers.small_organization import (
    ADMIN,
    AT,
    SETUP,
    record,
    small_organization,
    store,
    usage,
)

OPERATIONS = (
    "voice",
    "recording",
    "transcription",
    "realtime",
    "sms",
    "mms",
    "ai_text",
    "email",
)
LIMITED = (
    "contacts",
    "companies",
    "storage_bytes",
    "emails_sent",
    "ai_tokens",
    "enrichments",
    "workflow_executions",
    "import_rows",
    "export_rows",
    "ai_spend_usd",
)


async def counted(
    api: Gateway, document: str, variables: dict[str, Any], token: str
) -> tuple[list[str], dict[str, Any]]:
    """The statements one request runs, and its data (which must have no errors)."""
    assert api.app is not None
    with StatementCounter(api.app.state.engine) as counter:
        body = await api.execute(document, variables, token=token)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return counter.statements, data


def first_words(statements: list[str]) -> list[str]:
    """Enough of each statement to tell which query it is when counts differ."""
    return [" ".join(statement.split())[:90] for statement in statements]


# the usage page -----------------------------------------------------------------------


async def _big_organization(sessions: SessionFactory) -> None:
    """Ten limited meters, 30 members, four pools, eight operations, AI categories,
    allocations and usage over six cycles."""
    async with sessions() as session, session.begin():
        for model, tier in (("big", ModelTier.STANDARD), ("fast", ModelTier.FAST)):
            await p.set_model_price(
                session, p.ModelPriceSpec(model, tier, Decimal(2), Decimal(4))
            )
        await p.upsert_plan(
            session,
            p.PlanSpec(
                "big",
                "Big",
                PlanTier.BUSINESS,
                monthly_credits=Decimal(100),
                credits_per_usd=Decimal(10),
                seat_caps=((SeatType.POWER, 20),),
                limits=(
                    *(p.PlanLimitSpec(m, Decimal(1_000_000)) for m in LIMITED),
                    *(
                        p.PlanLimitSpec(
                            m, free_units=Decimal(10), credits_per_unit=Decimal(1)
                        )
                        for m in OPERATIONS
                    ),
                ),
            ),
        )
        await p.upsert_organization(
            session,
            p.OrganizationSpec(
                "org_big",
                "Big",
                billing_state=BillingState.PAID,
                allowance_ui_details=True,
            ),
            SETUP,
        )
        await p.set_subscription(
            session, p.SubscriptionSpec("org_big", "big", 40, anchor=SETUP), SETUP
        )
        await p.upsert_member(
            session,
            p.MemberSpec(
                "org_big",
                ADMIN,
                "admin@example.com",
                "Admin",
                Role.ADMIN,
                teams=("Ops",),
                seat_type=SeatType.POWER,
            ),
            SETUP,
        )
        for index in range(29):
            await p.upsert_member(
                session,
                p.MemberSpec(
                    "org_big",
                    f"user{index:02}",
                    f"user{index:02}@example.com",
                    f"User {index:02}",
                    Role.MEMBER if index % 3 else Role.MANAGER,
                    teams=("Sales",) if index % 2 else ("Support", "Ops"),
                    seat_type=SeatType.COLLABORATOR if index % 4 == 0 else None,
                ),
                SETUP,
            )
        for meter in ("enrichments", "ai_tokens", "emails_sent"):
            await p.set_personal_allocation(
                session, "org_big", ADMIN, meter, Decimal(1_000_000)
            )
        for grant_id, kind, expires in (
            ("bonus_1", CreditPoolKind.BONUS, datetime(2026, 6, 1, tzinfo=UTC)),
            ("bonus_2", CreditPoolKind.BONUS, datetime(2026, 5, 1, tzinfo=UTC)),
            ("bought", CreditPoolKind.PURCHASED, None),
        ):
            await p.grant_credits(
                session,
                p.CreditGrantSpec("org_big", kind, Decimal(500), expires, id=grant_id),
                SETUP,
            )
        for index in range(6):
            await p.upsert_workspace(
                session,
                p.WorkspaceSpec(
                    "org_big", f"ws{index}", f"Workspace {index}", f"g{index % 3}"
                ),
            )
    sources = (UsageSource.WEB, UsageSource.CLI, None)
    events = []
    for month_back in range(6):
        when = AT - timedelta(days=30 * month_back + 1)
        for index, meter in enumerate(LIMITED[:9] + OPERATIONS):
            events.append(
                usage(
                    "org_big",
                    f"b{month_back}-{meter}",
                    meter,
                    str(20 + index),
                    when - timedelta(hours=index),
                    user_id=ADMIN if index % 2 else f"user{index:02}",
                    workspace_id=f"ws{index % 6}",
                    source=sources[index % 3],
                )
            )
        for index, feature in enumerate(AiFeature):
            events.append(
                usage(
                    "org_big",
                    f"ai{month_back}-{feature.value}",
                    "ai_tokens",
                    "1000",
                    when,
                    user_id=ADMIN,
                    feature=feature,
                    model=("big", "fast")[index % 2],
                    tokens=TokenCounts(input=100_000, output=10_000),
                )
            )
    await record(sessions, events)


async def test_usage_page_statements_do_not_grow_with_what_the_page_shows(
    postgres_url: str,
) -> None:
    async with store(postgres_url) as sessions:
        await small_organization(sessions)
        await _big_organization(sessions)
    token = user_token(ADMIN)
    page = operation("usage_page")

    async with gateway(postgres_url) as api:
        # Warm-up: connections set up, the process's catalog loaded.
        await api.execute(page, {"org": "org_small", "at": AT.isoformat()}, token=token)
        small, small_data = await counted(
            api, page, {"org": "org_small", "at": AT.isoformat()}, token
        )
        big, big_data = await counted(
            api, page, {"org": "org_big", "at": AT.isoformat()}, token
        )

    shown = big_data["organization"]
    assert len(small_data["organization"]["meters"]) == 2
    assert len(shown["meters"]) >= 10
    assert shown["members"]["totalCount"] == 30
    assert [pool["kind"] for pool in shown["credits"]["pools"]] == [
        "MONTHLY",
        "BONUS",
        "BONUS",
        "PURCHASED",
    ]
    assert len(shown["usageByOperation"]) == 8
    assert len(shown["aiBudget"]["categories"]) == len(AiFeature)
    assert len(shown["myUsage"]["meters"]) == 3
    assert len(big) == len(small), (first_words(small), first_words(big))


# partners -----------------------------------------------------------------------------


async def _organizations(
    sessions: SessionFactory, billing_model: BillingModel, count: int = 100
) -> list[str]:
    """`count` organizations billed alike, otherwise in every shape: anchors on every
    day of the month, provider periods, past-due and exhausted payments, no
    subscription, every billing state, grants, reconciliations, and usage."""
    ids = [f"org_{index:03}" for index in range(count)]
    async with sessions() as session, session.begin():
        await p.upsert_plan(
            session,
            p.PlanSpec(
                "pro",
                "Pro",
                PlanTier.PRO,
                monthly_credits=Decimal(100),
                limits=(
                    p.PlanLimitSpec("voice", credits_per_unit=Decimal(1)),
                    p.PlanLimitSpec("ai_spend_usd", Decimal(500)),
                ),
            ),
        )
        for index, org_id in enumerate(ids):
            await p.upsert_organization(
                session,
                p.OrganizationSpec(
                    org_id,
                    f"Organization {index}",
                    billing_model=billing_model,
                    billing_state=list(BillingState)[index % len(BillingState)],
                ),
                SETUP,
            )
            if index % 7 == 6:
                continue  # no subscription
            period = index % 4 == 2
            await p.set_subscription(
                session,
                p.SubscriptionSpec(
                    org_id,
                    "pro",
                    1 + index % 9,
                    status=SubscriptionStatus.PAST_DUE
                    if index % 6 == 3
                    else SubscriptionStatus.ACTIVE,
                    anchor=datetime(2026, 1, 1 + index % 28, tzinfo=UTC),
                    current_period_start=datetime(2026, 3, 3, tzinfo=UTC)
                    if period
                    else None,
                    current_period_end=datetime(2026, 4, 3, tzinfo=UTC)
                    if period
                    else None,
                    payment_retries_exhausted=index % 12 == 3,
                ),
                SETUP,
            )
            if billing_model is BillingModel.CREDITS:
                await p.grant_credits(
                    session,
                    p.CreditGrantSpec(org_id, CreditPoolKind.PURCHASED, Decimal(50)),
                    SETUP,
                )
            if index % 2:
                await p.set_reconciliation(
                    session,
                    p.ReconciliationSpec(
                        org_id,
                        ReconciliationStatus.RECONCILED,
                        Decimal(3),
                        datetime(2026, 3, 1, tzinfo=UTC),
                    ),
                )
    await record(
        sessions,
        [
            usage(
                org_id,
                f"v{index}",
                "ai_tokens" if billing_model is BillingModel.USD else "voice",
                "150",
                AT - timedelta(hours=index),
                cost_usd=Decimal(2) if billing_model is BillingModel.USD else None,
            )
            for index, org_id in enumerate(ids)
            # AI access is paused for exhausted payments: no AI usage to record.
            if not (billing_model is BillingModel.USD and index % 12 == 3)
        ],
    )
    return ids


async def _partner_counts(
    postgres_url: str, billing_model: BillingModel
) -> tuple[list[str], list[str]]:
    """Statements of PartnerBillingState for the first organization, then all 100."""
    async with store(postgres_url) as sessions:
        ids = await _organizations(sessions, billing_model)
        async with sessions() as session, session.begin():
            _, secret = await create_api_key(
                session, ApiKeyKind.PARTNER, "billing system", tuple(ids), SETUP
            )
    document = operation("partner_billing_state")

    async with gateway(postgres_url) as api:
        # Warm-up: connections set up, the process's catalog loaded.
        await api.execute(
            document, {"ids": ids[:1], "at": AT.isoformat()}, token=secret
        )
        one, one_data = await counted(
            api, document, {"ids": ids[:1], "at": AT.isoformat()}, secret
        )
        hundred, hundred_data = await counted(
            api, document, {"ids": ids, "at": AT.isoformat()}, secret
        )

    assert [org["id"] for org in one_data["organizations"]] == ids[:1]
    assert [org["id"] for org in hundred_data["organizations"]] == ids
    assert one_data["organizations"][0]["credits"]["spent"] != "0"
    return one, hundred


async def test_partner_billing_state_statements_do_not_grow_with_organizations(
    postgres_url: str,
) -> None:
    one, hundred = await _partner_counts(postgres_url, BillingModel.CREDITS)

    assert len(hundred) == len(one), (first_words(one), first_words(hundred))


async def test_partner_billing_state_statements_do_not_grow_with_byom_organizations(
    postgres_url: str,
) -> None:
    one, hundred = await _partner_counts(postgres_url, BillingModel.USD)

    assert len(hundred) == len(one), (first_words(one), first_words(hundred))
