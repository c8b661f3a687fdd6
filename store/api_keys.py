"""API keys in the store: created with a one-time secret, found by its hash."""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rules.enums import ApiKeyKind
from store.db import SessionFactory, read_without_transaction
from store.errors import Rejected, UserError
from store.generations import Generations
from store.models import ApiKey, ApiKeyOrganization, Organization

API_KEY_PREFIX = "ugk_"
"""How a bearer token says it is an API key rather than a user's JWT."""


def new_api_key_secret() -> str:
    """A new key's secret: the prefix and 256 random bits, shown to its creator once."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(secret: str) -> str:
    """What is stored and looked up instead of the secret (see `auth.tokens`: the
    secrets' entropy makes a slow hash pointless)."""
    return hashlib.sha256(secret.encode()).hexdigest()


LAST_USED_RESOLUTION = timedelta(minutes=1)
"""`last_used_at` is refreshed at most this often, so reads don't all become writes."""


@dataclass(frozen=True)
class KeyRecord:
    id: str
    kind: ApiKeyKind
    name: str
    organization_ids: tuple[str, ...]


async def create_api_key(
    session: AsyncSession,
    kind: ApiKeyKind,
    name: str,
    organization_ids: tuple[str, ...],
    now: datetime,
) -> tuple[KeyRecord, str]:
    """Store a new key and return it with its secret, which is never shown again."""
    errors: list[UserError] = []
    if not name.strip():
        errors.append(UserError("name", "INVALID", "a key needs a name"))
    if kind is ApiKeyKind.OPERATOR and organization_ids:
        errors.append(
            UserError(
                "organizationIds",
                "INVALID",
                "operator keys are platform-wide and list no organizations",
            )
        )
    if kind is ApiKeyKind.SERVICE and len(organization_ids) != 1:
        errors.append(
            UserError(
                "organizationIds",
                "INVALID",
                "a SERVICE key names exactly one organization",
            )
        )
    if kind is ApiKeyKind.PARTNER and not organization_ids:
        errors.append(
            UserError(
                "organizationIds", "INVALID", "a PARTNER key lists its organizations"
            )
        )
    unique_ids = tuple(dict.fromkeys(organization_ids))
    if unique_ids:
        found = set(
            (
                await session.scalars(
                    select(Organization.id).where(Organization.id.in_(unique_ids))
                )
            ).all()
        )
        errors.extend(
            UserError(
                f"organizationIds.{position}",
                "NOT_FOUND",
                f"no organization {organization_id!r}",
            )
            for position, organization_id in enumerate(unique_ids)
            if organization_id not in found
        )
    if errors:
        raise Rejected(errors)
    secret = new_api_key_secret()
    key = ApiKey(
        id="key_" + secrets.token_hex(8),
        kind=kind,
        name=name.strip(),
        secret_hash=hash_api_key(secret),
        created_at=now,
    )
    session.add(key)
    await session.flush()
    session.add_all(
        ApiKeyOrganization(api_key_id=key.id, organization_id=organization_id)
        for organization_id in unique_ids
    )
    await session.flush()
    return KeyRecord(key.id, kind, key.name, unique_ids), secret


async def revoke_api_key(session: AsyncSession, key_id: str, now: datetime) -> None:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise Rejected([UserError("id", "NOT_FOUND", f"no API key {key_id!r}")])
    if key.revoked_at is None:
        key.revoked_at = now
        await session.flush()


async def find_active_key(
    session: AsyncSession, secret: str, now: datetime
) -> KeyRecord | None:
    """The live key behind a secret, touching its last-used time; None if unknown.

    One statement reads the key and its organizations (a row per organization): it
    runs before every request made with a key."""
    rows = (
        await session.execute(
            select(
                ApiKey.id,
                ApiKey.kind,
                ApiKey.name,
                ApiKey.last_used_at,
                ApiKeyOrganization.organization_id,
            )
            .outerjoin(ApiKeyOrganization, ApiKeyOrganization.api_key_id == ApiKey.id)
            .where(
                ApiKey.secret_hash == hash_api_key(secret), ApiKey.revoked_at.is_(None)
            )
            .order_by(ApiKeyOrganization.organization_id)
        )
    ).all()
    if not rows:
        return None
    key_id, kind, name, last_used_at, _ = rows[0]
    organization_ids = tuple(row[4] for row in rows if row[4] is not None)
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        await session.execute(
            update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now)
        )
        await session.commit()
    return KeyRecord(key_id, kind, name, organization_ids)


async def key_records(
    session: AsyncSession, key_ids: list[str]
) -> dict[str, KeyRecord]:
    keys = (await session.scalars(select(ApiKey).where(ApiKey.id.in_(key_ids)))).all()
    links = (
        await session.execute(
            select(ApiKeyOrganization.api_key_id, ApiKeyOrganization.organization_id)
            .where(ApiKeyOrganization.api_key_id.in_(key_ids))
            .order_by(ApiKeyOrganization.organization_id)
        )
    ).all()
    by_key: dict[str, list[str]] = {}
    for key_id, organization_id in links:
        by_key.setdefault(key_id, []).append(organization_id)
    return {
        key.id: KeyRecord(key.id, key.kind, key.name, tuple(by_key.get(key.id, ())))
        for key in keys
    }


@dataclass(frozen=True, slots=True)
class _Known:
    record: KeyRecord
    stamp: int
    """The global write generation, read before the lookup that found the key."""
    looked_up: datetime


class ActiveKeys:
    """The API keys this process has looked up, trusted while provably unchanged.

    A key never changes but by revocation, and revoking is a mutation, which moves
    the global write generation (`store.generations`) after its commit and before
    its reply. So a key found at one generation is still live while the generation
    has not moved: one Redis GET instead of a statement (two round trips and ~2 ms
    of a process's CPU, before every usageCheck and every partner poll). A key is
    looked up again at least every `LAST_USED_RESOLUTION`, which keeps its
    last-used time advancing and bounds a revocation made by hand in SQL. Redis
    unreachable: looked up every time.
    """

    def __init__(self, generations: Generations, max_entries: int = 4096) -> None:
        self.generations = generations
        self.max_entries = max_entries
        self._known: OrderedDict[str, _Known] = OrderedDict()

    async def find(
        self, sessions: SessionFactory, secret: str, now: datetime
    ) -> KeyRecord | None:
        read = await self.generations.read(())
        stamp = None if read is None else read[0]
        digest = hash_api_key(secret)
        known = self._known.get(digest)
        if (
            known is not None
            and known.stamp == stamp
            and now - known.looked_up < LAST_USED_RESOLUTION
        ):
            self._known.move_to_end(digest)
            return known.record
        async with sessions() as session:
            await read_without_transaction(session)
            record = await find_active_key(session, secret, now)
        if record is None or stamp is None:
            self._known.pop(digest, None)
            return record
        self._known[digest] = _Known(record, stamp, now)
        self._known.move_to_end(digest)
        while len(self._known) > self.max_entries:
            self._known.popitem(last=False)
        return record
