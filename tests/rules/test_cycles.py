import calendar
import itertools
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.cycles import (
    Cycle,
    add_months,
    cycle_for,
    days_elapsed,
    days_remaining,
    fractional_days_elapsed,
    fractional_days_remaining,
    previous_cycle,
    recent_cycles,
)

MICROSECOND = timedelta(microseconds=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- add_months ----------------------------------------------------------------------


def test_add_months_clamps_jan_31_to_feb_29_in_a_leap_year() -> None:
    assert add_months(utc(2024, 1, 31, 10, 30), 1) == utc(2024, 2, 29, 10, 30)


def test_add_months_clamps_jan_31_to_feb_28_in_a_common_year() -> None:
    assert add_months(utc(2023, 1, 31, 10, 30), 1) == utc(2023, 2, 28, 10, 30)


def test_add_months_returns_to_the_anchor_day_after_a_short_month() -> None:
    # Computed from the anchor, not chained from Feb 29 (which would give Mar 29).
    assert add_months(utc(2024, 1, 31, 10, 30), 2) == utc(2024, 3, 31, 10, 30)


def test_add_months_clamps_jan_29_to_feb_28_in_a_common_year() -> None:
    assert add_months(utc(2023, 1, 29), 1) == utc(2023, 2, 28)
    assert add_months(utc(2023, 1, 29), 2) == utc(2023, 3, 29)


def test_add_months_crosses_the_year_from_dec_31() -> None:
    assert add_months(utc(2023, 12, 31, 23, 59), 1) == utc(2024, 1, 31, 23, 59)
    assert add_months(utc(2023, 12, 31, 23, 59), 2) == utc(2024, 2, 29, 23, 59)


def test_add_months_goes_backwards_with_negative_months() -> None:
    assert add_months(utc(2024, 3, 31), -1) == utc(2024, 2, 29)
    assert add_months(utc(2024, 3, 31), -3) == utc(2023, 12, 31)


def test_add_months_knows_2000_is_a_leap_year_and_2100_is_not() -> None:
    assert add_months(utc(2000, 1, 31), 1) == utc(2000, 2, 29)
    assert add_months(utc(2100, 1, 31), 1) == utc(2100, 2, 28)


# --- cycle_for -----------------------------------------------------------------------


def test_cycle_for_starts_on_the_anchor_day_and_time() -> None:
    cycle = cycle_for(utc(2024, 1, 15, 9), utc(2024, 4, 20, 12))

    assert cycle == Cycle(utc(2024, 4, 15, 9), utc(2024, 5, 15, 9))


def test_cycle_for_just_before_the_anchor_time_is_the_earlier_cycle() -> None:
    cycle = cycle_for(utc(2024, 1, 15, 9), utc(2024, 4, 15, 8, 59, 59))

    assert cycle == Cycle(utc(2024, 3, 15, 9), utc(2024, 4, 15, 9))


def test_cycle_for_the_anchor_instant_itself_starts_a_cycle() -> None:
    cycle = cycle_for(utc(2024, 1, 15, 9), utc(2024, 1, 15, 9))

    assert cycle == Cycle(utc(2024, 1, 15, 9), utc(2024, 2, 15, 9))


def test_cycle_for_jan_31_anchor_runs_feb_29_to_mar_31_in_2024() -> None:
    cycle = cycle_for(utc(2024, 1, 31), utc(2024, 3, 10))

    assert cycle == Cycle(utc(2024, 2, 29), utc(2024, 3, 31))


def test_cycle_for_jan_31_anchor_runs_feb_28_to_mar_31_in_2023() -> None:
    cycle = cycle_for(utc(2023, 1, 31), utc(2023, 3, 30))

    assert cycle == Cycle(utc(2023, 2, 28), utc(2023, 3, 31))


def test_cycle_for_dec_31_anchor_crosses_the_year() -> None:
    cycle = cycle_for(utc(2023, 12, 31, 12), utc(2024, 1, 15))

    assert cycle == Cycle(utc(2023, 12, 31, 12), utc(2024, 1, 31, 12))


def test_cycle_for_an_instant_before_the_anchor_uses_negative_offsets() -> None:
    cycle = cycle_for(utc(2024, 3, 31), utc(2024, 2, 10))

    assert cycle == Cycle(utc(2024, 1, 31), utc(2024, 2, 29))


def test_cycle_for_reads_other_timezones_as_the_same_utc_instant() -> None:
    plus_two = timezone(timedelta(hours=2))
    at = datetime(2024, 4, 15, 10, 30, tzinfo=plus_two)  # 08:30 UTC

    assert cycle_for(utc(2024, 1, 15, 9), at).end == utc(2024, 4, 15, 9)


def test_cycle_for_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cycle_for(utc(2024, 1, 15), datetime(2024, 2, 1))


def test_provider_period_wins_for_the_instants_it_covers() -> None:
    period = (utc(2024, 3, 5, 7), utc(2024, 4, 5, 7))

    cycle = cycle_for(utc(2024, 1, 1), utc(2024, 3, 20), *period)

    assert cycle == Cycle(*period)


def test_anchor_cycle_after_the_provider_period_starts_where_it_ends() -> None:
    period = (utc(2024, 3, 5), utc(2024, 4, 5))

    cycle = cycle_for(utc(2024, 1, 1), utc(2024, 4, 10), *period)

    assert cycle == Cycle(utc(2024, 4, 5), utc(2024, 5, 1))


def test_anchor_cycle_before_the_provider_period_ends_where_it_starts() -> None:
    period = (utc(2024, 3, 5), utc(2024, 4, 5))

    cycle = cycle_for(utc(2024, 1, 1), utc(2024, 3, 3), *period)

    assert cycle == Cycle(utc(2024, 3, 1), utc(2024, 3, 5))


def test_provider_period_far_from_at_leaves_the_anchor_cycle_alone() -> None:
    period = (utc(2024, 3, 5), utc(2024, 4, 5))

    cycle = cycle_for(utc(2024, 1, 1), utc(2024, 7, 10), *period)

    assert cycle == Cycle(utc(2024, 7, 1), utc(2024, 8, 1))


def test_half_given_provider_period_is_ignored() -> None:
    cycle = cycle_for(utc(2024, 1, 1), utc(2024, 3, 20), utc(2024, 3, 5), None)

    assert cycle == Cycle(utc(2024, 3, 1), utc(2024, 4, 1))


# --- previous_cycle and recent_cycles ------------------------------------------------


def test_previous_cycle_ends_where_the_cycle_starts() -> None:
    current = cycle_for(utc(2024, 1, 31), utc(2024, 3, 10))

    assert previous_cycle(utc(2024, 1, 31), current) == Cycle(
        utc(2024, 1, 31), utc(2024, 2, 29)
    )


def test_previous_cycle_of_a_provider_period_is_cut_at_its_start() -> None:
    period = (utc(2024, 3, 5), utc(2024, 4, 5))
    current = cycle_for(utc(2024, 1, 1), utc(2024, 3, 20), *period)

    previous = previous_cycle(utc(2024, 1, 1), current, *period)

    assert previous == Cycle(utc(2024, 3, 1), utc(2024, 3, 5))


def test_recent_cycles_lists_the_latest_cycles_oldest_first() -> None:
    cycles = recent_cycles(utc(2024, 1, 31), utc(2024, 4, 15), 3)

    assert cycles == [
        Cycle(utc(2024, 1, 31), utc(2024, 2, 29)),
        Cycle(utc(2024, 2, 29), utc(2024, 3, 31)),
        Cycle(utc(2024, 3, 31), utc(2024, 4, 30)),
    ]


def test_recent_cycles_passes_through_the_provider_period() -> None:
    period = (utc(2024, 3, 5), utc(2024, 4, 5))

    cycles = recent_cycles(utc(2024, 1, 1), utc(2024, 4, 10), 3, *period)

    assert cycles == [
        Cycle(utc(2024, 3, 1), utc(2024, 3, 5)),
        Cycle(utc(2024, 3, 5), utc(2024, 4, 5)),
        Cycle(utc(2024, 4, 5), utc(2024, 5, 1)),
    ]


def test_recent_cycles_of_zero_is_empty() -> None:
    assert recent_cycles(utc(2024, 1, 1), utc(2024, 4, 10), 0) == []


# --- day counts ----------------------------------------------------------------------

MARCH = Cycle(utc(2024, 3, 1), utc(2024, 4, 1))


def test_days_elapsed_and_remaining_at_the_cycle_start() -> None:
    assert days_elapsed(MARCH, utc(2024, 3, 1)) == 0
    assert days_remaining(MARCH, utc(2024, 3, 1)) == 31


def test_days_elapsed_counts_a_day_only_once_it_is_complete() -> None:
    assert days_elapsed(MARCH, utc(2024, 3, 2) - MICROSECOND) == 0
    assert days_elapsed(MARCH, utc(2024, 3, 2)) == 1


def test_days_remaining_counts_a_started_day_as_left() -> None:
    assert days_remaining(MARCH, utc(2024, 3, 2)) == 30
    assert days_remaining(MARCH, utc(2024, 3, 2) + MICROSECOND) == 30
    assert days_remaining(MARCH, utc(2024, 3, 31, 23, 59, 59)) == 1


def test_days_are_clamped_to_the_cycle() -> None:
    assert days_elapsed(MARCH, utc(2024, 2, 20)) == 0
    assert days_remaining(MARCH, utc(2024, 4, 3)) == 0
    assert days_elapsed(MARCH, utc(2024, 4, 3)) == 31


def test_fractional_days_are_exact_decimals() -> None:
    at = utc(2024, 3, 11, 6)  # 10 days and 6 hours in

    assert fractional_days_elapsed(MARCH, at) == Decimal("10.25")
    assert fractional_days_remaining(MARCH, at) == Decimal("20.75")


def test_fractional_days_are_never_negative() -> None:
    assert fractional_days_elapsed(MARCH, utc(2024, 2, 1)) == 0
    assert fractional_days_remaining(MARCH, utc(2024, 5, 1)) == 0


def test_cycle_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="must end after"):
        Cycle(utc(2024, 3, 1), utc(2024, 3, 1))


