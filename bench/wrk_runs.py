"""`wrk` runs as `bench.run` drives them: one wrk process at a time, a warm-up
run first, figures read from the BENCH_JSON line the scripts print (`wrk/report.lua`);
and the request bodies and variables the scripts send."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate import (
    RESULTS,
    ROOT,
)

WRK_SCRIPTS = ROOT / "bench" / "wrk"


class Wrk:
    def __init__(self, duration: int, warmup: int) -> None:
        self.duration = duration
        self.warmup = warmup

    def run(
        self,
        url: str,
        script: str,
        env: dict[str, str],
        connections: int = 32,
        threads: int = 2,
    ) -> dict[str, Any]:
        """A warm-up run, then the measured one; latencies in milliseconds."""
        if self.warmup:
            self._wrk(url, script, env, connections, threads, self.warmup)
        raw = self._wrk(url, script, env, connections, threads, self.duration)
        seconds = raw["duration_us"] / 1e6
        return {
            "connections": connections,
            "requests": raw["requests"],
            "failed": raw["failed"] + raw["socket_errors"],
            "seconds": round(seconds, 2),
            "rps": round(raw["requests"] / seconds, 1),
            "p50_ms": raw["p50_us"] / 1000,
            "p90_ms": raw["p90_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000,
            "max_ms": raw["max_us"] / 1000,
        }

    def _wrk(
        self,
        url: str,
        script: str,
        env: dict[str, str],
        connections: int,
        threads: int,
        duration: int,
    ) -> dict[str, Any]:
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(WRK_SCRIPTS / script),
            url,
        ]
        done = subprocess.run(
            command, env=os.environ | env, capture_output=True, text=True, check=True
        )
        for line in done.stdout.splitlines():
            if line.startswith("BENCH_JSON "):
                result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
                return result
        raise SystemExit(f"bench: no figures from wrk:\n{done.stdout}\n{done.stderr}")


def page_variables(org_id: str, at: str) -> dict[str, Any]:
    """UsagePage as clients send it, live (no `at:`), while the data's last month is
    still the current cycle (the bench plans' cycles are calendar months); pinned to
    the data's instant once the data is older, so the page still shows it."""
    if datetime.now(UTC).strftime("%Y-%m") == at[:7]:
        return {"org": org_id}
    return {"org": org_id, "at": at}


def body_file(name: str, document: str, variables: dict[str, Any]) -> Path:
    path = RESULTS / "bodies" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"query": document, "variables": variables}))
    return path


def graphql_env(body: Path, token: str) -> dict[str, str]:
    return {"BENCH_BODY": str(body), "BENCH_TOKEN": token}
