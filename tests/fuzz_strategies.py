"""Hypothesis strategies for `tests/system/test_fuzz.py`: GraphQL documents over
schema.graphql (hypothesis-graphql's `queries` and `mutations`), with values that
hit the demo's rows most of the time and the edges of every scalar the rest.

- `ID` and `String`: the demo's organizations, users, plans, meters, models and
  workspaces, Relay cursors (real-looking and crafted), and hostile text (NUL,
  long unicode, combining marks, right-to-left overrides, SQL and LIKE wildcards).
- `Decimal`: plain amounts, huge digit strings, negatives, exponents, and what the
  scalar must refuse (`" 5 "`, `"1_000"`, `"५"`, `"NaN"`, ...), as strings and as
  Int, Float, Boolean, list and object literals.
- `DateTime`: instants with offsets from year 1 to year 9999 (both ends, and offsets
  that push them past the end), naive ones, dates, epoch numbers and garbage.
- `Int`: small numbers (page sizes, seats, months) and the 32-bit edges.

Values that a client means come first and most often: one refused value refuses a
whole document, and a document refused before it runs tests little. About a third
of the documents run; the rest test how each refusal is answered.

`hoisted` moves every argument of a document into variables, so the same values
also reach the scalars' `parse_value` path (JSON) instead of `parse_literal`.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import graphql
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from gateway import demo
from store.catalog import BUILTIN_METERS

T = TypeVar("T")
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"
SCHEMA = graphql.build_schema(SCHEMA_FILE.read_text())

# ------------------------------------------------------------------ the demo's rows

_DEMO_ORGANIZATIONS = demo._organizations()
ORGANIZATION_IDS: tuple[str, ...] = demo.DEMO_ORGANIZATIONS
USER_IDS: tuple[str, ...] = (
    demo.DEMO_ADMIN_USER,
    demo.DEMO_MEMBER_USER,
    *sorted(
        {
            member.user_id
            for organization in _DEMO_ORGANIZATIONS
            for member in organization.members()[:4]
        }
    ),
)
PLAN_KEYS = tuple(plan.key for plan in demo.PLANS)
METER_KEYS = tuple(meter.key for meter in BUILTIN_METERS)
MODELS = (*(price.model for price in demo.MODEL_PRICES), demo.UNPRICED_MODEL)
WORKSPACE_IDS = tuple(
    sorted(
        {
            workspace.id
            for organization in _DEMO_ORGANIZATIONS
            for workspace in organization.workspaces
        }
    )
)
TEAMS = tuple(
    sorted(
        {
            team
            for organization in _DEMO_ORGANIZATIONS
            for member in organization.members()
            for team in member.teams
        }
    )
)
GRANT_IDS = (
    "demo-grant-forge-referral",
    "demo-grant-forge-launch",
    "demo-grant-forge-pack",
)

KNOWN_IDS = (*ORGANIZATION_IDS, *USER_IDS, *WORKSPACE_IDS, *GRANT_IDS, *PLAN_KEYS)
KNOWN_STRINGS = (
    *METER_KEYS,
    *PLAN_KEYS,
    *MODELS,
    *TEAMS,
    *ORGANIZATION_IDS,
    demo.DEMO_ADMIN_USER,
    "USD",
    "EUR",
    "priya.raman@pipeline.example",
    "Pipeline CRM",
)

# ------------------------------------------------------------------ text

HOSTILE_TEXT = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "org_pipeline\x00",
    "\x00org_pipeline",
    "\t\r\n",
    "\u202eevil",
    "e\u0301",
    "🙂",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\ufeffBOM",
    "\uffff",
    "' OR 1=1 --",
    '"; DROP TABLE organizations; --',
    "%",
    "_",
    "%_%",
    "\\",
    "\\x00",
    "null",
    "undefined",
    "NaN",
    "ORG_PIPELINE",
    " org_pipeline ",
    "org_pipeline%",
)
"""Text that broke (or could break) something: NUL (PostgreSQL refuses it), lookalikes
of real ids, LIKE wildcards for `members(search:)`, SQL."""

_LONG_PIECES = ("é", "🙂", "中", "\u0301", "x", "ß", "\U0001f468\u200d\U0001f469")


def _long(piece: str, times: int) -> str:
    return piece * times


LONG_TEXT = st.builds(
    _long, st.sampled_from(_LONG_PIECES), st.integers(min_value=200, max_value=20_000)
)
"""Long unicode: past any column width a database could have."""

TEXT = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=40),
    st.text(max_size=10).map(lambda text: f"{text}\x00{text}"),
    LONG_TEXT,
)


def _cursor(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "\x00", "zzz", "Ada", demo.DEMO_ADMIN_USER, "🙂"]),
    st.text(max_size=10),
)
CURSORS = st.one_of(
    # What the API gives out: a JSON list (name and id, rank and id) in base64.
    st.lists(_JSON_SCALARS, min_size=1, max_size=3).map(_cursor),
    st.lists(
        st.one_of(
            _JSON_SCALARS,
            st.lists(st.integers()),
            st.dictionaries(st.text(), st.integers()),
        ),
        max_size=4,
    ).map(_cursor),
    st.sampled_from(["", "=", "not base64", "W10=", "bnVsbA==", "e30=", "WzEsMl0"]),
    st.binary(max_size=30).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
)
"""Relay cursors: well-formed ones whose members have unexpected types or values,
and broken ones."""


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """One of the strategies, each `weight` times as likely as one of weight 1
    (`st.one_of` would count a strategy given twice once)."""
    repeated = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(repeated).flatmap(_itself)


def _itself(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    return strategy


def _string(value: str) -> graphql.StringValueNode:
    return graphql.StringValueNode(value=value)


ID_VALUES = weighted(
    (10, st.sampled_from(ORGANIZATION_IDS).map(_string)),
    (6, st.sampled_from(KNOWN_IDS).map(_string)),
    (3, TEXT.map(_string)),
    (1, st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int)),
)
STRING_VALUES = weighted(
    (12, st.sampled_from(KNOWN_STRINGS)),
    (5, TEXT),
    (3, CURSORS),
).map(_string)

# ------------------------------------------------------------------ Decimal

ODD_DECIMALS = (
    "0",
    "-0",
    "0.000001",
    "0.0000001",
    "0.0000005",
    "-0.0000005",
    "1.0000005",
    "1e24",
    "1E+24",
    "1e-7",
    "1e-24",
    "-1e24",
    "1e999",
    "1e-999",
    "1e1000",
    "1e9999999999",
    " 5 ",
    "5 ",
    "\t5",
    "1_000",
    "1,000",
    "५",
    "١٢٣",
    "１２３",
    "NaN",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "+5",
    ".5",
    "5.",
    "0x10",
    "1e",
    "--1",
    "",
    " ",
    "\x00",
    "5\x00",
    "999999999",
    "1000000000",
    "1000000001",
    "999999999999",
    "1000000000000",
    "9223372036854",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999999999999.999999",
    "1" + "0" * 38,
    "0." + "0" * 60 + "1",
)
"""Amounts at and past every bound: the stored scale (6 places), the limits of
`rules.amounts`, SQLite's 64-bit millionths, NUMERIC(38, 6), and text that Python's
`Decimal()` would take but no billing client means."""


def _digits(count: int, negative: bool) -> str:
    return ("-" if negative else "") + "9" * count


def _exponent(mantissa: int, exponent: int) -> str:
    return f"{mantissa}e{exponent}"


def _float_literal(value: str) -> graphql.FloatValueNode:
    return graphql.FloatValueNode(value=value)


PLAIN_DECIMALS = st.one_of(
    st.integers(min_value=-5, max_value=10**6).map(str),
    st.decimals(min_value=-1000, max_value=10**7, allow_nan=False, places=6).map(
        lambda value: f"{value:f}"
    ),
)
"""Amounts a client means: what makes a document run."""
ODD_DECIMAL_TEXT = st.one_of(
    st.sampled_from(ODD_DECIMALS),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.integers().map(str),
    st.builds(_digits, st.integers(min_value=10, max_value=3000), st.booleans()),
    st.builds(
        _exponent,
        st.integers(min_value=-99, max_value=99),
        st.integers(min_value=-400, max_value=400),
    ),
)
ODD_DECIMAL_LITERALS = st.one_of(
    st.integers().map(nodes.Int),
    st.sampled_from(["1e400", "-1e400", "0.1", "1.5e300", "1e-400", "12.5"]).map(
        _float_literal
    ),
    st.just(nodes.Boolean(True)),
    st.just(nodes.List([_string("5")])),
    st.just(
        nodes.Object(
            [
                graphql.ObjectFieldNode(
                    name=graphql.NameNode(value="amount"), value=_string("5")
                )
            ]
        )
    ),
)
DECIMAL_VALUES = weighted(
    (12, PLAIN_DECIMALS.map(_string)),
    (6, ODD_DECIMAL_TEXT.map(_string)),
    (2, ODD_DECIMAL_LITERALS),
)

# ------------------------------------------------------------------ DateTime

ODD_INSTANTS = (
    "0001-01-01T00:00:00+00:00",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-23:59",
    "0001-01-01",
    "9999-12-31T23:59:59.999999+00:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T00:00:00+23:59",
    "9999-12-31",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:00+01:00",
    "8999-12-31T23:59:59Z",
    "9000-01-01T00:00:00Z",
    "2038-01-19T03:14:08Z",
    "2026-02-29T00:00:00Z",
    "2028-02-29T12:00:00+00:00",
    "2026-03-10T25:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-03-10T12:00:00.1234567Z",
    "2026-03-10T12:00:00+24:00",
    "2026-03-10T12:00:00+00:00:01",
    "2026-03-10 12:00:00+00:00",
    "20260310T120000Z",
    "2026-W10-2",
    "2026-069",
    "+002026-03-10T00:00:00Z",
    "2026-03-10T12:00:00+00:00\x00",
    "now",
    "",
    " ",
    "null",
)
"""Instants at the ends of Python's datetime (a day or a month past them does not
exist), offsets that move them out of range in UTC, the epoch, leap days and text
that is almost ISO 8601."""


def _isoformat(moment: datetime) -> str:
    return moment.isoformat()


_OFFSETS = st.one_of(
    st.just(UTC),
    st.integers(min_value=-1439, max_value=1439).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    ),
)
NEAR_INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=_OFFSETS,
).map(_isoformat)
"""Near the demo's data (its cycles, windows and events)."""
ANY_INSTANTS = st.datetimes(timezones=st.one_of(st.none(), _OFFSETS)).map(_isoformat)
"""Anywhere a datetime can be, year 1 to 9999."""
DATETIME_VALUES = weighted(
    (12, NEAR_INSTANTS.map(_string)),
    (5, st.sampled_from(ODD_INSTANTS).map(_string)),
    (2, ANY_INSTANTS.map(_string)),
    (
        1,
        st.one_of(
            st.sampled_from([0, 1_773_144_000, -62_135_596_800, 253_402_300_799]).map(
                nodes.Int
            ),
            st.just(_float_literal("1773144000.5")),
        ),
    ),
)