# --- properties ----------------------------------------------------------------------

YEARS = st.integers(min_value=1999, max_value=2101)
INSTANTS = st.datetimes(
    min_value=datetime(1999, 1, 1),  # hypothesis takes naive bounds
    max_value=datetime(2101, 12, 31, 23, 59, 59),
    timezones=st.just(UTC),
)


@st.composite
def anchors(draw: st.DrawFn, day: int | None = None) -> datetime:
    """An anchor instant; any day 1..31 in a month that has it, at any time of day."""
    year = draw(YEARS)
    if day is None:
        day = draw(st.integers(min_value=1, max_value=31))
    months = [m for m in range(1, 13) if calendar.monthrange(year, m)[1] >= day]
    month = draw(st.sampled_from(months))
    hour = draw(st.integers(min_value=0, max_value=23))
    minute = draw(st.integers(min_value=0, max_value=59))
    second = draw(st.integers(min_value=0, max_value=59))
    return utc(year, month, day, hour, minute, second)


@st.composite
def provider_periods(draw: st.DrawFn) -> tuple[datetime, datetime]:
    start = draw(INSTANTS)
    length = draw(st.timedeltas(min_value=timedelta(hours=1), max_value=timedelta(40)))
    return start, start + length


@given(anchor=anchors(), at=INSTANTS)
def test_cycle_for_contains_at(anchor: datetime, at: datetime) -> None:
    assert cycle_for(anchor, at).contains(at)


