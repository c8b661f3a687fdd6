"""What metrics, the access log and tracing cost: `python -m bench.operability`.

One demo database (SQLite + Redis), three `serve` configurations, the same `wrk`
loads against each, alternating rounds so the machine's drift falls on all alike:
- off: `METRICS=false`, `ACCESS_LOG=false`, no tracing;
- metrics: the defaults (metrics on, one JSON access line per request to a file);
- tracing: the defaults plus OpenTelemetry exporting over OTLP/HTTP to a local sink
  that accepts and drops the spans.
Prints req/s and p99 per load and the ratio of each configuration to `off` from the
same run. Needs `wrk` (Debian's) and Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.demo_gateway import ROOT, base_env, demo, serve

WRK_SCRIPT = ROOT / "bench" / "wrk" / "graphql.lua"
SINK = """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def traces(request):
    await request.body()
    return Response(b"", media_type="application/x-protobuf")

uvicorn.run(Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])]),
            host="127.0.0.1", port={port}, log_level="warning")
"""


def say(line: str) -> None:
    print(f"bench.operability: {line}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wrk(base: str, body: Path, token: str, seconds: int) -> dict[str, Any]:
    env = {**os.environ, "BENCH_BODY": str(body), "BENCH_TOKEN": token}
    args = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(WRK_SCRIPT)]
    subprocess.run(
        [*args[:3], "-d2s", *args[4:], base + "/graphql"],
        env=env,
        capture_output=True,
        check=True,
    )
    done = subprocess.run(
        [*args, base + "/graphql"], env=env, capture_output=True, text=True, check=True
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON "))
    found: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    found["rps"] = found["requests"] / (found["duration_us"] / 1e6)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench.operability: needs wrk (apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="ug-operability-"))
    redis = os.environ.get("USAGE_GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
    subprocess.run(
        ["redis-cli", "-u", redis, "flushdb"], check=True, capture_output=True
    )
    env = base_env(folder, redis)
    say("loading the demo once")
    with demo(folder, env, free_port(), say) as (_, headers):
        pass
    bodies = {
        "usageCheck (operator key)": (
            {
                "query": (ROOT / "operations" / "usage_check.graphql").read_text(),
                "variables": {"org": "org_callbell", "meter": "sms", "quantity": "1"},
            },
            headers["operator"],
        ),
        "UsagePage (admin)": (
            {
                "query": (ROOT / "operations" / "usage_page.graphql").read_text(),
                "variables": {"org": "org_pipeline"},
            },
            headers["admin"],
        ),
    }
    files = {}
    for number, (name, (body, token)) in enumerate(bodies.items()):
        path = folder / f"body-{number}.json"
        path.write_text(json.dumps(body))
        files[name] = (path, token.removeprefix("Bearer "))
    sink_port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK.replace("{port}", str(sink_port))]
    )
    time.sleep(1.5)
    configs = {
        "off": {"USAGE_GATEWAY_METRICS": "false", "USAGE_GATEWAY_ACCESS_LOG": "false"},
        "metrics": {
            "USAGE_GATEWAY_LOG_LEVEL": "info",
            "USAGE_GATEWAY_LOG_FORMAT": "json",
        },
        "tracing": {
            "USAGE_GATEWAY_LOG_LEVEL": "info",
            "USAGE_GATEWAY_LOG_FORMAT": "json",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}",
            "OTEL_SERVICE_NAME": "usage-gateway-bench",
        },
    }
    results: dict[str, dict[str, list[dict[str, Any]]]] = {
        config: {name: [] for name in files} for config in configs
    }
    try:
        for round_number in range(args.rounds):
            for config, extra in configs.items():
                with serve(folder, {**env, **extra}, free_port()) as base:
                    for name, (path, token) in files.items():
                        found = wrk(base, path, token, args.seconds)
                        results[config][name].append(found)
                        say(
                            f"round {round_number + 1} {config:8} {name}: "
                            f"{found['rps']:,.0f} req/s, "
                            f"p99 {found['p99_us'] / 1000:.1f} ms, "
                            f"{found['failed']} failed"
                        )
    finally:
        sink.terminate()
    print()
    print("| load | configuration | req/s (median) | p99 ms (worst) | ratio to off |")
    print("| --- | --- | --- | --- | --- |")
    for name in files:
        floor = statistics.median(r["rps"] for r in results["off"][name])
        for config in configs:
            runs = results[config][name]
            rps = statistics.median(r["rps"] for r in runs)
            p99 = max(r["p99_us"] for r in runs) / 1000
            print(
                f"| {name} | {config} | {rps:,.0f} | {p99:.1f} | {rps / floor:.2f}x |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
