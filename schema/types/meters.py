"""A meter as the usage page shows it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from resolvers import trends
from resolvers.access import Access
from rules.enums import CreditUnit
from schema.enums import Enforcement, MeterCategory, Resets, UsageLevel
from schema.permissions import ReadsDollarsOfByom, built_redacted
from schema.types.usage import TrendPoint


@strawberry.type(description="Anything counted, with its limit in the current cycle.")
class Meter:
    """Built redacted (`schema.usage_views.meter_type`): a page lists dozens of
    meters, so their dollar amounts are not checked field by field."""

    key: str = strawberry.field(description="The meter's stable key.")
    label: str = strawberry.field(description="Display label.")
    category: MeterCategory = strawberry.field(description="The meter's family.")
    unit_label: str = strawberry.field(description="What one unit is.")
    used: Decimal | None = strawberry.field(
        description="Usage in the cycle (resetting) or up to `at` (cumulative); null "
        "for a meter counting dollars without billing:read:dollars.",
        directives=built_redacted(ReadsDollarsOfByom()),
    )
    limit: Decimal | None = strawberry.field(
        description="The plan's limit (× seats when per seat); null = unlimited, or "
        "a dollar limit without billing:read:dollars.",
        directives=built_redacted(ReadsDollarsOfByom()),
    )
    unlimited: bool = strawberry.field(description="True when there is no limit.")
    enforcement: Enforcement = strawberry.field(
        description="How the limit is enforced."
    )
    resets: Resets = strawberry.field(description="Whether the counter resets.")
    percent: float | None = strawberry.field(
        description="used ÷ limit × 100 (may pass 100 on soft caps); null unlimited."
    )
    progress: float | None = strawberry.field(
        description="used ÷ limit clamped to [0, 1]; null when unlimited."
    )
    level: UsageLevel = strawberry.field(description="Warning level of `percent`.")
    remaining: Decimal | None = strawberry.field(
        description="limit − used, never below 0; null when unlimited (or dollars "
        "without billing:read:dollars).",
        directives=built_redacted(ReadsDollarsOfByom()),
    )
    resets_at: datetime | None = strawberry.field(
        description="When the counter resets (cycle end); null for cumulative meters."
    )
    blocked: bool = strawberry.field(
        description="True when the next unit would be denied."
    )
    trend_values: strawberry.Private[dict[int, list[trends.TrendValue]]]
    """Its trend over each number of months the query asks for, computed with every
    other meter's by `Organization.meters` (`resolvers.trends`)."""
    unit: strawberry.Private[CreditUnit | None]
    """USD for a meter counting dollars: its amounts are redacted like dollars."""
    access: strawberry.Private[Access]

    @strawberry.field(description="One point per billing cycle, oldest first.")
    def trend(
        self,
        months: Annotated[
            int,
            strawberry.argument(
                description="How many billing cycles back, the current one included, "
                f"1 to {trends.MAX_TREND_MONTHS}."
            ),
        ] = trends.DEFAULT_TREND_MONTHS,
    ) -> list[TrendPoint]:
        trends.check_months(months)
        return [
            TrendPoint(start=value.start, value=value.value)
            for value in self.trend_values[months]
        ]
