"""Renders the operating dashboard from a real run: `python -m bench.dashboard`.

Starts `usage-gateway serve --demo` (SQLite, plus Redis when
USAGE_GATEWAY_TEST_REDIS_URL answers), drives a mixed load for `--seconds` (pages
by the admin, checks and single events by the operator key, a few refused tokens),
scrapes `/metrics` every two seconds, computes the panels of
`deploy/grafana/usage-gateway.json` from the scrapes (rates and p99 from the
histogram buckets, as PromQL would), draws them as SVG and has Debian's Chromium
take the picture: `docs/operating-dashboard.png`. Grafana itself is not installable
here, so the picture is this page's, panel for panel the dashboard's queries.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.demo_gateway import base_env, demo
from bench.operability import free_port

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "operating-dashboard.png"
DOCS = {
    name: (ROOT / "operations" / f"{name}.graphql").read_text()
    for name in ("usage_page", "usage_check", "record_usage")
}
Scrape = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def say(line: str) -> None:
    print(f"bench.dashboard: {line}", flush=True)


def parse(text: str) -> Scrape:
    found: Scrape = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _series(
    scrapes: list[tuple[float, Scrape]], name: str, by: str
) -> dict[str, list[float]]:
    """Per-second rate of a counter between consecutive scrapes, by one label."""
    out: dict[str, list[float]] = defaultdict(list)
    for (t0, a), (t1, b) in itertools.pairwise(scrapes):
        totals: dict[str, float] = defaultdict(float)
        for (metric, labels), value in b.items():
            if metric != name:
                continue
            key = dict(labels).get(by, "")
            totals[key] += value - a.get((metric, labels), 0.0)
        for key in set(totals) | set(out):
            out[key].append(max(0.0, totals.get(key, 0.0)) / (t1 - t0))
    return dict(out)


def _p99(scrapes: list[tuple[float, Scrape]], operation: str) -> list[float]:
    """histogram_quantile(0.99, rate(bucket)) per interval, in milliseconds."""
    name = "usage_gateway_graphql_operation_seconds_bucket"
    points = []
    for (_, a), (_, b) in itertools.pairwise(scrapes):
        buckets = []
        for (metric, labels), value in b.items():
            found = dict(labels)
            if metric == name and found.get("operation") == operation:
                buckets.append(
                    (float(found["le"]), value - a.get((metric, labels), 0.0))
                )
        buckets.sort()
        total = buckets[-1][1] if buckets else 0.0
        if total <= 0:
            points.append(0.0)
            continue
        rank, lower, below = 0.99 * total, 0.0, 0.0
        value = 0.0
        for upper, count in buckets:
            if count >= rank:
                if upper == float("inf"):
                    value = lower
                else:
                    share = (rank - below) / max(count - below, 1e-9)
                    value = lower + (upper - lower) * share
                break
            lower, below = upper, count
        points.append(value * 1000)
    return points


def _gauge(scrapes: list[tuple[float, Scrape]], name: str) -> list[float]:
    return [
        max((v for (m, _), v in scrape.items() if m == name), default=0.0)
        for _, scrape in scrapes[1:]
    ]


COLOURS = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9"]


def _svg(
    title: str, unit: str, series: dict[str, list[float]], seconds: list[float]
) -> str:
    width, height, pad = 620, 250, 40
    values = [v for points in series.values() for v in points] or [0.0]
    top = max(values) * 1.1 or 1.0
    span = (seconds[-1] - seconds[0]) or 1.0
    lines, legend = [], []
    for number, (name, points) in enumerate(sorted(series.items())):
        colour = COLOURS[number % len(COLOURS)]
        xy = " ".join(
            f"{pad + (t - seconds[0]) / span * (width - 2 * pad):.1f},"
            f"{height - pad - v / top * (height - 2 * pad):.1f}"
            for t, v in zip(seconds, points, strict=False)
        )
        lines.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{xy}"/>'
        )
        legend.append(
            f'<span style="color:{colour}">&#9632; {html.escape(name or "(none)")}'
            f" {points[-1] if points else 0:.1f}</span>"
        )
    grid = "".join(
        f'<line x1="{pad}" x2="{width - pad}" y1="{y}" y2="{y}" stroke="#333"/>'
        f'<text x="4" y="{y + 4}" fill="#999" font-size="10">'
        f"{top * (1 - i / 4):.3g}</text>"
        for i, y in enumerate(range(pad, height - pad + 1, (height - 2 * pad) // 4))
    )
    return (
        f'<div class="panel"><h2>{html.escape(title)} <small>{unit}</small></h2>'
        f'<svg width="{width}" height="{height}">{grid}{"".join(lines)}</svg>'
        f'<div class="legend">{" ".join(legend)}</div></div>'
    )


def render(scrapes: list[tuple[float, Scrape]], output: Path, note: str) -> None:
    seconds = [t for t, _ in scrapes[1:]]
    ops = _series(scrapes, "usage_gateway_graphql_operations_total", "operation")
    panels = [
        ("Operations per second by operation", "ops/s", ops),
        (
            "p99 latency: usageCheck, recordUsage, UsagePage",
            "ms",
            {
                name: _p99(scrapes, name)
                for name in ("UsageCheck", "RecordUsage", "UsagePage")
            },
        ),
        (
            "Errors by code",
            "errors/s",
            _series(scrapes, "usage_gateway_graphql_errors_total", "code"),
        ),
        (
            "Usage events by outcome",
            "events/s",
            _series(scrapes, "usage_gateway_usage_events_total", "status"),
        ),
        (
            "Counters read from (redis / sql-fallback / in-process)",
            "decisions/s",
            _series(scrapes, "usage_gateway_counter_decisions_total", "source"),
        ),
        (
            "Redis round trips and errors",
            "per s",
            {
                "round trips": _series(
                    scrapes, "usage_gateway_redis_round_trips_total", ""
                ).get("", []),
                "errors": _series(scrapes, "usage_gateway_redis_errors_total", "").get(
                    "", []
                ),
            },
        ),
        (
            "DB connections in use",
            "connections",
            {"in use": _gauge(scrapes, "usage_gateway_db_pool_connections_in_use")},
        ),
        (
            "Event loop lag",
            "ms",
            {
                "lag": [
                    v * 1000
                    for v in _gauge(scrapes, "usage_gateway_event_loop_lag_seconds")
                ]
            },
        ),
    ]
    body = "".join(_svg(title, unit, series, seconds) for title, unit, series in panels)
    page = f"""<!doctype html><meta charset="utf-8"><style>
