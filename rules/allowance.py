"""The daily AI allowance: windows, status and the ranking of definitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from rules.display import relative_cost_percent
from rules.enums import AllowanceStatus, PricingCoverage

ALLOWANCE_WINDOW = timedelta(hours=24)
DEFINITION_WINDOW = timedelta(hours=48)
TOP_DEFINITIONS = 25
NO_SNAPSHOT_MESSAGE = (
    "No worker-synced billing allowance snapshot is available for this workspace yet."
)


def window(at: datetime, length: timedelta) -> tuple[datetime, datetime]:
    """(start, end]: an event exactly `length` before `at` is out, one at `at` in."""
    return at - length, at


def allowance_status(
    used_units: Decimal, limit_units: Decimal | None
) -> AllowanceStatus:
    if limit_units is None:
        return AllowanceStatus.UNLIMITED
    return (
        AllowanceStatus.OVER_LIMIT
        if used_units > limit_units
        else (AllowanceStatus.WITHIN_LIMIT)
    )


def coverage(unpriced_event_count: int) -> PricingCoverage:
    return PricingCoverage.PARTIAL if unpriced_event_count else PricingCoverage.COMPLETE


def coverage_message(unpriced_event_count: int) -> str | None:
    if not unpriced_event_count:
        return None
    return (
        "Pricing coverage is incomplete — "
        f"{unpriced_event_count} events in this window could not be priced yet."
    )


@dataclass(frozen=True)
class DefinitionCost:
    definition_id: str
    name: str | None
    cost_usd: Decimal


@dataclass(frozen=True)
class RankedDefinition:
    definition_id: str
    name: str | None
    relative_cost_percent: int


def rank_definitions(costs: list[DefinitionCost]) -> list[RankedDefinition]:
    """The 25 most expensive, the top at 100 and the rest relative to it."""
    ranked = sorted(costs, key=lambda cost: (-cost.cost_usd, cost.definition_id))
    ranked = ranked[:TOP_DEFINITIONS]
    if not ranked:
        return []
    top = ranked[0].cost_usd
    return [
        RankedDefinition(
            cost.definition_id, cost.name, relative_cost_percent(cost.cost_usd, top)
        )
        for cost in ranked
    ]
