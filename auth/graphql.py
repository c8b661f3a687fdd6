"""Strawberry permission classes: who may call a field, declared on the field.

They fail closed: no identity is UNAUTHENTICATED, a missing permission is FORBIDDEN,
and an organization the caller has no relation to is NOT_FOUND (its existence must
not leak).
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from auth.permissions import Permission
from resolvers.context import Info
from resolvers.organizations import organization_scope, require_identity
from schema.errors import Forbidden


class IsAuthenticated(BasePermission):
    message = "a bearer token is required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        require_identity(info)
        return True


class IsOperator(BasePermission):
    message = "only platform operators may do this"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if not require_identity(info).is_operator:
            raise Forbidden(self.message)
        return True


class HoldsInOrganization(BasePermission):
    """The caller holds `permission` in the organization named by `organizationId`."""

    permission: Permission

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        organization_id = kwargs.get("organization_id") or kwargs.get("org")
        if organization_id is None:
            raise Forbidden("the organization is not named")
        scope = await organization_scope(info, str(organization_id), None)
        if not scope.access.can(self.permission):
            raise Forbidden(f"{self.permission.value} is required in this organization")
        return True


class CanWriteSeats(HoldsInOrganization):
    permission = Permission.SEATS_WRITE


class CanWriteAllocations(HoldsInOrganization):
    permission = Permission.ALLOCATIONS_WRITE


class CanWriteUsage(HoldsInOrganization):
    permission = Permission.USAGE_WRITE
