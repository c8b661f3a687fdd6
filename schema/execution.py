"""Execution with a fast path for plain leaf fields.

A UsagePage resolves some 1,400 fields, nearly all of them "basic": an attribute
of an already built object (no resolver, no permission, no argument) holding a
scalar or an enum. graphql-core still runs its whole machinery for each one: a
path, a resolve info, Strawberry's resolver wrapper, the non-null and leaf
completion. That cost (some 6 µs a field here) is most of a page's execution.

`GatewayExecutionContext` answers those fields directly: the attribute, then the
leaf type's own `coerce_output_value` (memoized per member for enums, whose
Strawberry coercion scans every value); an object whose selected fields are all
such leaves in one loop, and a list of such objects in one loop over its items.
Anything unusual (a null, an exception as value, a coercion that fails or returns
nothing) takes graphql-core's own path, so errors, null propagation and messages
are exactly as before.

`gather_with_cancel` replaces graphql-core's function of that name (`install`):
the same gathering, except that a field whose task has not taken its first step
yet is cancelled right after that step instead of before it (below).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import graphql.execution.executor as executor_module
from graphql import (
    GraphQLEnumType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    Undefined,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

DEFINITION = "strawberry-definition"
"""Where Strawberry keeps a field's definition on the graphql-core field."""

Coerce = Callable[[Any], Any]


class _LeafPlan:
    """How to answer one basic leaf field: which attribute, which coercion, and
    whether null is an answer (a nullable field) or an error (graphql-core's)."""

    __slots__ = ("coerce", "nullable", "python_name")

    def __init__(self, python_name: str, coerce: Coerce, nullable: bool) -> None:
        self.python_name = python_name
        self.coerce = coerce
        self.nullable = nullable


_PLANS: dict[tuple[str, str], _LeafPlan | None] = {}
_ENUM_COERCIONS: dict[str, Coerce] = {}


def _plan(parent_type: GraphQLObjectType, field_name: str) -> _LeafPlan | None:
    """The fast path of `parent_type.field_name`, or None (graphql-core's path)."""
    key = (parent_type.name, field_name)
    try:
        return _PLANS[key]
    except KeyError:
        pass
    plan = None
    field_def = parent_type.fields.get(field_name)
    if field_def is not None and not field_def.args:
        definition = (field_def.extensions or {}).get(DEFINITION)
        leaf = get_nullable_type(field_def.type)
        if (
            isinstance(definition, StrawberryField)
            and getattr(field_def.resolve, "_is_default", False)
            and definition.is_basic_field
            and is_leaf_type(leaf)
        ):
            plan = _LeafPlan(
                definition.python_name,
                _coercion(leaf),
                not isinstance(field_def.type, GraphQLNonNull),
            )
    _PLANS[key] = plan
    return plan


def _coercion(leaf: GraphQLLeafType) -> Coerce:
    if not isinstance(leaf, GraphQLEnumType):
        return leaf.coerce_output_value
    found = _ENUM_COERCIONS.get(leaf.name)
    if found is None:
        found = _ENUM_COERCIONS[leaf.name] = _memoized(leaf.coerce_output_value)
    return found


def _memoized(coerce: Coerce) -> Coerce:
    """An enum's coercion remembered per member (members are few and hashable)."""
    known: dict[Any, Any] = {}

    def coerce_member(value: Any) -> Any:
        try:
            return known[value]
        except KeyError:
            found = known[value] = coerce(value)
            return found

    return coerce_member


_ABSENT = object()

_OBJECT_PLANS: dict[
    tuple[str, tuple[tuple[str, str], ...]], list[tuple[str, _LeafPlan]] | None
] = {}


def _object_plan(
    parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
) -> list[tuple[str, _LeafPlan]] | None:
    """Each response key's leaf plan when every selected field has one (None:
    graphql-core's path). Remembered per type and selection (response key, field)."""
    selection = tuple(
        (response_name, details[0].node.name.value)
        for response_name, details in grouped_field_set.items()
    )
    key = (parent_type.name, selection)
    try:
        return _OBJECT_PLANS[key]
    except KeyError:
        pass
    plans: list[tuple[str, _LeafPlan]] | None = []
    for response_name, field_name in selection:
        plan = _plan(parent_type, field_name)
        if plan is None:
            plans = None
            break
        assert plans is not None
        plans.append((response_name, plan))
    if len(_OBJECT_PLANS) < _MAX_OBJECT_PLANS:
        _OBJECT_PLANS[key] = plans
    return plans


_MAX_OBJECT_PLANS = 4096
"""Selections are few (the documents clients send); a bound keeps odd ones out."""


