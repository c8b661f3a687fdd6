"""Demo data for `usage-gateway serve --demo`: one organization per kind of product
the contract serves, plus a few small ones for the edge states.

Everything goes through the same doors as production data: the catalog, customers and
seats through `store.provisioning`, usage through `store.recording.record_usage`, so the
demo exercises the real decisions (limits, credits, free allowances, personal
allocations) instead of writing rows that could never have been accepted.

Loading is idempotent: provisioning upserts on stable ids, and every event carries a
deterministic idempotency key (`demo-<organization>-<n>`), so a second load finds
every event a DUPLICATE and adds nothing. Randomness is seeded per organization, and
every instant is an offset back from `now`, so the same `now` gives the same data.

The headers `serve --demo` prints are for Pipeline CRM (`DEMO_ORGANIZATION`): the CRM
shows the most of the contract to one signed-in user (meters of every category, soft
caps near their limit, the AI budget, and a personal allocation for the member).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rules.enums import (
    AiFeature,
    BillingModel,
    BillingState,
    CreditPoolKind,
    Enforcement,
    ModelTier,
    PlanTier,
    ReconciliationStatus,
    Role,
    SeatType,
    SubscriptionStatus,
    UsageSource,
    UsageStatus,
)
from rules.pricing import TokenCounts
from store import provisioning as p
from store.allowance import sync_daily_allowance
from store.recording import UsageEventSpec, record_usage

DEMO_ORGANIZATION = "org_pipeline"
"""The organization the printed user tokens belong to."""
DEMO_ADMIN_USER = "usr_pipeline_priya_raman"
"""Priya Raman, ADMIN of Pipeline CRM (sees dollars, the seat directory, analytics)."""
DEMO_MEMBER_USER = "usr_pipeline_marco_silva"
"""Marco Silva, MEMBER of Pipeline CRM with personal allocations on `ai_tokens` and
`enrichments` (dollars redacted, `myUsage` shows his own limits)."""
DEMO_ORGANIZATIONS: tuple[str, ...] = (
    "org_meetly",
    "org_pipeline",
    "org_forge",
    "org_forge_byom",
    "org_hostel",
    "org_hostel_trial",
    "org_callbell",
    "org_sketchpad",
    "org_orbit",
)
"""Every demo organization (the printed partner key lists them all)."""

BATCH_SIZE = 1000
"""Events per `record_usage` call: the contract's maximum per request."""
HISTORY_DAYS = 122
"""About four months back, so the current cycle and three earlier ones have data."""

SessionMaker = async_sessionmaker[AsyncSession]
D = Decimal
POWER, COLLABORATOR = SeatType.POWER, SeatType.COLLABORATOR
L = p.PlanLimitSpec


class DemoDataError(RuntimeError):
    """The write path refused demo events as INVALID: the demo is out of date."""


UNPRICED_MODEL = "orca-preview-0"
"""A model with no price: its events are recorded unpriced, so coverage is PARTIAL."""

MODEL_PRICES: tuple[p.ModelPriceSpec, ...] = (
    p.ModelPriceSpec(
        "atlas-reasoning-1", ModelTier.ADVANCED_REASONING, D(15), D(60), D("1.5"), D(15)
    ),
    p.ModelPriceSpec(
        "atlas-reasoning-1-long",
        ModelTier.ADVANCED_REASONING,
        D(20),
        D(80),
        D(2),
        D(20),
    ),
    p.ModelPriceSpec(
        "atlas-standard-2", ModelTier.STANDARD, D(3), D(15), D("0.3"), D("3.75")
    ),
    p.ModelPriceSpec(
        "nimbus-chat-3", ModelTier.STANDARD, D("2.5"), D(10), D("0.25"), D("3.125")
    ),
    p.ModelPriceSpec("swift-fast-1", ModelTier.FAST, D("0.8"), D(4), D("0.08"), D(1)),
    p.ModelPriceSpec(
        "swift-fast-1-vision", ModelTier.FAST, D(1), D(5), D("0.1"), D("1.25")
    ),
    p.ModelPriceSpec(
        "pico-light-1", ModelTier.LIGHT, D("0.15"), D("0.6"), D("0.015"), D("0.1875")
    ),
    p.ModelPriceSpec(
        "pico-light-1-instruct", ModelTier.LIGHT, D("0.1"), D("0.4"), D("0.01"), D(0)
    ),
)

