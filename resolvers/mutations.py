"""What each mutation does: inputs to store specs, one transaction, a payload."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import allowance, billing, live
from resolvers.access import OrgScope, access_for
from resolvers.context import Info
from resolvers.metrics import count_recorded
from resolvers.organizations import organization_scope, require_identity
from resolvers.provisioning import apply_change
from rules.enums import SeatStatus, SeatType, UsageDecisionCode, UsageStatus, ViewerKind
from rules.errors import BadUserInput, Forbidden
from rules.pricing import TokenCounts
from schema import inputs, payloads
from schema.organization import Organization
from schema.types.billing import Seats
from schema.types.members import Member
from store import provisioning, recording, write_queue
from store.api_keys import create_api_key as store_create_api_key
from store.api_keys import revoke_api_key as store_revoke_api_key
from store.catalog import MeterSpec
from store.models import Member as MemberRow
from store.models import MemberTeam, User


async def upsert_meter(
    info: Info, data: inputs.MeterInput
) -> payloads.UpsertMeterPayload:
    spec = MeterSpec(
        data.key,
        data.label,
        data.category,
        data.unit_label,
        data.resets,
        data.display_multiplier,
    )
    meter, errors = await apply_change(
        info, lambda s: provisioning.upsert_meter(s, spec)
    )
    return payloads.UpsertMeterPayload(
        meter=None
        if meter is None
        else payloads.CatalogMeter(
            key=meter.key,
            label=meter.label,
            category=meter.category,
            unit_label=meter.unit_label,
            resets=meter.resets,
        ),
        user_errors=errors,
    )


async def upsert_plan(info: Info, data: inputs.PlanInput) -> payloads.UpsertPlanPayload:
    spec = provisioning.PlanSpec(
        key=data.key,
        name=data.name,
        tier=data.tier,
        price_monthly_cents=data.price_monthly_cents,
        price_annual_cents=data.price_annual_cents,
        currency=data.currency,
        monthly_credits=data.monthly_credits,
        credits_per_seat=data.credits_per_seat,
        credits_per_usd=data.credits_per_usd,
        daily_allowance_units=data.daily_allowance_units,
        seat_caps=tuple((cap.seat_type, cap.cap) for cap in data.seat_caps or ()),
        limits=tuple(
            provisioning.PlanLimitSpec(
                meter=limit.meter,
                limit=limit.limit,
                per_seat=limit.per_seat,
                enforcement=limit.enforcement,
                free_units=limit.free_units,
                credits_per_unit=limit.credits_per_unit,
            )
            for limit in data.limits or ()
        ),
    )
    plan, errors = await apply_change(info, lambda s: provisioning.upsert_plan(s, spec))
    return payloads.UpsertPlanPayload(
        plan=None
        if plan is None
        else payloads.CatalogPlan(key=plan.key, name=plan.name, tier=plan.tier),
        user_errors=errors,
    )


async def upsert_organization(
    info: Info, data: inputs.OrganizationInput
) -> payloads.UpsertOrganizationPayload:
    spec = provisioning.OrganizationSpec(
        id=str(data.id),
        name=data.name,
        billing_model=data.billing_model,
        billing_state=data.billing_state,
        trial_approved=data.trial_approved,
        allowance_ui_details=data.allowance_ui_details,
        show_dollars_preview=data.show_dollars_preview,
        provider_project_id=data.provider_project_id,
        workspace_time_balance_hours=data.workspace_time_balance_hours,
        managed_ai_balance_usd=data.managed_ai_balance_usd,
    )
    now = info.context.now
    row, errors = await apply_change(
        info, lambda s: provisioning.upsert_organization(s, spec, now)
    )
    organization = None
    if row is not None:
        access = access_for(require_identity(info), row, None)
        assert access is not None, "only operators provision organizations"
        organization = Organization(scope=OrgScope(row, now, access))
    return payloads.UpsertOrganizationPayload(
        organization=organization, user_errors=errors
    )


async def set_subscription(
    info: Info, data: inputs.SubscriptionInput
) -> payloads.SetSubscriptionPayload:
    spec = provisioning.SubscriptionSpec(
        organization_id=str(data.organization_id),
        plan_key=data.plan_key,
        seats=data.seats,
        status=data.status,
        anchor=data.anchor,
        current_period_start=data.current_period_start,
        current_period_end=data.current_period_end,
        payment_retries_exhausted=data.payment_retries_exhausted,
    )
    now = info.context.now
    row, errors = await apply_change(
        info, lambda s: provisioning.set_subscription(s, spec, now)
    )
    return payloads.SetSubscriptionPayload(
        subscription=None if row is None else billing.subscription_type(row),
        user_errors=errors,
    )


async def _member(session: AsyncSession, row: MemberRow) -> Member:
    user = await session.get(User, row.user_id)
    teams = list(
        await session.scalars(
            select(MemberTeam.team)
            .where(
                MemberTeam.organization_id == row.organization_id,
                MemberTeam.user_id == row.user_id,
            )
            .order_by(MemberTeam.team)
        )
    )
    return Member(
        user_id=strawberry.ID(row.user_id),
        email=user.email if user else "",
        name=user.name if user else "",
        role=row.role,
        teams=teams,
        seat_status=SeatStatus.ALLOCATED if row.seat_type else SeatStatus.NO_SEAT,
        seat_type=row.seat_type,
    )


async def upsert_member(
    info: Info, data: inputs.MemberInput
) -> payloads.UpsertMemberPayload:
    spec = provisioning.MemberSpec(
        organization_id=str(data.organization_id),
        user_id=str(data.user_id),
        email=data.email,
        name=data.name,
        role=data.role,
        teams=tuple(data.teams or ()),
        seat_type=data.seat_type,
    )
    now = info.context.now

    async def change(session: AsyncSession) -> Member:
        return await _member(
            session, await provisioning.upsert_member(session, spec, now)
        )

    member, errors = await apply_change(info, change)
    return payloads.UpsertMemberPayload(member=member, user_errors=errors)


async def upsert_workspace(
    info: Info, data: inputs.WorkspaceInput
) -> payloads.UpsertWorkspacePayload:
    spec = provisioning.WorkspaceSpec(
        organization_id=str(data.organization_id),
        id=str(data.id),
        name=data.name,
        group_id=None if data.group_id is None else str(data.group_id),
        group_name=data.group_name,
    )
    row, errors = await apply_change(
        info, lambda s: provisioning.upsert_workspace(s, spec)
    )
    return payloads.UpsertWorkspacePayload(
        workspace=None
        if row is None
        else payloads.Workspace(
            id=strawberry.ID(row.id),
            name=row.name,
            group_id=None if row.group_id is None else strawberry.ID(row.group_id),
        ),
        user_errors=errors,
    )


async def grant_credits(
    info: Info, data: inputs.CreditGrantInput
) -> payloads.GrantCreditsPayload:
    spec = provisioning.CreditGrantSpec(
        organization_id=str(data.organization_id),
        kind=data.kind,
        amount=data.amount,
        expires_at=data.expires_at,
        reason=data.reason,
    )
    now = info.context.now
    row, errors = await apply_change(
        info, lambda s: provisioning.grant_credits(s, spec, now)
    )
    return payloads.GrantCreditsPayload(
        grant=None
        if row is None
        else payloads.CreditGrant(
            id=strawberry.ID(row.id),
            kind=row.kind,
            amount=row.amount,
            expires_at=row.expires_at,
        ),
        user_errors=errors,
    )


async def set_model_price(
    info: Info, data: inputs.ModelPriceInput
) -> payloads.UserErrorsPayload:
    spec = provisioning.ModelPriceSpec(
        model=data.model,
        tier=data.tier,
        input_per_million_usd=data.input_per_million_usd,
        output_per_million_usd=data.output_per_million_usd,
        cache_read_per_million_usd=data.cache_read_per_million_usd,
        cache_write_per_million_usd=data.cache_write_per_million_usd,
    )
    _, errors = await apply_change(
        info, lambda s: provisioning.set_model_price(s, spec)
    )
    return payloads.UserErrorsPayload(user_errors=errors)


async def set_reconciliation(
    info: Info, data: inputs.ReconciliationInput
) -> payloads.UserErrorsPayload:
    spec = provisioning.ReconciliationSpec(
        organization_id=str(data.organization_id),
        status=data.status,
        managed_ai_usage_usd=data.managed_ai_usage_usd,
        reconciled_at=data.reconciled_at,
    )
    _, errors = await apply_change(
        info, lambda s: provisioning.set_reconciliation(s, spec)
    )
    return payloads.UserErrorsPayload(user_errors=errors)


async def sync_daily_allowance(
    info: Info, organization_id: str, at: datetime | None
) -> payloads.SyncDailyAllowancePayload:
    row = await allowance.sync(info, organization_id, at)
    return payloads.SyncDailyAllowancePayload(
        snapshot=allowance.snapshot_type(row), user_errors=[]
    )


async def create_api_key(
    info: Info, data: inputs.ApiKeyInput
) -> payloads.CreateApiKeyPayload:
    organization_ids = tuple(str(i) for i in data.organization_ids or ())
    now = info.context.now
    created, errors = await apply_change(
        info,
        lambda s: store_create_api_key(s, data.kind, data.name, organization_ids, now),
    )
    if created is None:
        return payloads.CreateApiKeyPayload(
            api_key=None, secret=None, user_errors=errors
        )
    record, secret = created
    return payloads.CreateApiKeyPayload(
        api_key=payloads.ApiKey(
            id=strawberry.ID(record.id),
            kind=record.kind,
            name=record.name,
            organization_ids=[strawberry.ID(i) for i in record.organization_ids],
        ),
        secret=secret,
        user_errors=[],
    )


async def revoke_api_key(info: Info, key_id: str) -> payloads.UserErrorsPayload:
    now = info.context.now
    _, errors = await apply_change(info, lambda s: store_revoke_api_key(s, key_id, now))
    return payloads.UserErrorsPayload(user_errors=errors)


MAX_EVENTS_PER_CALL = 1000


async def record_usage(
    info: Info, events: list[inputs.UsageEventInput]
) -> payloads.RecordUsagePayload:
    identity = require_identity(info)
    if identity.kind not in (ViewerKind.OPERATOR, ViewerKind.SERVICE):
        raise Forbidden(
            "usage:write is required: only SERVICE and operator keys record usage"
        )
    if len(events) > MAX_EVENTS_PER_CALL:
        raise BadUserInput(
            f"at most {MAX_EVENTS_PER_CALL} events per call, got {len(events)}"
        )
    specs = [_event_spec(event) for event in events]
    # A SERVICE key writes only its organization; others look unknown, not forbidden,
    # so a key cannot probe which organizations exist.
    writable = [
        position
        for position, spec in enumerate(specs)
        if identity.is_operator or spec.organization_id in identity.key_organization_ids
    ]
    recorded = [specs[position] for position in writable]
    await info.context.release_reads()  # the write takes a connection of its own
    try:
        # SQLite: queued for the one writer, holding no connection meanwhile.
        outcomes = await write_queue.record_usage(
            info.context.sessions, recorded, info.context.now, info.context.counters
        )
    except write_queue.WriteQueueFull:
        raise  # RATE_LIMITED: nothing decided nor written, so no generation moves
    except Exception:
        # What committed before the failure must not hide behind cached answers.
        await info.context.move_organizations({s.organization_id for s in recorded})
        raise
    # Committed, not yet replied: answers cached from before are no longer current.
    await info.context.move_organizations(
        {
            spec.organization_id
            for spec, outcome in zip(recorded, outcomes, strict=True)
            if outcome.status is UsageStatus.ACCEPTED
        }
    )
    # Committed: the ticks read these events (read-your-writes includes live ticks).
    await live.publish_accepted(info, recorded, outcomes)
    decided = dict(zip(writable, outcomes, strict=True))
    results = []
    for position, spec in enumerate(specs):
        outcome = decided.get(position)
        results.append(
            payloads.UsageEventResult(
                index=position,
                idempotency_key=spec.idempotency_key,
                status=outcome.status if outcome else UsageStatus.INVALID,
                code=outcome.code if outcome else UsageDecisionCode.INVALID,
                message=outcome.message
                if outcome
                else f"unknown organization {spec.organization_id!r}",
            )
        )
    count_recorded((r.status, r.code) for r in results)
    return payloads.RecordUsagePayload(
        accepted=sum(r.status is UsageStatus.ACCEPTED for r in results),
        duplicates=sum(r.status is UsageStatus.DUPLICATE for r in results),
        denied=sum(r.status is UsageStatus.DENIED for r in results),
        invalid=sum(r.status is UsageStatus.INVALID for r in results),
        results=results,
    )


def _event_spec(event: inputs.UsageEventInput) -> recording.UsageEventSpec:
    tokens = event.tokens
    return recording.UsageEventSpec(
        idempotency_key=event.idempotency_key,
        organization_id=str(event.organization_id),
        meter=event.meter,
        quantity=event.quantity,
        occurred_at=event.occurred_at,
        user_id=None if event.user_id is None else str(event.user_id),
        workspace_id=None if event.workspace_id is None else str(event.workspace_id),
        source=event.source,
        feature=event.feature,
        model=event.model,
        tokens=None
        if tokens is None
        else TokenCounts(
            tokens.input, tokens.output, tokens.cache_read, tokens.cache_write
        ),
        cost_usd=event.cost_usd,
        definition_id=None if event.definition_id is None else str(event.definition_id),
        definition_name=event.definition_name,
    )


async def _seats_after(info: Info, organization_id: str) -> Seats | None:
    info.context.forget_loaded()
    scope = await organization_scope(info, organization_id, None)
    return await billing.seats(info, scope)


async def allocate_seat(
    info: Info, organization_id: str, user_id: str, seat_type: SeatType | None
) -> payloads.SeatPayload:
    now = info.context.now

    async def change(session: AsyncSession) -> Member:
        row = await provisioning.allocate_seat(
            session, organization_id, user_id, seat_type, now
        )
        return await _member(session, row)

    member, errors = await apply_change(info, change)
    return payloads.SeatPayload(
        member=member,
        seats=await _seats_after(info, organization_id),
        user_errors=errors,
    )


async def deallocate_seat(
    info: Info, organization_id: str, user_id: str
) -> payloads.SeatPayload:
    async def change(session: AsyncSession) -> Member:
        row = await provisioning.deallocate_seat(session, organization_id, user_id)
        return await _member(session, row)

    member, errors = await apply_change(info, change)
    return payloads.SeatPayload(
        member=member,
        seats=await _seats_after(info, organization_id),
        user_errors=errors,
    )


async def change_seats(
    info: Info, organization_id: str, total: int
) -> payloads.ChangeSeatsPayload:
    now = info.context.now
    _, errors = await apply_change(
        info, lambda s: provisioning.change_seats(s, organization_id, total, now)
    )
    return payloads.ChangeSeatsPayload(
        seats=await _seats_after(info, organization_id), user_errors=errors
    )


async def set_personal_allocation(
    info: Info, organization_id: str, user_id: str, meter: str, limit: Decimal | None
) -> payloads.SetPersonalAllocationPayload:
    _, errors = await apply_change(
        info,
        lambda s: provisioning.set_personal_allocation(
            s, organization_id, user_id, meter, limit
        ),
    )
    allocation = None
    if not errors:
        allocation = payloads.PersonalAllocation(
            user_id=strawberry.ID(user_id), meter=meter, limit=limit
        )
    return payloads.SetPersonalAllocationPayload(
        allocation=allocation, user_errors=errors
    )
