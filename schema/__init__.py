"""The assembled GraphQL schema and its extensions."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from schema.masking import MaskInternalErrors
from schema.mutation import Mutation
from schema.query import Query
from schema.subscription import Subscription

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        # Factories: both caches live at module level, shared by every request.
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        MaskInternalErrors,
    ],
)
