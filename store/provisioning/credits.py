"""Credit grants: BONUS and PURCHASED pools beside the plan's MONTHLY one.

Apart from the customers because the ledger points at grants: once drawn from, a
grant's amount may not drop below what was spent, nor move to another kind or
organization.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from rules.amounts import MAX_CREDITS
from rules.enums import CreditPoolKind
from store.models import CreditGrant
from store.provisioning.checks import INVALID, Checks, clean_text, find_organization


@dataclass(frozen=True)
class CreditGrantSpec:
    organization_id: str
    kind: CreditPoolKind
    amount: Decimal
    expires_at: datetime | None = None
    reason: str | None = None
    id: str | None = None
    """Optional stable id: with it a grant is idempotent (the demo and billing systems
    that retry); without it every call is a new grant, as two referrals are two."""


async def grant_credits(
    session: AsyncSession, spec: CreditGrantSpec, now: datetime
) -> CreditGrant:
    """Add a BONUS or PURCHASED grant (or, given a known id, bring it to the spec).

    A grant already drawn from may change its amount and expiry, but never below
    what was spent nor into another kind or organization: the ledger points at it.
    """
    checks = Checks()
    await find_organization(session, checks, spec.organization_id)
    if spec.kind not in (CreditPoolKind.BONUS, CreditPoolKind.PURCHASED):
        checks.fail(
            "kind", INVALID, "grants are BONUS or PURCHASED; MONTHLY is the plan's"
        )
    checks.amount("amount", spec.amount, maximum=MAX_CREDITS, positive=True)
    checks.instant("expiresAt", spec.expires_at)
    if spec.reason is not None and len(spec.reason.strip()) > 500:
        checks.fail("reason", INVALID, "reason is longer than 500 characters")
    grant = None
    if spec.id is not None and checks.identifier("id", spec.id, 64):
        grant = await session.get(CreditGrant, spec.id)
    if grant is not None:
        if grant.organization_id != spec.organization_id or grant.kind != spec.kind:
            checks.fail(
                "id", INVALID, f"grant {spec.id!r} is another organization's or kind's"
            )
        elif not checks.errors and spec.amount < grant.spent:
            checks.fail(
                "amount", INVALID, f"{grant.spent} credits of it are spent already"
            )
    elif not checks.errors and spec.expires_at is not None and spec.expires_at <= now:
        checks.fail("expiresAt", INVALID, "a new grant must expire in the future")
    checks.raise_if_any()

    if grant is None:
        grant = CreditGrant(
            # Time-ordered ids: among grants expiring together the oldest draws first.
            id=spec.id or f"grant_{now:%Y%m%d%H%M%S%f}_{secrets.token_hex(4)}",
            organization_id=spec.organization_id,
            kind=spec.kind,
            spent=Decimal(0),
            granted_at=now,
        )
        session.add(grant)
    grant.amount = spec.amount
    grant.expires_at = spec.expires_at
    grant.reason = clean_text(spec.reason) or None
    await session.flush()
    return grant