PLANS: tuple[p.PlanSpec, ...] = (
    p.PlanSpec(
        "free",
        "Free",
        PlanTier.FREE,
        price_monthly_cents=0,
        price_annual_cents=0,
        credits_per_usd=D(100),
        limits=(L("ai_tokens"), L("api_calls", D(5000))),
    ),
    p.PlanSpec(
        "hostel_starter",
        "Hostel Starter",
        PlanTier.STARTER,
        price_monthly_cents=2900,
        price_annual_cents=29000,
        limits=(L("workspace_runtime_hours", D(500), enforcement=Enforcement.SOFT),),
    ),
    p.PlanSpec(
        "pipeline_pro",
        "Pipeline Pro",
        PlanTier.PRO,
        price_monthly_cents=39900,
        price_annual_cents=399000,
        limits=(
            L("contacts", D(50_000), enforcement=Enforcement.SOFT),
            L("companies", D(10_000), enforcement=Enforcement.SOFT),
            L("storage_bytes", D(50 * 10**9), enforcement=Enforcement.SOFT),
            L("emails_sent", D(20_000)),
            L("ai_tokens", D(5_000_000)),
            L("enrichments", D(2_000)),
            L("workflow_executions", D(15_000)),
            L("import_rows", D(100_000)),
            L("export_rows", D(50_000)),
            L("lead_captures", D(5_000)),
            L("api_calls", D(250_000)),
            L("ai_spend_usd", D(15)),
        ),
    ),
    p.PlanSpec(
        "callbell_growth",
        "Callbell Growth",
        PlanTier.PRO,
        price_monthly_cents=19900,
        price_annual_cents=199000,
        monthly_credits=D(20_000),
        limits=(
            L("voice", free_units=D(500), credits_per_unit=D(3)),
            L("recording", free_units=D(1000), credits_per_unit=D("0.5")),
            L("transcription", free_units=D(300), credits_per_unit=D("1.5")),
            L("realtime", free_units=D(0), credits_per_unit=D(6)),
            L("sms", free_units=D(1000), credits_per_unit=D(1)),
            L("mms", free_units=D(100), credits_per_unit=D(3)),
            L("email", free_units=D(5000), credits_per_unit=D("0.1")),
            L("ai_text", free_units=D(200), credits_per_unit=D(4)),
        ),
    ),
    p.PlanSpec(
        "meetly_business",
        "Meetly Business",
        PlanTier.BUSINESS,
        price_monthly_cents=122_500,
        price_annual_cents=1_225_000,
        daily_allowance_units=D(850),
        seat_caps=((POWER, 10), (COLLABORATOR, 20)),
        limits=(
            L("insights", D(24), per_seat=True),
            L("transcription_hours", D(7), per_seat=True),
        ),
    ),
    p.PlanSpec(
        "forge_team",
        "Forge Team",
        PlanTier.BUSINESS,
        price_monthly_cents=200_000,
        price_annual_cents=2_000_000,
        monthly_credits=D(5000),
        credits_per_seat=D(500),
        credits_per_usd=D(100),
        seat_caps=((POWER, 12),),
        limits=(L("ai_tokens"),),
    ),
    p.PlanSpec(
        "forge_byom",
        "Forge Enterprise (BYOM)",
        PlanTier.ENTERPRISE,
        price_monthly_cents=150_000,
        price_annual_cents=1_500_000,
        limits=(L("ai_spend_usd", D(200)), L("ai_tokens")),
    ),
    p.PlanSpec(
        "orbit_ultra",
        "Ultra",
        PlanTier.ULTRA,
        price_monthly_cents=990_000,
        price_annual_cents=9_900_000,
        monthly_credits=D(100_000),
        credits_per_usd=D(100),
        limits=(L("api_calls", D(2_000_000)), L("workflow_executions", D(100_000))),
    ),
)

