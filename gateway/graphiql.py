"""GraphiQL at GET /graphql from the gateway's own files: no CDN, so it renders
offline (issue 16).

Strawberry's built-in page loads React, GraphiQL and the explorer plugin from
unpkg.com; ours loads the same kind of UMD builds, pinned by
`graphiql/package-lock.json` and vendored into `gateway/static/graphiql/` by
`graphiql/vendor.sh` (committed, with their licenses), from `STATIC_PATH`.

`serve --demo` pre-fills the headers editor with the demo admin's token through the
GRAPHIQL_HEADERS setting: uvicorn's workers build their settings from the
environment, so the environment is how the freshly signed token reaches each.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

STATIC_DIRECTORY = Path(__file__).parent / "static" / "graphiql"
"""The vendored builds (`graphiql/vendor.sh` writes it)."""
STATIC_PATH = "/graphiql/static"
"""Where the app mounts `STATIC_DIRECTORY`; the page refers to it relatively."""
TEMPLATE = Path(__file__).with_name("graphiql.html")


def render_page(headers: str = "") -> str:
    """The GraphiQL page, its headers editor pre-filled with `headers`."""
    # Inside <script>, "</script>" (or "<!--") in a value must not end the element:
    # JSON's escapes for the characters HTML gives a meaning.
    config = (
        json.dumps({"defaultHeaders": headers})
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return (
        TEMPLATE.read_text(encoding="utf-8")
        .replace("__ASSETS__", assets_version())
        .replace("__CONFIG__", config)
    )


def assets_version() -> str:
    """Changes with the vendored versions: a browser's cached copy of an older
    graphiql.min.js is never paired with a newer page (StaticFiles sets no
    Cache-Control, so browsers cache heuristically)."""
    versions = (STATIC_DIRECTORY / "versions.json").read_bytes()
    return hashlib.sha256(versions).hexdigest()[:12]
