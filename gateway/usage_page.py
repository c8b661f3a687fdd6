"""The reference web usage page at GET /usage (issue 22), from the gateway's own files.

`web/` builds the `<usage-page>` custom element and the page around it into
`gateway/static/usage/` (`make web`; committed, so `serve` needs no npm), mounted at
`STATIC_PATH`. The page's template (`index.html` there) gets the USAGE_PAGE_IDENTITIES
setting as data: `serve --demo` puts the demo's admin, member and operator tokens
there so a visitor can switch between them; without it the page asks for an
organization id and a token.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse

STATIC_DIRECTORY = Path(__file__).parent / "static" / "usage"
"""The built page (`make web` writes it)."""
STATIC_PATH = "/usage/static"
"""Where the app mounts `STATIC_DIRECTORY`; the page refers to it absolutely."""
ASSETS = ("usage-page.js", "host.js")


IDENTITY_KEYS = {"label": str, "description": str, "token": str, "organizations": list}


def parse_identities(identities: str) -> list[dict[str, object]]:
    """The USAGE_PAGE_IDENTITIES setting: empty, or a JSON list of objects with a
    `label`, a `description`, a `token` and a non-empty list of `organizations` (ids).
    Raises ValueError with one line saying what is wrong."""
    if not identities.strip():
        return []
    try:
        parsed = json.loads(identities)
    except ValueError:
        raise ValueError("must be a JSON list of identities") from None
    if not isinstance(parsed, list):
        raise ValueError("must be a JSON list of identities")
    for index, identity in enumerate(parsed):
        if not isinstance(identity, dict) or any(
            not isinstance(identity.get(key), kind)
            for key, kind in IDENTITY_KEYS.items()
        ):
            raise ValueError(
                f"identity {index} needs a label, a description, a token and "
                "a list of organizations"
            )
        organizations = identity["organizations"]
        if not organizations or not all(isinstance(o, str) for o in organizations):
            raise ValueError(f"identity {index} needs organization ids")
    return parsed


def render_page(identities: str = "") -> str:
    """The /usage page with `identities` (a JSON list, or empty) embedded as data."""
    parsed = parse_identities(identities)
    # Inside <script>, "</script>" (or "<!--") in a value must not end the element.
    config = (
        json.dumps({"identities": parsed})
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    template = (STATIC_DIRECTORY / "index.html").read_text(encoding="utf-8")
    return template.replace("__USAGE_PAGE_CONFIG__", config).replace(
        "__ASSETS__", assets_version()
    )


def assets_version() -> str:
    """Changes with the built files: a cached older usage-page.js is never paired
    with a newer page (StaticFiles sets no Cache-Control)."""
    digest = hashlib.sha256()
    for name in ASSETS:
        digest.update((STATIC_DIRECTORY / name).read_bytes())
    return digest.hexdigest()[:12]


def endpoint(identities: str) -> Callable[[Request], Awaitable[HTMLResponse]]:
    """The GET /usage handler; the page is rendered once, at start-up."""
    page = render_page(identities)

    async def usage(request: Request) -> HTMLResponse:
        return HTMLResponse(page, headers={"cache-control": "no-store"})

    return usage
