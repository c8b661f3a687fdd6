"""Real `usage-gateway serve` processes for tests: free ports, an operator key from
`usage-gateway keys create --operator`, stopped with SIGINT at the end (or killed by
the test that started them with `start_gateway`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "gateway.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


PROCESS_JWT_SECRET = "gateway-processes-test-secret-long-enough"


def serve_env(
    database_url: str,
    redis_url: str | None = None,
    jwt_secret: str = PROCESS_JWT_SECRET,
) -> dict[str, str]:
    """The environment of a gateway process (nothing inherited from ours)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("USAGE_GATEWAY_")}
    env.update(
        USAGE_GATEWAY_DATABASE_URL=database_url,
        USAGE_GATEWAY_JWT_SECRET=jwt_secret,
        # One operator key sends every request here: no per-caller throttling.
        USAGE_GATEWAY_RATE_LIMIT_BURST="100000",
        USAGE_GATEWAY_RATE_LIMIT_PER_SECOND="100000",
        USAGE_GATEWAY_LOG_LEVEL="warning",
        PYTHONPATH=str(ROOT),
    )
    if redis_url is not None:
        env["USAGE_GATEWAY_REDIS_URL"] = redis_url
    return env


def wait_until_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return
        except OSError:
            if process.poll() is not None:
                pytest.fail("serve exited:\n" + log.read_text())
            time.sleep(0.2)
    pytest.fail("serve did not answer /healthz within 120 s:\n" + log.read_text())


def create_operator_key(env: dict[str, str], folder: Path | None = None) -> str:
    """The secret of a new operator API key (`usage-gateway keys create --operator`)."""
    created = subprocess.run(
        [*CLI, "keys", "create", "--operator"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def start_gateway(
    env: dict[str, str], folder: Path, name: str
) -> tuple[subprocess.Popen[bytes], str]:
    """One `serve` process on a free port, answering: (the process, its base URL).
    Its output goes to `folder/<name>.log`; the caller stops it."""
    port = free_port()
    log = folder / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process, log)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, base


@contextmanager
def running_gateways(
    env: dict[str, str], folder: Path, count: int = 2
) -> Iterator[tuple[list[str], str]]:
    """`count` gateway processes sharing `env`'s database (and Redis): their base
    URLs and an operator key's secret."""
    secret = create_operator_key(env, folder)
    processes: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        for number in range(count):
            process, base = start_gateway(env, folder, f"gateway-{number}")
            processes.append(process)
            bases.append(base)
        yield bases, secret
    finally:
        for process in processes:  # all shut down at once, then each is awaited
            process.send_signal(signal.SIGINT)
        for process in processes:
            _await_exit(process)


def stop_gateway(process: subprocess.Popen[bytes]) -> None:
    """SIGINT (a graceful shutdown), then up to 30 s before SIGKILL."""
    process.send_signal(signal.SIGINT)
    _await_exit(process)


def _await_exit(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
