"""Run every benchmark once and write `bench/results/latest.json` plus a table.

    .venv/bin/python -m bench.run [--generate] [--sizes 10k,1m,10m] [--duration 10]

Uses the data `bench.generate` loaded (`bench/results/dataset.json`; `--generate`,
or a dataset without every size asked for, loads it first: 10 to 35 minutes for 10M
events here). Starts one gateway process (`python -m gateway.cli serve`,
PostgreSQL + Redis) and drives it with one `wrk` process at a time (`-t2 -c32` for
throughput, `-t1 -c1` for unloaded latency), each run after a warm-up of the same
script; UsagePage twice: as `serve` runs it (response cache on) and computed
(cache off). Baselines are measured in the same run: the HTTP floor (`bench.floor`,
the captured UsagePage document from plain Starlette) and the counter floor
(`redis-benchmark -P 16 -t incr`). SQL statement counts are taken in-process with
`StatementCounter`. recordUsage throughput is counted as the events that reached
`usage_events` while wrk ran (durable: committed before the reply), at 4
connections (an ingestion pipeline) and 32 (`RECORD_CONNECTIONS`).

Environment: USAGE_GATEWAY_TEST_REDIS_URL (default redis://127.0.0.1:6379/0).
Contains no assertions; never run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import user_loads
from bench.generate import (
    DATASET,
    JWT_MAX_LIFETIME_SECONDS,
    RESULTS,
    ROOT,
    generate,
)
from bench.table import TARGETS, table
from bench.wrk_runs import Wrk, body_file, graphql_env, page_variables

OPERATIONS = ROOT / "operations"
REDIS_URL = os.environ.get("USAGE_GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LATEST = RESULTS / "latest.json"


def operation(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"bench: the server at {url} exited ({process.returncode})"
            )
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: {url} did not come up in 60 s")


@contextmanager
def server(command: list[str], env: dict[str, str], probe: str) -> Iterator[None]:
    log = (RESULTS / "server.log").open("ab")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until_up(probe, process)
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def gateway_env(
    dataset: dict[str, Any], port: int, *, cache: bool = True
) -> dict[str, str]:
    """The gateway as `serve` runs it; `cache=False` turns the response cache off
    (every answer computed)."""
    env = os.environ | {
        "USAGE_GATEWAY_DATABASE_URL": dataset["database_url"],
        "USAGE_GATEWAY_REDIS_URL": REDIS_URL,
        "USAGE_GATEWAY_JWT_SECRET": dataset["jwt_secret"],
        "USAGE_GATEWAY_JWT_MAX_LIFETIME_SECONDS": str(JWT_MAX_LIFETIME_SECONDS),
        "USAGE_GATEWAY_PORT": str(port),
        "USAGE_GATEWAY_LOG_LEVEL": "warning",
        # One wrk process is one caller: the per-caller limit would cap the run.
        "USAGE_GATEWAY_RATE_LIMIT_BURST": "1000000000",
        "USAGE_GATEWAY_RATE_LIMIT_PER_SECOND": "1000000000",
    }
    if not cache:
        env["USAGE_GATEWAY_RESPONSE_CACHE_SECONDS"] = "0"
    return env


# ------------------------------------------------------------------------ baselines


def redis_floor() -> dict[str, Any]:
    """`redis-benchmark -P 16 -t incr`: the counter floor, median of three runs."""
    if shutil.which("redis-benchmark") is None:
        return {"error": "redis-benchmark not installed"}
    host = REDIS_URL.split("//", 1)[1].split("/", 1)[0]
    name, _, port = host.partition(":")
    rates = []
    for _ in range(3):
        done = subprocess.run(
            [
                "redis-benchmark",
                "-h",
                name,
                "-p",
                port or "6379",
                "-P",
                "16",
                "-t",
                "incr",
                "-n",
                "1000000",
                "--csv",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        row = [line for line in done.stdout.splitlines() if line.startswith('"INCR"')]
        rates.append(float(row[0].split(",")[1].strip('"')))
    return {"incr_per_s": statistics.median(rates), "runs": rates}


# ----------------------------------------------------------------- statement counts


async def statement_counts(dataset: dict[str, Any]) -> dict[str, Any]:
    """Statements per request, counted in-process around one HTTP request."""
    from gateway.app import create_app
    from gateway.settings import load_settings
    from resolvers.pagination import MAX_PAGE_SIZE
    from store.db import StatementCounter

    async def counted(
        url: str, document: str, variables: dict[str, Any], token: str
    ) -> tuple[int, bool]:
        app = create_app(
            load_settings(
                database_url=url,
                redis_url=REDIS_URL,
                jwt_secret=dataset["jwt_secret"],
                jwt_max_lifetime_seconds=JWT_MAX_LIFETIME_SECONDS,
                rate_limit_burst=1_000_000,
                # What a computed answer costs (a cached one costs no statement).
                response_cache_seconds=0,
            )
        )
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        body = {"query": document, "variables": variables}
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
            app.router.lifespan_context(app),
        ):
            await client.post("/graphql", json=body, headers=headers)  # warm-up
            with StatementCounter(app.state.engine) as counter:
                response = await client.post("/graphql", json=body, headers=headers)
        return counter.count, "errors" not in response.json()

    page = operation("usage_page")
    at = dataset["at"]
    usage_page: dict[str, Any] = {}
    for rows, org in dataset["rows_orgs"].items():
        # Pages hold at most MAX_PAGE_SIZE members; the rest of the rows (members,
        # operation types, meters, seats) are all shown.
        first = min(int(rows), MAX_PAGE_SIZE)
        variables = {"org": org["id"], "at": at, "membersFirst": first}
        count, clean = await counted(
            dataset["rows_database_url"], page, variables, org["token"]
        )
        usage_page[rows] = {"statements": count, "clean": clean}
    partner: dict[str, Any] = {}
    for orgs in (1, 100):
        ids = dataset["partner_orgs"][:orgs]
        count, clean = await counted(
            dataset["database_url"],
            operation("partner_billing_state"),
            {"ids": ids, "at": at},
            dataset["partner_key"],
        )
        partner[str(orgs)] = {"statements": count, "clean": clean}
    return {"usage_page": usage_page, "partner": partner}


# ------------------------------------------------------------------------ recording


async def durable_events(url: str, org_id: str) -> int:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM usage_events WHERE organization_id = $1", org_id
        )
        return count
    finally:
        await connection.close()


def record_env(dataset: dict[str, Any], batch: int) -> dict[str, str]:
    """`record_usage.lua`'s environment: `batch` fresh events per request into the
    ingest organization with the service key, keys unique to this run."""
    document = operation("record_usage")
    prefix = json.dumps({"query": document, "variables": {"events": []}})
    prefix_file = RESULTS / "bodies" / "record_usage_prefix.json"
    prefix_file.parent.mkdir(parents=True, exist_ok=True)
    prefix_file.write_text(prefix.removesuffix("]}}"))
    return {
        "BENCH_PREFIX": str(prefix_file),
        "BENCH_BATCH": str(batch),
        "BENCH_ORG": dataset["ingest_org"],
        "BENCH_USERS": ",".join(dataset["ingest_users"]),
        "BENCH_TOKEN": dataset["service_key"],
        "BENCH_RUN": uuid.uuid4().hex[:12],
    }


def record_usage(
    wrk: Wrk, url: str, dataset: dict[str, Any], batch: int, connections: int
) -> dict[str, Any]:
    env = record_env(dataset, batch)
    if wrk.warmup:
        wrk._wrk(url, "record_usage.lua", env, connections, 2, wrk.warmup)
    env["BENCH_RUN"] = uuid.uuid4().hex[:12]
    before = asyncio.run(durable_events(dataset["database_url"], dataset["ingest_org"]))
    raw = wrk._wrk(url, "record_usage.lua", env, connections, 2, wrk.duration)
    after = asyncio.run(durable_events(dataset["database_url"], dataset["ingest_org"]))
    seconds = raw["duration_us"] / 1e6
    return {
        "batch": batch,
        "connections": connections,
        "requests": raw["requests"],
        "failed": raw["failed"] + raw["socket_errors"],
        "durable_events": after - before,
        "events_per_s": round((after - before) / seconds, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }


BY_EVENTS_ROUNDS = 5


def latency_by_events(
    wrk: Wrk, url: str, orgs: dict[str, Any], bodies: dict[str, Path]
) -> dict[str, dict[str, Any]]:
    """Unloaded latency per data size, the sizes taking turns: `BY_EVENTS_ROUNDS`
    short runs each, alternating, so that the machine's drift during the run (it is
    shared) falls on every size alike. p50 is the median of the rounds' p50s, p99 the
    worst round's."""
    short = Wrk(max(2, wrk.duration // 2), 1 if wrk.warmup else 0)
    rounds: dict[str, list[dict[str, Any]]] = {size: [] for size in orgs}
    for _ in range(BY_EVENTS_ROUNDS):
        for size, org in orgs.items():
            rounds[size].append(
                short.run(
                    url,
                    "graphql.lua",
                    graphql_env(bodies[size], org["token"]),
                    connections=1,
                    threads=1,
                )
            )
    return {
        size: {
            "connections": 1,
            "rounds": len(runs),
            "requests": sum(run["requests"] for run in runs),
            "p50_ms": statistics.median(run["p50_ms"] for run in runs),
            "p99_ms": max(run["p99_ms"] for run in runs),
            "round_p50s_ms": [run["p50_ms"] for run in runs],
        }
        for size, runs in rounds.items()
    }


RECORD_CONNECTIONS = (4, 32)
"""4: how an ingestion pipeline writes (a few workers, each sending its next batch
when the last is durable), the figure the 20,000 events/s target is about. 32: the
overload case, every writer on one organization's rollup rows at once."""


def record_usage_runs(
    wrk: Wrk, url: str, dataset: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Per connections and batch size (keys `<connections>x<batch>`)."""
    return {
        f"{connections}x{batch}": record_usage(wrk, url, dataset, batch, connections)
        for connections in RECORD_CONNECTIONS
        for batch in (1, 100, 1000)
    }


# ------------------------------------------------------------------------------ run


def _holds(source: Path, sizes: list[str]) -> bool:
    """Whether a loaded dataset has every size asked for."""
    if not source.exists():
        return False
    loaded = json.loads(source.read_text()).get("usage_orgs", {})
    return all(size in loaded for size in sizes)


def run(args: argparse.Namespace) -> dict[str, Any]:
    source = args.dataset or DATASET
    sizes = [size.strip() for size in args.sizes.split(",") if size.strip()]
    if args.generate or not _holds(source, sizes):
        print(f"bench: loading {', '.join(sizes)} events (10M: 10 to 35 minutes)")
        asyncio.run(generate(sizes, args.database))
        source = DATASET
    dataset: dict[str, Any] = json.loads(source.read_text())
    RESULTS.mkdir(parents=True, exist_ok=True)
    wrk = Wrk(args.duration, args.warmup)
    at = dataset["at"]
    page = operation("usage_page")
    orgs = dataset["usage_orgs"]
    main_size = "1m" if "1m" in orgs else list(orgs)[-1]
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()}, {os.cpu_count()} CPUs, Python "
        + platform.python_version(),
        "wrk": f"-t2 -c32 -d{args.duration}s after a {args.warmup} s warm-up",
        "latency_by_events": f"{BY_EVENTS_ROUNDS} alternating rounds per size",
        "dataset": {size: org["events"] for size, org in orgs.items()},
        "targets": TARGETS,
    }
    print("bench: counter floor (redis-benchmark)", flush=True)
    results["redis_floor"] = redis_floor()
    print("bench: statement counts (in-process)", flush=True)
    results["statements"] = asyncio.run(statement_counts(dataset))

    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)]
    env = gateway_env(dataset, port)
    with server(command, env, f"http://127.0.0.1:{port}/healthz"):
        bodies = {
            size: body_file(f"usage_page_{size}", page, page_variables(org["id"], at))
            for size, org in orgs.items()
        }
        results["usage_page_live"] = "at" not in page_variables("", at)
        captured = httpx.post(
            url,
            content=bodies[main_size].read_bytes(),
            headers={
                "Authorization": f"Bearer {orgs[main_size]['token']}",
                "Content-Type": "application/json",
            },
            timeout=60,
        )
        (RESULTS / "usage_page.json").write_bytes(captured.content)
        results["usage_page_errors"] = captured.json().get("errors")
        results["usage_page_bytes"] = len(captured.content)

        print(f"bench: UsagePage on {main_size} events, 32 connections", flush=True)
        main_env = graphql_env(bodies[main_size], orgs[main_size]["token"])
        results["usage_page"] = wrk.run(url, "graphql.lua", main_env)

        print("bench: usageCheck", flush=True)
        check = body_file(
            "usage_check",
            operation("usage_check"),
            {"org": dataset["check_org"], "meter": "api_calls", "quantity": "1"},
        )
        check_env = graphql_env(check, dataset["check_key"])
        results["usage_check"] = {
            "1": wrk.run(url, "graphql.lua", check_env, connections=1, threads=1),
            "32": wrk.run(url, "graphql.lua", check_env),
        }

        print("bench: PartnerBillingState", flush=True)
        partner: dict[str, Any] = {}
        for count in (1, 100):
            body = body_file(
                f"partner_{count}",
                operation("partner_billing_state"),
                {"ids": dataset["partner_orgs"][:count], "at": at},
            )
            partner_env = graphql_env(body, dataset["partner_key"])
            partner[str(count)] = {
                "1": wrk.run(url, "graphql.lua", partner_env, connections=1, threads=1),
                "32": wrk.run(url, "graphql.lua", partner_env),
            }
        results["partner"] = partner

        print("bench: recordUsage", flush=True)
        results["record_usage"] = record_usage_runs(wrk, url, dataset)

        results["user_loads"] = user_loads.measure(
            wrk,
            Wrk,
            url,
            dataset,
            bodies[main_size],
            orgs[main_size]["id"],
            check,
            ("record_usage.lua", record_env(dataset, 1)),
        )

    # The same gateway with the response cache off: what computing a page costs.
    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)]
    env = gateway_env(dataset, port, cache=False)
    with server(command, env, f"http://127.0.0.1:{port}/healthz"):
        print(f"bench: UsagePage computed (no cache), {main_size} events", flush=True)
        main_env = graphql_env(bodies[main_size], orgs[main_size]["token"])
        results["usage_page_computed"] = wrk.run(url, "graphql.lua", main_env)

        print("bench: UsagePage computed, latency by events, 1 connection", flush=True)
        results["usage_page_by_events"] = latency_by_events(wrk, url, orgs, bodies)

    print("bench: HTTP floor (plain Starlette, same document)", flush=True)
    port = free_port()
    floor = [
        sys.executable,
        "-m",
        "bench.floor",
        "--port",
        str(port),
        "--body",
        str(RESULTS / "usage_page.json"),
    ]
    floor_url = f"http://127.0.0.1:{port}/graphql"
    with server(floor, dict(os.environ), f"http://127.0.0.1:{port}/nothing"):
        floor_env = graphql_env(bodies[main_size], orgs[main_size]["token"])
        results["http_floor"] = wrk.run(floor_url, "graphql.lua", floor_env)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", action="store_true", help="reload the data")
    parser.add_argument("--sizes", default="10k,1m,10m")
    parser.add_argument("--database", default="ug_bench")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--dataset", type=Path, help="another dataset.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is not installed (apt-get install wrk)")
    results = run(args)
    LATEST.write_text(json.dumps(results, indent=2) + "\n")
    markdown = table(results)
    results["table"] = markdown
    LATEST.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown)


if __name__ == "__main__":
    main()
