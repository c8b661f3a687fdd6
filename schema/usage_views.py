"""The resolvers' usage views as schema types, amounts redacted for the viewer: a
meter (`meter_type`) and the credits (`credits_type`).

Apart from the Organization type because both the usage page's fields and the live
usage subscription (`schema.subscription`) build them, with the same redaction.
"""

from __future__ import annotations

from decimal import Decimal

from resolvers import trends, usage
from resolvers.access import Access, OrgScope
from rules import meters as meter_rules
from rules.enums import CreditUnit
from schema.permissions import sees_amounts, shown
from schema.types.meters import Meter
from schema.types.usage import CreditPool, Credits
from store.catalog import counts_dollars


def meter_type(
    scope: OrgScope, state: usage.MeterState, sums: dict[int, trends.TrendSums]
) -> Meter:
    """A meter counting dollars has its amounts redacted (null, no error) without
    billing:read:dollars; percent, level and the rest stay. `sums`: what its
    trends read, by number of months."""
    used, limit = state.used, state.limit
    unit = CreditUnit.USD if counts_dollars(state.meter.unit_label) else None
    visible = sees_amounts(unit, scope.access)
    return Meter(
        key=state.meter.key,
        label=state.meter.label,
        category=state.meter.category,
        unit_label=state.meter.unit_label,
        used=shown(used, visible),
        limit=shown(limit, visible),
        unlimited=limit is None,
        enforcement=state.enforcement,
        resets=state.meter.resets,
        percent=meter_rules.percent(used, limit),
        progress=meter_rules.progress(used, limit),
        level=meter_rules.level(used, limit),
        remaining=shown(meter_rules.remaining(used, limit), visible),
        resets_at=state.resets_at,
        blocked=meter_rules.blocked(used, limit, state.enforcement),
        trend_values={
            months: trends.trend_of(found, state.meter.key, state.cumulative)
            for months, found in sums.items()
        },
        unit=unit,
        access=scope.access,
    )


def credits_type(summary: usage.CreditSummary, access: Access) -> Credits:
    """Dollar amounts (BYOM) are redacted (null, no error) without
    billing:read:dollars; pools and projections stay."""
    visible = sees_amounts(summary.unit, access)
    return Credits(
        unit=summary.unit,
        granted=shown(summary.granted, visible),
        spent=shown(summary.spent, visible),
        remaining=shown(summary.remaining, visible),
        progress=summary.progress,
        pools=[
            CreditPool(
                kind=pool.kind,
                granted=pool.granted,
                spent=summary.pool_spent.get(pool.grant_id, Decimal(0)),
                remaining=pool.balance,
                expires_at=pool.expires_at,
            )
            for pool in summary.pools
        ],
        avg_per_day=shown(summary.avg_per_day, visible),
        run_out_in_days=None
        if summary.run_out_in_days is None
        else float(summary.run_out_in_days),
        on_track_to_run_out=summary.on_track_to_run_out,
        prompts=summary.prompts,
        access=access,
    )
