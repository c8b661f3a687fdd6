"""Billing readiness, analytics and the daily allowance panel, through GraphQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from rules.enums import (
    ApiKeyKind,
    BillingState,
    ReconciliationStatus,
    Role,
    SubscriptionStatus,
)
from rules.readiness import workspace_creation_blockers
from store.api_keys import create_api_key
from store.db import SessionFactory
from store.models import Reconciliation
from tests import factories as f
from tests.gateway_client import error_codes, gateway, operation, user_token

AT = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
READINESS = """
query ($org: ID!, $at: DateTime) {
  organization(id: $org, at: $at) {
    aiAccessPaused
    workspaceCreation { allowed reasons }
    reconciliation { status lastReconciledAt }
  }
}
"""
PANEL = """
query ($org: ID!, $at: DateTime) {
  organization(id: $org, at: $at) {
    dailyAllowance {
      message
      snapshot { status coverage usagePercent unpricedEventCount }
    }
  }
}
"""


async def _operator(sessions: SessionFactory) -> str:
    async with sessions() as session:
        _, secret = await create_api_key(session, ApiKeyKind.OPERATOR, "ops", (), AT)
        await session.commit()
    return secret


async def _org(sessions: SessionFactory, **fields: Any) -> None:
    subscription = fields.pop("subscription", {})
    async with sessions() as session:
        await f.add_all(
            session,
            f.plan("pro", daily_allowance_units=Decimal(1000)),
            f.organization("org_a", **fields),
            f.subscription("org_a", "pro", **subscription),
            f.member("org_a", "admin", Role.ADMIN),
            f.member("org_a", "member", Role.MEMBER),
        )


@pytest.mark.parametrize(
    ("state", "approved", "hours", "usd", "status", "reasons"),
    [
        (BillingState.PAID, False, "0", "0", None, []),
        (BillingState.NONE, False, "0", "0", None, ["NO_BILLING"]),
        (BillingState.TRIAL, True, "0", "0", None, []),
        (BillingState.TRIAL, False, "0", "0", None, ["TRIAL_NOT_APPROVED"]),
        (BillingState.PREPAID, False, "1", "1", None, []),
        (BillingState.PREPAID, False, "0", "1", None, ["WORKSPACE_TIME_UNFUNDED"]),
        (BillingState.PREPAID, False, "1", "0", None, ["MANAGED_AI_UNFUNDED"]),
        (
            BillingState.PREPAID,
            False,
            "0",
            "0",
            None,
            ["WORKSPACE_TIME_UNFUNDED", "MANAGED_AI_UNFUNDED"],
        ),
        (
            BillingState.PAID,
            False,
            "0",
            "0",
            SubscriptionStatus.PAST_DUE,
            ["PAYMENT_PAST_DUE"],
        ),
    ],
)
def test_workspace_creation_reasons(
    state: BillingState,
    approved: bool,
    hours: str,
    usd: str,
    status: SubscriptionStatus | None,
    reasons: list[str],
) -> None:
    blockers = workspace_creation_blockers(
        state, approved, Decimal(hours), Decimal(usd), status
    )

    assert [reason.value for reason in blockers] == reasons


async def test_past_due_with_exhausted_retries_pauses_ai_and_blocks_workspaces(
    database_url: str, sessions: SessionFactory
) -> None:
    await _org(
        sessions,
        subscription={
            "status": SubscriptionStatus.PAST_DUE,
            "payment_retries_exhausted": True,
        },
    )
    async with gateway(database_url) as api:
        body = await api.execute(
            READINESS, {"org": "org_a", "at": AT.isoformat()}, token=user_token("admin")
        )

    assert body["data"]["organization"] == {
        "aiAccessPaused": True,
        "workspaceCreation": {"allowed": False, "reasons": ["PAYMENT_PAST_DUE"]},
        "reconciliation": {"status": "NOT_CONFIGURED", "lastReconciledAt": None},
    }


async def test_past_due_alone_keeps_ai_running(
    database_url: str, sessions: SessionFactory
) -> None:
    await _org(sessions, subscription={"status": SubscriptionStatus.PAST_DUE})
    async with gateway(database_url) as api:
        body = await api.execute(READINESS, {"org": "org_a"}, token=user_token("admin"))

    assert body["data"]["organization"]["aiAccessPaused"] is False


async def _reconciled(sessions: SessionFactory) -> None:
    await _org(
        sessions,
        billing_state=BillingState.PREPAID,
        provider_project_id="prj-42",
        workspace_time_balance_hours=Decimal("10"),
        managed_ai_balance_usd=Decimal("5"),
    )
    async with sessions() as session:
        await f.add_all(
            session,
            Reconciliation(
                organization_id="org_a",
                status=ReconciliationStatus.RECONCILED,
                managed_ai_usage_usd=Decimal("93.6"),
                reconciled_at=AT - timedelta(hours=2),
            ),
            f.event("org_a", "workspace_runtime_hours", "2.5", AT - timedelta(days=2)),
            f.event("org_a", "workspace_runtime_hours", "1.25", AT - timedelta(days=1)),
            f.event("org_a", "workspace_runtime_hours", "7", AT - timedelta(days=20)),
        )
    from sqlalchemy import select

    from store.models import UsageEvent
    from store.rollups import add_to_rollups

    async with sessions() as session:
        await add_to_rollups(session, list(await session.scalars(select(UsageEvent))))
        await session.commit()


def _analytics_variables() -> dict[str, str]:
    return {
        "org": "org_a",
        "start": (AT - timedelta(days=7)).isoformat(),
        "end": AT.isoformat(),
    }


async def test_operators_see_the_provider_project_id_in_analytics(
    database_url: str, sessions: SessionFactory
) -> None:
    await _reconciled(sessions)
    operator = await _operator(sessions)
    async with gateway(database_url) as api:
        body = await api.execute(
            operation("analytics"), _analytics_variables(), token=operator
        )

    assert body == {
        "data": {
            "organization": {
                "id": "org_a",
                "analytics": {
                    "workspaceRuntimeHours": "3.75",
                    "managedAiUsage": {"amount": "93.6", "unit": "USD"},
                    "reconciliation": {
                        "status": "RECONCILED",
                        "lastReconciledAt": (AT - timedelta(hours=2)).isoformat(),
                    },
                    "billingState": "PREPAID",
                    "workspaceCreation": {"allowed": True, "reasons": []},
                    "providerProjectId": "prj-42",
                },
            }
        }
    }


async def test_customer_admins_never_see_the_provider_project_id(
    database_url: str, sessions: SessionFactory
) -> None:
    await _reconciled(sessions)
    async with gateway(database_url) as api:
        body = await api.execute(
            operation("analytics"), _analytics_variables(), token=user_token("admin")
        )

    analytics = body["data"]["organization"]["analytics"]
    assert analytics["providerProjectId"] is None
    assert analytics["workspaceRuntimeHours"] == "3.75"


async def test_members_are_denied_analytics(
    database_url: str, sessions: SessionFactory
) -> None:
    await _reconciled(sessions)
    async with gateway(database_url) as api:
        body = await api.execute(
            operation("analytics"), _analytics_variables(), token=user_token("member")
        )

    assert body["data"]["organization"]["analytics"] is None
    assert error_codes(body) == ["FORBIDDEN"]


async def test_managed_ai_usage_is_null_until_reconciliation_is_configured(
    database_url: str, sessions: SessionFactory
) -> None:
    await _org(sessions)
    async with gateway(database_url) as api:
        body = await api.execute(
            operation("analytics"), _analytics_variables(), token=user_token("admin")
        )

    assert body["data"]["organization"]["analytics"]["managedAiUsage"] is None


async def test_allowance_panel_is_null_without_the_ui_flag(
    database_url: str, sessions: SessionFactory
) -> None:
    await _org(sessions, allowance_ui_details=False)
    async with gateway(database_url) as api:
        body = await api.execute(PANEL, {"org": "org_a"}, token=user_token("admin"))

    assert body == {"data": {"organization": {"dailyAllowance": None}}}


async def test_allowance_panel_is_null_for_members(
    database_url: str, sessions: SessionFactory
) -> None:
    await _org(sessions, allowance_ui_details=True)
    async with gateway(database_url) as api:
        body = await api.execute(PANEL, {"org": "org_a"}, token=user_token("member"))

    assert body == {"data": {"organization": {"dailyAllowance": None}}}


async def test_allowance_panel_before_any_sync_says_so(
    database_url: str, sessions: SessionFactory
) -> None:
    await _org(sessions, allowance_ui_details=True)
    async with gateway(database_url) as api:
        body = await api.execute(PANEL, {"org": "org_a"}, token=user_token("admin"))

    assert body["data"]["organization"]["dailyAllowance"] == {
        "message": "No worker-synced billing allowance snapshot is available for "
        "this workspace yet.",
        "snapshot": None,
    }


async def test_allowance_panel_shows_partial_coverage_with_its_count(
    database_url: str, sessions: SessionFactory
) -> None:
    await _org(sessions, allowance_ui_details=True)
    async with sessions() as session:
        await f.add_all(
            session,
            f.event("org_a", "ai_tokens", "10", AT - timedelta(hours=1), unpriced=True),
            f.event("org_a", "ai_tokens", "10", AT - timedelta(hours=2), unpriced=True),
            f.event(
                "org_a",
                "ai_tokens",
                "10",
                AT - timedelta(hours=3),
                cost_usd=Decimal("0.25"),
            ),
        )
    operator = await _operator(sessions)
    sync = operation("provisioning")
    async with gateway(database_url) as api:
        synced = await api.execute(
            sync,
            {"org": "org_a", "at": AT.isoformat()},
            token=operator,
            operation_name="SyncDailyAllowance",
        )
        body = await api.execute(
            PANEL, {"org": "org_a", "at": AT.isoformat()}, token=user_token("admin")
        )

    assert synced["data"]["syncDailyAllowance"]["snapshot"]["unpricedEventCount"] == 2
    assert body["data"]["organization"]["dailyAllowance"] == {
        "message": "Pricing coverage is incomplete — 2 events in this window could "
        "not be priced yet.",
        "snapshot": {
            "status": "WITHIN_LIMIT",
            "coverage": "PARTIAL",
            "usagePercent": 25.0,
            "unpricedEventCount": 2,
        },
    }
