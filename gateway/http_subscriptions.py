"""Subscriptions over HTTP stream only as Apollo's multipart/mixed.

Strawberry streams a subscription when the request accepts
`multipart/mixed;subscriptionSpec=1.0`. Without that media type it would execute
the subscription as a query, whose root field resolves to a stream, not a value:
the client got `INTERNAL` ("Cannot return null for non-nullable field"). Such a
request is refused up front with a 400 that says how to subscribe.
"""

from __future__ import annotations

import re

from cross_web import HTTPException
from graphql import GraphQLError, parse
from strawberry.http import GraphQLRequestData
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_operation_type

# Only a document that mentions the word is parsed here (the schema parses it again,
# from its cache): queries and mutations pay one regular-expression search.
_MAY_SUBSCRIBE = re.compile(r"\bsubscription\b")

REFUSAL = (
    "Subscriptions over HTTP need `Accept: multipart/mixed;subscriptionSpec=1.0, "
    "application/json` (Apollo's multipart protocol); or subscribe over the "
    "websocket at the same URL with graphql-transport-ws."
)


def refuse_plain_subscription(request_data: GraphQLRequestData) -> None:
    """Raises a 400 for a subscription sent as a plain (non-streaming) request."""
    if request_data.protocol != "http" or request_data.query is None:
        return
    if not _MAY_SUBSCRIBE.search(request_data.query):
        return
    try:
        document = parse(request_data.query)
        kind = get_operation_type(document, request_data.operation_name)
    except (GraphQLError, RuntimeError):
        return  # the schema reports the syntax error, or the missing operation
    if kind is OperationType.SUBSCRIPTION:
        raise HTTPException(400, REFUSAL)
