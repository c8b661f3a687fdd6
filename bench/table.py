"""The README's Performance table from a `bench.run` result: each figure, its
baseline measured in the same run, and its target."""

from __future__ import annotations

from typing import Any

from bench import user_loads

TARGETS = {
    "usage_page_rps": ">= 400 req/s",
    "usage_page_p99_ms": "<= 100 ms",
    "usage_page_statements": "<= 15, constant",
    "partner_statements": "100 orgs = 1 org",
    "usage_page_10m_over_10k": "<= 1.3x",
    "usage_check_p50_ms": "<= 3 ms",
    "usage_check_p99_ms": "<= 10 ms",
    "record_usage_events_per_s_1000": ">= 20,000 events/s",
}


def table(results: dict[str, Any]) -> str:
    """The README's Performance table: each figure, its baseline and its target."""
    page = results["usage_page"]
    computed = results["usage_page_computed"]
    floor = results["http_floor"]
    by_events = results["usage_page_by_events"]
    statements = results["statements"]
    check = results["usage_check"]
    partner = results["partner"]
    record = results["record_usage"]
    redis = results["redis_floor"].get("incr_per_s", 0.0)
    sizes = list(by_events)
    ratio = by_events[sizes[-1]]["p50_ms"] / by_events[sizes[0]]["p50_ms"]
    rows = [
        ("figure", "measured", "baseline (same run)", "target"),
        ("---", "---", "---", "---"),
        (
            "UsagePage, 1M events, 32 conns: req/s",
            f"{page['rps']:,.0f}",
            f"HTTP floor {floor['rps']:,.0f} ({page['rps'] / floor['rps']:.1%})",
            TARGETS["usage_page_rps"],
        ),
        (
            "UsagePage, 1M events, 32 conns: p50 / p99",
            f"{page['p50_ms']:.1f} / {page['p99_ms']:.1f} ms",
            f"HTTP floor {floor['p50_ms']:.1f} / {floor['p99_ms']:.1f} ms",
            TARGETS["usage_page_p99_ms"] + " (p99)",
        ),
        (
            "UsagePage computed (response cache off), 32 conns: req/s",
            f"{computed['rps']:,.0f}",
            f"{computed['rps'] / page['rps']:.1%} of the cached figure",
            "",
        ),
        (
            "UsagePage computed, 32 conns: p50 / p99",
            f"{computed['p50_ms']:.1f} / {computed['p99_ms']:.1f} ms",
            "",
            "",
        ),
        (
            "SQL statements per UsagePage, 10 / 100 / 1,000 rows",
            " / ".join(str(v["statements"]) for v in statements["usage_page"].values()),
            "",
            TARGETS["usage_page_statements"],
        ),
        *(
            (
                f"UsagePage computed, {size} events, 1 conn: p50 / p99 "
                f"({by_events[sizes[0]]['rounds']} alternating rounds)",
                f"{by_events[size]['p50_ms']:.1f} / {by_events[size]['p99_ms']:.1f} ms",
                f"{by_events[size]['p50_ms'] / by_events[sizes[0]]['p50_ms']:.2f}x "
                f"the {sizes[0]} p50",
                TARGETS["usage_page_10m_over_10k"] if size == sizes[-1] else "",
            )
            for size in sizes
        ),
        (
            "usageCheck, 1 conn: p50 / p99",
            f"{check['1']['p50_ms']:.2f} / {check['1']['p99_ms']:.2f} ms",
            f"{check['1']['rps']:,.0f} req/s",
            "<= 3 / <= 10 ms",
        ),
        (
            "usageCheck, 32 conns: p50 / p99",
            f"{check['32']['p50_ms']:.1f} / {check['32']['p99_ms']:.1f} ms",
            f"{check['32']['rps']:,.0f} req/s",
            "",
        ),
        *(
            (
                f"recordUsage, batches of {run['batch']}, {run['connections']} conns: "
                "durable events/s",
                f"{run['events_per_s']:,.0f}",
                f"redis INCR -P 16: {redis:,.0f}/s" if run["batch"] == 1000 else "",
                TARGETS["record_usage_events_per_s_1000"]
                if run["batch"] == 1000 and run["connections"] == 4
                else "",
            )
            for run in record.values()
        ),
        *(
            (
                f"PartnerBillingState, {count} org(s): statements, p50 1 conn, "
                "req/s 32 conns",
                f"{statements['partner'][count]['statements']} stmts, "
                f"{partner[count]['1']['p50_ms']:.1f} ms, "
                f"{partner[count]['32']['rps']:,.0f} req/s",
                "",
                TARGETS["partner_statements"] if count == "100" else "",
            )
            for count in partner
        ),
        *user_loads.rows(results, floor["rps"]),
    ]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("")
    lines.append(
        f"{sizes[-1]}/{sizes[0]} p50 ratio: {ratio:.2f}x. {results['when']}, "
        f"{results['machine']}; wrk {results['wrk']}."
    )
    return "\n".join(lines)
