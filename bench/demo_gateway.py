"""A `serve --demo` gateway for benchmarks that need a real process with data:
loads the demo once (its progress printed), hands back the printed headers, and
restarts `serve` on the same database with other settings."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
JWT_SECRET = "bench-demo-secret-long-enough-for-hs256"


def base_env(folder: Path, redis_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USAGE_GATEWAY_")}
    env.update(
        USAGE_GATEWAY_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'demo.sqlite3'}",
        USAGE_GATEWAY_JWT_SECRET=JWT_SECRET,
        USAGE_GATEWAY_RATE_LIMIT_BURST="1000000",
        USAGE_GATEWAY_RATE_LIMIT_PER_SECOND="1000000",
        USAGE_GATEWAY_LOG_LEVEL="warning",
        PYTHONPATH=str(ROOT),
    )
    if redis_url is not None:
        env["USAGE_GATEWAY_REDIS_URL"] = redis_url
    return env


def _wait(base: str, process: subprocess.Popen[str], said: str = "") -> None:
    for _ in range(3000):
        if process.poll() is not None:
            if process.stdout is not None and not process.stdout.closed:
                said += process.stdout.read()
            raise RuntimeError(f"serve exited before answering /healthz:\n{said}")
        try:
            httpx.get(base + "/healthz", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("serve did not answer /healthz")


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def demo(
    folder: Path, env: dict[str, str], port: int, say: object = print
) -> Iterator[tuple[str, dict[str, str]]]:
    """`serve --demo` on `port`: (base URL, printed headers by label: admin,
    member, operator, partner), progress lines passed to `say`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=folder,
    )
    headers: dict[str, str] = {}
    label = ""
    said: deque[str] = deque(maxlen=40)
    assert process.stdout is not None
    for line in process.stdout:
        said.append(line)
        stripped = line.strip()
        if stripped.startswith("usage-gateway demo:") and callable(say):
            say(stripped)
        if stripped.startswith('{"Authorization"'):
            headers[label] = json.loads(stripped)["Authorization"]
        elif stripped.endswith(":"):
            label = stripped.split(" ", 1)[0]
        if stripped.startswith("Try:"):
            break
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, process, "".join(said))
        yield base, headers
    finally:
        _stop(process)


@contextmanager
def serve(folder: Path, env: dict[str, str], port: int) -> Iterator[str]:
    """Plain `serve` on the demo's database (loaded before by `demo`)."""
    log = (folder / f"serve-{port}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=folder,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, process)
        yield base
    finally:
        _stop(process)
        log.close()
