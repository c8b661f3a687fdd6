"""`LOG_FORMAT=json`: every line parses, and a request's access line carries the
request id its caller gave (or one made for it), never a token or key."""

from __future__ import annotations

import json
import logging
import re
import signal
import urllib.request
from pathlib import Path
from typing import Any

from gateway.logs import JsonFormatter, RequestIdFilter
from schema.metrics import ACCESS, AccessRecord
from tests.processes import create_operator_key, serve_env, start_gateway


def _post(base: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[str, Any]:
    request = urllib.request.Request(
        base + "/graphql",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers["X-Request-Id"], json.loads(response.read())


def test_json_access_lines_carry_the_request_id_and_no_secret(tmp_path: Path) -> None:
    env = serve_env(f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}")
    env.update(USAGE_GATEWAY_LOG_FORMAT="json", USAGE_GATEWAY_LOG_LEVEL="info")
    secret = create_operator_key(env, tmp_path)
    process, base = start_gateway(env, tmp_path, "logs")
    auth = {"Authorization": f"Bearer {secret}"}
    try:
        _post(
            base,
            {
                "query": 'mutation { upsertOrganization(input: {id: "org_logs", '
                'name: "Logs", billingState: PAID}) { userErrors { code } } }'
            },
            auth,
        )
        given, page = _post(
            base,
            {
                "query": "query Meters($org: ID!) { organization(id: $org) { name } }",
                "variables": {"org": "org_logs"},
            },
            {**auth, "X-Request-Id": "trace-me-42"},
        )
        replaced, _ = _post(
            base,
            {"query": "query UsageCheck { viewer { kind } }"},
            {**auth, "X-Request-Id": "no spaces <allowed>"},
        )
        _, missing = _post(
            base,
            {"query": 'query UsagePage { organization(id: "org_nowhere") { name } }'},
            auth,
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    text = (tmp_path / "logs.log").read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    access = {
        line["request_id"]: line
        for line in lines
        if line["logger"] == "usage_gateway.access"
    }

    assert page["data"]["organization"]["name"] == "Logs"
    assert given == "trace-me-42"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    line = access["trace-me-42"]
    assert {key: line[key] for key in ("method", "path", "status", "operation")} == {
        "method": "POST",
        "path": "/graphql",
        "status": 200,
        "operation": "Meters",
    }
    assert (line["caller"], line["organization"], line["codes"]) == (
        "OPERATOR",
        "org_logs",
        [],
    )
    assert line["duration_ms"] > 0
    assert access[replaced]["operation"] == "UsageCheck"
    assert [e["extensions"]["code"] for e in missing["errors"]] == ["NOT_FOUND"]
    assert ["NOT_FOUND"] in [entry["codes"] for entry in access.values()]
    assert secret not in text
    assert "no spaces" not in text


def test_every_line_logged_in_a_request_carries_its_id() -> None:
    record = logging.LogRecord(
        "usage_gateway.live", logging.WARNING, "", 0, "x", None, None
    )
    token = ACCESS.set(AccessRecord(request_id="req-7"))
    try:
        RequestIdFilter().filter(record)
    finally:
        ACCESS.reset(token)
    outside = logging.LogRecord("usage_gateway", logging.INFO, "", 0, "y", None, None)
    RequestIdFilter().filter(outside)

    assert json.loads(JsonFormatter().format(record))["request_id"] == "req-7"
    assert json.loads(JsonFormatter().format(outside))["request_id"] == "-"
