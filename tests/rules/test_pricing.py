from decimal import Decimal

from rules.pricing import ModelRates, TokenCounts, cost_units, price_tokens

RATES = ModelRates(
    input_per_million=Decimal(3),
    output_per_million=Decimal(15),
    cache_read_per_million=Decimal("0.30"),
    cache_write_per_million=Decimal("3.75"),
)


def test_price_tokens_sums_every_token_kind_per_million() -> None:
    tokens = TokenCounts(input=1200, output=800, cache_read=10_000, cache_write=2000)

    # 1200*3 + 800*15 + 10000*0.30 + 2000*3.75 = 26100 per million = $0.0261
    assert price_tokens(RATES, tokens) == Decimal("0.026100")


def test_price_tokens_rounds_half_up_to_six_places() -> None:
    rates = ModelRates(Decimal("0.5"), Decimal(0), Decimal(0), Decimal(0))

    # one token at $0.50 per million is $0.0000005
    assert price_tokens(rates, TokenCounts(input=1)) == Decimal("0.000001")


def test_price_tokens_of_no_tokens_is_free() -> None:
    assert price_tokens(RATES, TokenCounts()) == 0


def test_cost_units_count_thousandths_of_a_dollar() -> None:
    assert cost_units(Decimal("0.0261")) == Decimal("26.1")
    assert cost_units(Decimal("1.5")) == Decimal(1500)


def test_cost_units_keep_six_places() -> None:
    assert cost_units(Decimal("0.000001")) == Decimal("0.001000")
