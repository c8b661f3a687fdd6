"""Relay cursors, page sizes and page bounds, shared by every connection.

Every connection pages forward only (`first`/`after`). Its PageInfo follows the Relay
cursor connections specification: `startCursor` and `endCursor` are the first and the
last edge's cursors (null without edges), `hasNextPage` says whether more items follow
and `hasPreviousPage` whether any come before the page (`has_previous_page`).
"""

from __future__ import annotations

import base64
import json

from rules.errors import BadUserInput

MAX_PAGE_SIZE = 100
_NOT_OURS = "`after` is not a cursor this API gave out"


def page_size(first: int | None, default: int) -> int:
    size = default if first is None else first
    if size < 0 or size > MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be between 0 and {MAX_PAGE_SIZE}")
    return size


def encode_cursor(*position: str | int) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode()


def decode_cursor(cursor: str, arity: int) -> list[str | int]:
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        raise BadUserInput(_NOT_OURS) from None
    if not isinstance(position, list) or len(position) != arity:
        raise BadUserInput(_NOT_OURS)
    return position


def decode_offset(cursor: str | None) -> int:
    """Where a page of a ranked list starts: 0, or one past the position `cursor`
    (an `encode_cursor(position)`) names. Anything but a position is refused."""
    if cursor is None:
        return 0
    [position] = decode_cursor(cursor, 1)
    if type(position) is not int or position < 0:
        raise BadUserInput(_NOT_OURS)
    return position + 1


def has_previous_page(after: str | None, total: int, on_page: int) -> bool:
    """Whether any of the `total` matching items comes before a page of `on_page`.

    Without `after` a page starts at the first item. After a cursor, the item it
    names comes before the page, so the answer is whether any item is not on it:
    exact when the cursor's item is still listed (a ranked list's position always
    is), and false, exactly, when the page holds every item or there are none.
    """
    return after is not None and total > on_page
