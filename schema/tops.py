"""The top tables (workspaces, workspace groups, users ranked by credits this cycle)
as Relay-style connections: one page of `resolvers.breakdowns.ranked`.

Apart from the Organization type, whose three `top*` fields differ only in the
dimension they rank.
"""

from __future__ import annotations

import strawberry

from resolvers import breakdowns
from resolvers.access import OrgScope
from resolvers.context import Info
from resolvers.pagination import decode_offset, encode_cursor, page_size
from schema.types.common import PageInfo
from schema.types.reports import TopConnection, TopEdge, TopEntry


async def top_connection(
    info: Info, scope: OrgScope, dimension: str, first: int | None, after: str | None
) -> TopConnection | None:
    rows = await breakdowns.ranked(info, scope, dimension)
    size = page_size(first, default=10)
    offset = decode_offset(after)
    page = rows[offset : offset + size]
    edges = [
        TopEdge(
            cursor=encode_cursor(offset + position),
            node=TopEntry(
                id=strawberry.ID(row.id),
                name=row.name,
                amount=row.amount,
                requests=row.requests,
                share_percent=row.share_percent,
            ),
        )
        for position, row in enumerate(page)
    ]
    return TopConnection(
        total_count=len(rows),
        page_info=PageInfo.forward(
            [edge.cursor for edge in edges],
            after=after,
            total=len(rows),
            has_next_page=offset + size < len(rows),
        ),
        edges=edges,
    )