# ------------------------------------------------------------------ Int

INT_VALUES = st.one_of(
    st.integers(min_value=-3, max_value=30),
    st.integers(min_value=-3, max_value=130),
    st.sampled_from([0, -1, 100, 101, 1000, 10**6, 10**9, 2**31 - 1, -(2**31)]),
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
).map(nodes.Int)

CUSTOM_SCALARS: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
    "ID": ID_VALUES,
    "String": STRING_VALUES,
    "Decimal": DECIMAL_VALUES,
    "DateTime": DATETIME_VALUES,
    "Int": INT_VALUES,
}


QUERIES: st.SearchStrategy[str] = queries(SCHEMA, custom_scalars=CUSTOM_SCALARS)
MUTATIONS: st.SearchStrategy[str] = mutations(SCHEMA, custom_scalars=CUSTOM_SCALARS)
DOCUMENTS = st.one_of(QUERIES, MUTATIONS)

# ------------------------------------------------------------------ variables


def _json_safe(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_json_safe(item) for item in value)
    if isinstance(value, dict):
        return all(_json_safe(item) for item in value.values())
    return True


class _Hoist(graphql.Visitor):
    def __init__(self, type_info: graphql.TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.variables: dict[str, Any] = {}
        self.definitions: list[graphql.VariableDefinitionNode] = []

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
        argument = self.type_info.get_argument()
        if argument is None or isinstance(node.value, graphql.VariableNode):
            return None
        value = graphql.value_from_ast_untyped(node.value)
        if not _json_safe(value):
            return None
        name = f"v{len(self.variables)}"
        self.variables[name] = value
        variable = graphql.VariableNode(name=graphql.NameNode(value=name))
        self.definitions.append(
            graphql.VariableDefinitionNode(
                variable=variable,
                type=graphql.parse_type(str(argument.type)),
                directives=(),
            )
        )
        return graphql.ArgumentNode(name=node.name, value=variable)


def hoisted(document: str) -> tuple[str, dict[str, Any]]:
    """`document` with each argument's value moved into a variable of the
    argument's type: (the new document, its variables)."""
    parsed = graphql.parse(document)
    type_info = graphql.TypeInfo(SCHEMA)
    hoist = _Hoist(type_info)
    result = graphql.visit(parsed, graphql.TypeInfoVisitor(type_info, hoist))
    assert isinstance(result, graphql.DocumentNode)
    definitions = tuple(
        dataclasses.replace(definition, variable_definitions=tuple(hoist.definitions))
        if isinstance(definition, graphql.OperationDefinitionNode)
        else definition
        for definition in result.definitions
    )
    document_node = dataclasses.replace(result, definitions=definitions)
    return graphql.print_ast(document_node), hoist.variables
