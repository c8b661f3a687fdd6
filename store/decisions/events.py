"""What a recordUsage call reports and what it gets back: the event as reported
(`UsageEventSpec`), each event's outcome (`EventOutcome`) and an accepted event as it is
stored (`StoredEvent`), with the bounds every layer agrees on.

Apart from the deciding (`store.decisions.books`) so that the writer, the write queue
and provisioning read these shapes without loading the decision machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from rules.credits import Draw
from rules.cycles import Cycle
from rules.enums import AiFeature, UsageDecisionCode, UsageSource, UsageStatus
from rules.pricing import TokenCounts
from store.catalog import AI_METERS

MAX_EVENTS_PER_CALL = 1000
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class UsageEventSpec:
    """One reported usage event. There is no field for prompts or payloads."""

    idempotency_key: str
    organization_id: str
    meter: str
    quantity: Decimal
    occurred_at: datetime | None = None
    user_id: str | None = None
    workspace_id: str | None = None
    source: UsageSource | None = None
    feature: AiFeature | None = None
    model: str | None = None
    tokens: TokenCounts | None = None
    cost_usd: Decimal | None = None
    definition_id: str | None = None
    definition_name: str | None = None

    @property
    def is_ai(self) -> bool:
        """An AI event carries a model, tokens or a cost, or is of an AI meter."""
        return (
            self.model is not None
            or self.tokens is not None
            or self.cost_usd is not None
            or self.meter in AI_METERS
        )


@dataclass(frozen=True)
class EventOutcome:
    index: int
    idempotency_key: str
    status: UsageStatus
    code: UsageDecisionCode | None
    message: str


@dataclass(slots=True)
class StoredEvent:
    """An accepted event: the stored row, and what rollups read (a RollupEvent).

    Drafted before its credits are known and completed by `Books.finish`.
    """

    organization_id: str
    idempotency_key: str
    meter_key: str
    quantity: Decimal
    occurred_at: datetime
    received_at: datetime
    cycle: Cycle
    """The cycle the event is decided in (a calendar month without subscription)."""
    cycle_start: datetime | None
    """What is stored: null without a subscription, which has no billing cycle."""
    user_id: str | None
    workspace_id: str | None
    source: UsageSource
    feature: AiFeature | None
    model: str | None
    tokens: TokenCounts
    cost_usd: Decimal | None
    unpriced: bool
    credits: Decimal
    free_units_used: Decimal
    definition_id: str | None
    definition_name: str | None
    draws: tuple[Draw, ...] = ()

    def row(self) -> dict[str, Any]:
        return {
            "organization_id": self.organization_id,
            "idempotency_key": self.idempotency_key,
            "meter_key": self.meter_key,
            "quantity": self.quantity,
            "occurred_at": self.occurred_at,
            "received_at": self.received_at,
            "cycle_start": self.cycle_start,
            "user_id": self.user_id,
            "workspace_id": self.workspace_id,
            "source": self.source,
            "feature": self.feature,
            "model": self.model,
            "input_tokens": self.tokens.input,
            "output_tokens": self.tokens.output,
            "cache_read_tokens": self.tokens.cache_read,
            "cache_write_tokens": self.tokens.cache_write,
            "cost_usd": self.cost_usd,
            "unpriced": self.unpriced,
            "credits": self.credits,
            "free_units_used": self.free_units_used,
            "definition_id": self.definition_id,
            "definition_name": self.definition_name,
        }


def has_nul(spec: UsageEventSpec) -> bool:
    """Whether any of the event's text holds a NUL, which no database column keeps
    (PostgreSQL refuses it): such an event is INVALID and is never looked up."""
    texts = (
        spec.idempotency_key,
        spec.organization_id,
        spec.meter,
        spec.user_id,
        spec.workspace_id,
        spec.model,
        spec.definition_id,
        spec.definition_name,
    )
    return any(text is not None and "\x00" in text for text in texts)
