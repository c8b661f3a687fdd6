"""The demo's usage: each organization's events over about four months, generated
from a seed per organization so the same `now` gives the same events.

Code, not data (`demo_data.toml` holds the catalog and the people): each generator
tells one product's story (quotas per seat, releases on cumulative meters, agent runs
of many small events, denials where a plan or a paused subscription refuses), and the
events it makes go through the real write path (`gateway.demo.load_demo`). Every event
carries a deterministic idempotency key (`demo-<organization>-<n>`), so a second load
finds every event a DUPLICATE.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from gateway.demo_data import (
    DEMO_ADMIN_USER,
    DEMO_MEMBER_USER,
    HOUR_WEIGHTS,
    MEETLY_DEFINITIONS,
    UNPRICED_MODEL,
    DemoOrganization,
)
from rules.enums import AiFeature, UsageSource
from rules.pricing import TokenCounts
from store.recording import UsageEventSpec

HISTORY_DAYS = 122
"""About four months back, so the current cycle and three earlier ones have data."""

D = Decimal


class _Usage:
    """An organization's events under construction, keyed `demo-<org>-<n>`."""

    def __init__(
        self, organization: DemoOrganization, now: datetime, rng: random.Random
    ) -> None:
        self.organization = organization
        self.now = now
        self.rng = rng
        self.events: list[UsageEventSpec] = []
        members = organization.members()
        # A few people do most of the work; people without a seat rarely do any.
        self.users = [member.user_id for member in members]
        self.weights = [
            rng.lognormvariate(0, 0.8) * (1.0 if member.seat_type else 0.15)
            for member in members
        ]

    def add(
        self,
        meter: str,
        quantity: Decimal,
        at: datetime,
        *,
        user_id: str | None = None,
        workspace_id: str | None = None,
        source: UsageSource | None = None,
        feature: AiFeature | None = None,
        model: str | None = None,
        tokens: TokenCounts | None = None,
        cost_usd: Decimal | None = None,
        definition: tuple[str, str] | None = None,
    ) -> None:
        self.events.append(
            UsageEventSpec(
                idempotency_key=f"demo-{self.organization.id}-{len(self.events)}",
                organization_id=self.organization.id,
                meter=meter,
                quantity=quantity,
                occurred_at=at,
                user_id=user_id,
                workspace_id=workspace_id,
                source=source,
                feature=feature,
                model=model,
                tokens=tokens,
                cost_usd=cost_usd,
                definition_id=definition[0] if definition else None,
                definition_name=definition[1] if definition else None,
            )
        )

    def user(self) -> str:
        return self.rng.choices(self.users, self.weights)[0]

    def instant(
        self, days: float = HISTORY_DAYS, *, growth: float = 0.0, hour_shift: int = 0
    ) -> datetime:
        """A past instant: busier in working hours and on weekdays, and, with
        `growth`, more often recent (the customer is growing)."""
        span = int(days * 86_400)
        while True:
            age = self.rng.randrange(120, span)
            at = self.now - timedelta(seconds=age)
            local = at + timedelta(hours=hour_shift)
            weight = HOUR_WEIGHTS[local.hour] * (0.3 if local.weekday() >= 5 else 1.0)
            weight *= (1 + growth * (1 - age / span)) / (1 + growth)
            if self.rng.random() < weight:
                return at.replace(microsecond=0)

    def spread(
        self,
        count: int,
        days: float = HISTORY_DAYS,
        *,
        growth: float = 0.0,
        hour_shift: int = 0,
    ) -> Iterator[datetime]:
        """`count` instants from `instant`, in no particular order."""
        for _ in range(count):
            yield self.instant(days, growth=growth, hour_shift=hour_shift)

    def tokens(
        self, input_range: tuple[int, int], output_range: tuple[int, int], cache: float
    ) -> TokenCounts:
        prompt = self.rng.randint(*input_range)
        cached = int(prompt * cache * self.rng.random())
        return TokenCounts(
            input=prompt - cached,
            output=self.rng.randint(*output_range),
            cache_read=cached,
            cache_write=int(prompt * 0.05) if self.rng.random() < 0.1 else 0,
        )

    def ai(
        self,
        at: datetime,
        feature: AiFeature,
        model: str,
        tokens: TokenCounts,
        *,
        user_id: str,
        workspace_id: str | None = None,
        source: UsageSource | None = None,
        definition: tuple[str, str] | None = None,
    ) -> None:
        """An AI event on `ai_tokens`, priced from the model's price (if it has one)."""
        self.add(
            "ai_tokens",
            D(tokens.input + tokens.output + tokens.cache_read + tokens.cache_write),
            at,
            user_id=user_id,
            workspace_id=workspace_id,
            source=source,
            feature=feature,
            model=model,
            tokens=tokens,
            definition=definition,
        )


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _hours(minutes: int) -> Decimal:
    """Minutes as hours at the stored scale (20 minutes is 0.333333 h)."""
    return (D(minutes) / 60).quantize(D("0.000001"))


