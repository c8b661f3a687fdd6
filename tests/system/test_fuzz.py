"""A bounded GraphQL fuzz run against a real `usage-gateway serve`, on the embedded
default (SQLite, no Redis) and on PostgreSQL + Redis.

Hypothesis generates documents over schema.graphql with hypothesis-graphql's
`queries` and `mutations` (values in `tests/fuzz_strategies.py`: the demo's ids most
of the time, and the edges of ID, String, Int, Decimal and DateTime), and sends each
over HTTP as one of the demo's callers (operator key, Pipeline CRM's admin and
member, the partner key, a SERVICE key of Pipeline CRM), half of them with every
argument moved into variables, with either response media type. No answer may be
a 5xx, carry an error with `extensions.code == "INTERNAL"`, or leave a traceback in
the gateway's log. Then, since no input may make a later read fail, the Usage page
(operations/usage_page.graphql) of every demo organization still answers without
errors for the operator, and without INTERNAL for the CRM's admin.

The database is the demo's catalog and organizations with the usage of its last
`SEED_DAYS` days (all of it on cumulative meters), loaded through `gateway.demo` and
the real write path in seconds (the whole demo takes half a minute), so reads and
writes hit real rows.

Every problem found is collected rather than shrunk (shrinking against a live,
changing database is slow and not faithful); the test fails at the end listing one
reproduction per distinct problem: backend, caller, document, variables, the answer
and the traceback, the smallest document that showed it.

Bounds and reproducibility: `derandomize=True` and no example database, so every run
(CI included) sends the same documents; `USAGE_GATEWAY_FUZZ_EXAMPLES` (default
`DEFAULT_EXAMPLES`, per backend) runs more on demand, e.g.

    USAGE_GATEWAY_FUZZ_EXAMPLES=3000 .venv/bin/pytest tests/system/test_fuzz.py

and `USAGE_GATEWAY_FUZZ_SEED=<n>` replaces derandomization with that seed, for a
different (still reproducible) set of documents.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import select

from auth.tokens import issue_jwt
from gateway import demo
from rules.enums import ApiKeyKind, Resets, UsageStatus
from store import provisioning as p
from store.allowance import sync_daily_allowance
from store.api_keys import create_api_key
from store.catalog import BUILTIN_METERS
from store.db import create_engine, session_factory
from store.models import Organization
from store.recording import record_usage
from tests.clients.live_gateway import JWT_SECRET, backends
from tests.fuzz_strategies import DOCUMENTS, hoisted
from tests.gateway_client import operation
from tests.processes import serve_env, start_gateway

DEFAULT_EXAMPLES = 250
EXAMPLES = int(os.environ.get("USAGE_GATEWAY_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
SEED = os.environ.get("USAGE_GATEWAY_FUZZ_SEED")
_KEEP = os.environ.get("USAGE_GATEWAY_FUZZ_FINDINGS")
KEEP = Path(_KEEP) if _KEEP else None
"""A folder for each backend's findings and the journal of what it was sent."""
SEED_DAYS = 14
"""Usage of the demo's last two weeks: every organization's current cycle has some."""
CALLERS = ("operator", "operator", "admin", "member", "partner", "service")
ACCEPTS = ("application/json", "application/graphql-response+json")
USAGE_PAGE = operation("usage_page")
CUMULATIVE = frozenset(m.key for m in BUILTIN_METERS if m.resets is Resets.NEVER)


# ------------------------------------------------------------------ the database


async def seed_demo(database_url: str, now: datetime) -> dict[str, str]:
    """The demo's catalog and organizations with their recent usage; the secrets of
    an operator, a partner (every demo organization) and a SERVICE key (Pipeline
    CRM), by caller name."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    organizations = demo._organizations()
    try:
        async with sessions() as session:
            for price in demo.MODEL_PRICES:
                await p.set_model_price(session, price)
            for plan in demo.PLANS:
                await p.upsert_plan(session, plan)
            await session.commit()
        for organization in organizations:
            async with sessions() as session:
                await demo._provision(session, organization, now)
                await session.commit()
        since = now - timedelta(days=SEED_DAYS)
        for organization in organizations:
            events = sorted(
                (
                    event
                    for event in demo._usage(organization, now)
                    # Cumulative meters whole: releases need what they free.
                    if event.meter in CUMULATIVE or (event.occurred_at or now) >= since
                ),
                key=lambda event: (event.occurred_at or now, event.idempotency_key),
            )
            for start in range(0, len(events), demo.BATCH_SIZE):
                outcomes = await record_usage(
                    sessions, events[start : start + demo.BATCH_SIZE], now
                )
                assert not [o for o in outcomes if o.status is UsageStatus.INVALID]
        async with sessions() as session:
            await sync_daily_allowance(session, "org_meetly", now)
        secrets: dict[str, str] = {}
        async with sessions() as session:
            for name, kind, organization_ids in (
                ("operator", ApiKeyKind.OPERATOR, ()),
                ("partner", ApiKeyKind.PARTNER, demo.DEMO_ORGANIZATIONS),
                ("service", ApiKeyKind.SERVICE, (demo.DEMO_ORGANIZATION,)),
            ):
                _, secrets[name] = await create_api_key(
                    session, kind, f"fuzz {name}", tuple(organization_ids), now
                )
            await session.commit()
        return secrets
    finally:
        await engine.dispose()


async def organization_ids(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(Organization.id))
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


async def forget_in_redis(redis_url: str, organizations: set[str]) -> None:
    """Drop the Redis keys of `organizations` (counters, claims, generations): the
    demo's ids are fixed and the fuzzer's are derandomized, so a later run on a
    fresh database must not meet this run's counters."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        doomed = [
            key
            async for key in client.scan_iter(match="ug:{*", count=1000)
            if key.decode(errors="replace")[4:].partition("}")[0] in organizations
        ]
        for start in range(0, len(doomed), 500):
            await client.delete(*doomed[start : start + 500])
    finally:
        await client.aclose()


