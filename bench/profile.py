"""Profile one contract operation in-process: where a request's time goes.

    .venv/bin/python -m bench.profile usage_page [--size 1m] [--requests 50]
    .venv/bin/python -m bench.profile usage_check | record_usage [--batch 1000]
    .venv/bin/python -m bench.profile partner [--orgs 100]

Runs the gateway's real ASGI app (PostgreSQL + Redis of the bench dataset,
`bench.generate`) in this process, sends the operation as clients do (the contract's
document, an `Authorization` header) through httpx, a few warm-up requests first,
then `--requests` more under pyinstrument, one at a time. Prints the mean wall time
per request, the statements per request, and pyinstrument's call tree (frames under
`--cutoff` per cent hidden); `--flat tottime` prints cProfile's flat table instead
(where the CPU goes, function by function). `--html F` also writes pyinstrument's
interactive report.

Needs the `bench` dependency group (`make bench` installs it). Never run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.generate import DATASET, JWT_MAX_LIFETIME_SECONDS
from bench.run import REDIS_URL, operation
from bench.wrk_runs import page_variables


def request_body(args: argparse.Namespace, dataset: dict[str, Any]) -> dict[str, Any]:
    """The body and token of one request of the chosen operation (a fresh batch of
    events each time for record_usage, as an ingestion pipeline sends them)."""
    name = args.operation
    if name == "usage_page":
        org = dataset["usage_orgs"][args.size]
        return {
            "token": org["token"],
            "query": operation("usage_page"),
            "variables": page_variables(org["id"], dataset["at"]),
        }
    if name == "usage_check":
        return {
            "token": dataset["check_key"],
            "query": operation("usage_check"),
            "variables": {
                "org": dataset["check_org"],
                "meter": "api_calls",
                "quantity": "1",
            },
        }
    if name == "partner":
        return {
            "token": dataset["partner_key"],
            "query": operation("partner_billing_state"),
            "variables": {
                "ids": dataset["partner_orgs"][: args.orgs],
                "at": dataset["at"],
            },
        }
    run = uuid.uuid4().hex[:12]
    users = dataset["ingest_users"]
    events = [
        {
            "idempotencyKey": f"profile-{run}-{index}",
            "organizationId": dataset["ingest_org"],
            "meter": "api_calls",
            "quantity": "1",
            "userId": users[index % len(users)],
            "source": "API",
        }
        for index in range(args.batch)
    ]
    return {
        "token": dataset["service_key"],
        "query": operation("record_usage"),
        "variables": {"events": events},
    }


async def profile(args: argparse.Namespace, dataset: dict[str, Any]) -> str | None:
    """Runs the requests; returns pyinstrument's HTML report when `--html` asks."""
    from pyinstrument import Profiler

    from gateway.app import create_app
    from gateway.settings import load_settings
    from store.db import StatementCounter

    app = create_app(
        load_settings(
            database_url=dataset["database_url"],
            redis_url=REDIS_URL,
            jwt_secret=dataset["jwt_secret"],
            jwt_max_lifetime_seconds=JWT_MAX_LIFETIME_SECONDS,
            rate_limit_burst=1_000_000_000,
            rate_limit_per_second=1_000_000_000,
            log_level="warning",
            # Every request computed (`--cached` measures answers from the cache).
            response_cache_seconds=1.0 if args.cached else 0,
        )
    )
    transport = httpx.ASGITransport(app=app)

    async def send(client: httpx.AsyncClient) -> dict[str, Any]:
        body = request_body(args, dataset)
        headers = {"Authorization": f"Bearer {body.pop('token')}"}
        response = await client.post("/graphql", json=body, headers=headers)
        answer: dict[str, Any] = response.json()
        if "errors" in answer:
            raise SystemExit(f"profile: the operation failed: {answer['errors']}")
        return answer

    async with (
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
        app.router.lifespan_context(app),
    ):
        for _ in range(args.warmup):
            await send(client)
        with StatementCounter(app.state.engine) as counter:
            await send(client)
        if args.no_gc:
            gc.collect()
            gc.disable()
        if args.flat:
            flat = cProfile.Profile()
            started = time.perf_counter()
            flat.enable()
            for _ in range(args.requests):
                await send(client)
            flat.disable()
            elapsed = time.perf_counter() - started
        else:
            profiler = Profiler(interval=0.0005, async_mode="enabled")
            started = time.perf_counter()
            with profiler:
                for _ in range(args.requests):
                    await send(client)
            elapsed = time.perf_counter() - started

    print(
        f"{args.operation}: {elapsed / args.requests * 1000:.2f} ms per request "
        f"(mean of {args.requests}, profiled), {counter.count} SQL statements"
    )
    if args.flat:
        stats = pstats.Stats(flat)
        if args.dump:
            stats.dump_stats(args.dump)
        stats.sort_stats(args.flat).print_stats(40)
        return None
    print(
        profiler.output_text(
            unicode=True, color=False, show_all=False, time="percent_of_total"
        )
        if args.cutoff is None
        else _text(profiler, args.cutoff)
    )
    return profiler.output_html() if args.html else None


def _text(profiler: Any, cutoff: float) -> str:
    from pyinstrument.renderers import ConsoleRenderer

    renderer = ConsoleRenderer(
        unicode=True,
        color=False,
        time="percent_of_total",
        processor_options={"filter_threshold": cutoff / 100},
    )
    text: str = profiler.output(renderer)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "operation", choices=["usage_page", "usage_check", "record_usage", "partner"]
    )
    parser.add_argument("--size", default="1m", help="usage_page: 10k, 1m or 10m")
    parser.add_argument("--orgs", type=int, default=100, help="partner: 1 to 100")
    parser.add_argument("--batch", type=int, default=1000, help="record_usage")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--cutoff", type=float, default=1.0, help="per cent")
    parser.add_argument(
        "--flat",
        choices=["tottime", "cumulative"],
        help="cProfile's flat table sorted this way instead of pyinstrument's tree",
    )
    parser.add_argument(
        "--cached", action="store_true", help="with the response cache on (1 s)"
    )
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="collector off while profiling (its pauses land on random frames)",
    )
    parser.add_argument("--dump", help="with --flat: also save the pstats file here")
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    parser.add_argument("--dataset", default=str(DATASET))
    args = parser.parse_args()
    dataset: dict[str, Any] = json.loads(Path(args.dataset).read_text())
    html = asyncio.run(profile(args, dataset))
    if html is not None:
        Path(args.html).write_text(html)


if __name__ == "__main__":
    main()
