"""The built-in meter catalog, in the order pages list meters.

Seeded by the first migration; operators add more with `upsertMeter`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.enums import MeterCategory, Resets


@dataclass(frozen=True)
class MeterSpec:
    key: str
    label: str
    category: MeterCategory
    unit_label: str
    resets: Resets
    display_multiplier: int = 1


_C = MeterCategory
BUILTIN_METERS: tuple[MeterSpec, ...] = (
    MeterSpec("contacts", "Contacts", _C.CORE_LIMITS, "contacts", Resets.NEVER),
    MeterSpec("companies", "Companies", _C.CORE_LIMITS, "companies", Resets.NEVER),
    MeterSpec("storage_bytes", "Storage", _C.CORE_LIMITS, "bytes", Resets.NEVER),
    MeterSpec(
        "emails_sent", "Emails sent", _C.MONTHLY_ACTIVITY, "emails", Resets.CYCLE
    ),
    MeterSpec("ai_tokens", "AI tokens", _C.MONTHLY_ACTIVITY, "tokens", Resets.CYCLE),
    MeterSpec(
        "enrichments", "Enrichments", _C.MONTHLY_ACTIVITY, "enrichments", Resets.CYCLE
    ),
    MeterSpec(
        "workflow_executions",
        "Workflow executions",
        _C.MONTHLY_ACTIVITY,
        "executions",
        Resets.CYCLE,
    ),
    MeterSpec("import_rows", "Import rows", _C.DATA_OPERATIONS, "rows", Resets.CYCLE),
    MeterSpec("export_rows", "Export rows", _C.DATA_OPERATIONS, "rows", Resets.CYCLE),
    MeterSpec(
        "lead_captures", "Lead captures", _C.DATA_OPERATIONS, "captures", Resets.CYCLE
    ),
    MeterSpec("api_calls", "API calls", _C.DATA_OPERATIONS, "calls", Resets.CYCLE),
    MeterSpec("insights", "Insights", _C.QUOTA, "insights", Resets.CYCLE),
    MeterSpec(
        "transcription_hours", "Transcription hours", _C.QUOTA, "hours", Resets.CYCLE
    ),
    MeterSpec("ai_spend_usd", "AI spend", _C.AI_BUDGET, "USD", Resets.CYCLE),
    MeterSpec("voice", "Voice", _C.OPERATIONS, "minutes", Resets.CYCLE),
    MeterSpec("recording", "Recording", _C.OPERATIONS, "minutes", Resets.CYCLE),
    MeterSpec("transcription", "Transcription", _C.OPERATIONS, "minutes", Resets.CYCLE),
    MeterSpec("realtime", "Realtime", _C.OPERATIONS, "minutes", Resets.CYCLE),
    MeterSpec("sms", "SMS", _C.OPERATIONS, "segments", Resets.CYCLE),
    MeterSpec("mms", "MMS", _C.OPERATIONS, "messages", Resets.CYCLE),
    MeterSpec("ai_text", "AI text", _C.OPERATIONS, "tokens", Resets.CYCLE, 1000),
    MeterSpec("email", "Email", _C.OPERATIONS, "emails", Resets.CYCLE),
    MeterSpec(
        "workspace_runtime_hours",
        "Workspace runtime",
        _C.RUNTIME,
        "hours",
        Resets.CYCLE,
    ),
)

AI_METERS = frozenset({"ai_text", "ai_tokens"})
"""Meters whose every event is an AI event, whatever fields it carries."""

DOLLAR_UNIT_LABEL = "USD"


def counts_dollars(unit_label: str) -> bool:
    """A meter counting in dollars (`ai_spend_usd`): its amounts need
    billing:read:dollars."""
    return unit_label == DOLLAR_UNIT_LABEL
