"""`usage-gateway`: serve, migrate, keys, worker, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.settings import Settings, SettingsError, load_settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except SettingsError as error:
        print(f"usage-gateway: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="usage-gateway", description="GraphQL gateway over usage and billing state"
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate, then serve /graphql")
    serve.add_argument("--demo", action="store_true", help="load demo data first")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(run=_migrate)

    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="create a key, print its secret")
    create.add_argument("--operator", action="store_true", required=True)
    create.add_argument("--name", default="operator")
    create.set_defaults(run=_create_operator_key)

    worker = commands.add_parser("worker", help="sync daily allowances periodically")
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.set_defaults(run=_worker)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument("--output", type=Path, help="write to this file instead")
    export.set_defaults(run=_export_schema)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        name: getattr(args, name)
        for name in ("host", "port", "workers")
        if getattr(args, name, None) is not None
    }
    return load_settings(**overrides)


async def _upgrade(settings: Settings) -> None:
    from store.db import create_engine
    from store.migrate import upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    asyncio.run(_upgrade(settings))
    print("usage-gateway: database is up to date")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.demo and not os.environ.get("USAGE_GATEWAY_JWT_SECRET"):
        # Workers inherit the environment, so they all verify the printed tokens.
        os.environ["USAGE_GATEWAY_JWT_SECRET"] = secrets.token_urlsafe(32)
    if args.demo:
        # The demo is for exploring: GraphiQL documents the schema without a token.
        os.environ.setdefault("USAGE_GATEWAY_INTROSPECTION", "public")
    settings = _settings(args)
    if settings.workers > 1 and settings.redis_url is None:
        print(
            "usage-gateway: several workers without USAGE_GATEWAY_REDIS_URL: live "
            "usage (usageUpdated) reaches only the subscribers of the worker that "
            "recorded it",
            file=sys.stderr,
        )
    from gateway.logs import configure_logging
    from gateway.metrics_endpoint import prepare_multiprocess

    configure_logging(settings.log_level, settings.log_format)
    # Before any worker imports prometheus-client: where their values meet.
    prepare_multiprocess(settings.workers)
    asyncio.run(_upgrade(settings))
    if args.demo:
        admin_headers = asyncio.run(_load_demo(settings))
        # GraphiQL's headers editor starts with them: workers build their settings
        # from the environment.
        os.environ["USAGE_GATEWAY_GRAPHIQL_HEADERS"] = admin_headers
    for name, value in (
        ("USAGE_GATEWAY_HOST", settings.host),
        ("USAGE_GATEWAY_PORT", str(settings.port)),
    ):
        os.environ.setdefault(name, value)
    uvicorn.run(
        "gateway.asgi:create",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        # Our access log (gateway.access_log) has the request id; uvicorn's own
        # logging configuration would replace ours (gateway.logs).
        access_log=False,
        log_config=None,
    )
    return 0


async def _load_demo(settings: Settings) -> str:
    """Loads the demo, prints its headers; returns the admin's, for GraphiQL."""
    from auth.tokens import issue_jwt
    from gateway import demo
    from rules.enums import ApiKeyKind
    from store.api_keys import create_api_key
    from store.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    try:
        await demo.load_demo(sessions, now, _progress)
        async with sessions() as session:
            _, operator_secret = await create_api_key(
                session, ApiKeyKind.OPERATOR, "demo operator", (), now
            )
            _, partner_secret = await create_api_key(
                session,
                ApiKeyKind.PARTNER,
                "demo partner",
                tuple(demo.DEMO_ORGANIZATIONS),
                now,
            )
            await session.commit()
    finally:
        await engine.dispose()
    # As long as the gateway lets a user token live (24 h by default), no longer.
    lifetime = timedelta(seconds=settings.jwt_max_lifetime_seconds)
    expires = now + lifetime
    admin = issue_jwt(demo.DEMO_ADMIN_USER, settings.jwt_secret, expires, now)
    member = issue_jwt(demo.DEMO_MEMBER_USER, settings.jwt_secret, expires, now)
    # The /usage page's identity switcher (gateway.usage_page), for every worker.
    home = [demo.DEMO_ORGANIZATION]
    every = home + [o for o in demo.DEMO_ORGANIZATIONS if o not in home]
    identities = [
        ("admin", "Priya Raman, ADMIN", admin, home),
        ("member", "Marco Silva, MEMBER", member, home),
        ("operator", "operator key, every demo organization", operator_secret, every),
    ]
    os.environ["USAGE_GATEWAY_USAGE_PAGE_IDENTITIES"] = json.dumps(
        [
            {"label": a, "description": b, "token": c, "organizations": d}
            for a, b, c, d in identities
        ]
    )
    url = f"http://{settings.host}:{settings.port}/graphql"
    hours = lifetime.total_seconds() / 3600
    print(
        f"""
usage-gateway demo is loading at {url} (GraphiQL: open it in a browser)
The usage page: {url.removesuffix("/graphql")}/usage (switch between the identities)

GraphiQL's Headers tab starts with the admin's; paste another to switch
(user tokens expire in {hours:g} h):
  admin ({demo.DEMO_ADMIN_USER} in {demo.DEMO_ORGANIZATION}):
    {{"Authorization": "Bearer {admin}"}}
  member ({demo.DEMO_MEMBER_USER} in {demo.DEMO_ORGANIZATION}):
    {{"Authorization": "Bearer {member}"}}
  operator key:
    {{"Authorization": "Bearer {operator_secret}"}}
  partner key (all demo organizations):
    {{"Authorization": "Bearer {partner_secret}"}}

Try: query {{ organization(id: "{demo.DEMO_ORGANIZATION}") {{ name plan {{ name }} }} }}
""",
        flush=True,
    )
    return f'{{"Authorization": "Bearer {admin}"}}'


def _progress(line: str) -> None:
    print(f"usage-gateway demo: {line}", flush=True)


def _create_operator_key(args: argparse.Namespace) -> int:
    settings = _settings(args)
    asyncio.run(_upgrade(settings))
    secret = asyncio.run(_new_operator_key(settings, args.name))
    print(secret)
    return 0


async def _new_operator_key(settings: Settings, name: str) -> str:
    from rules.enums import ApiKeyKind
    from store.api_keys import create_api_key
    from store.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            _, secret = await create_api_key(
                session, ApiKeyKind.OPERATOR, name, (), datetime.now(UTC)
            )
            await session.commit()
    finally:
        await engine.dispose()
    return secret


def _worker(args: argparse.Namespace) -> int:
    from gateway.worker import run_worker

    settings = _settings(args)
    asyncio.run(_upgrade(settings))
    return asyncio.run(run_worker(settings, once=args.once))


def _export_schema(args: argparse.Namespace) -> int:
    from schema import schema

    sdl = schema.as_str() + "\n"
    if args.output:
        args.output.write_text(sdl)
    else:
        sys.stdout.write(sdl)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
