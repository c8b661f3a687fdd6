"""Roles to permissions: the contract's table, in one place.

Resolvers never compare roles; they ask whether the viewer holds a permission in the
organization at hand. Operators hold every permission everywhere.
"""

from __future__ import annotations

from enum import StrEnum

from rules.enums import ApiKeyKind, Role


class Permission(StrEnum):
    USAGE_READ = "usage:read"
    PLAN_MANAGE = "plan:manage"
    BILLING_READ_ALL = "billing:read:all"
    BILLING_READ_DOLLARS = "billing:read:dollars"
    SEATS_WRITE = "seats:write"
    ALLOCATIONS_WRITE = "allocations:write"
    ANALYTICS_READ = "analytics:read"
    USAGE_WRITE = "usage:write"
    PARTNER_READ = "partner:read"
    """Read-only billing state of an organization listed on a PARTNER key."""


_MEMBER = frozenset({Permission.USAGE_READ})
_MANAGER = _MEMBER | {Permission.PLAN_MANAGE}
_ADMIN = _MANAGER | {
    Permission.BILLING_READ_ALL,
    Permission.BILLING_READ_DOLLARS,
    Permission.SEATS_WRITE,
    Permission.ALLOCATIONS_WRITE,
    Permission.ANALYTICS_READ,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.MEMBER: _MEMBER,
    Role.MANAGER: _MANAGER,
    Role.ADMIN: _ADMIN,
    Role.SUPER_ADMIN: _ADMIN,
}

KEY_PERMISSIONS: dict[ApiKeyKind, frozenset[Permission]] = {
    ApiKeyKind.OPERATOR: frozenset(Permission),
    # A SERVICE key reads its organization as an ADMIN would, and records usage.
    ApiKeyKind.SERVICE: _ADMIN | {Permission.USAGE_WRITE},
    # A PARTNER key reads the billing state the contract lists for it, whose credit
    # amounts are dollars for a BYOM organization: they must not be redacted.
    ApiKeyKind.PARTNER: frozenset(
        {Permission.PARTNER_READ, Permission.BILLING_READ_DOLLARS}
    ),
}


def role_permissions(
    role: Role, *, show_dollars_preview: bool
) -> frozenset[Permission]:
    """What a member holds; the preview flag lends dollar amounts to every member."""
    granted = ROLE_PERMISSIONS[role]
    if show_dollars_preview:
        granted = granted | {Permission.BILLING_READ_DOLLARS}
    return granted
