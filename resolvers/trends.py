"""A meter's trend: one value per billing cycle."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.access import OrgScope
from resolvers.context import Info
from schema.errors import NotAvailableYet
from schema.types.usage import TrendPoint


@dataclass(frozen=True)
class MeterTrendScope:
    org: OrgScope
    meter_key: str
    cumulative: bool


async def meter_trend(info: Info, scope: MeterTrendScope, months: int) -> list[TrendPoint]:
    raise NotAvailableYet("Meter.trend")
