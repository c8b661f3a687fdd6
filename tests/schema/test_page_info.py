"""Relay's PageInfo on both kinds of connection: keyset (members) and offset (tops).

Forward pagination only (`first`/`after`): `hasPreviousPage` is true when `after` was
given and something comes before the page, `startCursor`/`endCursor` are the first
and last edges' cursors (null without edges). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from store import provisioning as p
from store.db import SessionFactory
from tests.gateway_client import error_codes, gateway, user_token
from tests.usage_views_helpers import (
    ADMIN,
    customer,
    event,
    execute,
    limit,
    member,
    plan,
    provision,
    record,
    utc,
)

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
MEMBERS = (
    "query($org: ID!, $first: Int, $after: String, $search: String) {"
    " organization(id: $org) {"
    "  members(first: $first, after: $after, search: $search) {"
    f"   totalCount {PAGE_INFO} edges {{ cursor node {{ name }} }}"
    " } } }"
)
TOP_WORKSPACES = (
    "query($org: ID!, $at: DateTime, $first: Int, $after: String) {"
    " organization(id: $org, at: $at) {"
    "  topWorkspaces(first: $first, after: $after) {"
    f"   totalCount {PAGE_INFO} edges {{ cursor node {{ name }} }}"
    " } } }"
)
AT = utc("2026-03-10T12:00").isoformat()


def page_info(connection: dict[str, Any]) -> dict[str, Any]:
    """PageInfo, with the cursors checked against the edges and then named."""
    info = dict(connection["pageInfo"])
    cursors = [edge["cursor"] for edge in connection["edges"]]
    assert info["startCursor"] == (cursors[0] if cursors else None)
    assert info["endCursor"] == (cursors[-1] if cursors else None)
    names = [edge["node"]["name"] for edge in connection["edges"]]
    info["startCursor"] = names[0] if names else None
    info["endCursor"] = names[-1] if names else None
    return info


def relay(
    next_page: bool, previous_page: bool, start: str | None, end: str | None
) -> dict[str, Any]:
    return {
        "hasNextPage": next_page,
        "hasPreviousPage": previous_page,
        "startCursor": start,
        "endCursor": end,
    }


# members: keyset pages by name --------------------------------------------------------


async def _five_members(sessions: SessionFactory) -> None:
    """Admin and four people; by name: Admin, Ann, Bob, Carla, Dan."""
    await provision(
        sessions,
        *customer(plan()),
        member("ann", "Ann Lee"),
        member("bob", "Bob Stone"),
        member("carla", "Carla Annis"),
        member("dan", "Dan Moss"),
    )


async def members(database_url: str, **variables: Any) -> dict[str, Any]:
    data = await execute(database_url, MEMBERS, {"org": "org_a", **variables})
    found: dict[str, Any] = data["organization"]["members"]
    return found


async def test_members_first_middle_and_last_pages(
    database_url: str, sessions: SessionFactory
) -> None:
    await _five_members(sessions)

    first = await members(database_url, first=2)
    middle = await members(database_url, first=2, after=first["pageInfo"]["endCursor"])
    last = await members(database_url, first=2, after=middle["pageInfo"]["endCursor"])

    assert page_info(first) == relay(True, False, "Admin", "Ann Lee")
    assert page_info(middle) == relay(True, True, "Bob Stone", "Carla Annis")
    assert page_info(last) == relay(False, True, "Dan Moss", "Dan Moss")


async def test_members_one_page_holding_everything(
    database_url: str, sessions: SessionFactory
) -> None:
    await _five_members(sessions)

    found = await members(database_url, first=5)

    assert page_info(found) == relay(False, False, "Admin", "Dan Moss")


async def test_members_past_the_last_one(
    database_url: str, sessions: SessionFactory
) -> None:
    """After the last member: no edges, but the whole directory comes before."""
    await _five_members(sessions)
    everyone = await members(database_url, first=5)

    found = await members(database_url, after=everyone["pageInfo"]["endCursor"])

    assert found["edges"] == []
    assert page_info(found) == relay(False, True, None, None)


async def test_members_empty_and_first_zero(
    database_url: str, sessions: SessionFactory
) -> None:
    await _five_members(sessions)
    everyone = await members(database_url, first=5)

    nobody = await members(database_url, search="nobody by this name")
    nobody_after = await members(
        database_url,
        search="nobody by this name",
        after=everyone["pageInfo"]["endCursor"],
    )
    none_asked = await members(database_url, first=0)

    assert page_info(nobody) == relay(False, False, None, None)
    assert page_info(nobody_after) == relay(False, False, None, None)
    assert page_info(none_asked) == relay(True, False, None, None)


# top tables: offset pages by credits --------------------------------------------------


async def _three_workspaces(sessions: SessionFactory) -> None:
    """Credits this cycle: Beta 50, Alpha 30, Gamma 12."""
    await provision(
        sessions,
        *customer(plan(limit("voice", credits_per_unit="1"))),
        p.WorkspaceSpec("org_a", "w1", "Alpha"),
        p.WorkspaceSpec("org_a", "w2", "Beta"),
        p.WorkspaceSpec("org_a", "w3", "Gamma"),
    )
    await record(
        sessions,
        event("voice", "30", "2026-03-02T00:00", workspace_id="w1"),
        event("voice", "50", "2026-03-02T01:00", workspace_id="w2"),
        event("voice", "12", "2026-03-02T02:00", workspace_id="w3"),
    )


async def top_workspaces(database_url: str, **variables: Any) -> dict[str, Any]:
    data = await execute(
        database_url, TOP_WORKSPACES, {"org": "org_a", "at": AT, **variables}
    )
    found: dict[str, Any] = data["organization"]["topWorkspaces"]
    return found


async def test_top_workspaces_first_middle_and_last_pages(
    database_url: str, sessions: SessionFactory
) -> None:
    await _three_workspaces(sessions)

    first = await top_workspaces(database_url, first=1)
    middle = await top_workspaces(
        database_url, first=1, after=first["pageInfo"]["endCursor"]
    )
    last = await top_workspaces(
        database_url, first=1, after=middle["pageInfo"]["endCursor"]
    )
    past = await top_workspaces(database_url, after=last["pageInfo"]["endCursor"])

    assert page_info(first) == relay(True, False, "Beta", "Beta")
    assert page_info(middle) == relay(True, True, "Alpha", "Alpha")
    assert page_info(last) == relay(False, True, "Gamma", "Gamma")
    assert page_info(past) == relay(False, True, None, None)


async def test_top_workspaces_of_an_organization_without_usage(
    database_url: str, sessions: SessionFactory
) -> None:
    await provision(sessions, *customer(plan()))

    found = await top_workspaces(database_url)

    assert found["totalCount"] == 0
    assert page_info(found) == relay(False, False, None, None)


async def test_a_top_cursor_the_api_did_not_give_out_is_bad_user_input(
    database_url: str, sessions: SessionFactory
) -> None:
    """A ranked list's cursor is a position: a name, null, a fraction or a negative
    number in its place is refused (it was an INTERNAL error, or a page from the
    end of the list)."""
    await provision(sessions, *customer(plan()))

    codes = []
    async with gateway(database_url) as api:
        for position in ("zzz", None, 1.5, True, -5):
            cursor = base64.urlsafe_b64encode(json.dumps([position]).encode())
            body = await api.execute(
                TOP_WORKSPACES,
                {"org": "org_a", "after": cursor.decode()},
                token=user_token(ADMIN),
            )
            codes.append(error_codes(body))

    assert codes == [["BAD_USER_INPUT"]] * 5
