"""A field whose sibling fails must not take down the fields it shares loads with.

graphql-core 3.3 cancels the other pending fields of an object when one of its
non-null fields fails (the object is null anyway). A cancelled resolver used to
pass the cancellation on to what it awaited: the DataLoader future of its key, or
the request's shared basis of an organization. Every other field awaiting the same
future, elsewhere in the document, then failed with `CancelledError`, which no field
catches: HTTP 500 (found by tests/system/test_fuzz.py, issue 15), and coroutines left
unawaited behind it. Now a loader hands each caller its own shield of the key's
future and shared work is awaited through a shield (`resolvers/loaders/shared.py`).

Cancelling also dropped coroutines: graphql-core cancels a pending field the moment
a sibling fails, also one whose task has not taken its first step, and that task's
coroutine is then closed unstarted with the resolver's coroutine (and its subfields')
still in it, never awaited. `schema.execution.gather_with_cancel` cancels such a
field right after its first step instead.

The documents below ask for an organization twice: `a` also asks for a field the
caller may not read (`meters`: a PARTNER key holds no usage:read), a non-null field,
so `a` is null and its other fields are cancelled while they wait; `b` asks for the
same figures, which it reads through the same loader keys and the same basis.
"""

from __future__ import annotations

import asyncio
import gc
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import build_schema, graphql

from resolvers.loaders.shared import Shared, SharedLoader
from rules.enums import ApiKeyKind
from schema import engine
from store.api_keys import create_api_key
from store.db import create_engine, session_factory
from tests.factories import subscribed_with_operator
from tests.gateway_client import gateway

FIGURES = (
    "credits { spent pools { kind spent } } reconciliation { status } "
    "workspaceCreation { allowed reasons } billingState"
)
DOCUMENTS = {
    "failing field last": "query ($org: ID!) { "
    f"a: organization(id: $org) {{ {FIGURES} meters {{ key }} }} "
    f"b: organization(id: $org) {{ {FIGURES} }} }}",
    "failing field first": "query ($org: ID!) { "
    f"a: organization(id: $org) {{ meters {{ key }} {FIGURES} }} "
    f"b: organization(id: $org) {{ {FIGURES} }} }}",
    "one shared key": "query ($org: ID!) { "
    "a: organization(id: $org) { reconciliation { status } meters { key } } "
    "b: organization(id: $org) { reconciliation { status } } }",
}


