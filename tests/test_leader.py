"""One leader among processes on one PostgreSQL database, taken over when it dies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlalchemy import text

from adapters.health import DatabaseState, Health, health_report, metrics_text
from storage.engine import make_engine
from storage.leader import Leadership
from tests.conftest import new_postgres_database


async def until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> float:
    """Seconds until ``condition`` holds."""
    began = time.monotonic()
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)
    assert condition(), what
    return time.monotonic() - began


async def test_one_leads_and_another_takes_over_when_its_connection_drops() -> None:
    async with new_postgres_database("leader") as url:
        processes = [Leadership(url, retry=0.2, check=0.2) for _ in range(3)]
        admin = make_engine(url, isolation_level="AUTOCOMMIT")
        try:
            for process in processes:
                process.start()
            await until(lambda: any(p.leading.is_set() for p in processes), "someone leads")
            await asyncio.sleep(0.5)  # the others have asked meanwhile, and were refused
            [leader] = [p for p in processes if p.leading.is_set()]
            # the leader's connection drops, as when its process is killed
            async with admin.connect() as conn:
                holder = (
                    await conn.execute(
                        text(
                            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                            " AND database = (SELECT oid FROM pg_database"
                            " WHERE datname = current_database())"
                        )
                    )
                ).scalar_one()
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": holder})
            others = [p for p in processes if p is not leader]
            took = await until(
                lambda: any(p.leading.is_set() for p in others), "another takes over"
            )
            assert took < 3.0
            await until(lambda: not leader.leading.is_set(), "the old leader steps down")
            assert leader.deposed.is_set()
            await asyncio.sleep(0.5)
            assert sum(p.leading.is_set() for p in processes) == 1
            # a leader that stops frees the lock at once
            [second] = [p for p in others if p.leading.is_set()]
            await second.close()
            await until(lambda: sum(p.leading.is_set() for p in processes) == 1, "a third leads")
            assert not second.leading.is_set()
        finally:
            for process in processes:
                await process.close()
            await admin.dispose()


async def test_wait_returns_when_stopped_without_leading() -> None:
    async with new_postgres_database("leader") as url:
        holder, waiter = Leadership(url, retry=0.1), Leadership(url, retry=0.1)
        try:
            holder.start()
            await until(holder.leading.is_set, "the first leads")
            waiter.start()
            stop = asyncio.Event()
            waiting = asyncio.create_task(waiter.wait(stop))
            await asyncio.sleep(0.3)
            assert not waiting.done()
            stop.set()
            assert await waiting is False
        finally:
            await holder.close()
            await waiter.close()


async def test_health_says_whether_this_process_leads() -> None:
    async with new_postgres_database("leader") as url:
        health = Health()
        assert health_report(health, DatabaseState(True))[1]["leader"] is None  # SQLite
        assert "buurtbot_leader" not in metrics_text(health, DatabaseState(True))

        def note(leading: bool) -> None:
            health.leading = leading

        first = Leadership(url, retry=0.1, check=0.1, on_change=note)
        assert health_report(health, DatabaseState(True))[1]["leader"] is False
        try:
            first.start()
            await until(first.leading.is_set, "it leads")
            assert health_report(health, DatabaseState(True))[1]["leader"] is True
            assert "\nbuurtbot_leader 1\n" in metrics_text(health, DatabaseState(True))
        finally:
            await first.close()
        assert health_report(health, DatabaseState(True))[1]["leader"] is False
