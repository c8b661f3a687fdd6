"""Live usage: ticks published after recordUsage commits, streams for usageUpdated.

Publishing (after the durable commit, before the reply): one tick per organization and
meter that accepted events in the call, in the order of each meter's last accepted
event, carrying the meter's state and the credit summary read from one database
snapshot. Skipped when nobody follows the organization.

Subscribing: the viewer's access is checked like a query's before anything streams
(NOT_FOUND for an organization it has no relation to), then re-checked at most every
`ACCESS_RECHECK_SECONDS` while the stream lives (a token expires, a member leaves, a
role changes). Redaction happens at the subscriber, with the viewer's access.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from auth.permissions import Permission
from resolvers import usage
from resolvers.access import Access, OrgScope, access_for
from resolvers.context import Info, Loaders
from resolvers.loaders.reads import RequestSession
from resolvers.metrics import subscribed
from resolvers.organizations import organization_scope, require_identity
from resolvers.websocket import authenticate, current_time
from rules.credits import PoolState
from rules.enums import CreditPoolKind, CreditPrompt, CreditUnit, UsageStatus
from rules.errors import Forbidden
from store.catalog import counts_dollars
from store.live import LiveUnavailable, Tick, Version, snapshot_position
from store.metrics import LIVE_TICKS
from store.recording import EventOutcome, UsageEventSpec

log = logging.getLogger("usage_gateway.live")

ACCESS_RECHECK_SECONDS = 60.0


@dataclass(frozen=True)
class LiveTick:
    """One meter's new state, as one viewer may see it."""

    at: datetime
    meter: str
    used: Decimal
    limit: Decimal | None
    in_dollars: bool
    credits: usage.CreditSummary | None
    access: Access


# ------------------------------------------------------------------------- publishing


async def publish_accepted(
    info: Info, specs: Sequence[UsageEventSpec], outcomes: Sequence[EventOutcome]
) -> None:
    """Publish the ticks of a recordUsage call; never fails the call (its events
    are durable already): a tick that could not be published is logged."""
    hub = info.context.live
    if hub is None:
        return
    changed: dict[str, dict[str, None]] = {}
    for spec, outcome in zip(specs, outcomes, strict=True):
        if outcome.status is UsageStatus.ACCEPTED:
            meters = changed.setdefault(spec.organization_id, {})
            meters.pop(spec.meter, None)
            meters[spec.meter] = None
    for organization_id, meters in changed.items():
        try:
            if await hub.listening(organization_id):
                await hub.publish(await _ticks(info, organization_id, list(meters)))
        except LiveUnavailable:
            pass  # logged by the hub once per outage; the next tick carries the state
        except Exception:
            log.exception("live: ticks of %r were not published", organization_id)


async def _ticks(info: Info, organization_id: str, meters: list[str]) -> list[Tick]:
    """The meters' states and the credit summary, all read from one snapshot (the
    writer's own access: redaction is each subscriber's), and where it stands."""
    context = info.context
    identity = require_identity(info)
    # The usage resolvers read through the request's loaders: for this compute,
    # loaders over one snapshot (SQL only, no counters); fresh ones afterwards.
    reads = RequestSession(context.sessions)
    context.loaders = Loaders(reads, context.sessions)
    try:
        position = await reads.run(snapshot_position)
        as_of = current_time(context)
        organization = await context.loaders.organization.load(organization_id)
        access = (
            None if organization is None else access_for(identity, organization, None)
        )
        if organization is None or access is None:
            return []
        scope = OrgScope(organization, as_of, access)
        _, states = await usage.meter_states(info, scope)
        summary = await usage.credit_summary(info, scope)
    finally:
        await reads.release()
        context.forget_loaded()
    version = (*position, _microseconds(as_of))
    credits = None if summary is None else _summary_json(summary)
    by_key = {state.meter.key: state for state in states}
    return [
        Tick(
            organization_id,
            key,
            version,
            {
                "at": context.now.isoformat(),
                "used": str(state.used),
                "limit": _text(state.limit),
                "dollars": counts_dollars(state.meter.unit_label),
                "credits": credits,
            },
        )
        for key in meters
        if (state := by_key.get(key)) is not None
    ]


# ------------------------------------------------------------------------ subscribing


