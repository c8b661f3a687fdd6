"""Operators' catalog and customer set-up, and admins' seat changes.

Every function checks its whole input first and raises `Rejected` with every problem
it found before writing anything, so a rejected mutation leaves the database as it
was and the caller can report all errors at once. Upserts are idempotent on their key
or id: the spec is the desired state, and applying it twice changes nothing. Nothing
here commits; the caller owns the transaction.

One module per thing a user provisions: `catalog` (meters, plans, model prices),
`customers` (organizations, subscriptions, workspaces, reconciliation), `seats`
(members, seats, personal allocations) and `credits` (grants); `checks` holds what
they share. Callers take the operations from here (`from store import provisioning`).
"""

from __future__ import annotations

from store.catalog import MeterSpec
from store.errors import Rejected, UserError
from store.provisioning.catalog import (
    ModelPriceSpec,
    PlanLimitSpec,
    PlanSpec,
    set_model_price,
    upsert_meter,
    upsert_plan,
)
from store.provisioning.credits import CreditGrantSpec, grant_credits
from store.provisioning.customers import (
    OrganizationSpec,
    ReconciliationSpec,
    SubscriptionSpec,
    WorkspaceSpec,
    set_reconciliation,
    set_subscription,
    upsert_organization,
    upsert_workspace,
)
from store.provisioning.seats import (
    MemberSpec,
    allocate_seat,
    change_seats,
    deallocate_seat,
    set_personal_allocation,
    upsert_member,
)

__all__ = [
    "CreditGrantSpec",
    "MemberSpec",
    "MeterSpec",
    "ModelPriceSpec",
    "OrganizationSpec",
    "PlanLimitSpec",
    "PlanSpec",
    "ReconciliationSpec",
    "Rejected",
    "SubscriptionSpec",
    "UserError",
    "WorkspaceSpec",
    "allocate_seat",
    "change_seats",
    "deallocate_seat",
    "grant_credits",
    "set_model_price",
    "set_personal_allocation",
    "set_reconciliation",
    "set_subscription",
    "upsert_member",
    "upsert_meter",
    "upsert_organization",
    "upsert_plan",
    "upsert_workspace",
]