def _answer(plans: list[tuple[str, _LeafPlan]], source: Any) -> dict[str, Any] | None:
    """`source`'s fields by their leaf plans, or None where anything is unusual (a
    null where none is allowed, an exception, a coercion that fails or gives
    nothing): graphql-core's path then answers, and reports, as it would."""
    results: dict[str, Any] = {}
    for response_name, plan in plans:
        value = getattr(source, plan.python_name, _ABSENT)
        if value is None and plan.nullable:
            results[response_name] = None
            continue
        if value is None or value is _ABSENT or isinstance(value, Exception):
            return None
        try:
            coerced = plan.coerce(value)
        except Exception:  # graphql-core's path reports it as it would
            return None
        if coerced is None or coerced is Undefined:
            return None
        results[response_name] = coerced
    return results


class GatewayExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with basic leaf fields answered directly,
    objects whose every field is one (a recordUsage result, a member, a credit
    pool) answered in one loop, and lists of such objects in one loop too."""

    def _plans_for(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> list[tuple[str, _LeafPlan]] | None:
        # graphql-core hands every item of a list the same grouped field set.
        known = self.__dict__.setdefault("_object_plans", {})
        key = (parent_type.name, id(grouped_field_set))
        found = known.get(key, _ABSENT)
        if found is _ABSENT:
            found = known[key] = _object_plan(parent_type, grouped_field_set)
        plans: list[tuple[str, _LeafPlan]] | None = found
        return plans

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        plans = self._plans_for(parent_type, grouped_field_set)
        if plans is not None:
            results = _answer(plans, source_value)
            if results is not None:
                return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A list of objects whose selected fields are all basic leaves (the 1,000
        results of a recordUsage) answered item by item in one loop, without
        graphql-core's completion of each item (a path, the non-null and object
        checks, the collected subfields looked up again). Any item that is not
        plain (a null, something `_answer` declines) sends the whole list down
        graphql-core's path; so do `@stream` and `@defer`."""
        item_type = get_nullable_type(return_type.of_type)
        if (
            isinstance(item_type, GraphQLObjectType)
            and item_type.is_type_of is None
            and isinstance(result, list)
            and self.get_stream_usage(field_details_list, path) is None
        ):
            grouped_field_set, defers, _ = self.collect_subfields(
                item_type, field_details_list
            )
            plans = None if defers else self._plans_for(item_type, grouped_field_set)
            if plans is not None:
                completed = []
                for item in result:
                    answered = None if item is None else _answer(plans, item)
                    if answered is None:
                        break
                    completed.append(answered)
                else:
                    return completed
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        plan = _plan(parent_type, field_details_list[0].node.name.value)
        if plan is not None:
            value = getattr(source, plan.python_name, _ABSENT)
            if value is None and plan.nullable:
                return None
            if (
                value is not None
                and value is not _ABSENT
                and not isinstance(value, Exception)
            ):
                try:
                    coerced = plan.coerce(value)
                except Exception:  # graphql-core's path reports it as it would
                    coerced = None
                if coerced is not None and coerced is not Undefined:
                    return coerced
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


async def gather_with_cancel(*awaitables: Awaitable[Any]) -> list[Any]:
    """graphql-core's `gather_with_cancel` (the results of an object's fields or a
    list's items; the first error propagates, the other pending ones are cancelled
    and settled before it does), safe for fields that have not started.

    graphql-core cancels the pending tasks the moment one fails, and when its own
    task is cancelled its `gather` cancels them all at once. A task cancelled
    before its first step has its coroutine closed unstarted, and every coroutine
    that one holds is dropped unawaited: the resolver's (Strawberry's
    `_async_resolver`) and its subfields' (`execute_fields.<locals>.get_results`),
    each a "coroutine ... was never awaited" RuntimeWarning when collected (found
    by tests/system/test_fuzz.py, issue 15; graphql-core's issues 236 and 269 are
    relatives). Here the tasks are awaited through a shield, so that only this
    function cancels them, and one that has not started is cancelled just after
    its first step (it is already queued; the cancellation is queued behind it):
    it starts what it holds, and the cancellation then unwinds all of it.
    """
    futures = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    gathered = asyncio.gather(*futures)
    # Once cancelled, the shield no longer reads what `gathered` ends with.
    gathered.add_done_callback(_retrieved)
    try:
        return await asyncio.shield(gathered)
    except (Exception, asyncio.CancelledError):
        for future in futures:
            if not future.done():
                _cancel_once_started(future)
        await asyncio.gather(*futures, return_exceptions=True)
        raise


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _cancel_once_started(future: asyncio.Future[Any]) -> None:
    coroutine = future.get_coro() if isinstance(future, asyncio.Task) else None
    if (
        inspect.iscoroutine(coroutine)
        and inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED
    ):
        asyncio.get_running_loop().call_soon(future.cancel)
    else:
        future.cancel()


def install() -> None:
    """Make graphql-core's executor gather fields with `gather_with_cancel`."""
    executor_module.gather_with_cancel = gather_with_cancel  # type: ignore[attr-defined]