def usage(organization: DemoOrganization, now: datetime) -> list[UsageEventSpec]:
    usage = _Usage(organization, now, random.Random(f"usage-{organization.id}"))
    generate = _GENERATORS.get(organization.id)
    if generate is not None:
        generate(usage)
    return usage.events


def _meetly(u: _Usage) -> None:
    """Meeting insights: quotas per seat, AI summaries and coaching per definition."""
    rng = u.rng
    definitions = [
        (f"dl_def_{number:02d}", name)
        for number, name in enumerate(MEETLY_DEFINITIONS, start=1)
    ]
    popularity = [1 / rank for rank in range(1, len(definitions) + 1)]
    for at in u.spread(1700, growth=0.4):
        feature = AiFeature.SUMMARY if rng.random() < 0.65 else AiFeature.COACHING
        if feature is AiFeature.SUMMARY:
            model = _pick(
                rng,
                (
                    ("atlas-standard-2", 60),
                    ("swift-fast-1", 30),
                    ("atlas-reasoning-1", 8),
                    (UNPRICED_MODEL, 2),
                ),
            )
        else:
            model = _pick(
                rng,
                (
                    ("atlas-reasoning-1", 35),
                    ("atlas-standard-2", 64),
                    (UNPRICED_MODEL, 1),
                ),
            )
        u.ai(
            at,
            feature,
            model,
            u.tokens((3400, 12000), (200, 950), cache=0.4),
            user_id=u.user(),
            definition=rng.choices(definitions, popularity)[0],
        )
    # One recent unpriced event, so the allowance snapshot shows partial coverage.
    u.ai(
        u.now - timedelta(hours=3, minutes=12),
        AiFeature.SUMMARY,
        UNPRICED_MODEL,
        TokenCounts(input=4200, output=380),
        user_id=u.users[4],
        definition=definitions[0],
    )
    for at in u.spread(540, growth=0.3):
        u.add("insights", D(rng.randint(1, 5)), at, user_id=u.user())
    for at in u.spread(460, growth=0.3):
        minutes = rng.choice((20, 40, 40, 60, 60, 80, 80, 80, 120))
        u.add("transcription_hours", _hours(minutes), at, user_id=u.user())