async def usage_updates(
    info: Info, organization_id: str
) -> AsyncGenerator[LiveTick, None]:
    """The organization's ticks as the viewer may see them. Raises (before anything
    streams) when the viewer may not follow the organization."""
    if info.context.live is None:
        raise RuntimeError("no live hub in this context")
    scope = await _viewer_scope(info, organization_id)
    return _stream(info, organization_id, scope)


async def _viewer_scope(info: Info, organization_id: str) -> OrgScope:
    # A websocket's context outlives any one read: load access afresh.
    info.context.forget_loaded()
    try:
        scope = await organization_scope(info, organization_id, None)
    finally:
        # A stream streamed over HTTP outlives its request: hold no connection.
        await info.context.release_reads()
    if not scope.access.can(Permission.USAGE_READ):
        raise Forbidden(f"{Permission.USAGE_READ.value} is required")
    return scope


async def _stream(
    info: Info, organization_id: str, scope: OrgScope
) -> AsyncGenerator[LiveTick, None]:
    context = info.context
    assert context.live is not None
    newest_credits: tuple[Version, usage.CreditSummary | None] | None = None
    checked = time.monotonic()
    with subscribed():
        async with context.live.subscribe(organization_id) as inbox:
            while True:
                tick = await inbox.get()
                if time.monotonic() - checked >= ACCESS_RECHECK_SECONDS:
                    await authenticate(context)
                    scope = await _viewer_scope(info, organization_id)
                    checked = time.monotonic()
                state = tick.state
                # Credits are the organization's: a tick of another meter read from an
                # older snapshot must not take them back.
                if newest_credits is None or tick.version >= newest_credits[0]:
                    newest_credits = (tick.version, _summary(state["credits"]))
                used = Decimal(state["used"])
                LIVE_TICKS.inc()
                yield LiveTick(
                    at=datetime.fromisoformat(state["at"]),
                    meter=tick.meter,
                    used=used,
                    limit=_decimal(state["limit"]),
                    in_dollars=bool(state["dollars"]),
                    credits=newest_credits[1],
                    access=scope.access,
                )


# ----------------------------------------------------------------------------- helpers


def _microseconds(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000 + at.microsecond


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _decimal(text: Any) -> Decimal | None:
    return None if text is None else Decimal(text)


def _summary_json(summary: usage.CreditSummary) -> dict[str, Any]:
    return {
        "unit": summary.unit.value,
        "granted": _text(summary.granted),
        "spent": str(summary.spent),
        "remaining": _text(summary.remaining),
        "progress": summary.progress,
        "pools": [
            {
                "kind": pool.kind.value,
                "grant": pool.grant_id,
                "granted": str(pool.granted),
                "spent": str(pool.spent),
                "expires": None
                if pool.expires_at is None
                else pool.expires_at.isoformat(),
            }
            for pool in summary.pools
        ],
        "poolSpent": [
            [grant, str(spent)] for grant, spent in summary.pool_spent.items()
        ],
        "avgPerDay": str(summary.avg_per_day),
        "runOutInDays": _text(summary.run_out_in_days),
        "onTrack": summary.on_track_to_run_out,
        "prompts": [prompt.value for prompt in summary.prompts],
    }


def _summary(data: dict[str, Any] | None) -> usage.CreditSummary | None:
    if data is None:
        return None
    return usage.CreditSummary(
        unit=CreditUnit(data["unit"]),
        granted=_decimal(data["granted"]),
        spent=Decimal(data["spent"]),
        remaining=_decimal(data["remaining"]),
        progress=float(data["progress"]),
        pools=[
            PoolState(
                CreditPoolKind(pool["kind"]),
                pool["grant"],
                Decimal(pool["granted"]),
                Decimal(pool["spent"]),
                None
                if pool["expires"] is None
                else datetime.fromisoformat(pool["expires"]),
            )
            for pool in data["pools"]
        ],
        pool_spent={grant: Decimal(spent) for grant, spent in data["poolSpent"]},
        avg_per_day=Decimal(data["avgPerDay"]),
        run_out_in_days=_decimal(data["runOutInDays"]),
        on_track_to_run_out=bool(data["onTrack"]),
        prompts=[CreditPrompt(prompt) for prompt in data["prompts"]],
    )
