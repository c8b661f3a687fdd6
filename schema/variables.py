"""Variable coercion compiled per input type.

graphql-core coerces a request's variables with one generic function that asks,
at every value, whether its type is non-null, a list, an input object or a leaf,
and first walks the whole input once more to check its depth. For recordUsage's
1,000 events that was some 60 ms of each call, more than deciding and writing
them. `coerce_variables` does the same work with the decisions taken once per
type (`_coercer`: a closure per non-null, list, input object and leaf type), the
depth counted on the way.

It mirrors `graphql.utilities.coerce_input_value` step by step (nulls, a single
value for a list, unknown and missing fields, defaults, one-of inputs, `out_type`)
and only for values that coerce: anything that does not (a bad value, a missing
required field, too deep) is handed to graphql-core's own `get_variable_values`,
which reports it as it always has. So the result is graphql-core's, value for
value and error for error; `tests/schema/test_variables.py` holds the two side by side.

graphql-core has no hook for this: `install` replaces the function its executor
calls (`graphql.execution.executor.get_variable_values`), once, at import.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import graphql.execution.executor as executor_module
from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    Undefined,
    VariableDefinitionNode,
    is_leaf_type,
    is_required_input_field,
)
from graphql.execution.get_variable_signature import (
    GraphQLVariableSignature,
    get_variable_signature,
)
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    get_variable_values,
    maybe_use_default_value,
)
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.pyutils import is_iterable
from graphql.utilities.coerce_input_value import coerce_default_value

Coercer = Callable[[Any, int], Any]
"""(value, depth) -> the coerced value, or `Undefined` (graphql-core decides)."""


class _Unsupported(Exception):
    """Raised inside the fast path: let graphql-core do it all."""


_COERCERS: dict[int, tuple[GraphQLInputType, Coercer]] = {}
"""By the type's identity; the type is kept with its coercer so that its id is
never another type's (graphql-core's types compare structurally)."""


def _coercer(type_: GraphQLInputType) -> Coercer:
    """The compiled coercion of `type_` (built once per type object)."""
    found = _COERCERS.get(id(type_))
    if found is not None and found[0] is type_:
        return found[1]
    # Registered before building, so a recursive input type finds itself.
    slot: list[Coercer] = []
    _COERCERS[id(type_)] = (type_, lambda value, depth: slot[0](value, depth))
    coercer = _build(type_)
    slot.append(coercer)
    _COERCERS[id(type_)] = (type_, coercer)
    return coercer


def _build(type_: GraphQLInputType) -> Coercer:
    if isinstance(type_, GraphQLNonNull) and is_leaf_type(type_.of_type):
        return _leaf(type_.of_type.coerce_input_value, null=Undefined)
    if is_leaf_type(type_):
        return _leaf(type_.coerce_input_value, null=None)
    if isinstance(type_, GraphQLNonNull):
        inner = _coercer(type_.of_type)

        def non_null(value: Any, depth: int) -> Any:
            if value is None or value is Undefined:
                return Undefined
            return inner(value, depth)

        return non_null
    nullable = _nullable(type_)

    def maybe_null(value: Any, depth: int) -> Any:
        if value is None or value is Undefined:
            return None
        return nullable(value, depth)

    return maybe_null


def _leaf(coerce_leaf: Callable[[Any], Any], null: Any) -> Coercer:
    """A scalar or enum, its null check in the same call (`null`: what a null
    gives, Undefined where the type is non-null): most of an input's fields."""

    def leaf(value: Any, depth: int) -> Any:
        if value is None or value is Undefined:
            return null
        try:
            return coerce_leaf(value)
        except Exception:
            return Undefined

    return leaf


def _nullable(type_: GraphQLInputType) -> Coercer:
    if isinstance(type_, GraphQLList):
        return _list(type_)
    if isinstance(type_, GraphQLInputObjectType):
        return _input_object(type_)
    raise _Unsupported(str(type_))