_FIRST_NAMES = (
    "Aiko", "Amara", "Ana", "Arjun", "Ayesha", "Bea", "Bilal", "Camille", "Carlos",
    "Chen", "Chioma", "Dana", "Daniel", "Diego", "Elif", "Emma", "Farah", "Felix",
    "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jamal", "Jana", "Jonas", "José", "Kai",
    "Kwame", "Lara", "Leila", "Liam", "Lucía", "Maya", "Mei", "Mateo", "Nadia", "Nia",
    "Noah", "Olu", "Omar", "Paula", "Quinn", "Rafael", "Rin", "Rosa", "Sami", "Sara",
    "Sofia", "Tariq", "Theo", "Uma", "Valentina", "Wei", "Yara", "Yusuf", "Zane", "Zoe",
)  # fmt: skip
_LAST_NAMES = (
    "Abe", "Adeyemi", "Alvarez", "Andersson", "Bauer", "Becker", "Bianchi", "Chen",
    "Costa", "Dubois", "Eze", "Fischer", "García", "Haddad", "Hansen", "Ibrahim",
    "Ito", "Jensen", "Kapoor", "Kim", "Kowalski", "Larsen", "Lee", "López", "Mensah",
    "Moreau", "Müller", "Nakamura", "Nguyen", "Novak", "Okafor", "Oliveira", "Park",
    "Patel", "Petrov", "Quinn", "Rossi", "Sato", "Schmidt", "Shah", "Singh", "Souza",
    "Tanaka", "Torres", "Ueda", "Varga", "Wagner", "Walsh", "Wong", "Yilmaz", "Zhang",
)  # fmt: skip

_HOUR_WEIGHTS = (
    0.08, 0.06, 0.05, 0.05, 0.06, 0.1, 0.2, 0.4, 0.75, 0.95, 1.0, 1.0,
    0.9, 0.95, 1.0, 1.0, 0.95, 0.8, 0.55, 0.4, 0.3, 0.22, 0.15, 0.1,
)  # fmt: skip
"""How busy each local hour is: a working day with a lunch dip and quiet nights."""

_MEETLY_DEFINITIONS = (
    "Deal risk signals", "Next steps extraction", "Competitor mentions",
    "Pricing objections", "Talk-to-listen ratio", "Discovery question coverage",
    "Champion identification", "Budget timing", "Renewal risk", "Upsell signals",
    "Onboarding blockers", "Feature requests", "Sentiment trend", "Decision makers",
    "Security review asks", "Procurement steps", "Legal redlines",
    "Implementation scope", "Churn indicators", "Executive summary",
    "Coaching: filler words",
    "Coaching: monologues", "Coaching: objection handling", "Coaching: next-step close",
    "Customer pain points", "Use-case fit", "Integration questions",
    "Time-to-value mentions", "Follow-up commitments", "Meeting recap",
)  # fmt: skip
"""About thirty Data Lake definitions, ranked by cost in the daily allowance panel."""


@dataclass(frozen=True)
class _Person:
    first: str
    last: str
    role: Role
    teams: tuple[str, ...]
    seat: SeatType | None = None


@dataclass(frozen=True)
class _Org:
    """One demo organization: who and what to provision, and its usage."""

    spec: p.OrganizationSpec
    plan_key: str
    seats: int
    anchor: datetime
    domain: str
    people: tuple[_Person, ...]
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    payment_retries_exhausted: bool = False
    workspaces: tuple[p.WorkspaceSpec, ...] = ()

    @property
    def id(self) -> str:
        return self.spec.id

    def members(self) -> list[p.MemberSpec]:
        return [
            p.MemberSpec(
                self.id,
                _user_id(self.id, person),
                f"{_slug(person.first)}.{_slug(person.last)}@{self.domain}",
                f"{person.first} {person.last}",
                person.role,
                person.teams,
                person.seat,
            )
            for person in self.people
        ]


