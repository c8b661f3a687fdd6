"""What the gateway's PostgreSQL sessions set (`store.db.create_engine`).

Requests plan every statement for its own values and never start parallel workers
(their start-up cost more than a request's index reads); the allowance worker,
which sums a day of raw events, keeps PostgreSQL's parallel scans.
"""

from __future__ import annotations

from sqlalchemy import text

from store.db import create_engine


async def _setting(url: str, name: str, **options: bool) -> str:
    engine = create_engine(url, **options)
    try:
        async with engine.connect() as connection:
            value = await connection.scalar(text(f"SHOW {name}"))
    finally:
        await engine.dispose()
    return str(value)


async def test_request_sessions_start_no_parallel_workers(postgres_url: str) -> None:
    assert await _setting(postgres_url, "max_parallel_workers_per_gather") == "0"


async def test_request_sessions_plan_each_statement_for_its_values(
    postgres_url: str,
) -> None:
    assert await _setting(postgres_url, "plan_cache_mode") == "force_custom_plan"


async def test_the_allowance_workers_sessions_keep_parallel_scans(
    postgres_url: str,
) -> None:
    workers = await _setting(
        postgres_url, "max_parallel_workers_per_gather", parallel_scans=True
    )
    assert workers != "0"
    assert (
        await _setting(postgres_url, "plan_cache_mode", parallel_scans=True)
        == "force_custom_plan"
    )
