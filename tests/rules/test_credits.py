from datetime import UTC, datetime
from decimal import Decimal

import pytest

from rules.credits import (
    Draw,
    PoolState,
    avg_per_day,
    credit_progress,
    draw_credits,
    draw_order,
    event_credits,
    monthly_grant,
    on_track_to_run_out,
    prompts,
    run_out_in_days,
)
from rules.enums import CreditPoolKind, CreditPrompt, PlanTier

MONTHLY, BONUS, PURCHASED = (
    CreditPoolKind.MONTHLY,
    CreditPoolKind.BONUS,
    CreditPoolKind.PURCHASED,
)
UPGRADE, REFERRAL = CreditPrompt.UPGRADE, CreditPrompt.REFERRAL
AT = datetime(2024, 4, 15, 12, tzinfo=UTC)
MAY_1 = datetime(2024, 5, 1, tzinfo=UTC)
JUN_1 = datetime(2024, 6, 1, tzinfo=UTC)


def pool(
    kind: CreditPoolKind,
    granted: str,
    spent: str = "0",
    grant_id: str | None = None,
    expires_at: datetime | None = None,
) -> PoolState:
    return PoolState(kind, grant_id, Decimal(granted), Decimal(spent), expires_at)


# --- grant ---------------------------------------------------------------------------


def test_monthly_grant_adds_credits_per_seat() -> None:
    grant = monthly_grant(PlanTier.PRO, Decimal(1000), Decimal(50), seats=4)

    assert grant == Decimal(1200)


def test_free_plan_grants_500_credits_unless_it_says_otherwise() -> None:
    assert monthly_grant(PlanTier.FREE, None, None, seats=1) == Decimal(500)
    assert monthly_grant(PlanTier.FREE, Decimal(200), None, seats=1) == Decimal(200)


def test_free_plan_default_still_adds_credits_per_seat() -> None:
    assert monthly_grant(PlanTier.FREE, None, Decimal(10), seats=3) == Decimal(530)


def test_paid_plan_without_monthly_credits_grants_nothing() -> None:
    assert monthly_grant(PlanTier.STARTER, None, None, seats=3) == 0


# --- pools ---------------------------------------------------------------------------


def test_pool_balance_is_never_negative() -> None:
    assert pool(BONUS, "100", spent="120").balance == 0


def test_draw_order_is_monthly_then_bonus_by_expiry_then_purchased() -> None:
    purchased = pool(PURCHASED, "200", grant_id="g1")
    late_bonus = pool(BONUS, "50", grant_id="g2", expires_at=JUN_1)
    monthly = pool(MONTHLY, "100")
    never_expiring_bonus = pool(BONUS, "30", grant_id="g0")
    soon_bonus = pool(BONUS, "20", grant_id="g3", expires_at=MAY_1)

    ordered = draw_order(
        [purchased, late_bonus, monthly, never_expiring_bonus, soon_bonus], AT
    )

    assert ordered == [monthly, soon_bonus, late_bonus, never_expiring_bonus, purchased]


def test_draw_order_breaks_expiry_ties_by_oldest_grant() -> None:
    newer = pool(BONUS, "10", grant_id="g2", expires_at=MAY_1)
    older = pool(BONUS, "10", grant_id="g1", expires_at=MAY_1)

    assert draw_order([newer, older], AT) == [older, newer]


def test_draw_order_takes_purchased_grants_oldest_first() -> None:
    newer = pool(PURCHASED, "10", grant_id="g2")
    older = pool(PURCHASED, "10", grant_id="g1")

    assert draw_order([newer, older], AT) == [older, newer]


def test_draw_order_skips_pools_expired_at_that_instant() -> None:
    expired = pool(BONUS, "50", grant_id="g1", expires_at=AT)
    monthly = pool(MONTHLY, "100")

    assert draw_order([expired, monthly], AT) == [monthly]


# --- draws ---------------------------------------------------------------------------


