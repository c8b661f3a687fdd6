"""GraphiQL's page at GET /graphql is the gateway's own (issue 16): it names no other
origin, every file it loads is served here with its media type, the vendored files
are the ones graphiql/package-lock.json pins, and the headers editor starts with
what `serve --demo` put there, safely embedded."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from gateway import graphiql
from gateway.app import create_app
from gateway.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://gateway.test"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
MEDIA_TYPES = {"script": "text/javascript", "stylesheet": "text/css"}


class _References(HTMLParser):
    """Every URL the page makes the browser load: scripts and stylesheets."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []  # (kind, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.found.append(("script", str(values["src"])))
        elif tag == "link" and values.get("href"):
            self.found.append((str(values.get("rel")), str(values["href"])))


async def _fetch(database_url: str, *paths: str) -> list[httpx.Response]:
    app = create_app(load_settings(database_url=database_url))
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url=BASE) as client,
        app.router.lifespan_context(app),
    ):
        return [await client.get(path, headers=BROWSER) for path in paths]


def _references(page: str) -> list[tuple[str, str]]:
    parser = _References()
    parser.feed(page)
    return parser.found


def _config(page: str) -> dict[str, str]:
    found = re.search(
        r'<script id="graphiql-config" type="application/json">(.*?)</script>',
        page,
        re.S,
    )
    assert found is not None
    config: dict[str, str] = json.loads(found.group(1))
    return config


async def test_the_page_names_no_other_origin(sqlite_url: str) -> None:
    """Strawberry's page loaded seven files from unpkg.com: offline, "Loading..."."""
    [response] = await _fetch(sqlite_url, "/graphql")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    absolute = re.findall(r"(?:https?:|wss?:)?//[^\s\"'<>)]+", page)
    assert absolute == []
    references = _references(page)
    assert len(references) >= 6
    for _, url in references:
        target = urlsplit(urljoin(f"{BASE}/graphql", url))
        assert target.scheme == "data" or f"{target.scheme}://{target.netloc}" == BASE


async def test_every_file_the_page_loads_answers_with_its_media_type(
    sqlite_url: str,
) -> None:
    [page] = await _fetch(sqlite_url, "/graphql")
    loaded = [
        (kind, urljoin(f"{BASE}/graphql", url))
        for kind, url in _references(page.text)
        if not url.startswith("data:")
    ]
    kinds = {kind for kind, _ in loaded}
    assert kinds == {"script", "stylesheet"}

    responses = await _fetch(sqlite_url, *(url for _, url in loaded))

    for (kind, url), response in zip(loaded, responses, strict=True):
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith(MEDIA_TYPES[kind]), url
        assert len(response.content) > 1000, url
        if kind == "stylesheet":
            # Fonts and icons are inlined: a stylesheet fetches nothing itself.
            urls = re.findall(r"url\(\s*['\"]?([^'\")]*)", response.text)
            assert all(found.startswith("data:") for found in urls), url


def test_the_vendored_files_are_the_locked_versions_with_their_licenses() -> None:
    lock = json.loads((ROOT / "graphiql" / "package-lock.json").read_text())
    wanted = json.loads((ROOT / "graphiql" / "package.json").read_text())
    vendored = json.loads((graphiql.STATIC_DIRECTORY / "versions.json").read_text())

    assert set(vendored) == set(wanted["dependencies"]) - {"graphql"}
    for name, version in vendored.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
        assert wanted["dependencies"][name] == version  # pinned, not a range
        license_file = name.replace("@", "").replace("/", "-") + ".LICENSE"
        text = (graphiql.STATIC_DIRECTORY / "licenses" / license_file).read_text()
        assert "MIT License" in text
    notices = (
        graphiql.STATIC_DIRECTORY / "licenses" / "THIRD-PARTY-LICENSES.txt"
    ).read_text()
    installed = {
        path.rsplit("node_modules/", 1)[1] for path in lock["packages"] if path
    }
    for name in installed:
        assert f"\n{name}@" in notices, name


async def test_plain_serve_starts_with_empty_headers(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("USAGE_GATEWAY_GRAPHIQL_HEADERS", raising=False)

    [response] = await _fetch(sqlite_url, "/graphql")

    assert _config(response.text) == {"defaultHeaders": ""}


async def test_demo_headers_are_embedded_as_data_never_as_markup(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = '{"Authorization": "Bearer a</script><script>alert(1)</script>&"}'
    monkeypatch.setenv("USAGE_GATEWAY_GRAPHIQL_HEADERS", headers)

    [response] = await _fetch(sqlite_url, "/graphql")

    assert _config(response.text) == {"defaultHeaders": headers}
    assert "alert(1)</script>" not in response.text
