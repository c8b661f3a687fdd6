"""The deploy/ examples (Prometheus scrape config, alert rules, Grafana dashboard)
name only metrics the gateway really exposes, and parse as their tools read them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml  # type: ignore[import-untyped]
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway_client import gateway

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NAMED = re.compile(r"\busage_gateway_[a-z_]+")
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def _expressions() -> list[str]:
    rules = yaml.safe_load(
        (DEPLOY / "prometheus" / "usage-gateway-alerts.yml").read_text()
    )
    dashboard = json.loads((DEPLOY / "grafana" / "usage-gateway.json").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]] + [
        target["expr"] for panel in dashboard["panels"] for target in panel["targets"]
    ]


def test_the_scrape_config_loads_the_alert_rules() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())

    assert config["rule_files"] == ["usage-gateway-alerts.yml"]
    assert config["scrape_configs"][0]["metrics_path"] == "/metrics"


async def test_alerts_and_panels_read_metrics_the_gateway_exposes(
    sqlite_url: str,
) -> None:
    async with gateway(sqlite_url) as api:
        scraped = (await api.client.get("/metrics")).text
    exposed = set()
    for family in text_string_to_metric_families(scraped):
        exposed.add(family.name)
        exposed.update(family.name + suffix for suffix in SUFFIXES)
    named = {
        name for expression in _expressions() for name in NAMED.findall(expression)
    }

    assert len(_expressions()) >= 20
    assert named, "no usage_gateway_ metric named"
    assert named - exposed == set()
