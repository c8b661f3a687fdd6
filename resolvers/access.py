"""What the viewer may do in one organization, decided once per organization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auth.identity import Identity
from auth.permissions import KEY_PERMISSIONS, Permission, role_permissions
from rules.enums import ApiKeyKind, Role, ViewerKind
from store.models import Member, Organization

_KEY_KINDS = {
    ViewerKind.OPERATOR: ApiKeyKind.OPERATOR,
    ViewerKind.SERVICE: ApiKeyKind.SERVICE,
    ViewerKind.PARTNER: ApiKeyKind.PARTNER,
}


@dataclass(frozen=True)
class Access:
    """The viewer's standing in an organization: a role for users, a kind for keys."""

    kind: ViewerKind
    role: Role | None
    permissions: frozenset[Permission]
    user_id: str | None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def is_operator(self) -> bool:
        return self.kind is ViewerKind.OPERATOR


def access_for(
    identity: Identity, organization: Organization, membership: Member | None
) -> Access | None:
    """The viewer's access, or None when the viewer has no relation to it."""
    if identity.kind is ViewerKind.USER:
        if membership is None:
            return None
        return Access(
            identity.kind,
            membership.role,
            role_permissions(
                membership.role, show_dollars_preview=organization.show_dollars_preview
            ),
            identity.id,
        )
    if identity.kind is not ViewerKind.OPERATOR and (
        organization.id not in identity.key_organization_ids
    ):
        return None
    return Access(identity.kind, None, KEY_PERMISSIONS[_KEY_KINDS[identity.kind]], None)


@dataclass(frozen=True)
class OrgScope:
    """Everything an organization's fields share: the row, the instant, the access."""

    organization: Organization
    at: datetime
    access: Access
    live: bool = False
    """`at` is the request's own now (no `at:` given): current-cycle figures may come
    from the hot counters (`store.counters.reads`)."""

    @property
    def id(self) -> str:
        return self.organization.id
