"""The loads users produce, next to the repeating ones `bench.run` measured first.

Issue 19's rows: the morning's UsagePage for many distinct viewers of one
organization while writes stream into it, usageCheck for each key kind that may
check, one event per recordUsage request, and the hot path's latency while pages
saturate the process. Each is printed with its ratio to the HTTP floor measured in
the same run (`bench.floor`), which is what carries over between machines.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx

from auth.tokens import issue_jwt
from bench.events import user_id
from bench.generate import RESULTS
from rules.enums import ApiKeyKind
from store.api_keys import create_api_key
from store.db import create_engine, session_factory

VIEWERS = 200
"""Distinct members asking for their organization's page (each with their token)."""
STREAMED_WRITES_PER_S = 10
"""Writes into the viewed organization while its viewers load the page."""
FAIRNESS_CONNECTIONS = 4
"""The hot path's callers while 32 connections of pages saturate the process."""

FLOOR_RATIOS = {
    "usage_check_rps": 0.26,
    "single_event_events_per_s": 0.39,
    "distinct_viewers_rps": 0.052,
}
"""Issue 19's targets as fractions of the HTTP floor (2,000 checks/s, 3,000 single
events/s and 400 distinct-viewer pages/s on a machine whose floor is ~7,600)."""


class Runs(Protocol):
    """`bench.wrk_runs.Wrk`: a warm-up, then a measured run (figures in ms)."""

    duration: int
    warmup: int

    def run(
        self,
        url: str,
        script: str,
        env: dict[str, str],
        connections: int = 32,
        threads: int = 2,
    ) -> dict[str, Any]: ...


def viewer_tokens(dataset: dict[str, Any], org_id: str, count: int = VIEWERS) -> Path:
    """A file of `count` members' tokens for `org_id` (the dataset's members are
    `user_id(org_id, 0..499)`), for `viewers.lua`."""
    expires = datetime.now(UTC) + timedelta(hours=12)
    tokens = [
        issue_jwt(user_id(org_id, index), dataset["jwt_secret"], expires)
        for index in range(count)
    ]
    path = RESULTS / "bodies" / f"viewers_{org_id}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(tokens) + "\n")
    return path


async def _key(url: str, kind: ApiKeyKind, orgs: tuple[str, ...]) -> str:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            _, secret = await create_api_key(
                session, kind, f"bench {kind.value.lower()}", orgs, datetime.now(UTC)
            )
    finally:
        await engine.dispose()
    return secret


def new_key(dataset: dict[str, Any], kind: ApiKeyKind, orgs: tuple[str, ...]) -> str:
    """A key made for this run (an OPERATOR key holds no organizations)."""
    return asyncio.run(_key(dataset["database_url"], kind, orgs))