# ------------------------------------------------------------------ the gateway


@dataclass
class Finding:
    problem: str
    backend: str
    caller: str
    accept: str
    document: str
    variables: dict[str, Any]
    status: int
    answer: str
    traceback: str
    seen: int = 1

    @property
    def size(self) -> int:
        return len(self.document) + len(json.dumps(self.variables))

    def report(self) -> str:
        return (
            f"[{self.backend}] {self.problem} (seen {self.seen}x)\n"
            f"  caller: {self.caller}, Accept: {self.accept}, HTTP {self.status}\n"
            f"  document: {self.document}\n"
            f"  variables: {json.dumps(self.variables, ensure_ascii=True)[:2000]}\n"
            f"  answer: {self.answer[:1500]}\n"
            f"  traceback:\n{self.traceback[-4000:]}"
        )


@dataclass
class FuzzedGateway:
    backend: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    tokens: dict[str, str]
    findings: dict[str, Finding] = field(default_factory=dict)
    sent: int = 0
    executed: int = 0
    """Documents that ran (an answer with `data`), not refused before executing."""
    codes: dict[str, int] = field(default_factory=dict)
    journal: Path | None = None
    slowest: list[tuple[float, int]] = field(default_factory=list)
    """The three slowest answers: (seconds, the request's number in the journal)."""
    """Where every request is appended, in order (with USAGE_GATEWAY_FUZZ_FINDINGS)."""
    _offset: int = 0

    def new_log(self) -> str:
        """What the gateway logged since the last call."""
        with self.log.open("rb") as output:
            output.seek(self._offset)
            text = output.read()
        self._offset += len(text)
        return text.decode(errors="replace")

    def post(
        self,
        client: httpx.Client,
        document: str,
        variables: dict[str, Any],
        caller: str,
        accept: str = "application/json",
    ) -> tuple[int, str, Any]:
        """(status, raw answer, parsed JSON or None)."""
        response = client.post(
            self.base + "/graphql",
            json={"query": document, "variables": variables},
            headers={
                "Authorization": f"Bearer {self.tokens[caller]}",
                "Accept": accept,
            },
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, response.text, body

    def check(
        self,
        client: httpx.Client,
        document: str,
        variables: dict[str, Any],
        caller: str,
        accept: str,
    ) -> None:
        """Send one document; remember what went wrong, if anything."""
        self.sent += 1
        if self.journal is not None:
            with self.journal.open("a") as journal:
                sent = [self.sent, caller, accept, document, variables]
                journal.write(json.dumps(sent) + "\n")
        started = time.monotonic()
        try:
            status, text, body = self.post(client, document, variables, caller, accept)
        except httpx.TransportError as error:
            # No answer at all (the process died, or hung past the timeout).
            status, text, body = 0, f"{type(error).__name__}: {error}", None
        took = time.monotonic() - started
        self.slowest = sorted([*self.slowest, (took, self.sent)], reverse=True)[:3]
        errors = body.get("errors") or [] if isinstance(body, dict) else []
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            self.executed += 1
        codes = [str((error.get("extensions") or {}).get("code")) for error in errors]
        for code in codes:
            self.codes[code] = self.codes.get(code, 0) + 1
        logged = self.new_log()
        problems = [f"traceback: {line[:160]}" for line in raised(logged)]
        if "INTERNAL" in codes and not problems:
            paths = sorted(
                {
                    str((error.get("path") or ["?"])[0])
                    for error, code in zip(errors, codes, strict=True)
                    if code == "INTERNAL"
                }
            )
            problems.append(f"INTERNAL at {', '.join(paths)}")
        if status >= 500 and not problems:
            problems.append(f"HTTP {status}")
        if status == 0:
            problems.append(f"no answer: {text[:160]}")
        elif body is None and not problems:
            problems.append(f"HTTP {status}: the answer is not JSON")
        for problem in problems:
            finding = Finding(
                problem,
                self.backend,
                caller,
                accept,
                document,
                variables,
                status,
                text,
                logged if "Traceback" in logged else "",
            )
            known = self.findings.get(problem)
            if known is None:
                self.findings[problem] = finding
                continue
            known.seen += 1
            if finding.size < known.size:
                finding.seen = known.seen
                self.findings[problem] = finding


def raised(logged: str) -> list[str]:
    """The exception line of each traceback in `logged`, once each (the line after
    the indented frames; of a chain, every link)."""
    found: list[str] = []
    in_traceback = False
    for line in logged.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif in_traceback and line.strip() and not line.startswith(" "):
            in_traceback = False
            if line not in found:
                found.append(line.strip())
    return found


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
def backend(request: pytest.FixtureRequest) -> tuple[str, str, str | None]:
    """(its name, the database URL, the Redis URL or None)."""
    return (request.param, *backends(request))


@pytest.fixture
async def fuzzed(
    backend: tuple[str, str, str | None], tmp_path: Path
) -> AsyncIterator[FuzzedGateway]:
    name, database_url, redis_url = backend
    if redis_url is not None:
        await forget_in_redis(redis_url, set(demo.DEMO_ORGANIZATIONS))
    now = datetime.now(UTC)
    tokens = await seed_demo(database_url, now)
    expires = now + timedelta(hours=2)
    tokens["admin"] = issue_jwt(demo.DEMO_ADMIN_USER, JWT_SECRET, expires)
    tokens["member"] = issue_jwt(demo.DEMO_MEMBER_USER, JWT_SECRET, expires)
    env = serve_env(database_url, redis_url)
    env["USAGE_GATEWAY_ACCESS_LOG"] = "false"
    process, base = await asyncio.to_thread(start_gateway, env, tmp_path, "gateway")
    log = tmp_path / "gateway.log"
    gateway = FuzzedGateway(name, base, process, log, tokens)
    gateway.new_log()  # start-up lines are not the fuzzer's
    if KEEP is not None:
        KEEP.mkdir(parents=True, exist_ok=True)
        gateway.journal = KEEP / f"sent-{name}.jsonl"
        gateway.journal.unlink(missing_ok=True)
    try:
        yield gateway
    finally:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if redis_url is not None:
            known = await organization_ids(database_url)
            await forget_in_redis(redis_url, known | set(demo.DEMO_ORGANIZATIONS))


# ------------------------------------------------------------------ the run


def fuzz(gateway: FuzzedGateway, client: httpx.Client) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
        print_blob=False,
    )
    @given(
        document=DOCUMENTS,
        caller=st.sampled_from(CALLERS),
        variables=st.booleans(),
        accept=st.sampled_from(ACCEPTS),
    )
    def one_document(document: str, caller: str, variables: bool, accept: str) -> None:
        sent, values = hoisted(document) if variables else (document, {})
        gateway.check(client, sent, values, caller, accept)

    if SEED is not None:
        one_document = seed(int(SEED))(one_document)
    one_document()


