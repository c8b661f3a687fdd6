"""Business outcomes of store changes: what `userErrors` carry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserError:
    """One reason a change was refused: the input field, a stable code, a sentence."""

    field: str
    code: str
    message: str


class Rejected(Exception):
    """Raised before anything is written when the input cannot be applied."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__(
            "; ".join(f"{error.field}: {error.message}" for error in errors)
        )
        self.errors = errors