@contextmanager
def streamed_writes(
    url: str, key: str, org_id: str, per_second: int = STREAMED_WRITES_PER_S
) -> Iterator[dict[str, int]]:
    """One recordUsage of one event `per_second` times a second into `org_id`
    while the block runs; yields the counts (`sent`, `failed`)."""
    document = (
        "mutation RecordUsage($events: [UsageEventInput!]!) {"
        " recordUsage(events: $events) { accepted } }"
    )
    counts = {"sent": 0, "failed": 0}
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                started = time.monotonic()
                event = {
                    "idempotencyKey": f"stream-{uuid.uuid4().hex}",
                    "organizationId": org_id,
                    "meter": "api_calls",
                    "quantity": "1",
                }
                try:
                    answer = client.post(
                        url,
                        json={"query": document, "variables": {"events": [event]}},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    ok = answer.status_code == 200 and "errors" not in answer.json()
                except httpx.HTTPError:
                    ok = False
                counts["sent"] += 1
                counts["failed"] += 0 if ok else 1
                stop.wait(max(0.0, 1 / per_second - (time.monotonic() - started)))

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield counts
    finally:
        stop.set()
        writer.join(15)


def distinct_viewers(
    wrk: Runs, url: str, body: Path, tokens: Path, write_key: str, org_id: str
) -> dict[str, Any]:
    """UsagePage at 32 connections, every request another viewer's, while
    `STREAMED_WRITES_PER_S` writes a second land in the same organization."""
    env = {"BENCH_BODY": str(body), "BENCH_TOKENS": str(tokens)}
    with streamed_writes(url, write_key, org_id) as writes:
        figures = wrk.run(url, "viewers.lua", env)
    return {**figures, "viewers": VIEWERS, "streamed_writes": dict(writes)}


def under_page_load(
    wrk: Runs,
    runner: Callable[[int, int], Runs],
    url: str,
    body: Path,
    tokens: Path,
    hot_path: dict[str, tuple[str, dict[str, str]]],
) -> dict[str, Any]:
    """Each hot-path load (name: wrk script and env) at `FAIRNESS_CONNECTIONS`,
    one after the other, while distinct viewers' pages keep 32 connections busy
    (`runner(duration, warmup)` makes the longer page run)."""
    page_env = {"BENCH_BODY": str(body), "BENCH_TOKENS": str(tokens)}
    seconds = len(hot_path) * (wrk.duration + wrk.warmup) + 2
    page: dict[str, Any] = {}
    loader = threading.Thread(
        target=lambda: page.update(
            runner(seconds, 0).run(url, "viewers.lua", page_env)
        ),
        daemon=True,
    )
    loader.start()
    time.sleep(1)
    measured = {
        name: wrk.run(url, script, env, connections=FAIRNESS_CONNECTIONS, threads=1)
        for name, (script, env) in hot_path.items()
    }
    loader.join(seconds + 30)
    return {"pages": page, **measured}


def measure(
    wrk: Runs,
    runner: Callable[[int, int], Runs],
    url: str,
    dataset: dict[str, Any],
    page_body: Path,
    page_org: str,
    check_body: Path,
    single_events: tuple[str, dict[str, str]],
) -> dict[str, Any]:
    """Every row of this module against the running gateway at `url`."""
    tokens = viewer_tokens(dataset, page_org)
    writer = new_key(dataset, ApiKeyKind.SERVICE, (page_org,))
    checkers = {
        "SERVICE": dataset["check_key"],
        "OPERATOR": new_key(dataset, ApiKeyKind.OPERATOR, ()),
    }
    print("bench: UsagePage, distinct viewers, writes streaming in", flush=True)
    found: dict[str, Any] = {
        "distinct_viewers": distinct_viewers(
            wrk, url, page_body, tokens, writer, page_org
        )
    }
    print("bench: usageCheck by key kind", flush=True)
    found["usage_check"] = {}
    for kind, key in checkers.items():
        env = {"BENCH_BODY": str(check_body), "BENCH_TOKEN": key}
        found["usage_check"][kind] = {
            "1": wrk.run(url, "graphql.lua", env, connections=1, threads=1),
            "32": wrk.run(url, "graphql.lua", env),
        }
    print("bench: the hot path under a saturating page load", flush=True)
    check_env = {"BENCH_BODY": str(check_body), "BENCH_TOKEN": checkers["SERVICE"]}
    found["under_page_load"] = under_page_load(
        wrk,
        runner,
        url,
        page_body,
        tokens,
        {"usageCheck": ("graphql.lua", check_env), "recordUsage": single_events},
    )
    return found


def rows(results: dict[str, Any], floor_rps: float) -> list[tuple[str, str, str, str]]:
    """The table's rows for these loads: figure, measured, baseline, target."""
    loads = results.get("user_loads")
    if not loads:
        return []

    def of_floor(value: float, target: str) -> str:
        return f"{value / floor_rps:.3f}x the floor (target >= {target}x)"

    viewers = loads["distinct_viewers"]
    found = [
        (
            f"UsagePage, {viewers['viewers']} distinct viewers of one org, "
            f"{STREAMED_WRITES_PER_S} writes/s into it, 32 conns: req/s, p50 / p99",
            f"{viewers['rps']:,.0f}, {viewers['p50_ms']:.1f} / "
            f"{viewers['p99_ms']:.1f} ms",
            of_floor(viewers["rps"], str(FLOOR_RATIOS["distinct_viewers_rps"])),
            ">= 400 req/s, p99 <= 100 ms",
        )
    ]
    for kind, checks in loads["usage_check"].items():
        found.append(
            (
                f"usageCheck, {kind} key: p50 1 conn; req/s, p99 32 conns",
                f"{checks['1']['p50_ms']:.2f} ms; {checks['32']['rps']:,.0f}, "
                f"{checks['32']['p99_ms']:.1f} ms",
                of_floor(checks["32"]["rps"], str(FLOOR_RATIOS["usage_check_rps"])),
                ">= 2,000 req/s, p99 <= 50 ms, p50 <= 2 ms",
            )
        )
    single = results["record_usage"]["32x1"]
    found.append(
        (
            "recordUsage, one event per request, 32 conns: durable events/s, p99",
            f"{single['events_per_s']:,.0f}, {single['p99_ms']:.1f} ms",
            of_floor(
                single["events_per_s"], str(FLOOR_RATIOS["single_event_events_per_s"])
            ),
            ">= 3,000 events/s, p99 <= 100 ms",
        )
    )
    fair = loads["under_page_load"]
    for name in ("usageCheck", "recordUsage"):
        found.append(
            (
                f"{name}, {FAIRNESS_CONNECTIONS} conns, pages saturating: p50 / p99",
                f"{fair[name]['p50_ms']:.1f} / {fair[name]['p99_ms']:.1f} ms",
                f"pages meanwhile {fair['pages'].get('rps', 0):,.0f} req/s",
                "p99 <= 50 ms",
            )
        )
    return found