body {{ background:#111217; color:#ccccdc; font:13px sans-serif; margin:16px; }}
h1 {{ font-size:18px; margin:0 0 4px; }} p {{ margin:0 0 12px; color:#999; }}
.grid {{ display:grid; grid-template-columns:repeat(2, 640px); gap:12px; }}
.panel {{ background:#181b1f; border:1px solid #2c3235; padding:8px; }}
h2 {{ font-size:13px; margin:0 0 4px; }} small {{ color:#888; }}
.legend span {{ margin-right:12px; }}
</style><h1>usage-gateway</h1><p>{html.escape(note)}</p>
<div class="grid">{body}</div>"""
    folder = Path(tempfile.mkdtemp(prefix="ug-dashboard-"))
    (folder / "dashboard.html").write_text(page)
    output.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            shutil.which("chromium") or "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={folder / 'profile'}",
            f"--screenshot={output}",
            "--window-size=1330,1160",
            f"file://{folder / 'dashboard.html'}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


async def _load(base: str, headers: dict[str, str], seconds: float) -> None:
    admin, operator = headers["admin"], headers["operator"]
    deadline = time.monotonic() + seconds
    counter = 0

    async def worker(number: int) -> None:
        nonlocal counter
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            while time.monotonic() < deadline:
                counter += 1
                kind = (counter + number) % 10
                if kind < 2:
                    body: dict[str, Any] = {
                        "query": DOCS["usage_page"],
                        "variables": {"org": "org_pipeline"},
                    }
                    auth = admin
                elif kind < 6:
                    body = {
                        "query": DOCS["usage_check"],
                        "variables": {
                            "org": "org_callbell",
                            "meter": "sms",
                            "quantity": "1",
                        },
                    }
                    auth = operator
                elif kind < 9:
                    event = {
                        "idempotencyKey": f"dash-{os.getpid()}-{counter}",
                        "organizationId": "org_callbell",
                        "meter": "sms",
                        "quantity": "1",
                    }
                    body = {
                        "query": DOCS["record_usage"],
                        "variables": {"events": [event]},
                    }
                    auth = operator
                else:
                    body = {
                        "query": DOCS["usage_check"],
                        "variables": {
                            "org": "org_callbell",
                            "meter": "sms",
                            "quantity": "1",
                        },
                    }
                    auth = "Bearer not-a-token"  # UNAUTHENTICATED
                await client.post(
                    "/graphql", json=body, headers={"Authorization": auth}
                )

    await asyncio.gather(*(worker(n) for n in range(8)))


async def _scrape(
    base: str, seconds: float, every: float
) -> list[tuple[float, Scrape]]:
    scrapes = []
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() - started <= seconds:
            scrapes.append(
                (time.monotonic() - started, parse((await client.get("/metrics")).text))
            )
            await asyncio.sleep(every)
    return scrapes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ug-dashboard-run-"))
    redis: str | None = os.environ.get(
        "USAGE_GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/10"
    )
    flushed = subprocess.run(
        ["redis-cli", "-u", str(redis), "flushdb"], capture_output=True, check=False
    )
    if flushed.returncode != 0:
        redis = None
    env = base_env(folder, redis)
    say("starting serve --demo (loading the demo takes a while)")
    with demo(folder, env, free_port(), say) as (base, headers):
        say(f"driving a mixed load for {args.seconds:.0f} s and scraping /metrics")

        async def run() -> list[tuple[float, Scrape]]:
            scrapes, _ = await asyncio.gather(
                _scrape(base, args.seconds, 2.0), _load(base, headers, args.seconds)
            )
            return scrapes

        scrapes = asyncio.run(run())
    counters = "Redis" if redis is not None else "in-process counters"
    note = (
        f"A real run: serve --demo (SQLite, {counters}), 8 clients for "
        f"{args.seconds:.0f} s: "
        "UsagePage as the demo admin, usageCheck and single-event recordUsage with the "
        "operator key, and refused tokens; /metrics scraped every 2 s."
    )
    render(scrapes, args.output, note)
    say(f"wrote {args.output.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
