"""Strawberry permission classes: who may see or call a field, declared on the field.

Two ways of saying no, never mixed up (the contract's rule):
- Denial: the field is outside the viewer's reach. The class returns False and the
  field resolves to null with an error whose `extensions.code` is FORBIDDEN (NOT_FOUND
  where the organization's existence must not leak: see `HoldsInOrganization`).
- Redaction: the field lies inside something the viewer may see. These classes are used
  through `redacted(...)`, which fails silently: the field is null, with no error.

They fail closed: no identity is UNAUTHENTICATED before anything else is checked.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, TypeVar

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from auth.permissions import KEY_PERMISSIONS, Permission
from resolvers.access import Access
from resolvers.context import Info
from resolvers.organizations import organization_scope, require_identity
from rules.enums import ApiKeyKind, BillingModel, CreditUnit, ViewerKind
from rules.errors import Forbidden

FORBIDDEN = {"code": Forbidden.code}

T = TypeVar("T")


class HasAccess(Protocol):
    """A schema object that knows the viewer's access to its organization."""

    @property
    def access(self) -> Access: ...


class IsAuthenticated(BasePermission):
    message = "a bearer token is required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        require_identity(info)
        return True


class IsOperator(BasePermission):
    message = "only platform operators may do this"
    error_extensions = FORBIDDEN

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return require_identity(info).is_operator


class RecordsUsage(BasePermission):
    """usage:write exists only on SERVICE keys (their organization) and operators."""

    message = "usage:write is required: only SERVICE and operator keys record usage"
    error_extensions = FORBIDDEN

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        kind = require_identity(info).kind
        return kind in (ViewerKind.OPERATOR, ViewerKind.SERVICE)


class HoldsInOrganization(BasePermission):
    """The caller holds `permission` in the organization named by `organizationId`.

    An organization the caller has no relation to is NOT_FOUND (raised by the scope
    lookup), one it belongs to without the permission is FORBIDDEN.
    """

    permission: ClassVar[Permission]
    error_extensions = FORBIDDEN

    @property
    def message(self) -> str:  # type: ignore[override]
        return f"{self.permission.value} is required in this organization"

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        organization_id = kwargs.get("organization_id")
        if organization_id is None:
            return False
        scope = await organization_scope(info, str(organization_id), None)
        return scope.access.can(self.permission)


class CanWriteSeats(HoldsInOrganization):
    permission = Permission.SEATS_WRITE


class CanWriteAllocations(HoldsInOrganization):
    permission = Permission.ALLOCATIONS_WRITE


class CanWriteUsage(HoldsInOrganization):
    """usage:write, which only SERVICE keys (in the organizations they list) and
    operators hold. A SERVICE key naming one of its own organizations is answered
    from its identity alone: metering services call usageCheck before every spend,
    and reading the organization cost that call a transaction of its own. Anyone
    else is looked up (NOT_FOUND for strangers, FORBIDDEN for members)."""

    permission = Permission.USAGE_WRITE

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        identity = require_identity(info)
        organization_id = kwargs.get("organization_id")
        if (
            identity.kind is ViewerKind.SERVICE
            and organization_id is not None
            and str(organization_id) in identity.key_organization_ids
        ):
            return Permission.USAGE_WRITE in KEY_PERMISSIONS[ApiKeyKind.SERVICE]
        return await super().has_permission(source, info, **kwargs)


class Holds(BasePermission):
    """The viewer holds `permission` in the organization the source belongs to."""

    permission: ClassVar[Permission]
    error_extensions = FORBIDDEN

    @property
    def message(self) -> str:  # type: ignore[override]
        return f"{self.permission.value} is required"

    def has_permission(self, source: HasAccess, info: Info, **kwargs: Any) -> bool:
        return source.access.can(self.permission)


class ReadsUsage(Holds):
    """Usage fields: every member; not partners, who read billing state only."""

    permission = Permission.USAGE_READ


class ReadsAnalytics(Holds):
    permission = Permission.ANALYTICS_READ


class ReadsBillingDetails(Holds):
    """Seat directory, daily allowance panel and top tables (ADMIN and above)."""

    permission = Permission.BILLING_READ_ALL


class ReadsDollars(Holds):
    permission = Permission.BILLING_READ_DOLLARS


class HasAllowancePanel(BasePermission):
    """The organization turned the daily allowance panel on (`allowanceUiDetails`)."""

    message = "the daily allowance panel is off for this organization"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return bool(source.scope.organization.allowance_ui_details)


class ReadsDollarsOfByom(BasePermission):
    """Amounts that are dollars (a USD-billed organization's credits and chart, a meter
    counting dollars) need the permission."""

    message = "billing:read:dollars is required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if hasattr(source, "unit"):  # a tick says its unit
            return sees_amounts(source.unit, source.access)
        # the organization itself (its chart)
        in_dollars = source.scope.organization.billing_model is BillingModel.USD
        return not in_dollars or source.access.can(Permission.BILLING_READ_DOLLARS)


def sees_amounts(unit: CreditUnit | None, access: Access) -> bool:
    """`ReadsDollarsOfByom` as a value: amounts in dollars need billing:read:dollars.

    Types built in bulk (meters, credits) redact with it once, when they are built,
    instead of declaring a permission on every amount of every item: a field with a
    permission extension costs Strawberry an argument conversion and a wrapper per
    resolution, about a millisecond per page for each ten of them."""
    return unit is not CreditUnit.USD or access.can(Permission.BILLING_READ_DOLLARS)


def sees_dollars(access: Access) -> bool:
    """`ReadsDollars` as a value, for amounts that are always dollars."""
    return access.can(Permission.BILLING_READ_DOLLARS)


def shown(amount: T, visible: bool) -> T | None:
    """The amount, or null (redacted, without error) when not `visible`."""
    return amount if visible else None


def built_redacted(*permissions: BasePermission) -> list[object]:
    """The permissions' schema directives, without their check at each resolution:
    for fields whose type is built already redacted (`shown`), so the schema still
    says which permission each amount needs."""
    return [permission.schema_directive for permission in permissions]


def redacted(*permissions: BasePermission) -> list[FieldExtension]:
    """Field extensions that resolve the field to null, without error, unless every
    permission holds."""
    return [PermissionExtension(permissions=list(permissions), fail_silently=True)]
