"""What each event of a call is told: its outcome and message, from the counter
store's decisions (accepted, duplicate, denied by which check) and what was decided
before the counters; and the accepted events, completed with their credits and draws,
to store.

Apart from `Books` because it reads only the plan and the decisions: the messages
are written here once, for recordUsage and usageCheck alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from rules.enums import UsageDecisionCode, UsageStatus
from rules.meters import decide_cap
from store.counters import Accepted, Decision, Denied, Duplicate, EventPlan, Floor
from store.decisions.counter_plans import Plan
from store.decisions.events import EventOutcome, StoredEvent, UsageEventSpec

DUPLICATE_MESSAGE = "An event with this idempotency key was already recorded."


def outcomes_of(
    specs: Sequence[UsageEventSpec],
    plan: Plan,
    decided: Mapping[str, Sequence[Decision]],
) -> tuple[list[EventOutcome], list[StoredEvent]]:
    """Every event's outcome, in order, and the accepted events to store.

    Events of a bulk batch mostly share one decision object and one quantity
    object (`Books._shape`): the message of the previous accepted event is reused
    while both are the same objects."""
    decisions: list[Decision | None] = [None] * len(specs)
    for org_id, positions in plan.positions.items():
        for position, found in zip(positions, decided[org_id], strict=True):
            decisions[position] = found
    outcomes: list[EventOutcome] = []
    accepted: list[StoredEvent] = []
    messages: dict[tuple[str, Decimal, Decimal], str] = {}
    known_outcomes, drafts = plan.outcomes, plan.drafts
    last: tuple[Decision, str, Decimal, str] | None = None
    accepted_status = UsageStatus.ACCEPTED
    for index, spec in enumerate(specs):
        known = known_outcomes[index]
        if known is not None:
            outcomes.append(known)
            continue
        event = drafts[index]
        assert event is not None
        decision = decisions[index]
        key = spec.idempotency_key
        if isinstance(decision, Accepted):
            event.credits = decision.credits
            event.free_units_used = decision.free_units_used
            event.draws = decision.draws
            accepted.append(event)
            if (
                last is not None
                and last[0] is decision
                and last[1] == event.meter_key
                and last[2] is event.quantity
            ):
                message = last[3]
            else:
                said = (event.meter_key, event.quantity, event.credits)
                message = messages.get(said) or messages.setdefault(
                    said, _recorded(event)
                )
                last = (decision, event.meter_key, event.quantity, message)
            outcomes.append(EventOutcome(index, key, accepted_status, None, message))
        elif isinstance(decision, Duplicate):
            outcomes.append(
                EventOutcome(index, key, UsageStatus.DUPLICATE, None, DUPLICATE_MESSAGE)
            )
        else:
            assert isinstance(decision, Denied)
            planned = plan.plans[index]
            assert planned is not None
            status, code, message = _refusal(planned, decision, plan.denials[index])
            outcomes.append(EventOutcome(index, key, status, code, message))
    return outcomes, accepted


def _recorded(event: StoredEvent) -> str:
    message = f"Recorded {_show(event.quantity)} {event.meter_key}"
    if event.credits:
        message += f" for {_show(event.credits)} credits"
    return message + "."


def _refusal(
    planned: EventPlan, denied: Denied, denial_message: str | None
) -> tuple[UsageStatus, UsageDecisionCode, str]:
    """(status, code, message) of a denied event, from the check that failed."""
    if denied.check < 0:
        assert planned.denial is not None
        assert denial_message is not None
        return UsageStatus.DENIED, planned.denial, denial_message
    if denied.check == len(planned.checks):
        return (
            UsageStatus.DENIED,
            UsageDecisionCode.CREDITS_EXHAUSTED,
            f"Not enough credits: the event costs {_show(denied.credits)}, the pools "
            f"hold {_show(denied.used)}.",
        )
    check = planned.checks[denied.check]
    used = denied.used
    if isinstance(check, Floor):
        return (
            UsageStatus.INVALID,
            UsageDecisionCode.INVALID,
            f"Releasing {_show(-check.amount)} would take {check.meter} below zero "
            f"({_show(used)} used).",
        )
    limit = _show(check.limit)
    if check.code is UsageDecisionCode.INVALID:
        return (
            UsageStatus.INVALID,
            check.code,
            f"{check.meter} would pass the largest total the gateway keeps, {limit} "
            f"({_show(used)} counted).",
        )
    if check.code is UsageDecisionCode.PERSONAL_ALLOCATION_EXCEEDED:
        message = (
            f"The user's allocation of {limit} on {check.meter} would be exceeded "
            f"({_show(used)} used this cycle)."
        )
        return UsageStatus.DENIED, check.code, message
    if check.code is UsageDecisionCode.SPEND_CAP_REACHED:
        message = (
            f"The monthly AI spend cap of ${limit} is reached "
            f"(${_show(used)} spent this cycle)."
        )
        return UsageStatus.DENIED, check.code, message
    code = decide_cap(used, check.amount, check.limit, check.enforcement)
    if code is UsageDecisionCode.SOFT_LIMIT_REACHED:
        message = (
            f"{check.meter} would pass 110 % of its limit of {limit} "
            f"({_show(used)} used)."
        )
    else:
        message = f"{check.meter} would pass its limit of {limit} ({_show(used)} used)."
    return UsageStatus.DENIED, code, message


def _show(amount: Decimal) -> str:
    """An amount as people write it: 12.5, not 12.500000."""
    return f"{amount.normalize():f}" if amount else "0"
