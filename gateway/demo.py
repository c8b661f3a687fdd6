"""Demo data for `usage-gateway serve --demo`: one organization per kind of product
the contract serves, plus a few small ones for the edge states.

Everything goes through the same doors as production data: the catalog, customers and
seats through `store.provisioning`, usage through `store.recording.record_usage`, so the
demo exercises the real decisions (limits, credits, free allowances, personal
allocations) instead of writing rows that could never have been accepted.

The catalog and the organizations are data (`demo_data.toml`, read by
`gateway.demo_data` into provisioning specs); their usage is generated
(`gateway.demo_usage`). Loading is idempotent: provisioning upserts on stable ids,
and every event carries a deterministic idempotency key (`demo-<organization>-<n>`),
so a second load finds every event a DUPLICATE and adds nothing. Randomness is
seeded per organization, and every instant is an offset back from `now`, so the same
`now` gives the same data.

The headers `serve --demo` prints are for Pipeline CRM (`DEMO_ORGANIZATION`): the CRM
shows the most of the contract to one signed-in user (meters of every category, soft
caps near their limit, the AI budget, and a personal allocation for the member).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.demo_data import (
    DEMO_ADMIN_USER,
    DEMO_MEMBER_USER,
    DEMO_ORGANIZATION,
    DEMO_ORGANIZATIONS,
    MODEL_PRICES,
    PLANS,
    UNPRICED_MODEL,
    DemoOrganization,
)
from gateway.demo_data import organizations as demo_organizations
from gateway.demo_usage import usage as demo_usage
from rules.enums import UsageStatus
from store import provisioning as p
from store.allowance import sync_daily_allowance
from store.recording import record_usage

__all__ = [
    "BATCH_SIZE",
    "DEMO_ADMIN_USER",
    "DEMO_MEMBER_USER",
    "DEMO_ORGANIZATION",
    "DEMO_ORGANIZATIONS",
    "MODEL_PRICES",
    "PLANS",
    "UNPRICED_MODEL",
    "DemoDataError",
    "load_demo",
]

BATCH_SIZE = 1000
"""Events per `record_usage` call: the contract's maximum per request."""

SessionMaker = async_sessionmaker[AsyncSession]

_organizations = demo_organizations
_usage = demo_usage
"""With `_provision`, the steps of `load_demo` that `tests/system/test_fuzz.py` takes
one by one to seed a shorter history."""


class DemoDataError(RuntimeError):
    """The write path refused demo events as INVALID: the demo is out of date."""


def _silent(line: str) -> None:
    """No progress lines (tests load the demo quietly)."""


async def load_demo(
    sessions: SessionMaker, now: datetime, progress: Callable[[str], None] = _silent
) -> None:
    """Provision the demo catalog and organizations, then record their usage.

    Recording goes through the real write path and takes a while (tens of seconds on
    a small machine), so each organization reports to `progress` as it starts.
    """
    organizations = _organizations()
    progress(f"provisioning the catalog and {len(organizations)} organizations")
    async with sessions() as session:
        for price in MODEL_PRICES:
            await p.set_model_price(session, price)
        for plan in PLANS:
            await p.upsert_plan(session, plan)
        await session.commit()
    for organization in organizations:
        async with sessions() as session:
            await _provision(session, organization, now)
            await session.commit()

    # One organization per call (the write path locks and loads per organization),
    # in time order, so releases on cumulative meters never precede what they free
    # and each cycle meets its limits and credits in the order they came in life.
    for number, organization in enumerate(organizations, start=1):
        events = sorted(
            _usage(organization, now),
            key=lambda event: (event.occurred_at or now, event.idempotency_key),
        )
        progress(
            f"recording {len(events):,} usage events of {organization.id} "
            f"({number}/{len(organizations)})"
        )
        for start in range(0, len(events), BATCH_SIZE):
            outcomes = await record_usage(
                sessions, events[start : start + BATCH_SIZE], now
            )
            # Denials are part of the story (a plan without realtime, paused AI);
            # an INVALID event means the demo itself is wrong, so say so loudly.
            invalid = [o for o in outcomes if o.status is UsageStatus.INVALID]
            if invalid:
                raise DemoDataError(
                    f"{len(invalid)} demo events were refused as INVALID, e.g. "
                    f"{invalid[0].idempotency_key}: {invalid[0].message}"
                )

    # The daily allowance panel shows the worker's snapshot; take one now so the
    # demo does not open on "no snapshot yet" (a second load finds it stored).
    progress("taking the daily allowance snapshot")
    async with sessions() as session:
        await sync_daily_allowance(session, "org_meetly", now)


async def _provision(
    session: AsyncSession, organization: DemoOrganization, now: datetime
) -> None:
    """One organization as the data file has it, through the provisioning calls an
    operator makes (in the order they depend on each other)."""
    await p.upsert_organization(session, organization.spec, now)
    await p.set_subscription(session, organization.subscription, now)
    for member in organization.members():
        await p.upsert_member(session, member, now)
    for workspace in organization.workspaces:
        await p.upsert_workspace(session, workspace)
    for allocation in organization.personal_allocations:
        person = organization.people[allocation.person]
        await p.set_personal_allocation(
            session,
            organization.id,
            organization.user_id(person),
            allocation.meter,
            allocation.limit,
        )
    for grant in organization.grants(now):
        await p.grant_credits(session, grant, now)
    reconciliation = organization.reconciliation_spec(now)
    if reconciliation is not None:
        await p.set_reconciliation(session, reconciliation)
