"""Why an event cannot be recorded at all, whatever the usage so far: its key, its
time, its text, its quantity, its AI fields and what it may cost.

Plain functions of the event and what the call loaded (prices, the organization's
terms), so `Books` runs them once per shape of events and in the order of
`store.recording` (the key, the text, organization, meter and quantity, the time,
then members, workspaces, AI fields and credits).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from rules.amounts import (
    MAX_COST_USD,
    MAX_CREDITS,
    MAX_QUANTITY,
    MAX_TOKENS,
    amount_problem,
    quantize,
)
from rules.enums import Resets
from rules.pricing import ModelRates, TokenCounts, price_tokens
from store.decisions.events import UsageEventSpec, has_nul
from store.usage_terms import MeterInfo, Org

TEXT_LIMITS = {
    "idempotency key": 200,
    "model": 128,
    "definitionId": 64,
    "definitionName": 200,
}


def text_problem(spec: UsageEventSpec) -> str | None:
    """Over-long model or definition fields (the key's length is `key_problem`,
    checked before these)."""
    if has_nul(spec):
        return "Text fields must not contain a NUL character."
    texts = {
        "model": spec.model,
        "definitionId": spec.definition_id,
        "definitionName": spec.definition_name,
    }
    for name, value in texts.items():
        if value is not None and len(value) > TEXT_LIMITS[name]:
            return f"The {name} is longer than {TEXT_LIMITS[name]} characters."
    return None


def quantity_problem(spec: UsageEventSpec, meter: MeterInfo) -> str | None:
    problem = amount_problem(spec.quantity, MAX_QUANTITY)
    if problem is not None:
        return f"The {problem}."
    if spec.quantity < 0:
        if meter.resets is not Resets.NEVER:
            return (
                "A negative quantity is only allowed on cumulative meters "
                f"(a release); {spec.meter} resets every cycle."
            )
        if spec.is_ai:
            return "A release (negative quantity) cannot carry AI usage."
    return None


def ai_problem(spec: UsageEventSpec, prices: Mapping[str, ModelRates]) -> str | None:
    if spec.cost_usd is not None:
        problem = amount_problem(spec.cost_usd, MAX_COST_USD)
        if problem is not None:
            return f"The cost {problem.removeprefix('quantity ')}."
        if spec.cost_usd < 0:
            return "The cost must not be negative."
    if spec.tokens is not None:
        counts = (
            spec.tokens.input,
            spec.tokens.output,
            spec.tokens.cache_read,
            spec.tokens.cache_write,
        )
        if any(count < 0 or count > MAX_TOKENS for count in counts):
            return f"Token counts must be whole numbers from 0 to {MAX_TOKENS}."
        rates = None if spec.model is None else prices.get(spec.model)
        priced = spec.cost_usd is None and rates is not None
        if priced and rates and price_tokens(rates, spec.tokens) > MAX_COST_USD:
            return f"The tokens' cost is larger than {MAX_COST_USD:f} dollars."
    return None


def credits_problem(
    spec: UsageEventSpec, org: Org, prices: Mapping[str, ModelRates]
) -> str | None:
    """An event may cost at most MAX_CREDITS credits (before its free units), so
    that one event's draw is storable however the plan prices it."""
    if org.terms is None or org.usd:
        return None
    row = org.terms.limits.get(spec.meter)
    credits = Decimal(0)
    if row is not None and row.credits_per_unit and spec.quantity > 0:
        credits += spec.quantity * row.credits_per_unit
    cost, _ = event_cost(spec, prices)
    if cost and org.terms.credits_per_usd:
        credits += cost * org.terms.credits_per_usd
    if credits > MAX_CREDITS:
        return f"The event would cost more than {MAX_CREDITS:f} credits."
    return None


def event_cost(
    spec: UsageEventSpec, prices: Mapping[str, ModelRates]
) -> tuple[Decimal | None, bool]:
    """(dollar cost, unpriced): the given cost, else priced from the model table.

    A model (or token counts) that cannot be priced makes the event unpriced: it
    costs nothing yet. An AI event of an AI meter without model, tokens or cost has
    no dollar cost to price, so it is neither priced nor unpriced.
    """
    if spec.cost_usd is not None:
        return quantize(spec.cost_usd), False
    rates = None if spec.model is None else prices.get(spec.model)
    if rates is not None:
        return price_tokens(rates, spec.tokens or TokenCounts()), False
    return None, spec.model is not None or spec.tokens is not None


def key_problem(key: str) -> str | None:
    """The idempotency key's checks, the first of an event's checks."""
    if not key.strip():
        return "The idempotency key must not be empty."
    if "\x00" in key:
        return "The idempotency key must not contain a NUL character."
    limit = TEXT_LIMITS["idempotency key"]
    if len(key) > limit:
        return f"The idempotency key is longer than {limit} characters."
    return None


def time_problem(occurred: datetime, latest: datetime) -> str | None:
    """`occurred_at` without a zone, or after `latest` (now + the tolerance)."""
    if occurred.tzinfo is None or occurred.utcoffset() is None:
        return "occurredAt must carry a time zone."
    if occurred > latest:
        return "occurredAt is more than 5 minutes in the future."
    return None