def _pipeline(u: _Usage) -> None:
    """A CRM: cumulative core limits with releases, activity and data operations, and
    AI features spending against the AI budget."""
    rng = u.rng
    start = u.now - timedelta(days=HISTORY_DAYS, hours=2)
    admin = DEMO_ADMIN_USER
    # The migration from the old CRM: one big import on day one.
    u.add("contacts", D(27_500), start, user_id=admin, source=UsageSource.API)
    u.add("companies", D(4_100), start, user_id=admin, source=UsageSource.API)
    u.add("storage_bytes", D(30 * 10**9), start, user_id=admin, source=UsageSource.API)
    for meter, count, low, high, release_share in (
        ("contacts", 370, 7, 84, 0.12),
        ("companies", 170, 1, 25, 0.1),
        ("storage_bytes", 270, 3 * 10**6, 155 * 10**6, 0.15),
    ):
        for at in u.spread(count, growth=0.3):
            quantity = rng.randint(low, high)
            if rng.random() < release_share:
                quantity = -max(1, quantity // 2)  # deleted records, freed files
            u.add(meter, D(quantity), at, user_id=u.user(), source=UsageSource.WEB)

    for meter, count, low, high, source in (
        ("emails_sent", 260, 28, 450, UsageSource.WEB),
        ("enrichments", 450, 1, 22, UsageSource.WEB),
        ("workflow_executions", 500, 14, 170, UsageSource.API),
        ("import_rows", 80, 280, 4900, UsageSource.WEB),
        ("export_rows", 65, 140, 3000, UsageSource.WEB),
        ("lead_captures", 500, 1, 7, UsageSource.API),
        ("api_calls", 640, 140, 1540, UsageSource.API),
    ):
        for at in u.spread(count, growth=0.35):
            u.add(meter, D(rng.randint(low, high)), at, user_id=u.user(), source=source)

    features = (
        (AiFeature.EMAIL, 0.35, (("atlas-standard-2", 70), ("swift-fast-1", 30))),
        (AiFeature.CHIPS, 0.25, (("pico-light-1", 70), ("swift-fast-1", 30))),
        (
            AiFeature.SUMMARY,
            0.2,
            (("atlas-standard-2", 50), ("swift-fast-1", 48), (UNPRICED_MODEL, 2)),
        ),
        (AiFeature.CHAT, 0.2, (("atlas-reasoning-1", 30), ("nimbus-chat-3", 70))),
    )
    sizes = {
        AiFeature.EMAIL: ((2000, 9000), (200, 900)),
        AiFeature.CHIPS: ((300, 1500), (20, 120)),
        AiFeature.SUMMARY: ((3000, 12000), (150, 600)),
        AiFeature.CHAT: ((2500, 14000), (200, 1400)),
    }
    for at in u.spread(1700, growth=0.35):
        feature, _, models = rng.choices(features, [f[1] for f in features])[0]
        prompt, output = sizes[feature]
        user = DEMO_MEMBER_USER if rng.random() < 0.04 else u.user()
        u.ai(
            at,
            feature,
            _pick(rng, models),
            u.tokens(prompt, output, cache=0.3),
            user_id=user,
            source=UsageSource.WEB,
        )


def _forge(u: _Usage) -> None:
    """An agent platform: streaming agent runs from the web app and the CLI, many
    small events each, spread over workspaces; credits converted from dollars."""
    rng = u.rng
    workspaces = [w.id for w in u.organization.workspaces]
    workspace_weights = [rng.lognormvariate(0, 0.7) for _ in workspaces]
    runs = 0
    while len(u.events) < 4200:
        runs += 1
        start = u.instant(growth=0.8, hour_shift=-7)
        agent = rng.random() < 0.8
        feature = AiFeature.AGENT if agent else AiFeature.CHAT
        model = _pick(
            rng,
            (
                ("atlas-reasoning-1", 30),
                ("atlas-standard-2", 45),
                ("swift-fast-1", 15),
                ("atlas-reasoning-1-long", 8),
                (UNPRICED_MODEL, 2),
            ),
        )
        source = UsageSource.CLI if rng.random() < 0.55 else UsageSource.WEB
        user = u.user()
        workspace = rng.choices(workspaces, workspace_weights)[0]
        at = start
        for _ in range(rng.randint(4, 16) if agent else rng.randint(1, 3)):
            at += timedelta(seconds=rng.randint(3, 40))
            if at >= u.now:
                break
            u.ai(
                at,
                feature,
                model,
                u.tokens((6500, 29000), (130, 1200), cache=0.7),
                user_id=user,
                workspace_id=workspace,
                source=source,
            )


def _forge_byom(u: _Usage) -> None:
    """Bring-your-own-model: dollars, not credits, against a monthly spend cap."""
    rng = u.rng
    for at in u.spread(900, growth=0.5, hour_shift=-7):
        feature = AiFeature.AGENT if rng.random() < 0.7 else AiFeature.CHAT
        source = UsageSource.CLI if rng.random() < 0.6 else UsageSource.WEB
        if rng.random() < 0.5:
            # The customer's own provider account reports the cost: no token pricing.
            u.add(
                "ai_tokens",
                D(rng.randint(5000, 40000)),
                at,
                user_id=u.user(),
                source=source,
                feature=feature,
                model=_pick(rng, (("atlas-standard-2", 60), ("atlas-reasoning-1", 40))),
                cost_usd=D(rng.randint(8000, 160_000)) / 100_000,
            )
        else:
            u.ai(
                at,
                feature,
                _pick(rng, (("atlas-standard-2", 70), ("atlas-reasoning-1", 30))),
                u.tokens((10000, 53000), (400, 2700), cache=0.5),
                user_id=u.user(),
                source=source,
            )


def _hostel(u: _Usage) -> None:
    """Managed workspaces: runtime hours per workspace, drawn from prepaid time."""
    rng = u.rng
    workspaces = [w.id for w in u.organization.workspaces]
    days = HISTORY_DAYS if u.organization.id == "org_hostel" else 12
    count = 560 if u.organization.id == "org_hostel" else 30
    for at in u.spread(count, days=days, hour_shift=1):
        minutes = rng.choice((20, 40, 60, 80, 120, 160, 240, 320, 480))
        u.add(
            "workspace_runtime_hours",
            _hours(minutes),
            at,
            user_id=u.user(),
            workspace_id=rng.choice(workspaces),
            source=UsageSource.WEB,
        )


def _callbell(u: _Usage) -> None:
    """Communications: operations with free allowances, the rest paid in credits."""
    rng = u.rng
    for meter, count, low, high, scale in (
        ("voice", 730, 40, 2050, 60),  # seconds -> minutes
        ("recording", 440, 80, 2450, 60),
        ("transcription", 350, 80, 1650, 60),
        ("sms", 730, 1, 41, 1),
        ("mms", 175, 1, 4, 1),
        ("email", 290, 28, 550, 1),
        ("ai_text", 290, 3, 19, 1),
    ):
        for at in u.spread(count, growth=0.3, hour_shift=-5):
            quantity = (D(rng.randint(low, high)) / scale).quantize(D("0.000001"))
            u.add(meter, quantity, at, user_id=u.user(), source=UsageSource.API)
    # Realtime is not on this plan: a handful of attempts, each one denied.
    for at in u.spread(5, days=20, hour_shift=-5):
        u.add("realtime", D(rng.randint(2, 12)), at, user_id=u.user())


def _sketchpad(u: _Usage) -> None:
    """A free plan: 500 credits a month of light AI help, always nudged to upgrade."""
    rng = u.rng
    for at in u.spread(330, growth=0.6, hour_shift=2):
        u.ai(
            at,
            AiFeature.CHAT,
            _pick(
                rng,
                (("atlas-standard-2", 60), ("swift-fast-1", 30), ("pico-light-1", 10)),
            ),
            u.tokens((5000, 18000), (500, 2200), cache=0.2),
            user_id=u.user(),
            source=UsageSource.WEB,
        )
        u.add("api_calls", D(rng.randint(5, 40)), at, user_id=u.user())


def _orbit(u: _Usage) -> None:
    """ULTRA, payment past due with retries exhausted: AI access is paused, so the
    recent AI attempts are denied while the rest of the product keeps working."""
    rng = u.rng
    for meter, count, low, high in (
        ("api_calls", 260, 500, 6000),
        ("workflow_executions", 160, 20, 400),
    ):
        for at in u.spread(count):
            u.add(meter, D(rng.randint(low, high)), at, user_id=u.user())
    for at in u.spread(8, days=2):
        u.ai(
            at,
            AiFeature.AGENT,
            "atlas-standard-2",
            u.tokens((1000, 4000), (100, 400), cache=0.3),
            user_id=u.user(),
        )


_GENERATORS = {
    "org_meetly": _meetly,
    "org_pipeline": _pipeline,
    "org_forge": _forge,
    "org_forge_byom": _forge_byom,
    "org_hostel": _hostel,
    "org_hostel_trial": _hostel,
    "org_callbell": _callbell,
    "org_sketchpad": _sketchpad,
    "org_orbit": _orbit,
}
