"""`/metrics`: what was sent is what is counted, per operation, outcome and code;
scraping is loopback-only or needs the token; several workers count as one."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from graphql import OperationDefinitionNode, parse
from prometheus_client.parser import text_string_to_metric_families

from schema.metrics import KNOWN_OPERATIONS
from tests import factories as f
from tests.gateway_client import gateway, operation
from tests.processes import create_operator_key, serve_env, start_gateway

NOW = datetime.now(UTC)
OPERATIONS = Path(__file__).resolve().parents[2] / "operations"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of a scrape by (name, labels)."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(scraped: Samples, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def _seed(url: str) -> str:
    return await f.subscribed_with_operator(url, "org_metrics", "3")


def _event(key: str) -> dict[str, str]:
    return {
        "idempotencyKey": key,
        "organizationId": "org_metrics",
        "meter": "enrichments",
        "quantity": "1",
    }


def test_operation_labels_are_the_repositorys_documents() -> None:
    """The bounded label set follows operations/ (plus GraphiQL's introspection)."""
    names = {
        definition.name.value
        for path in OPERATIONS.glob("*.graphql")
        for definition in parse(path.read_text()).definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name
    }

    assert names | {"IntrospectionQuery"} == KNOWN_OPERATIONS


async def test_a_known_mix_of_requests_is_counted_exactly(sqlite_url: str) -> None:
    secret = await _seed(sqlite_url)
    check = {"org": "org_metrics", "meter": "enrichments", "quantity": "1"}
    async with gateway(sqlite_url) as api:
        before = samples((await api.client.get("/metrics")).text)
        for _ in range(3):
            await api.execute(operation("usage_check"), check, token=secret)
        for events in ([_event("m-1")], [_event("m-2"), _event("m-1")]):
            await api.execute(
                operation("record_usage"), {"events": events}, token=secret
            )
        for number in range(3):  # the limit is 3: the fourth and fifth are denied
            await api.execute(
                operation("record_usage"),
                {"events": [_event(f"m-{3 + number}")]},
                token=secret,
            )
        await api.execute("query Hostile123 { viewer { kind } }", token=secret)
        await api.execute("query Broken { nope }", token=secret)
        await api.execute(operation("usage_page"), {"org": "org_metrics"})  # no token
        after = samples((await api.client.get("/metrics")).text)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    ops = "usage_gateway_graphql_operations_total"
    assert delta(ops, operation="UsageCheck", type="query") == 3
    assert delta(ops, operation="RecordUsage", type="mutation") == 5
    assert delta(ops, operation="other", type="query") == 2
    errors = "usage_gateway_graphql_errors_total"
    assert delta(errors, operation="other", code="BAD_USER_INPUT") == 1
    assert delta(errors, operation="other", code="INTERNAL") == 0
    assert delta(ops, operation="UsagePage", type="query") == 1
    assert (
        delta(
            "usage_gateway_graphql_errors_total",
            operation="UsagePage",
            code="UNAUTHENTICATED",
        )
        >= 1
    )
    recorded = "usage_gateway_usage_events_total"
    assert delta(recorded, status="ACCEPTED", code="") == 3
    assert delta(recorded, status="DUPLICATE", code="") == 1
    assert delta(recorded, status="DENIED", code="LIMIT_REACHED") == 2
    assert (
        delta("usage_gateway_usage_checks_total", allowed="true", code="ALLOWED") == 3
    )
    assert delta("usage_gateway_counter_decisions_total", source="in-process") == 8
    assert (
        delta("usage_gateway_http_requests_total", route="/graphql", status="200") == 11
    )
    histogram = "usage_gateway_graphql_operation_seconds_count"
    assert delta(histogram, operation="UsageCheck") == 3


async def test_metrics_answer_loopback_clients_only_without_a_token(
    sqlite_url: str,
) -> None:
    async with gateway(sqlite_url) as api:
        assert api.app is not None
        remote = httpx.ASGITransport(app=api.app, client=("203.0.113.9", 4000))
        async with httpx.AsyncClient(
            transport=remote, base_url="http://test"
        ) as client:
            refused = await client.get("/metrics")
        local = await api.client.get("/metrics")

    assert refused.status_code == 403
    assert local.status_code == 200
    assert local.headers["content-type"].startswith("text/plain")


async def test_metrics_need_the_token_when_one_is_set(sqlite_url: str) -> None:
    async with gateway(sqlite_url, metrics_token="scrape-secret") as api:
        missing = await api.client.get("/metrics")
        wrong = await api.client.get("/metrics", headers={"Authorization": "Bearer no"})
        right = await api.client.get(
            "/metrics", headers={"Authorization": "Bearer scrape-secret"}
        )

    assert (missing.status_code, wrong.status_code, right.status_code) == (
        401,
        401,
        200,
    )
    assert "usage_gateway_graphql_operations_total" in right.text


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = serve_env(f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}")
    env["USAGE_GATEWAY_WORKERS"] = "2"
    secret = create_operator_key(env, tmp_path)
    process, base = start_gateway(env, tmp_path, "workers")
    try:
        yield base, secret
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_two_worker_processes_are_counted_as_one_gateway(
    two_workers: tuple[str, str],
) -> None:
    """Each request on a new connection may land on either worker; one scrape,
    answered by one of them, counts all (prometheus-client's multiprocess mode)."""
    base, secret = two_workers
    for _ in range(40):
        request = urllib.request.Request(
            base + "/graphql",
            data=b'{"query": "query MobileSummary { viewer { kind } }"}',
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {secret}",
                "Connection": "close",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
    scraped = []
    for _ in range(4):
        with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
            scraped.append(samples(response.read().decode()))

    counted = "usage_gateway_graphql_operations_total"
    assert {
        value(scrape, counted, operation="MobileSummary", type="query")
        for scrape in scraped
    } == {40.0}


async def test_metrics_off_serve_no_endpoint_and_count_no_operation(
    sqlite_url: str,
) -> None:
    from prometheus_client import REGISTRY

    def answered() -> float:
        return (
            REGISTRY.get_sample_value(
                "usage_gateway_graphql_operations_total",
                {"operation": "MobileSummary", "type": "query"},
            )
            or 0.0
        )

    before = answered()
    async with gateway(sqlite_url, metrics=False) as api:
        scrape = await api.client.get("/metrics")
        await api.execute("query MobileSummary { viewer { kind } }")

    assert scrape.status_code == 404
    assert answered() == before
