import itertools
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.display import (
    bucket_end,
    display_units,
    format_amount,
    free_allowance_hint,
    relative_cost_percent,
    series_buckets,
    share_percent,
    truncate_hour,
)
from rules.enums import Granularity, UsageRange


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


AT = utc(2024, 3, 5, 14, 37)  # a Tuesday


def test_display_units_multiply_stored_units() -> None:
    # ai_text: 12.5 blocks of 1K tokens are 12,500 tokens
    assert display_units(Decimal("12.5"), 1000) == Decimal(12500)


@pytest.mark.parametrize(
    ("part", "total", "expected"),
    [("1", "3", 33), ("2", "3", 67), ("1", "8", 13), ("3", "8", 38), ("5", "5", 100)],
)
def test_share_percent_rounds_half_up(part: str, total: str, expected: int) -> None:
    assert share_percent(Decimal(part), Decimal(total)) == expected


def test_share_percent_is_zero_when_nothing_was_spent() -> None:
    assert share_percent(Decimal(0), Decimal(0)) == 0


def test_relative_cost_percent_is_100_for_the_top_cost() -> None:
    assert relative_cost_percent(Decimal("4.2"), Decimal("4.2")) == 100


def test_relative_cost_percent_rounds_half_up() -> None:
    assert relative_cost_percent(Decimal("0.125"), Decimal(1)) == 13


def test_relative_cost_percent_is_zero_when_the_top_costs_nothing() -> None:
    assert relative_cost_percent(Decimal(0), Decimal(0)) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.000000", "12"),
        ("1.5", "1.5"),
        ("100.250000", "100.25"),
        ("1E+3", "1000"),
        ("0.000000", "0"),
        ("-0.0", "0"),
        ("-2.50", "-2.5"),
        ("0.000001", "0.000001"),
    ],
)
def test_format_amount_drops_trailing_zeros_and_exponents(
    value: str, expected: str
) -> None:
    assert format_amount(Decimal(value)) == expected


def test_free_allowance_hint_says_how_much_of_the_allowance_was_used() -> None:
    hint = free_allowance_hint(Decimal("12.000000"), Decimal(100), "minutes")

    assert hint == "12 of 100 free minutes used"


def test_free_allowance_hint_keeps_fractions() -> None:
    hint = free_allowance_hint(Decimal("1.500000"), Decimal("10.000000"), "hours")

    assert hint == "1.5 of 10 free hours used"


def test_free_allowance_hint_is_none_without_an_allowance() -> None:
    assert free_allowance_hint(Decimal(0), None, "minutes") is None
    assert free_allowance_hint(Decimal(0), Decimal(0), "minutes") is None


def test_truncate_hour_drops_minutes_and_below() -> None:
    at = datetime(2024, 3, 5, 14, 37, 12, 500_000, tzinfo=UTC)

    assert truncate_hour(at) == utc(2024, 3, 5, 14)


def test_truncate_hour_works_in_utc() -> None:
    at = datetime(2024, 3, 5, 1, 30, tzinfo=timezone(timedelta(hours=2)))

    assert truncate_hour(at) == utc(2024, 3, 4, 23)


def test_bucket_end_adds_one_bucket_length() -> None:
    start = utc(2024, 3, 4)

    assert bucket_end(start, Granularity.HOUR) == utc(2024, 3, 4, 1)
    assert bucket_end(start, Granularity.DAY) == utc(2024, 3, 5)
    assert bucket_end(start, Granularity.WEEK) == utc(2024, 3, 11)


def test_last_24_hours_is_24_hourly_buckets_ending_with_the_current_hour() -> None:
    granularity, starts = series_buckets(UsageRange.LAST_24_HOURS, AT)

    assert granularity is Granularity.HOUR
    assert len(starts) == 24
    assert starts[0] == utc(2024, 3, 4, 15)
    assert starts[-1] == utc(2024, 3, 5, 14)


def test_last_7_days_is_7_daily_buckets_at_utc_midnight() -> None:
    granularity, starts = series_buckets(UsageRange.LAST_7_DAYS, AT)

    assert granularity is Granularity.DAY
    assert starts == [
        utc(2024, 2, 28),
        utc(2024, 2, 29),
        utc(2024, 3, 1),
        utc(2024, 3, 2),
        utc(2024, 3, 3),
        utc(2024, 3, 4),
        utc(2024, 3, 5),
    ]


def test_last_30_days_is_the_monday_weeks_covering_the_window() -> None:
    # Tue Mar 5 minus 30 days is Sun Feb 4, in the week of Mon Jan 29.
    granularity, starts = series_buckets(UsageRange.LAST_30_DAYS, AT)

    assert granularity is Granularity.WEEK
    assert starts == [
        utc(2024, 1, 29),
        utc(2024, 2, 5),
        utc(2024, 2, 12),
        utc(2024, 2, 19),
        utc(2024, 2, 26),
        utc(2024, 3, 4),
    ]


def test_last_30_days_may_need_only_five_weeks() -> None:
    # Sun Mar 10 23:00 minus 30 days is Fri Feb 9, in the week of Mon Feb 5.
    _, starts = series_buckets(UsageRange.LAST_30_DAYS, utc(2024, 3, 10, 23))

    assert starts == [
        utc(2024, 2, 5),
        utc(2024, 2, 12),
        utc(2024, 2, 19),
        utc(2024, 2, 26),
        utc(2024, 3, 4),
    ]


INSTANTS = st.datetimes(
    min_value=datetime(1999, 1, 1),  # hypothesis takes naive bounds
    max_value=datetime(2101, 12, 31),
    timezones=st.just(UTC),
)
WINDOWS = {
    UsageRange.LAST_24_HOURS: timedelta(hours=23),
    UsageRange.LAST_7_DAYS: timedelta(days=6),
    UsageRange.LAST_30_DAYS: timedelta(days=30),
}


@given(range_=st.sampled_from(UsageRange), at=INSTANTS)
def test_series_buckets_are_contiguous_and_the_last_contains_at(
    range_: UsageRange, at: datetime
) -> None:
    granularity, starts = series_buckets(range_, at)

    for start, following in itertools.pairwise(starts):
        assert bucket_end(start, granularity) == following
    assert starts[-1] <= at < bucket_end(starts[-1], granularity)


@given(range_=st.sampled_from(UsageRange), at=INSTANTS)
def test_series_buckets_cover_the_whole_window(
    range_: UsageRange, at: datetime
) -> None:
    granularity, starts = series_buckets(range_, at)
    window_start = at - WINDOWS[range_]

    assert starts[0] <= window_start < bucket_end(starts[0], granularity)
