"""Small value types shared across the schema."""

from __future__ import annotations

from decimal import Decimal

import strawberry


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


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow.")
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` to get the next page."
    )
