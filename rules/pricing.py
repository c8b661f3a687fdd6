"""What AI usage costs in dollars, and in the internal cost units of the allowance."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rules.amounts import quantize

COST_UNIT_USD = Decimal("0.001")

_PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class TokenCounts:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0


@dataclass(frozen=True)
class ModelRates:
    """A model's dollar prices per million tokens of each kind."""

    input_per_million: Decimal
    output_per_million: Decimal
    cache_read_per_million: Decimal
    cache_write_per_million: Decimal


def price_tokens(rates: ModelRates, tokens: TokenCounts) -> Decimal:
    """The dollar cost of one event's tokens, rounded once at the end."""
    total = (
        tokens.input * rates.input_per_million
        + tokens.output * rates.output_per_million
        + tokens.cache_read * rates.cache_read_per_million
        + tokens.cache_write * rates.cache_write_per_million
    )
    return quantize(total / _PER_MILLION)


def cost_units(usd: Decimal) -> Decimal:
    """Dollars as internal cost units (1 unit = $0.001), the daily allowance's unit."""
    return quantize(usd / COST_UNIT_USD)
