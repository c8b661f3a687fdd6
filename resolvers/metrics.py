"""Domain counts for `/metrics`: what was recorded, checked and sent live.

Counted where the answer is made, once per call (a batch of 1,000 events is a few
increments by (status, code), not 1,000).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rules.enums import UsageDecisionCode, UsageStatus
from store.metrics import LIVE_SUBSCRIBERS, USAGE_CHECKS, USAGE_EVENTS


def count_recorded(
    results: Iterable[tuple[UsageStatus, UsageDecisionCode | None]],
) -> None:
    """A recordUsage call's results, by outcome and decision code."""
    for (status, code), count in Counter(results).items():
        USAGE_EVENTS.labels(status.value, _code(status, code)).inc(count)


def count_checked(allowed: bool, code: UsageDecisionCode | None) -> None:
    USAGE_CHECKS.labels(str(allowed).lower(), "" if code is None else code.value).inc()


def _code(status: UsageStatus, code: UsageDecisionCode | None) -> str:
    if code is None or status is UsageStatus.ACCEPTED:
        return ""
    return code.value


@contextmanager
def subscribed() -> Iterator[None]:
    """One live subscriber while the block runs."""
    LIVE_SUBSCRIBERS.inc()
    try:
        yield
    finally:
        LIVE_SUBSCRIBERS.dec()
