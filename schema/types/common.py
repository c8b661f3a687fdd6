"""Small value types shared across the schema."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import strawberry

from resolvers import pagination


@strawberry.type(description="An amount of money.")
class Money:
    amount: Decimal = strawberry.field(description="The amount, in `currency` units.")
    currency: str = strawberry.field(description="ISO 4217 currency code.")


@strawberry.type(description="An amount with its unit.")
class Quantity:
    amount: Decimal = strawberry.field(description="The amount.")
    unit: str = strawberry.field(description="What the amount counts, e.g. `USD`.")


@strawberry.type(description="A business outcome of a mutation that did not apply.")
class UserError:
    field: str = strawberry.field(description="The input field it concerns.")
    code: str = strawberry.field(
        description="A stable code: NOT_FOUND, INVALID, NO_SEATS_AVAILABLE, "
        "SEATS_IN_USE, FORBIDDEN."
    )
    message: str = strawberry.field(description="A sentence for people.")


@strawberry.type(
    description="Where a page sits in its connection (Relay cursor connections). "
    "Pages go forward: pass `endCursor` as `after` for the next one."
)
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when more items follow this page."
    )
    has_previous_page: bool = strawberry.field(
        default=False,
        description="True when items come before this page: only ever after an "
        "`after` cursor, and then unless this page holds every item.",
    )
    start_cursor: str | None = strawberry.field(
        default=None,
        description="The first edge's cursor; null when the page has no edges.",
    )
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor, to pass as `after` for the next page; "
        "null when the page has no edges."
    )

    @classmethod
    def forward(
        cls,
        cursors: Sequence[str],
        *,
        after: str | None,
        total: int,
        has_next_page: bool,
    ) -> PageInfo:
        """The page of `cursors` (its edges' cursors, in order) asked for `after` a
        cursor, out of `total` matching items."""
        return cls(
            has_next_page=has_next_page,
            has_previous_page=pagination.has_previous_page(after, total, len(cursors)),
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )
