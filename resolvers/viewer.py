"""The caller as the schema shows it."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.context import Info
from resolvers.organizations import require_identity
from rules.enums import ViewerKind


@dataclass(frozen=True)
class ViewerInfo:
    id: str
    kind: ViewerKind
    email: str | None
    name: str | None


async def viewer(info: Info) -> ViewerInfo:
    identity = require_identity(info)
    if not identity.is_user:
        return ViewerInfo(identity.id, identity.kind, None, identity.key_name)
    user = await info.context.loaders.user.load(identity.id)
    return ViewerInfo(
        identity.id,
        identity.kind,
        user.email if user else None,
        user.name if user else None,
    )
