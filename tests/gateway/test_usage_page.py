"""The reference usage page at GET /usage (issue 22) is served from the gateway's own
files: the page names no other origin, its two modules answer as JavaScript, the
identities `serve --demo` sets are embedded safely, a bad identities setting stops
start-up by name, and the committed build in gateway/static/usage/ is what `make web`
makes of web/ and the contract's documents (sources.json's digest of the inputs; and,
where web/node_modules is installed, a fresh build compared byte for byte)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from gateway import usage_page
from gateway.app import create_app
from gateway.settings import SettingsError, load_settings
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
BASE = "http://gateway.test"
BUILT = ("host.js", "index.html", "sources.json", "usage-page.js")


async def _fetch(
    database_url: str, *paths: str, identities: str = ""
) -> list[httpx.Response]:
    settings = load_settings(
        database_url=database_url, usage_page_identities=identities
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url=BASE) as client,
        app.router.lifespan_context(app),
    ):
        return [await client.get(path) for path in paths]


def _config(page: str) -> dict[str, object]:
    found = re.search(
        r'<script type="application/json" id="usage-page-config">(.*?)</script>',
        page,
        re.S,
    )
    assert found is not None
    config: dict[str, object] = json.loads(found.group(1))
    return config


def _sources_digest() -> str:
    """vite.config.ts's sourcesDigest(): every input file (its repository path, then
    its bytes), sorted by path; codegen's output (web/src/generated) left out."""
    sources = json.loads((usage_page.STATIC_DIRECTORY / "sources.json").read_text())
    files: list[str] = []
    for source in sources["sources"]:
        path = ROOT / source
        if path.is_dir():
            files += [
                found.relative_to(ROOT).as_posix()
                for found in path.rglob("*")
                if found.is_file() and "generated" not in found.relative_to(path).parts
            ]
        else:
            files.append(source)
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0".encode())
        digest.update((ROOT / name).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


async def test_the_page_and_its_modules_are_the_gateways_own(sqlite_url: str) -> None:
    [page] = await _fetch(sqlite_url, "/usage")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert re.findall(r"(?:https?:|wss?:)//", page.text) == []
    scripts = re.findall(r'<script type="module" src="([^"]+)"', page.text)
    version = usage_page.assets_version()
    assert scripts == [
        f"/usage/static/usage-page.js?v={version}",
        f"/usage/static/host.js?v={version}",
    ]
    modules = await _fetch(sqlite_url, *scripts)
    for url, module in zip(scripts, modules, strict=True):
        assert module.status_code == 200, url
        assert module.headers["content-type"].startswith("text/javascript"), url
    # The element's module carries its documents: the contract's, as they are.
    element = modules[0].text
    assert "customElements.define" in element
    assert "query UsagePage(" in element
    assert "subscription UsageLive(" in element


async def test_plain_serve_asks_for_a_token_and_demo_identities_are_embedded_safely(
    sqlite_url: str,
) -> None:
    identities = [
        {
            "label": "admin",
            "description": "</script><script>alert(1)</script> & <!--",
            "token": "t-admin",
            "organizations": ["org_a", "org_b"],
        }
    ]
    [plain] = await _fetch(sqlite_url, "/usage")
    [demo] = await _fetch(sqlite_url, "/usage", identities=json.dumps(identities))

    assert _config(plain.text) == {"identities": []}
    assert _config(demo.text) == {"identities": identities}
    assert demo.text.count("</script>") == plain.text.count("</script>")
    assert "<!--" not in demo.text


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"label": "admin"}',
        '[{"label": "admin", "token": "t"}]',
        '[{"label": "a", "description": "b", "token": "t", "organizations": []}]',
    ],
)
def test_a_bad_identities_setting_stops_start_up_by_name(value: str) -> None:
    with pytest.raises(SettingsError, match=r"^USAGE_GATEWAY_USAGE_PAGE_IDENTITIES: "):
        load_settings(usage_page_identities=value)


def test_the_committed_build_is_of_the_current_sources() -> None:
    """An edit to web/ or to a document the page sends, without `make web`, fails."""
    built = sorted(p.name for p in usage_page.STATIC_DIRECTORY.iterdir())
    assert built == sorted(BUILT)
    sources = json.loads((usage_page.STATIC_DIRECTORY / "sources.json").read_text())
    assert sources["sha256"] == _sources_digest(), "run `make web` and commit"


def test_a_fresh_build_makes_the_committed_files(tmp_path: Path) -> None:
    """`npm run build` in web/ into a scratch folder: byte for byte the committed
    files (the build is reproducible: stable names, no hashes, no timestamps)."""
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm", FileNotFoundError("npm is not on PATH"))
    if not (WEB / "node_modules").is_dir():
        unavailable("web/node_modules", FileNotFoundError("run `make web`"))
    assert npm is not None
    out = tmp_path / "usage"
    built = subprocess.run(
        [npm, "run", "build"],
        cwd=WEB,
        env={**os.environ, "USAGE_PAGE_OUT_DIR": str(out)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(BUILT)
    for name in BUILT:
        fresh = (out / name).read_bytes()
        committed = (usage_page.STATIC_DIRECTORY / name).read_bytes()
        assert fresh == committed, f"{name} differs from a fresh build: run `make web`"
