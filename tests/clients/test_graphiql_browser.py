"""GraphiQL in Debian's headless Chromium (clients/graphiql-browser.mjs, playwright-
core) against a real `serve --demo`, with no network but the gateway (issue 16): the
page renders from the gateway's own files, the explorer plugin is there, the headers
editor holds the demo admin's token, a query runs, and a subscription over the
websocket shows the tick of usage recorded over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway import demo
from tests.clients.live_gateway import json_lines
from tests.clients.node import require_node, run_client
from tests.conftest import unavailable
from tests.processes import CLI, free_port, serve_env

CHROMIUM = "/usr/bin/chromium"
METER = "contacts"  # a SOFT limit on the demo's Pipeline CRM: never denied


@dataclass(frozen=True)
class DemoGateway:
    base: str
    printed: dict[str, str]
    """The banner's ready-to-paste header lines, by label (admin, operator...)."""


def require_chromium() -> str:
    """Debian's Chromium (never a downloaded browser): skip locally, fail in CI."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or CHROMIUM
    if not Path(path).is_file():
        unavailable("chromium", FileNotFoundError(f"{path} (apt-get install chromium)"))
    return path


def _printed_headers(log: str) -> dict[str, str]:
    printed: dict[str, str] = {}
    label = ""
    for line in log.splitlines():
        stripped = line.strip()
        if stripped.startswith('{"Authorization"'):
            printed[label] = stripped
        elif stripped.endswith(":"):
            label = stripped.split(" ", 1)[0]
    return printed


@contextmanager
def demo_gateway(folder: Path) -> Iterator[DemoGateway]:
    """`serve --demo` on the embedded default, as `make demo` runs it."""
    port = free_port()
    env = serve_env(f"sqlite+aiosqlite:///{folder / 'demo.sqlite3'}")
    log = folder / "demo.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*CLI, "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base, process, log)
        yield DemoGateway(base, _printed_headers(log.read_text()))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 240  # loading the demo takes tens of seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return
        except OSError:
            if process.poll() is not None:
                pytest.fail("serve --demo exited:\n" + log.read_text())
            time.sleep(0.5)
    pytest.fail(
        "serve --demo did not answer /healthz within 240 s:\n" + log.read_text()
    )


def test_graphiql_renders_offline_with_the_explorer_demo_headers_and_live_ticks(
    tmp_path: Path,
) -> None:
    require_node()
    chromium = require_chromium()
    with demo_gateway(tmp_path) as gateway:
        operator = json.loads(gateway.printed["operator"])["Authorization"]
        env = {
            **os.environ,
            "GATEWAY_URL": gateway.base,
            "ORG": demo.DEMO_ORGANIZATION,
            "RECORD_TOKEN": operator.removeprefix("Bearer "),
            "METER": METER,
            "CHROMIUM": chromium,
        }
        ran = run_client("graphiql-browser.mjs", env=env)

    assert ran.returncode == 0, ran.stdout + ran.stderr
    events = {line["event"]: line for line in json_lines(ran.stdout)}
    assert events["rendered"]["loading"] is False
    assert events["explorer"]["button"] is True
    # The editor holds exactly the admin's header the banner printed.
    assert events["headers"]["text"] == gateway.printed["admin"]
    assert events["query"]["result"]["data"] == {
        "viewer": {"id": demo.DEMO_ADMIN_USER, "kind": "USER"}
    }
    tick = events["tick"]["result"]
    assert "errors" not in tick
    assert tick["data"]["usageUpdated"]["meter"] == METER
    network = events["network"]
    assert network["blocked"] == []
    assert all(url.startswith(gateway.base + "/") for url in network["requests"])
    ws_base = gateway.base.replace("http", "ws", 1)
    assert network["websockets"] == [ws_base + "/graphql"]
    assert "pageerror" not in events
