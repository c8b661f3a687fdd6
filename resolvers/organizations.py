"""Finding organizations and deciding, once each, what the viewer may see of them."""

from __future__ import annotations

from datetime import datetime

from auth.identity import Identity
from resolvers.access import OrgScope, access_for
from resolvers.context import Info
from rules.errors import BadUserInput, NotFound, Unauthenticated
from store.models import Member


def require_identity(info: Info) -> Identity:
    context = info.context
    if context.identity is None:
        raise Unauthenticated(context.auth_error or "a bearer token is required")
    return context.identity


def require_offset(name: str, at: datetime | None) -> None:
    """An instant argument must carry its offset, or it would be guessed into a zone.
    The DateTime scalar leaves refusing naive values to where they are used."""
    if at is not None and at.utcoffset() is None:
        raise BadUserInput(f"`{name}` must carry a time zone (UTC)")


async def organization_scope(
    info: Info, organization_id: str, at: datetime | None
) -> OrgScope:
    """The organization as the viewer may see it; NOT_FOUND hides foreign ones."""
    identity = require_identity(info)
    require_offset("at", at)
    loaders = info.context.loaders
    organization = await loaders.organization.load(organization_id)
    membership = None
    if organization is not None and identity.is_user:
        membership = await loaders.membership.load((organization_id, identity.id))
    access = (
        None if organization is None else access_for(identity, organization, membership)
    )
    if organization is None or access is None:
        raise NotFound(f"no organization {organization_id!r}")
    info.context.touched_organizations.add(organization.id)
    return OrgScope(organization, at or info.context.now, access, at is None)


async def viewer_organization_scopes(info: Info) -> list[OrgScope]:
    """A user's memberships, or the organizations an API key lists."""
    identity = require_identity(info)
    loaders = info.context.loaders
    if identity.is_user:
        memberships = await loaders.memberships.load(identity.id)
        organizations = await loaders.organization.load_many(
            [membership.organization_id for membership in memberships]
        )
        scopes = []
        for membership, organization in zip(memberships, organizations, strict=True):
            if organization is None:
                continue
            access = access_for(identity, organization, membership)
            if access is not None:
                scopes.append(OrgScope(organization, info.context.now, access, True))
        info.context.touched_organizations.update(scope.id for scope in scopes)
        return scopes
    organizations = await loaders.organization.load_many(
        list(identity.key_organization_ids)
    )
    key_scopes = [
        OrgScope(organization, info.context.now, access, True)
        for organization in organizations
        if organization is not None
        and (access := access_for(identity, organization, None)) is not None
    ]
    info.context.touched_organizations.update(scope.id for scope in key_scopes)
    return key_scopes


async def organization_scopes(
    info: Info, organization_ids: list[str], at: datetime | None
) -> list[OrgScope | Exception]:
    """Many organizations in one batch; a hidden one becomes its own NOT_FOUND."""
    identity = require_identity(info)
    require_offset("at", at)
    loaders = info.context.loaders
    organizations = await loaders.organization.load_many(organization_ids)
    memberships: list[Member | None] = [None] * len(organization_ids)
    if identity.is_user:
        memberships = await loaders.membership.load_many(
            [(organization_id, identity.id) for organization_id in organization_ids]
        )
    results: list[OrgScope | Exception] = []
    for organization_id, organization, membership in zip(
        organization_ids, organizations, memberships, strict=True
    ):
        access = (
            None
            if organization is None
            else access_for(identity, organization, membership)
        )
        if organization is None or access is None:
            results.append(NotFound(f"no organization {organization_id!r}"))
        else:
            info.context.touched_organizations.add(organization.id)
            results.append(
                OrgScope(organization, at or info.context.now, access, at is None)
            )
    return results
