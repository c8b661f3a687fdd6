"""The reference usage page (/usage, the `<usage-page>` element; issue 22) in Debian's
headless Chromium (clients/usage-page-browser.mjs, playwright-core, no browser
download) against a real `serve --demo`, with no network but the gateway.

Each figure the page shows is held against what the gateway answers the same token
over HTTP: the admin sees the AI budget in dollars, the member the same budget as a
percentage and no dollar anywhere in it, no directory and no top tables; usage
recorded over HTTP moves the bar through the live subscription within a second; the
chart's 24 h / 7 d / 30 d switch draws the gateway's buckets; the top tables and the
member directory page (by a larger `first`, by cursor); the paused-AI banner shows
where `aiAccessPaused` is true and nowhere else; no console errors; axe-core
finds nothing serious or critical at desktop and phone width; nothing overflows a
phone's width.

Screenshots (desktop 1280 px and phone 390 px, admin and member) are kept in the
folder the test prints (`USAGE_PAGE_ARTEFACTS` names one; else under pytest's
`tmp_path`). With `USAGE_PAGE_README_SCREENSHOTS=1` the desktop ones are copied to
`docs/usage-page-{admin,member}.png`, the README's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx

from gateway import demo
from tests.clients.live_gateway import json_lines
from tests.clients.node import require_node, run_client
from tests.clients.test_graphiql_browser import demo_gateway, require_chromium

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "operations"
METER = "contacts"  # a SOFT limit on the demo's Pipeline CRM: never denied
PAGING_ORG = "org_forge"  # the operator's view: eight top workspaces, pages of five
PAUSED_ORG = "org_orbit"  # past due, payment retries exhausted: AI access paused
PAGE_SIZE = 5  # the element's default `page-size`
SERIOUS = {"serious", "critical"}
RANGES = {"LAST_24_HOURS": "HOUR", "LAST_7_DAYS": "DAY", "LAST_30_DAYS": "WEEK"}


def _graphql(
    base: str, token: str, document: str, variables: dict[str, Any]
) -> dict[str, Any]:
    answer = httpx.post(
        base + "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    body = answer.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def _money(amount: str) -> str:
    """Intl.NumberFormat('en-US', {style: 'currency', currency: 'USD'}) of
    Number(amount): the double's exact value, rounded half away from zero."""
    cents = Decimal(float(amount)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"${cents:,.2f}"


def _percent(value: float) -> str:
    """Intl.NumberFormat('en-US', {style: 'percent', maximumFractionDigits: 1}) of
    value / 100, as the page formats the gateway's 0-100 percentages."""
    exact = (Decimal(value / 100) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"{exact:f}".removesuffix(".0") + "%"


def _used(amount: str) -> int:
    """ "40,202 of 50,000 contacts" -> 40202."""
    found = re.match(r"^([\d,]+) of ", amount)
    assert found, amount
    return int(found.group(1).replace(",", ""))


def _png_width(path: Path) -> int:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    return int(struct.unpack(">I", header[16:20])[0])


def _artefacts(tmp_path: Path) -> Path:
    named = os.environ.get("USAGE_PAGE_ARTEFACTS")
    folder = Path(named).resolve() if named else tmp_path / "usage-page-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_usage_page_renders_by_role_moves_live_switches_pages_and_passes_axe(
    tmp_path: Path,
) -> None:
    require_node()
    chromium = require_chromium()
    shots = _artefacts(tmp_path)
    print(f"\nusage page screenshots: {shots}")
    org = demo.DEMO_ORGANIZATION
    with demo_gateway(tmp_path) as gateway:
        tokens = {
            label: json.loads(gateway.printed[label])["Authorization"].removeprefix(
                "Bearer "
            )
            for label in ("admin", "member", "operator")
        }
        env = {
            **os.environ,
            "GATEWAY_URL": gateway.base,
            "ORG": org,
            "RECORD_TOKEN": tokens["operator"],
            "METER": METER,
            "PAGING_ORG": PAGING_ORG,
            "PAUSED_ORG": PAUSED_ORG,
            "SHOTS": str(shots),
            "CHROMIUM": chromium,
        }
        ran = run_client("usage-page-browser.mjs", env=env, timeout=300)
        output = ran.stdout + ran.stderr
        assert ran.returncode == 0, output

        # What the gateway answers each token, asked over HTTP after the browser ran.
        page_doc = (OPERATIONS / "usage_page.graphql").read_text()
        chart_doc = (OPERATIONS / "usage_chart.graphql").read_text()
        directory_doc = (OPERATIONS / "members.graphql").read_text()
        pages = {
            who: _graphql(gateway.base, tokens[who], page_doc, {"org": org})
            for who in ("admin", "member")
        }
        charts = {
            range_: _graphql(
                gateway.base,
                tokens["admin"],
                chart_doc,
                {"org": org, "range": range_, "first": PAGE_SIZE},
            )["organization"]
            for range_ in RANGES
        }
        users_total = charts["LAST_7_DAYS"]["topUsers"]["totalCount"]
        members_total = pages["admin"]["organization"]["members"]["totalCount"]
        found = _graphql(
            gateway.base,
            tokens["admin"],
            directory_doc,
            {"org": org, "search": "chen", "first": 20},
        )["organization"]["members"]
        workspaces = _graphql(
            gateway.base,
            tokens["operator"],
            chart_doc,
            {"org": PAGING_ORG, "range": "LAST_7_DAYS", "first": 2 * PAGE_SIZE},
        )["organization"]["topWorkspaces"]
        paused = _graphql(
            gateway.base, tokens["operator"], page_doc, {"org": PAUSED_ORG}
        )["organization"]

    lines = json_lines(ran.stdout)
    views = {line["as"]: line for line in lines if line["event"] == "view"}
    events = {line["event"]: line for line in lines}

    # ----- both roles render the gateway's answer; the member's is redacted -----
    admin_org = pages["admin"]["organization"]
    member_org = pages["member"]["organization"]
    for who, view in views.items():
        assert view["heading"] == f"Usage — {admin_org['name']}", (who, view)
    admin_ai, member_ai = admin_org["aiBudget"], member_org["aiBudget"]
    assert admin_ai["spentUsd"] is not None
    assert admin_ai["limitUsd"] is not None
    assert member_ai["spentUsd"] is None
    assert member_ai["limitUsd"] is None
    assert member_ai["percentUsed"] == admin_ai["percentUsed"]

    admin, member = views["admin"], views["member"]
    assert admin["aiSummary"] == (
        f"{_money(admin_ai['spentUsd'])} of {_money(admin_ai['limitUsd'])} used"
    )
    assert admin["aiCategories"] == ["Category", "Tier", "Share", "Spent"]
    assert "$" in admin["aiSpendMeter"], admin["aiSpendMeter"]
    assert member["aiSummary"] == (
        f"{_percent(member_ai['percentUsed'])} of the monthly AI budget used"
    )
    assert member["aiCategories"] == ["Category", "Tier", "Share"]
    assert member["aiSpendMeter"].endswith("% used"), member["aiSpendMeter"]
    assert "$" not in member["aiPanel"], member["aiPanel"]
    assert "$" not in member["metersPanel"], member["metersPanel"]
    # The directory and the top tables need billing:read:all: the admin's only.
    assert admin_org["members"] is not None
    assert member_org["members"] is None
    assert admin["directory"] is True
    assert admin["top"] is True
    assert admin["seatActions"] > 0
    assert member["directory"] is False
    assert member["top"] is False
    assert member["seatActions"] == 0
    assert "Members and seats" in admin["panels"]
    assert "Members and seats" not in member["panels"]
    seats = admin_org["seats"]
    assert admin["seats"] == f"{seats['allocated']} of {seats['total']} seats used"

    # ----- live: recorded over HTTP, the bar moved within a second -----
    live = events["live"]
    assert live["ms"] is not None, live
    assert live["ms"] <= 1000, live
    moved_by = _used(live["after"]["amount"]) - _used(live["before"]["amount"])
    assert moved_by == len(live["attempts"]) >= 1, live  # one unit per record
    assert live["after"]["valuetext"] == live["after"]["amount"]
    contacts = next(m for m in admin_org["meters"] if m["key"] == METER)
    assert _used(live["after"]["amount"]) == int(Decimal(contacts["used"])), live

    # ----- the chart's range switch draws the gateway's buckets -----
    chart = events["chart"]
    for range_, granularity in RANGES.items():
        series = charts[range_]["usageSeries"]
        assert series["granularity"] == granularity
        assert chart[range_] == {
            "granularity": granularity,
            "points": len(series["points"]),
            "rows": len(series["points"]),
        }, (range_, chart[range_])
    assert chart["LAST_24_HOURS"]["points"] == 24
    assert chart["LAST_7_DAYS"]["points"] == 7

    # ----- paging: top users, the member directory, search, top workspaces -----
    paging = events["paging"]
    assert users_total > PAGE_SIZE
    assert paging["usersBefore"] == PAGE_SIZE
    assert paging["usersAfter"] == min(2 * PAGE_SIZE, users_total)
    assert paging["membersBefore"] == 20
    assert paging["membersAfter"] == min(40, members_total)
    assert paging["caption"] == f"Members ({paging['membersAfter']} of {members_total})"
    expected = [edge["node"]["name"] for edge in found["edges"]]
    assert expected, found
    assert paging["found"] == expected, paging
    assert all("chen" in name.lower() for name in paging["found"])
    paged = events["workspaces"]
    names = [edge["node"]["name"] for edge in workspaces["edges"]]
    assert workspaces["totalCount"] > PAGE_SIZE
    assert paged["before"] == PAGE_SIZE
    assert paged["firstPage"] == names[:PAGE_SIZE]
    assert paged["names"] == names  # the second page by cursor, no repeats
    assert len(set(paged["names"])) == len(paged["names"])
    total = workspaces["totalCount"]
    assert paged["caption"] == f"Top workspaces ({len(names)} of {total})"

    # ----- the paused-AI (past-due) banner where the gateway says so, only there --
    assert paused["aiAccessPaused"] is True
    assert admin_org["aiAccessPaused"] is False
    assert admin["banners"] == member["banners"] == []
    assert events["paused"]["banners"] == ["ai-paused"], events["paused"]
    assert events["paused"]["role"] == "alert"
    assert events["paused"]["text"].startswith("AI access is paused."), events["paused"]

    # ----- accessibility, phone width, console, network -----
    audits = [line for line in lines if line["event"] == "axe"]
    assert {(a["as"], a["width"]) for a in audits} == {
        ("admin", 1280),
        ("admin", 390),
        ("member", 1280),
        ("member", 390),
    }
    serious = [
        (a["as"], a["width"], v)
        for a in audits
        for v in a["violations"]
        if v["impact"] in SERIOUS
    ]
    assert serious == [], serious
    phones = [line for line in lines if line["event"] == "phone"]
    assert [p["overflow"] for p in phones] == [0, 0], phones
    assert events["problems"]["problems"] == [], events["problems"]
    network = events["network"]
    assert network["blocked"] == []
    assert all(url.startswith(gateway.base + "/") for url in network["requests"])
    assert set(network["websockets"]) == {
        gateway.base.replace("http", "ws", 1) + "/graphql"
    }
    assert "failed" not in events

    # ----- screenshots, kept -----
    for who in ("admin", "member"):
        assert _png_width(shots / f"usage-page-{who}.png") == 1280
        assert _png_width(shots / f"usage-page-{who}-phone.png") == 390
    if os.environ.get("USAGE_PAGE_README_SCREENSHOTS") == "1":
        for who in ("admin", "member"):
            shutil.copyfile(
                shots / f"usage-page-{who}.png", ROOT / "docs" / f"usage-page-{who}.png"
            )
