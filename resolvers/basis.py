"""What every usage figure of one organization needs, loaded once per request.

Its own module so that the request context (`resolvers.context`, which keeps one
`Basis` per organization and instant) and the usage resolvers that build it import
it from below, not from each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from resolvers.access import OrgScope
from rules import cycles
from rules import meters as meter_rules
from rules.enums import Enforcement, Resets
from store.models import Meter, Plan, PlanLimit, Subscription
from store.rollups import RollupRequest

_AFTER = timedelta(microseconds=1)
"""Ranges end exclusively: one microsecond past `at` counts the events at `at`."""


@dataclass(frozen=True)
class Basis:
    """What every usage figure of one organization needs, loaded once per request."""

    scope: OrgScope
    subscription: Subscription | None
    plan: Plan | None
    limits: dict[str, PlanLimit]
    cycle: cycles.Cycle
    catalog: list[Meter]
    _recent: dict[int, list[cycles.Cycle]] = field(
        default_factory=dict, compare=False, repr=False
    )
    """`cycles_back` by count: every meter's trend asks for the same cycles."""

    @property
    def as_of(self) -> datetime:
        """Exclusive end of "as of at": events at `at` itself count."""
        return self.scope.at + _AFTER

    @property
    def seats(self) -> int:
        return self.subscription.seats if self.subscription else 0

    def limit_of(self, meter_key: str) -> Decimal | None:
        row = self.limits.get(meter_key)
        if row is None:
            return None
        return meter_rules.effective_limit(row.limit, row.per_seat, self.seats)

    def enforcement_of(self, meter_key: str) -> Enforcement:
        row = self.limits.get(meter_key)
        return row.enforcement if row else meter_rules.default_enforcement(meter_key)

    def cycle_range(self, cycle: cycles.Cycle | None = None) -> RollupRequest:
        """A cycle's events up to `at`, through its cycle rows where they serve."""
        cycle = cycle or self.cycle
        end = min(cycle.end, self.as_of)
        # Through the cycle rows less what lies after `at`: cheap for a past cycle
        # and a live page (the rest of the cycle is the future); a page pinned early
        # in a cycle reads its hours instead.
        through_rows = self.rows_complete(cycle) and (
            self.scope.live or end - cycle.start >= cycle.end - end
        )
        return RollupRequest(
            self.scope.id,
            "total",
            cycle.start,
            end,
            cycle=cycle if through_rows else None,
        )

    def cumulative_range(self, end: datetime | None = None) -> RollupRequest:
        """Cumulative meters from the beginning: named, so the primary key reads only
        their rows of the history, not every meter's; through the cycle rows of every
        cycle when they are all complete."""
        cumulative = tuple(m.key for m in self.catalog if m.resets is Resets.NEVER)
        end = min(end or self.as_of, self.as_of)
        cycle = self.cycle_ending(end)
        complete = self.scope.organization.cycle_rollups_from is None
        return RollupRequest(
            self.scope.id,
            "total",
            None,
            end,
            cumulative,
            cycle=cycle if complete else None,
        )

    def rows_complete(self, cycle: cycles.Cycle) -> bool:
        """Whether `usage_cycle_rollups` hold every event of `cycle`."""
        complete_from = self.scope.organization.cycle_rollups_from
        return complete_from is None or cycle.start >= complete_from

    def cycle_ending(self, end: datetime) -> cycles.Cycle:
        """The cycle a range ending (exclusively) at `end` ends in."""
        if self.cycle.start < end <= self.cycle.end:
            return self.cycle
        instant = end - _AFTER
        subscription = self.subscription
        if subscription is None:
            return cycles.cycle_for(cycles.UNSUBSCRIBED_ANCHOR, instant)
        return cycles.cycle_for(
            subscription.anchor,
            instant,
            subscription.current_period_start,
            subscription.current_period_end,
        )

    def cycles_back(self, count: int) -> list[cycles.Cycle]:
        """The `count` latest cycles up to `at`, oldest first."""
        found = self._recent.get(count)
        if found is None:
            found = self._recent[count] = self._cycles_back(count)
        return found

    def _cycles_back(self, count: int) -> list[cycles.Cycle]:
        subscription = self.subscription
        if subscription is None:
            return cycles.recent_cycles(
                cycles.UNSUBSCRIBED_ANCHOR, self.scope.at, count
            )
        return cycles.recent_cycles(
            subscription.anchor,
            self.scope.at,
            count,
            subscription.current_period_start,
            subscription.current_period_end,
        )
