"""The `usage-gateway` command, run as a real process where it matters."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway import demo
from gateway.cli import main
from schema import schema
from tests.gateway_client import error_codes, gateway, operation

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "gateway.cli"]


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("USAGE_GATEWAY_")
    }
    env.update(USAGE_GATEWAY_DATABASE_URL=database_url, **extra)
    return env


def test_export_schema_prints_the_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-schema"]) == 0

    assert capsys.readouterr().out == schema.as_str() + "\n"


def test_migrate_creates_the_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"

    result = subprocess.run(
        [*CLI, "migrate"], env=_env(url), capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert (tmp_path / "fresh.sqlite3").exists()


async def test_operator_key_from_the_cli_is_an_operator(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.sqlite3'}"

    result = subprocess.run(
        [*CLI, "keys", "create", "--operator"],
        env=_env(url),
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    assert re.fullmatch(r"ugk_[A-Za-z0-9_-]{40,}", secret)
    async with gateway(url) as api:
        body = await api.execute("{ viewer { kind } }", token=secret)
        missing = await api.execute('{ organization(id: "nope") { id } }', token=secret)
    assert body == {"data": {"viewer": {"kind": "OPERATOR"}}}
    assert error_codes(missing) == ["NOT_FOUND"]


def test_worker_once_syncs_and_exits(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'worker.sqlite3'}"

    result = subprocess.run(
        [*CLI, "worker", "--once"],
        env=_env(url),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "synced daily allowances" in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """`usage-gateway serve --demo` as a newcomer runs it: (base URL, its output)."""
    port = _free_port()
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
    process = subprocess.Popen(
        [*CLI, "serve", "--demo", "--port", str(port)],
        env=_env(url, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    output: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: output.extend(process.stdout or ()))
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base, process, output)
        yield base, output
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        process.stdout.close()


def _wait_until_healthy(
    base: str, process: subprocess.Popen[str], output: list[str]
) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return
        except OSError:
            if process.poll() is not None:
                pytest.fail("serve --demo exited:\n" + "".join(output))
            time.sleep(0.5)
    pytest.fail("serve --demo did not answer /healthz within 180 s")


def _post(
    base: str, document: str, variables: dict[str, object], header: str
) -> dict[str, Any]:
    request = urllib.request.Request(
        base + "/graphql",
        data=json.dumps({"query": document, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", "Authorization": header},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


def _printed_headers(output: list[str]) -> dict[str, str]:
    """The banner's ready-to-paste headers, by the label printed above each."""
    headers: dict[str, str] = {}
    label = ""
    for line in output:
        stripped = line.strip()
        if stripped.startswith('{"Authorization"'):
            headers[label] = json.loads(stripped)["Authorization"]
        elif stripped.endswith(":"):
            label = stripped.split(" ", 1)[0]
    return headers


def test_serve_demo_answers_the_usage_page_with_the_printed_admin_header(
    demo_server: tuple[str, list[str]],
) -> None:
    base, output = demo_server
    headers = _printed_headers(output)
    assert set(headers) == {"admin", "member", "operator", "partner"}
    assert f"{base}/graphql" in "".join(output)

    body = _post(
        base, operation("usage_page"), {"org": demo.DEMO_ORGANIZATION}, headers["admin"]
    )

    assert "errors" not in body, body.get("errors")
    organization = body["data"]["organization"]
    assert organization["name"] == "Pipeline CRM"
    assert organization["viewerRole"] == "ADMIN"
    assert organization["members"]["totalCount"] >= 20
    assert [meter["key"] for meter in organization["meters"]][:3] == [
        "contacts",
        "companies",
        "storage_bytes",
    ]


def test_serve_demo_prints_working_partner_and_operator_keys(
    demo_server: tuple[str, list[str]],
) -> None:
    base, output = demo_server
    headers = _printed_headers(output)

    partner = _post(
        base,
        operation("partner_billing_state"),
        {"ids": list(demo.DEMO_ORGANIZATIONS)},
        headers["partner"],
    )
    operator = _post(base, "{ viewer { kind } }", {}, headers["operator"])

    assert "errors" not in partner, partner.get("errors")
    assert [org["id"] for org in partner["data"]["organizations"]] == list(
        demo.DEMO_ORGANIZATIONS
    )
    assert operator["data"] == {"viewer": {"kind": "OPERATOR"}}


def test_serve_demo_reports_progress_while_it_loads(
    demo_server: tuple[str, list[str]],
) -> None:
    """Loading takes tens of seconds: a newcomer sees each organization start."""
    _, output = demo_server
    progress = [
        line.strip() for line in output if line.startswith("usage-gateway demo:")
    ]

    count = len(demo.DEMO_ORGANIZATIONS)
    assert progress[0] == (
        f"usage-gateway demo: provisioning the catalog and {count} organizations"
    )
    recording = [line for line in progress if " usage events of " in line]
    assert [line.rsplit("(", 1)[1] for line in recording] == [
        f"{number}/{count})" for number in range(1, count + 1)
    ]
    assert progress[-1] == "usage-gateway demo: taking the daily allowance snapshot"
