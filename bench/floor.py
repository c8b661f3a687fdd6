"""The HTTP floor: a plain Starlette app answering POST /graphql with a fixed body.

The body is a real UsagePage response captured from the gateway, so the floor pays
the same bytes on the wire and the same server (uvicorn, one worker) without any
GraphQL, SQL or Redis work. Reads the request body like the gateway does.

    .venv/bin/python -m bench.floor --port 8099 --body bench/results/usage_page.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create(body: bytes) -> Starlette:
    # Parsed and re-encoded per request, as a JSON endpoint does.
    document = orjson.loads(body)

    async def graphql(request: Request) -> Response:
        orjson.loads(await request.body())
        return Response(orjson.dumps(document), media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True)
    args = parser.parse_args()
    uvicorn.run(
        create(args.body.read_bytes()),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