@given(anchor=anchors(), at=INSTANTS)
def test_cycles_are_contiguous(anchor: datetime, at: datetime) -> None:
    cycle = cycle_for(anchor, at)

    assert cycle_for(anchor, cycle.end).start == cycle.end
    assert cycle_for(anchor, cycle.start - MICROSECOND).end == cycle.start


@given(anchor=anchors(), at=INSTANTS)
def test_cycle_length_is_between_28_and_31_days(anchor: datetime, at: datetime) -> None:
    cycle = cycle_for(anchor, at)

    assert timedelta(days=28) <= cycle.end - cycle.start <= timedelta(days=31)


@pytest.mark.parametrize("day", range(1, 32))
@settings(max_examples=30)
@given(data=st.data())
def test_cycle_starts_on_the_anchor_day_clamped_to_the_month(
    day: int, data: st.DataObject
) -> None:
    anchor = data.draw(anchors(day=day))
    cycle = cycle_for(anchor, data.draw(INSTANTS))
    start = cycle.start

    assert start.day == min(anchor.day, calendar.monthrange(start.year, start.month)[1])
    assert start.timetz() == anchor.timetz()


@given(anchor=anchors(), at=INSTANTS, count=st.integers(min_value=1, max_value=14))
def test_recent_cycles_are_contiguous_and_end_with_the_current_one(
    anchor: datetime, at: datetime, count: int
) -> None:
    cycles = recent_cycles(anchor, at, count)

    assert len(cycles) == count
    assert cycles[-1] == cycle_for(anchor, at)
    for older, newer in itertools.pairwise(cycles):
        assert older.end == newer.start


@given(anchor=anchors(), at=INSTANTS, period=provider_periods())
def test_cycles_tile_time_around_a_provider_period(
    anchor: datetime, at: datetime, period: tuple[datetime, datetime]
) -> None:
    cycle = cycle_for(anchor, at, *period)

    assert cycle.contains(at)
    assert cycle_for(anchor, cycle.end, *period).start == cycle.end
    assert previous_cycle(anchor, cycle, *period) == cycle_for(
        anchor, cycle.start - MICROSECOND, *period
    )


@given(anchor=anchors(), months=st.integers(min_value=-60, max_value=60))
def test_add_months_never_drifts_from_the_anchor_day(
    anchor: datetime, months: int
) -> None:
    moved = add_months(anchor, months)
    last_day = calendar.monthrange(moved.year, moved.month)[1]

    assert moved.day == min(anchor.day, last_day)
    assert moved.timetz() == anchor.timetz()
