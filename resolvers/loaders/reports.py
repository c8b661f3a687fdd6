"""Snapshots and other report rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.loaders.base import StoreLoader
from store.allowance import latest_snapshots
from store.models import AllowanceSnapshot


class LatestSnapshot(StoreLoader[tuple[str, datetime], AllowanceSnapshot | None]):
    """An organization's latest daily-allowance snapshot as of an instant."""

    async def fetch(
        self, session: AsyncSession, keys: list[tuple[str, datetime]]
    ) -> list[AllowanceSnapshot | None]:
        results: dict[tuple[str, datetime], AllowanceSnapshot | None] = {}
        for at in {at for _, at in keys}:
            organization_ids = [org for org, key_at in keys if key_at == at]
            found = await latest_snapshots(session, organization_ids, at)
            for organization_id in organization_ids:
                results[(organization_id, at)] = found.get(organization_id)
        return [results[key] for key in keys]