def later_reads(gateway: FuzzedGateway, client: httpx.Client) -> list[str]:
    """What is wrong with the demo's Usage pages after the fuzz run."""
    problems: list[str] = []
    for organization in demo.DEMO_ORGANIZATIONS:
        status, text, body = gateway.post(
            client, USAGE_PAGE, {"org": organization}, "operator"
        )
        if status != 200 or not isinstance(body, dict) or body.get("errors"):
            problems.append(f"UsagePage of {organization} (operator): {text[:1500]}")
    status, text, body = gateway.post(
        client, USAGE_PAGE, {"org": demo.DEMO_ORGANIZATION}, "admin"
    )
    if (
        status != 200
        or not isinstance(body, dict)
        or (body.get("data") or {}).get("organization") is None
        or any(
            (error.get("extensions") or {}).get("code") == "INTERNAL"
            for error in body.get("errors") or []
        )
    ):
        problems.append(f"UsagePage of {demo.DEMO_ORGANIZATION} (admin): {text[:1500]}")
    logged = gateway.new_log()
    if "Traceback" in logged:
        problems.append(f"the Usage pages left a traceback:\n{logged[-4000:]}")
    if gateway.process.poll() is not None:
        problems.append(f"the gateway exited ({gateway.process.returncode})")
    return problems


def test_no_generated_document_fails_the_gateway(fuzzed: FuzzedGateway) -> None:
    started = time.monotonic()
    with httpx.Client(timeout=60) as client:
        fuzz(fuzzed, client)
        took = time.monotonic() - started
        problems = later_reads(fuzzed, client)
    findings = sorted(fuzzed.findings.values(), key=lambda f: -f.seen)
    saved = (KEEP or fuzzed.log.parent) / f"findings-{fuzzed.backend}.json"
    saved.write_text(
        json.dumps([dataclasses.asdict(finding) for finding in findings], indent=1)
    )
    summary = (
        f"{fuzzed.sent} documents ({fuzzed.executed} executed) in {took:.1f} s on "
        f"{fuzzed.backend}; error codes: {dict(sorted(fuzzed.codes.items()))}; "
        "slowest: "
        + ", ".join(f"#{number} {seconds:.2f} s" for seconds, number in fuzzed.slowest)
    )
    print(summary)
    failures = [finding.report() for finding in findings] + problems
    assert not failures, "\n\n".join(
        [
            summary,
            f"{len(findings)} distinct problems (in full: {saved}):",
            *failures,
        ]
    )