def _list(type_: GraphQLList[Any]) -> Coercer:
    item = _coercer(type_.of_type)

    def coerce_list(value: Any, depth: int) -> Any:
        if depth > MAX_NESTING_DEPTH:
            return Undefined
        if not is_iterable(value):
            coerced = item(value, depth + 1)
            return Undefined if coerced is Undefined else [coerced]
        coerced_list: list[Any] = []
        append = coerced_list.append
        for element in value:
            coerced = item(element, depth + 1)
            if coerced is Undefined:
                return Undefined
            append(coerced)
        return coerced_list

    return coerce_list


def _input_object(type_: GraphQLInputObjectType) -> Coercer:
    # A field's coerced default is memoized on the field by graphql-core: taking
    # it once here hands out the very object its own coercion would.
    fields = [
        (
            name,
            field.out_name or name,
            _coercer(field.type),
            is_required_input_field(field),
            coerce_default_value(field),
        )
        for name, field in type_.fields.items()
    ]
    names = frozenset(type_.fields)
    one_of = type_.is_one_of
    out_type = type_.out_type

    def coerce_object(value: Any, depth: int) -> Any:
        if depth > MAX_NESTING_DEPTH or not isinstance(value, dict):
            return Undefined
        if not names.issuperset(value):
            return Undefined  # an unknown field (graphql-core names it)
        coerced_dict: dict[str, Any] = {}
        for name, out_name, coerce, required, default in fields:
            field_value = value.get(name, Undefined)
            if field_value is Undefined:
                if required:
                    return Undefined
                if default is not Undefined:
                    coerced_dict[out_name] = default
                continue
            coerced = coerce(field_value, depth + 1)
            if coerced is Undefined:
                return Undefined
            coerced_dict[out_name] = coerced
        if one_of:
            defined = sum(1 for v in value.values() if v is not Undefined)
            keys = list(coerced_dict)
            if defined != 1 or len(keys) != 1 or coerced_dict[keys[0]] is None:
                return Undefined
        return out_type(coerced_dict)

    return coerce_object


def coerce_variables(
    schema: GraphQLSchema,
    var_def_nodes: Collection[VariableDefinitionNode],
    inputs: dict[str, Any],
    max_errors: int | None = None,
    hide_suggestions: bool = False,
) -> Any:
    """`graphql.execution.values.get_variable_values`, compiled per type; anything
    that does not coerce is graphql-core's to report."""
    try:
        found = _coerce_all(schema, var_def_nodes, inputs, hide_suggestions)
    except _Unsupported:
        found = None
    if found is None:
        return get_variable_values(
            schema, var_def_nodes, inputs, max_errors, hide_suggestions
        )
    return found


def _coerce_all(
    schema: GraphQLSchema,
    var_def_nodes: Collection[VariableDefinitionNode],
    inputs: dict[str, Any],
    hide_suggestions: bool,
) -> VariableValues | None:
    sources: dict[str, VariableValueSource] = {}
    coerced: dict[str, Any] = {}
    for var_def_node in var_def_nodes:
        signature = get_variable_signature(schema, var_def_node)
        if isinstance(signature, GraphQLError):
            return None
        name, type_ = signature.name, signature.type
        value = inputs.get(name, Undefined)
        if value is Undefined:
            sources[name] = VariableValueSource(signature)
            if var_def_node.default_value:
                if not _use_default(coerced, name, signature, hide_suggestions):
                    return None
                continue
            if isinstance(type_, GraphQLNonNull):
                return None
            continue
        sources[name] = VariableValueSource(signature, value)
        coerced_value = _coercer(type_)(value, 0)
        if coerced_value is Undefined:
            return None
        coerced[name] = coerced_value
    return VariableValues(sources, coerced)


def _use_default(
    coerced: dict[str, Any],
    name: str,
    signature: GraphQLVariableSignature,
    hide_suggestions: bool,
) -> bool:
    """The variable's default, as graphql-core sets it; False when it fails."""
    failed: list[GraphQLError] = []

    def on_error(error: GraphQLError, path: list[str | int]) -> None:
        failed.append(error)

    maybe_use_default_value(coerced, name, signature, on_error, hide_suggestions)
    return not failed


def install() -> None:
    """Make graphql-core's executor coerce variables with `coerce_variables`."""
    executor_module.get_variable_values = coerce_variables  # type: ignore[attr-defined]