def test_draw_credits_crosses_pools_in_draw_order() -> None:
    pools = [
        pool(PURCHASED, "200", grant_id="g9"),
        pool(BONUS, "50", grant_id="g2", expires_at=JUN_1),
        pool(MONTHLY, "100", spent="90"),
        pool(BONUS, "20", spent="5", grant_id="g3", expires_at=MAY_1),
    ]

    # 80 = 10 monthly + 15 soon bonus + 50 late bonus + 5 purchased
    assert draw_credits(pools, Decimal(80), AT) == [
        Draw(MONTHLY, None, Decimal(10)),
        Draw(BONUS, "g3", Decimal(15)),
        Draw(BONUS, "g2", Decimal(50)),
        Draw(PURCHASED, "g9", Decimal(5)),
    ]


def test_draw_credits_skips_empty_pools() -> None:
    pools = [pool(MONTHLY, "100", spent="100"), pool(PURCHASED, "40", grant_id="g1")]

    assert draw_credits(pools, Decimal("2.5"), AT) == [
        Draw(PURCHASED, "g1", Decimal("2.5"))
    ]


def test_draw_credits_skips_expired_bonus() -> None:
    pools = [
        pool(BONUS, "50", grant_id="g1", expires_at=AT),
        pool(PURCHASED, "40", grant_id="g2"),
    ]

    assert draw_credits(pools, Decimal(5), AT) == [Draw(PURCHASED, "g2", Decimal(5))]


def test_draw_credits_may_empty_every_pool_exactly() -> None:
    pools = [pool(MONTHLY, "10"), pool(PURCHASED, "15", grant_id="g1")]

    assert draw_credits(pools, Decimal(25), AT) == [
        Draw(MONTHLY, None, Decimal(10)),
        Draw(PURCHASED, "g1", Decimal(15)),
    ]


def test_draw_credits_is_none_when_the_pools_hold_too_little() -> None:
    pools = [pool(MONTHLY, "10"), pool(PURCHASED, "15", grant_id="g1")]

    assert draw_credits(pools, Decimal("25.000001"), AT) is None


def test_draw_credits_does_not_count_expired_credits_as_available() -> None:
    pools = [pool(MONTHLY, "10"), pool(BONUS, "50", grant_id="g1", expires_at=AT)]

    assert draw_credits(pools, Decimal(11), AT) is None


def test_draw_credits_of_nothing_draws_nothing() -> None:
    assert draw_credits([], Decimal(0), AT) == []


def test_draw_credits_refuses_a_negative_amount() -> None:
    with pytest.raises(ValueError, match="negative"):
        draw_credits([pool(MONTHLY, "10")], Decimal(-1), AT)


# --- what an event costs -------------------------------------------------------------


def test_free_allowance_partially_absorbs_an_event() -> None:
    # 10 of 100 free units are left; the other 15 cost 2 credits each.
    result = event_credits(
        Decimal(25), Decimal(90), Decimal(100), Decimal(2), None, None
    )

    assert result == (Decimal(30), Decimal(10))


def test_used_up_free_allowance_absorbs_nothing() -> None:
    result = event_credits(
        Decimal(25), Decimal(120), Decimal(100), Decimal(2), None, None
    )

    assert result == (Decimal(50), Decimal(0))


def test_free_allowance_absorbs_a_whole_small_event() -> None:
    result = event_credits(
        Decimal(5), Decimal(10), Decimal(100), Decimal(2), None, None
    )

    assert result == (Decimal(0), Decimal(5))


def test_pay_per_use_charges_every_unit() -> None:
    result = event_credits(Decimal(25), Decimal(90), None, Decimal(2), None, None)

    assert result == (Decimal(50), Decimal(0))


def test_absent_credits_per_unit_costs_nothing() -> None:
    result = event_credits(Decimal(25), Decimal(0), None, None, None, None)

    assert result == (Decimal(0), Decimal(0))


def test_ai_cost_converts_to_credits_at_the_plan_rate() -> None:
    result = event_credits(
        Decimal(1), Decimal(0), None, None, Decimal("0.0125"), Decimal(100)
    )

    assert result == (Decimal("1.25"), Decimal(0))


def test_ai_cost_is_not_converted_without_a_plan_rate() -> None:
    result = event_credits(Decimal(1), Decimal(0), None, None, Decimal("0.0125"), None)

    assert result == (Decimal(0), Decimal(0))