def _slug(text: str) -> str:
    """ASCII, lower case: names like José and Müller make valid ids and emails."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text.lower() if c.isalnum())


def _user_id(organization_id: str, person: _Person) -> str:
    short = organization_id.removeprefix("org_")
    return f"usr_{short}_{_slug(person.first)}_{_slug(person.last)}"


def _people(
    rng: random.Random,
    count: int,
    teams: Sequence[str],
    roles: Sequence[tuple[Role, int]],
    seats: Sequence[tuple[SeatType | None, int]],
    fixed: Sequence[_Person] = (),
) -> tuple[_Person, ...]:
    """`count` distinct people: `fixed` first, roles and seats handed out in order.

    Higher roles come first and so get the first seats (POWER before COLLABORATOR),
    which is how organizations usually seat their admins.
    """
    names = {(person.first, person.last) for person in fixed}
    role_list = [role for role, n in roles for _ in range(n)]
    role_list += [Role.MEMBER] * (count - len(fixed) - len(role_list))
    seat_list = [seat for seat, n in seats for _ in range(n)]
    seat_list += [None] * (count - len(fixed) - len(seat_list))
    people = list(fixed)
    for role, seat in zip(role_list, seat_list, strict=True):
        while True:
            name = (rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES))
            if name not in names:
                break
        names.add(name)
        picked = rng.sample(
            list(teams), k=min(len(teams), 1 if rng.random() < 0.75 else 2)
        )
        people.append(_Person(name[0], name[1], role, tuple(picked), seat))
    return tuple(people)


def _organizations() -> tuple[_Org, ...]:
    return (
        _Org(
            p.OrganizationSpec(
                "org_meetly",
                "Meetly",
                billing_state=BillingState.PAID,
                allowance_ui_details=True,
            ),
            "meetly_business",
            25,
            datetime(2025, 3, 31, 9, 0, tzinfo=UTC),
            "meetly.example",
            _people(
                random.Random("people-meetly"),
                34,
                ("Sales", "Customer Success", "Enablement", "Leadership", "Solutions"),
                ((Role.SUPER_ADMIN, 1), (Role.ADMIN, 3), (Role.MANAGER, 6)),
                ((POWER, 10), (COLLABORATOR, 13)),
            ),
        ),
        _Org(
            p.OrganizationSpec(
                "org_pipeline", "Pipeline CRM", billing_state=BillingState.PAID
            ),
            "pipeline_pro",
            40,
            datetime(2024, 9, 15, 14, 30, tzinfo=UTC),
            "pipelinecrm.example",
            _people(
                random.Random("people-pipeline"),
                48,
                ("Sales", "SDR", "Marketing", "RevOps", "Support"),
                ((Role.SUPER_ADMIN, 1), (Role.ADMIN, 2), (Role.MANAGER, 7)),
                ((POWER, 28), (COLLABORATOR, 8)),
                fixed=(
                    _Person("Priya", "Raman", Role.ADMIN, ("RevOps",), POWER),
                    _Person("Marco", "Silva", Role.MEMBER, ("Sales", "SDR"), POWER),
                ),
            ),
        ),
        _Org(
            p.OrganizationSpec(
                "org_forge", "Forge Agents", billing_state=BillingState.PAID
            ),
            "forge_team",
            20,
            datetime(2025, 6, 3, 0, 0, tzinfo=UTC),
            "forgeagents.example",
            _people(
                random.Random("people-forge"),
                28,
                ("Platform", "Agents", "Infra", "Research", "DevRel"),
                ((Role.SUPER_ADMIN, 1), (Role.ADMIN, 2), (Role.MANAGER, 4)),
                ((POWER, 12), (COLLABORATOR, 6)),
            ),
            workspaces=_forge_workspaces(),
        ),
        _Org(
            p.OrganizationSpec(
                "org_forge_byom",
                "Forge Agents (BYOM)",
                billing_model=BillingModel.USD,
                billing_state=BillingState.PAID,
                show_dollars_preview=True,
            ),
            "forge_byom",
            6,
            datetime(2025, 8, 20, 12, 0, tzinfo=UTC),
            "byom.forgeagents.example",
            _people(
                random.Random("people-forge-byom"),
                6,
                ("Platform", "Agents"),
                ((Role.SUPER_ADMIN, 1), (Role.ADMIN, 1), (Role.MANAGER, 1)),
                ((POWER, 5),),
            ),
        ),
        _Org(
            p.OrganizationSpec(
                "org_hostel",
                "Hostel Cloud",
                billing_state=BillingState.PREPAID,
                provider_project_id="prj-hostel-7f3a9c21",
                workspace_time_balance_hours=D("412.5"),
                managed_ai_balance_usd=D("186.40"),
            ),
            "hostel_starter",
            25,
            datetime(2025, 2, 1, 0, 0, tzinfo=UTC),
            "hostel.example",
            _people(
                random.Random("people-hostel"),
                26,
                ("Engineering", "Data", "Design", "Ops"),
                ((Role.SUPER_ADMIN, 1), (Role.ADMIN, 2), (Role.MANAGER, 3)),
                ((POWER, 22),),
            ),
            workspaces=_hostel_workspaces("org_hostel"),
        ),
        _Org(
            p.OrganizationSpec(
                "org_hostel_trial",
                "Hostel Cloud (Trial)",
                billing_state=BillingState.TRIAL,
                trial_approved=False,
                provider_project_id="prj-hostel-trial-0b1e55",
            ),
            "hostel_starter",
            3,
            datetime(2025, 10, 10, 16, 0, tzinfo=UTC),
            "trial.hostel.example",
            _people(
                random.Random("people-hostel-trial"),
                3,
                ("Engineering",),
                ((Role.SUPER_ADMIN, 1), (Role.ADMIN, 1)),
                ((POWER, 3),),
            ),
            status=SubscriptionStatus.TRIALING,
            workspaces=_hostel_workspaces("org_hostel_trial")[:1],
        ),
        _Org(
            p.OrganizationSpec(
                "org_callbell", "Callbell", billing_state=BillingState.PAID
            ),
            "callbell_growth",
            20,
            datetime(2024, 12, 9, 8, 0, tzinfo=UTC),
            "callbell.example",
            _people(
                random.Random("people-callbell"),
                22,
                ("Support", "Sales", "Operations", "Billing"),
                ((Role.SUPER_ADMIN, 1), (Role.ADMIN, 2), (Role.MANAGER, 4)),
                ((POWER, 14), (COLLABORATOR, 4)),
            ),
        ),
        _Org(
            p.OrganizationSpec("org_sketchpad", "Sketchpad Studio"),
            "free",
            3,
            datetime(2026, 1, 24, 18, 45, tzinfo=UTC),
            "sketchpad.example",
            _people(
                random.Random("people-sketchpad"),
                4,
                ("Studio",),
                ((Role.SUPER_ADMIN, 1),),
                ((POWER, 3),),
            ),
        ),
        _Org(
            p.OrganizationSpec(
                "org_orbit", "Orbit Labs", billing_state=BillingState.PAID
            ),
            "orbit_ultra",
            12,
            datetime(2025, 4, 28, 10, 0, tzinfo=UTC),
            "orbitlabs.example",
            _people(
                random.Random("people-orbit"),
                8,
                ("Research", "Platform"),
                ((Role.SUPER_ADMIN, 1), (Role.ADMIN, 1), (Role.MANAGER, 2)),
                ((POWER, 8),),
            ),
            status=SubscriptionStatus.PAST_DUE,
            payment_retries_exhausted=True,
        ),
    )


def _forge_workspaces() -> tuple[p.WorkspaceSpec, ...]:
    groups = {
        "grp_platform": ("Platform", ("api-gateway", "billing-service", "auth-core")),
        "grp_growth": ("Growth", ("web-app", "mobile-app", "marketing-site", "docs")),
        "grp_research": ("Research", ("eval-harness", "agent-lab", "data-pipelines")),
    }
    return tuple(
        p.WorkspaceSpec("org_forge", f"ws_{name.replace('-', '_')}", name, gid, gname)
        for gid, (gname, names) in groups.items()
        for name in names
    )


def _hostel_workspaces(organization_id: str) -> tuple[p.WorkspaceSpec, ...]:
    names = ("main-dev", "ml-notebooks", "design-review", "ci-runners", "data-lab")
    return tuple(
        p.WorkspaceSpec(
            organization_id,
            f"ws_{name.replace('-', '_')}",
            name,
            "grp_build" if name in ("main-dev", "ci-runners") else "grp_explore",
            "Build" if name in ("main-dev", "ci-runners") else "Explore",
        )
        for name in names
    )


def _silent(line: str) -> None:
    """No progress lines (tests load the demo quietly)."""


async def load_demo(
    sessions: SessionMaker, now: datetime, progress: Callable[[str], None] = _silent
) -> None:
    """Provision the demo catalog and organizations, then record their usage.

    Recording goes through the real write path and takes a while (tens of seconds on
    a small machine), so each organization reports to `progress` as it starts.
    """
    organizations = _organizations()
    progress(f"provisioning the catalog and {len(organizations)} organizations")
    async with sessions() as session:
        for price in MODEL_PRICES:
            await p.set_model_price(session, price)
        for plan in PLANS:
            await p.upsert_plan(session, plan)
        await session.commit()
    for organization in organizations:
        async with sessions() as session:
            await _provision(session, organization, now)
            await session.commit()

    # One organization per call (the write path locks and loads per organization),
    # in time order, so releases on cumulative meters never precede what they free
    # and each cycle meets its limits and credits in the order they came in life.
    for number, organization in enumerate(organizations, start=1):
        events = sorted(
            _usage(organization, now),
            key=lambda event: (event.occurred_at or now, event.idempotency_key),
        )
        progress(
            f"recording {len(events):,} usage events of {organization.id} "
            f"({number}/{len(organizations)})"
        )
        for start in range(0, len(events), BATCH_SIZE):
            outcomes = await record_usage(
                sessions, events[start : start + BATCH_SIZE], now
            )
            # Denials are part of the story (a plan without realtime, paused AI);
            # an INVALID event means the demo itself is wrong, so say so loudly.
            invalid = [o for o in outcomes if o.status is UsageStatus.INVALID]
            if invalid:
                raise DemoDataError(
                    f"{len(invalid)} demo events were refused as INVALID, e.g. "
                    f"{invalid[0].idempotency_key}: {invalid[0].message}"
                )

    # The daily allowance panel shows the worker's snapshot; take one now so the
    # demo does not open on "no snapshot yet" (a second load finds it stored).
    progress("taking the daily allowance snapshot")
    async with sessions() as session:
        await sync_daily_allowance(session, "org_meetly", now)


async def _provision(session: AsyncSession, organization: _Org, now: datetime) -> None:
    await p.upsert_organization(session, organization.spec, now)
    await p.set_subscription(
        session,
        p.SubscriptionSpec(
            organization.id,
            organization.plan_key,
            organization.seats,
            organization.status,
            anchor=organization.anchor,
            payment_retries_exhausted=organization.payment_retries_exhausted,
        ),
        now,
    )
    for member in organization.members():
        await p.upsert_member(session, member, now)
    for workspace in organization.workspaces:
        await p.upsert_workspace(session, workspace)
    if organization.id == "org_pipeline":
        # Marco (the printed member) and two more: people[2] is the owner, [5] a
        # manager, so allocations show on more than one row of the directory.
        for user, meter, limit in (
            (DEMO_MEMBER_USER, "ai_tokens", D(160_000)),
            (DEMO_MEMBER_USER, "enrichments", D(60)),
            (_user_id("org_pipeline", organization.people[2]), "ai_tokens", D(250_000)),
            (_user_id("org_pipeline", organization.people[5]), "enrichments", D(120)),
        ):
            await p.set_personal_allocation(
                session, organization.id, user, meter, limit
            )
    if organization.id == "org_forge":
        for grant in (
            p.CreditGrantSpec(
                "org_forge",
                CreditPoolKind.BONUS,
                D(2000),
                expires_at=now + timedelta(days=12),
                reason="Referral: Northwind Robotics signed up",
                id="demo-grant-forge-referral",
            ),
            p.CreditGrantSpec(
                "org_forge",
                CreditPoolKind.BONUS,
                D(3000),
                expires_at=now + timedelta(days=75),
                reason="Launch week promotion",
                id="demo-grant-forge-launch",
            ),
            p.CreditGrantSpec(
                "org_forge",
                CreditPoolKind.PURCHASED,
                D(10_000),
                reason="Prepaid overage pack",
                id="demo-grant-forge-pack",
            ),
        ):
            await p.grant_credits(session, grant, now)
    if organization.id == "org_hostel":
        await p.set_reconciliation(
            session,
            p.ReconciliationSpec(
                "org_hostel",
                ReconciliationStatus.RECONCILED,
                managed_ai_usage_usd=D("93.60"),
                reconciled_at=now.replace(minute=0, second=0, microsecond=0)
                - timedelta(hours=6),
            ),
        )
    if organization.id == "org_hostel_trial":
        await p.set_reconciliation(
            session,
            p.ReconciliationSpec("org_hostel_trial", ReconciliationStatus.PENDING),
        )


class _Usage:
    """An organization's events under construction, keyed `demo-<org>-<n>`."""

    def __init__(self, organization: _Org, now: datetime, rng: random.Random) -> None:
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
            weight = _HOUR_WEIGHTS[local.hour] * (0.3 if local.weekday() >= 5 else 1.0)
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


def _usage(organization: _Org, now: datetime) -> list[UsageEventSpec]:
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
        for number, name in enumerate(_MEETLY_DEFINITIONS, start=1)
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