@pytest.fixture
def no_warnings() -> Iterator[None]:
    """Every warning is an error, also a coroutine collected without being awaited
    (collected here, inside the block, not at some later test's garbage
    collection)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
        gc.collect()


async def _partner(url: str, organization_id: str) -> str:
    await subscribed_with_operator(url, organization_id)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            _, secret = await create_api_key(
                session,
                ApiKeyKind.PARTNER,
                "partner",
                (organization_id,),
                datetime.now(UTC),
            )
            await session.commit()
    finally:
        await engine.dispose()
    return secret


async def _ask(url: str, document: str, **settings: Any) -> tuple[int, dict[str, Any]]:
    organization_id = f"org_{uuid.uuid4().hex[:10]}"
    partner = await _partner(url, organization_id)
    async with gateway(url, **settings) as api:
        response = await api.client.post(
            "/graphql",
            json={"query": document, "variables": {"org": organization_id}},
            headers={"Authorization": f"Bearer {partner}"},
        )
    return response.status_code, response.json()


def _check(status: int, body: dict[str, Any], document: str) -> None:
    assert status == 200, body
    assert body["data"]["a"] is None
    assert body["data"]["b"] is not None
    errors = [(e["path"], e["extensions"]["code"]) for e in body["errors"]]
    assert errors == [(["a", "meters"], "FORBIDDEN")], body["errors"]
    if "credits" in document:
        assert body["data"]["b"]["credits"]["spent"] == "0"
        assert body["data"]["b"]["workspaceCreation"]["allowed"] is True


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_a_failing_sibling_leaves_the_shared_loads_to_the_other_fields(
    database_url: str, document: str, no_warnings: None
) -> None:
    status, body = await _ask(database_url, DOCUMENTS[document])
    _check(status, body, DOCUMENTS[document])


@pytest.mark.redis
@pytest.mark.parametrize("document", DOCUMENTS)
async def test_with_redis_counters_too(
    postgres_url: str, redis_url: str, document: str, no_warnings: None
) -> None:
    status, body = await _ask(postgres_url, DOCUMENTS[document], redis_url=redis_url)
    _check(status, body, DOCUMENTS[document])


# ------------------------------------------------------------------ the mechanism


class _Doubles(SharedLoader[int, int]):
    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.batches: list[list[int]] = []

    async def batch_load_fn(self, keys: list[int]) -> list[int]:
        self.batches.append(list(keys))
        await self.release.wait()
        return [key * 2 for key in keys]


async def test_cancelling_one_load_leaves_the_key_to_the_others() -> None:
    loader = _Doubles()
    cancelled = asyncio.ensure_future(loader.load(1))
    other = asyncio.ensure_future(loader.load(1))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    loader.release.set()
    assert await other == 2
    assert cancelled.cancelled()
    assert await loader.load(1) == 2  # the cached future was not cancelled either
    assert loader.batches == [[1]]


class _Failing(SharedLoader[int, int]):
    async def batch_load_fn(self, keys: list[int]) -> list[int]:
        await asyncio.sleep(0)
        raise ValueError("the batch fails")


async def test_a_failed_batch_nobody_awaits_any_more_logs_nothing(
    caplog: pytest.LogCaptureFixture, no_warnings: None
) -> None:
    """Found by the fuzz run (seed 11): once its awaiter was cancelled, a key's
    failed batch logged "Future exception was never retrieved"."""
    loader = _Failing()
    only = asyncio.ensure_future(loader.load(1))
    await asyncio.sleep(0)
    only.cancel()
    for _ in range(5):
        await asyncio.sleep(0)
    gc.collect()
    assert "never retrieved" not in caplog.text
    with pytest.raises(ValueError, match="the batch fails"):
        await loader.load(2)


async def test_shared_work_outlives_one_awaiter_and_stops_without_any() -> None:
    started: list[int] = []
    release = asyncio.Event()

    async def work() -> str:
        started.append(1)
        await release.wait()
        return "done"

    shared = Shared(work, abandon=True)
    first = asyncio.ensure_future(shared.wait())
    second = asyncio.ensure_future(shared.wait())
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    assert not second.done()
    second.cancel()
    await asyncio.gather(first, second, return_exceptions=True)
    await asyncio.sleep(0)
    # Nobody waits any more: the work was cancelled; a later wait starts it again.
    third = asyncio.ensure_future(shared.wait())
    await asyncio.sleep(0)
    release.set()
    assert await third == "done"
    assert started == [1, 1]


async def test_shared_work_that_is_not_abandoned_finishes_alone() -> None:
    release = asyncio.Event()
    finished: list[str] = []

    async def work() -> str:
        await release.wait()
        finished.append("done")
        return "done"

    shared = Shared(work, abandon=False)
    only = asyncio.ensure_future(shared.wait())
    await asyncio.sleep(0)
    only.cancel()
    await asyncio.gather(only, return_exceptions=True)
    release.set()
    assert await shared.wait() == "done"
    assert finished == ["done"]


# ------------------------------------------------------------------ unstarted fields

NESTED = build_schema(
    """
    type Query { fails: String! later: Node list: [Node] }
    type Node { slow: String fast: String next: Node }
    """
)
NESTED_DOCUMENT = (
    "{ later { slow fast next { slow fast next { slow } } } "
    "list { slow next { fast next { slow } } } fails }"
)


class _Node:
    async def slow(self, info: object) -> str:
        await asyncio.sleep(0)
        return "slow"

    async def fast(self, info: object) -> str:
        return "fast"

    def next(self, info: object) -> _Node:
        return _Node()


def _root(ticks: int) -> dict[str, object]:
    async def fails(info: object) -> str:
        for _ in range(ticks):
            await asyncio.sleep(0)
        raise ValueError("the sibling fails")

    async def later(info: object) -> _Node:
        return _Node()

    return {"fails": fails, "later": later, "list": lambda info: [_Node(), _Node()]}


@pytest.mark.parametrize("ticks", range(8))
async def test_fields_cancelled_before_they_started_leave_no_coroutine_unawaited(
    ticks: int, no_warnings: None
) -> None:
    """Whichever event-loop tick the sibling fails in (with one, graphql-core's
    own function cancelled `later`'s subfields before they started: "coroutine
    '_Node.fast' was never awaited", and so was their `get_results`)."""
    if not engine.ENABLED:
        pytest.skip(f"{engine.SWITCH} is off: graphql-core's own gather_with_cancel")
    result = await graphql(NESTED, NESTED_DOCUMENT, root_value=_root(ticks))
    assert result.data is None
    assert [error.message for error in result.errors or []] == ["the sibling fails"]
    await asyncio.sleep(0.01)  # what was cancelled settles
