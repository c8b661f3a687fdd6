from decimal import Decimal

import pytest

from rules.amounts import quantity_problem, quantize, round_half_up


def test_quantize_rounds_half_up_at_six_places() -> None:
    assert quantize(Decimal("0.0000005")) == Decimal("0.000001")


def test_quantize_rounds_down_below_half() -> None:
    assert quantize(Decimal("2.0000004")) == Decimal("2.000000")


def test_quantize_rounds_negative_halves_away_from_zero() -> None:
    assert quantize(Decimal("-0.0000005")) == Decimal("-0.000001")


def test_quantize_keeps_amounts_as_wide_as_the_database_column() -> None:
    # NUMERIC(38, 6): 32 integer digits, more than the default 28-digit context.
    big = Decimal("12345678901234567890123456789012")

    assert quantize(big) == big
    assert quantize(big).as_tuple().exponent == -6


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_quantity_problem_rejects_non_finite_quantities(value: str) -> None:
    assert quantity_problem(Decimal(value)) == "quantity must be a finite number"


@pytest.mark.parametrize("value", ["0.0000001", "1.0000001", "-3.1234567"])
def test_quantity_problem_rejects_more_than_six_decimal_places(value: str) -> None:
    assert quantity_problem(Decimal(value)) == "quantity has more than 6 decimal places"


@pytest.mark.parametrize("value", ["1.500000", "1E+3", "0", "-2.5", "0.000001"])
def test_quantity_problem_accepts_six_places_or_fewer(value: str) -> None:
    assert quantity_problem(Decimal(value)) is None


def test_quantity_problem_accepts_trailing_zeros_past_six_places() -> None:
    # 1.5000000 is exactly 1.5: nothing is lost when it is stored.
    assert quantity_problem(Decimal("1.5000000")) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.5", 3), ("-2.5", -3), ("2.4999", 2), ("0.5", 1), ("7", 7)],
)
def test_round_half_up_rounds_halves_away_from_zero(value: str, expected: int) -> None:
    assert round_half_up(Decimal(value)) == expected
