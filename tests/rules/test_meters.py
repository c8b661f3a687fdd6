from decimal import Decimal

import pytest

from rules.enums import Enforcement, UsageDecisionCode, UsageLevel
from rules.meters import (
    blocked,
    cap_for,
    decide_cap,
    effective_limit,
    level,
    percent,
    progress,
    remaining,
)

HARD, SOFT, NONE = Enforcement.HARD, Enforcement.SOFT, Enforcement.NONE
ALLOWED = UsageDecisionCode.ALLOWED


def test_effective_limit_multiplies_per_seat_limits_by_seats() -> None:
    assert effective_limit(Decimal(100), per_seat=True, seats=5) == Decimal(500)


def test_effective_limit_ignores_seats_for_plain_limits() -> None:
    assert effective_limit(Decimal(100), per_seat=False, seats=5) == Decimal(100)


def test_effective_limit_keeps_unlimited_unlimited() -> None:
    assert effective_limit(None, per_seat=True, seats=5) is None


def test_cap_for_hard_is_the_limit() -> None:
    assert cap_for(Decimal(100), HARD) == Decimal(100)


def test_cap_for_soft_is_ten_percent_over_the_limit() -> None:
    assert cap_for(Decimal(100), SOFT) == Decimal(110)


def test_cap_for_soft_stays_exact_past_six_places() -> None:
    assert cap_for(Decimal("0.000015"), SOFT) == Decimal("0.0000165")


def test_cap_for_none_or_unlimited_is_no_cap() -> None:
    assert cap_for(Decimal(100), NONE) is None
    assert cap_for(None, HARD) is None


def test_hard_cap_allows_usage_up_to_the_limit() -> None:
    assert decide_cap(Decimal(90), Decimal(10), Decimal(100), HARD) is ALLOWED


def test_hard_cap_denies_one_unit_past_the_limit() -> None:
    decision = decide_cap(Decimal(90), Decimal("10.000001"), Decimal(100), HARD)

    assert decision is UsageDecisionCode.LIMIT_REACHED


def test_hard_cap_denies_an_event_whole_rather_than_in_part() -> None:
    decision = decide_cap(Decimal(95), Decimal(10), Decimal(100), HARD)

    assert decision is UsageDecisionCode.LIMIT_REACHED


def test_soft_cap_allows_ten_percent_overage() -> None:
    assert decide_cap(Decimal(100), Decimal(10), Decimal(100), SOFT) is ALLOWED


def test_soft_cap_denies_one_unit_past_ten_percent() -> None:
    decision = decide_cap(Decimal(100), Decimal("10.000001"), Decimal(100), SOFT)

    assert decision is UsageDecisionCode.SOFT_LIMIT_REACHED


def test_no_enforcement_never_denies() -> None:
    assert decide_cap(Decimal(10**9), Decimal(1), Decimal(100), NONE) is ALLOWED


def test_unlimited_meter_never_denies() -> None:
    assert decide_cap(Decimal(10**9), Decimal(1), None, HARD) is ALLOWED


def test_release_is_allowed_even_past_the_cap() -> None:
    assert decide_cap(Decimal(150), Decimal(-20), Decimal(100), HARD) is ALLOWED


def test_zero_limit_denies_any_usage() -> None:
    decision = decide_cap(Decimal(0), Decimal("0.000001"), Decimal(0), HARD)

    assert decision is UsageDecisionCode.LIMIT_REACHED


def test_percent_is_used_over_limit_times_hundred() -> None:
    assert percent(Decimal(45), Decimal(60)) == 75.0


def test_percent_may_pass_hundred_on_soft_caps() -> None:
    assert percent(Decimal(105), Decimal(100)) == 105.0


def test_percent_is_none_when_unlimited() -> None:
    assert percent(Decimal(45), None) is None


def test_percent_of_a_zero_limit_is_zero_unused_and_hundred_used() -> None:
    assert percent(Decimal(0), Decimal(0)) == 0.0
    assert percent(Decimal(1), Decimal(0)) == 100.0


def test_progress_is_the_fraction_used() -> None:
    assert progress(Decimal(30), Decimal(120)) == 0.25


def test_progress_is_clamped_to_one() -> None:
    assert progress(Decimal(150), Decimal(100)) == 1.0


def test_progress_is_none_when_unlimited() -> None:
    assert progress(Decimal(30), None) is None


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        ("0", UsageLevel.NORMAL),
        ("79.999999", UsageLevel.NORMAL),
        ("80", UsageLevel.WARNING),
        ("89.999999", UsageLevel.WARNING),
        ("90", UsageLevel.CRITICAL),
        ("99.999999", UsageLevel.CRITICAL),
        ("100", UsageLevel.EXCEEDED),
        ("110", UsageLevel.EXCEEDED),
    ],
)
def test_level_thresholds_of_a_hundred_unit_limit(
    used: str, expected: UsageLevel
) -> None:
    assert level(Decimal(used), Decimal(100)) is expected


def test_level_compares_exactly_where_float_would_fall_short() -> None:
    # 0.99 / 1.1 * 100 is 89.99999999999999 in floats; exactly 90 % in decimals.
    assert level(Decimal("0.99"), Decimal("1.1")) is UsageLevel.CRITICAL


def test_level_is_normal_when_unlimited() -> None:
    assert level(Decimal(10**9), None) is UsageLevel.NORMAL


def test_level_of_a_zero_limit_follows_percent() -> None:
    assert level(Decimal(0), Decimal(0)) is UsageLevel.NORMAL
    assert level(Decimal(1), Decimal(0)) is UsageLevel.EXCEEDED


def test_remaining_is_limit_minus_used() -> None:
    assert remaining(Decimal("30.5"), Decimal(100)) == Decimal("69.5")


def test_remaining_is_never_negative() -> None:
    assert remaining(Decimal(105), Decimal(100)) == 0


def test_remaining_is_none_when_unlimited() -> None:
    assert remaining(Decimal(5), None) is None


def test_hard_meter_is_blocked_at_the_limit() -> None:
    assert blocked(Decimal(100), Decimal(100), HARD)
    assert not blocked(Decimal("99.999999"), Decimal(100), HARD)


def test_soft_meter_is_blocked_at_ten_percent_over() -> None:
    assert blocked(Decimal(110), Decimal(100), SOFT)
    assert not blocked(Decimal("109.999999"), Decimal(100), SOFT)


def test_unenforced_or_unlimited_meter_is_never_blocked() -> None:
    assert not blocked(Decimal(10**9), Decimal(100), NONE)
    assert not blocked(Decimal(10**9), None, HARD)