def test_event_credits_add_units_and_ai_cost() -> None:
    # 3 units * 0.5 credits + $0.02 * 100 credits
    result = event_credits(
        Decimal(3), Decimal(0), None, Decimal("0.5"), Decimal("0.02"), Decimal(100)
    )

    assert result == (Decimal("3.5"), Decimal(0))


def test_event_credits_round_half_up_to_six_places() -> None:
    # $0.000001 * 0.5 credits per dollar = 0.0000005 credits
    result = event_credits(
        Decimal(1), Decimal(0), None, None, Decimal("0.000001"), Decimal("0.5")
    )

    assert result == (Decimal("0.000001"), Decimal(0))


def test_release_costs_no_credits() -> None:
    result = event_credits(
        Decimal(-5), Decimal(50), Decimal(100), Decimal(2), None, None
    )

    assert result == (Decimal(0), Decimal(0))


# --- projections ---------------------------------------------------------------------


def test_avg_per_day_divides_spend_by_fractional_days() -> None:
    assert avg_per_day(Decimal(150), Decimal("7.5")) == Decimal(20)


def test_avg_per_day_counts_the_first_day_as_a_whole_day() -> None:
    assert avg_per_day(Decimal(30), Decimal("0.25")) == Decimal(30)


def test_avg_per_day_keeps_six_places() -> None:
    # 100 / 3 = 33.3333333...
    assert avg_per_day(Decimal(100), Decimal(3)) == Decimal("33.333333")


def test_run_out_in_days_divides_the_balance_by_the_daily_average() -> None:
    assert run_out_in_days(Decimal(350), Decimal(20)) == Decimal("17.5")


def test_run_out_in_days_is_none_when_nothing_was_spent() -> None:
    assert run_out_in_days(Decimal(350), Decimal(0)) is None


def test_on_track_to_run_out_when_the_balance_ends_before_the_cycle() -> None:
    assert on_track_to_run_out(Decimal("17.5"), Decimal("23.5"))


def test_not_on_track_to_run_out_when_it_lasts_exactly_the_cycle() -> None:
    assert not on_track_to_run_out(Decimal("23.5"), Decimal("23.5"))


def test_not_on_track_to_run_out_when_nothing_was_spent() -> None:
    assert not on_track_to_run_out(None, Decimal("23.5"))


# --- progress and prompts ------------------------------------------------------------


def test_credit_progress_is_spent_over_granted() -> None:
    assert credit_progress(Decimal(250), Decimal(1000), Decimal(750)) == 0.25


def test_credit_progress_is_clamped_to_one() -> None:
    assert credit_progress(Decimal(1200), Decimal(1000), Decimal(300)) == 1.0


def test_credit_progress_without_a_grant_is_spent_over_all_credits_held() -> None:
    assert credit_progress(Decimal(30), Decimal(0), Decimal(90)) == 0.25


def test_credit_progress_with_nothing_at_all_is_zero() -> None:
    assert credit_progress(Decimal(0), Decimal(0), Decimal(0)) == 0.0


@pytest.mark.parametrize(
    ("spent", "expected"),
    [
        ("0", []),
        ("49.999999", []),
        ("50", [REFERRAL]),
        ("74.999999", [REFERRAL]),
        ("75", [UPGRADE, REFERRAL]),
        ("120", [UPGRADE, REFERRAL]),
    ],
)
def test_prompts_referral_from_50_and_upgrade_from_75_percent(
    spent: str, expected: list[CreditPrompt]
) -> None:
    assert prompts(Decimal(spent), Decimal(100), PlanTier.PRO) == expected


def test_prompts_always_upgrade_on_free_plans() -> None:
    assert prompts(Decimal(0), Decimal(500), PlanTier.FREE) == [UPGRADE]


def test_prompts_without_a_grant_only_follow_the_free_rule() -> None:
    assert prompts(Decimal(10), Decimal(0), PlanTier.FREE) == [UPGRADE]
    assert prompts(Decimal(10), Decimal(0), PlanTier.PRO) == []
