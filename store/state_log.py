"""One log line per change of state, not one per failed attempt.

A fan-out retrying every second against a Redis that is down would otherwise
write a line a second (or one per write) for as long as the outage lasts; an
on-call engineer wants to read "lost at 10:02 (reason)" and "back at 10:07".
"""

from __future__ import annotations

import logging


class StateLog:
    """Logs when `what` is lost (first failure only) and when it is back."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self.log = log
        self.what = what
        self.down = False

    def lost(self, error: BaseException) -> None:
        if not self.down:
            self.down = True
            self.log.warning(
                "%s: lost (%s: %s); retrying quietly until it is back",
                self.what,
                type(error).__name__,
                error,
            )

    def back(self) -> None:
        if self.down:
            self.down = False
            self.log.warning("%s: back", self.what)
