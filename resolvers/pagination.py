"""Relay cursors and page sizes, shared by every connection."""

from __future__ import annotations

import base64
import json

from schema.errors import BadUserInput

MAX_PAGE_SIZE = 100


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
        raise BadUserInput("`after` is not a cursor this API gave out") from None
    if not isinstance(position, list) or len(position) != arity:
        raise BadUserInput("`after` is not a cursor this API gave out")
    return position
