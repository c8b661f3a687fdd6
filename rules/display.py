"""Numbers and time buckets as the clients show them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from rules.amounts import quantize, round_half_up
from rules.cycles import as_utc
from rules.enums import Granularity, UsageRange

_HUNDRED = Decimal(100)
_BUCKET_LENGTH = {
    Granularity.HOUR: timedelta(hours=1),
    Granularity.DAY: timedelta(days=1),
    Granularity.WEEK: timedelta(weeks=1),
}
_LAST_30_DAYS = timedelta(days=30)


def display_units(units: Decimal, multiplier: int) -> Decimal:
    """Units as shown: `ai_text` is stored in 1K-token blocks and shown in tokens."""
    return quantize(units * multiplier)


def share_percent(part: Decimal, total: Decimal) -> int:
    """A row's whole-number share of the total; 0 when nothing was spent at all."""
    if total == 0:
        return 0
    return round_half_up(part * _HUNDRED / total)


def relative_cost_percent(cost: Decimal, top: Decimal) -> int:
    """A cost against the most expensive one, which shows as 100."""
    if top == 0:
        return 0
    return round_half_up(cost * _HUNDRED / top)


def format_amount(value: Decimal) -> str:
    """A plain number for prose: no trailing zeros, no exponent (12.000000 -> "12")."""
    if value == 0:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def free_allowance_hint(
    free_units_used: Decimal, free_allowance: Decimal | None, unit_label: str
) -> str | None:
    """Say "12 of 100 free minutes used"; None when the plan gives no free allowance.

    Both numbers are taken as given, so pass display units when the meter has a
    display multiplier.
    """
    if free_allowance is None or free_allowance <= 0:
        return None
    used, allowance = format_amount(free_units_used), format_amount(free_allowance)
    return f"{used} of {allowance} free {unit_label} used"


def truncate_hour(at: datetime) -> datetime:
    return as_utc(at).replace(minute=0, second=0, microsecond=0)


def truncate_day(at: datetime) -> datetime:
    return as_utc(at).replace(hour=0, minute=0, second=0, microsecond=0)


def truncate_week(at: datetime) -> datetime:
    """The Monday 00:00 UTC that starts the week containing `at`."""
    day = truncate_day(at)
    return day - timedelta(days=day.weekday())


def bucket_end(start: datetime, granularity: Granularity) -> datetime:
    return start + _BUCKET_LENGTH[granularity]


def series_buckets(
    range_: UsageRange, at: datetime
) -> tuple[Granularity, list[datetime]]:
    """Bucket starts for a usage chart, oldest first, the last one containing `at`.

    Every bucket is listed, so a quiet hour shows as a zero rather than a gap.
    """
    if range_ is UsageRange.LAST_24_HOURS:
        return Granularity.HOUR, _count_back(truncate_hour(at), Granularity.HOUR, 24)
    if range_ is UsageRange.LAST_7_DAYS:
        return Granularity.DAY, _count_back(truncate_day(at), Granularity.DAY, 7)
    first, last = truncate_week(as_utc(at) - _LAST_30_DAYS), truncate_week(at)
    weeks = (last - first) // _BUCKET_LENGTH[Granularity.WEEK] + 1
    return Granularity.WEEK, _count_back(last, Granularity.WEEK, weeks)


def _count_back(last: datetime, granularity: Granularity, count: int) -> list[datetime]:
    step = _BUCKET_LENGTH[granularity]
    return [last - step * (count - 1 - index) for index in range(count)]
