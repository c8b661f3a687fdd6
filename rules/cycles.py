"""Monthly billing cycles anchored on the subscription's anchor instant.

A cycle starts on the anchor's day of month and time of day; a day the month lacks
clamps to its last day. A provider period (synced from the payment provider) wins for
the instants it covers, and the anchor cycles next to it are clipped at its edges, so
cycles always tile time: no overlap, no gap, every instant in exactly one cycle.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

_ONE_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)
_MICROSECONDS_PER_DAY = Decimal(86_400_000_000)


@dataclass(frozen=True)
class Cycle:
    """A billing cycle, half-open: [start, end)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"cycle must end after its start: {self.start}")

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def as_utc(at: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused rather than guessed."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware: {at!r}")
    return at.astimezone(UTC)


def add_months(anchor: datetime, months: int) -> datetime:
    """The anchor moved by whole months, its day clamped to the month's last day.

    Always computed from the anchor itself: chaining clamped dates would turn a Jan 31
    anchor into Feb 28 and then Mar 28 forever after, instead of Mar 31.
    """
    year, month_index = divmod(anchor.year * 12 + anchor.month - 1 + months, 12)
    month = month_index + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def cycle_for(
    anchor: datetime,
    at: datetime,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> Cycle:
    """The cycle containing `at` (before the anchor too: offsets may be negative)."""
    anchor, at = as_utc(anchor), as_utc(at)
    period = _provider_period(period_start, period_end)
    if period is not None and period.contains(at):
        return period
    offset = (at.year - anchor.year) * 12 + (at.month - anchor.month)
    start = add_months(anchor, offset)
    if start > at:
        offset -= 1
        start = add_months(anchor, offset)
    end = add_months(anchor, offset + 1)
    if period is not None:
        # Clip the anchor cycle at the provider period so the two never overlap.
        if at >= period.end:
            start = max(start, period.end)
        else:
            end = min(end, period.start)
    return Cycle(start, end)


def previous_cycle(
    anchor: datetime,
    cycle: Cycle,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> Cycle:
    """The cycle just before `cycle`, ending exactly where `cycle` starts."""
    before = cycle_for(anchor, cycle.start - _MICROSECOND, period_start, period_end)
    return Cycle(before.start, cycle.start)


def recent_cycles(
    anchor: datetime,
    at: datetime,
    count: int,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> list[Cycle]:
    """The `count` latest cycles, ending with the one containing `at`, oldest first."""
    if count <= 0:
        return []
    cycles = [cycle_for(anchor, at, period_start, period_end)]
    while len(cycles) < count:
        cycles.append(previous_cycle(anchor, cycles[-1], period_start, period_end))
    cycles.reverse()
    return cycles


def days_elapsed(cycle: Cycle, at: datetime) -> int:
    """Whole days since the cycle started (floor); a day counts once it is complete."""
    return _since_start(cycle, at) // _ONE_DAY


def days_remaining(cycle: Cycle, at: datetime) -> int:
    """Whole days to the cycle end (ceiling); a started day still counts as left."""
    return -(-_until_end(cycle, at) // _ONE_DAY)


def fractional_days_elapsed(cycle: Cycle, at: datetime) -> Decimal:
    return _days(_since_start(cycle, at))


def fractional_days_remaining(cycle: Cycle, at: datetime) -> Decimal:
    return _days(_until_end(cycle, at))


def _provider_period(start: datetime | None, end: datetime | None) -> Cycle | None:
    """The provider period when it is complete and sane; otherwise the anchor rules."""
    if start is None or end is None:
        return None
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        return None
    return Cycle(start, end)


def _clamp(cycle: Cycle, at: datetime) -> datetime:
    """`at` moved into the cycle: day counts are never negative or past its length."""
    return min(max(at, cycle.start), cycle.end)


def _since_start(cycle: Cycle, at: datetime) -> timedelta:
    return _clamp(cycle, at) - cycle.start


def _until_end(cycle: Cycle, at: datetime) -> timedelta:
    return cycle.end - _clamp(cycle, at)


def _days(span: timedelta) -> Decimal:
    """Days from whole microseconds: exact up to the division's 28 digits, no float."""
    return Decimal(span // _MICROSECOND) / _MICROSECONDS_PER_DAY


UNSUBSCRIBED_ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)
"""Without a subscription usage is still counted per cycle: UTC calendar months."""
