"""One leader among processes on one PostgreSQL database, taken over when it dies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, text

from adapters.bootstrap import Runtime, bootstrap
from adapters.health import DatabaseState, Health, health_report, metrics_text
from adapters.settings import Settings
from bot.clock import FakeClock
from bot.duework import LEADER_ONLY, DueWorkRunner
from bot.work import WorkKind
from storage.engine import make_engine
from storage.leader import Leadership
from storage.sql import due_t
from tests.conftest import MONDAY_MORNING, new_postgres_database


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


async def nightly_runs(runtime: Runtime) -> list[tuple[str, str | None, datetime]]:
    """(kind, who did it, when due) of each nightly job done, oldest first."""
    async with runtime.store.engine.connect() as conn:
        rows = await conn.execute(
            select(due_t.c.kind, due_t.c.claimed_by, due_t.c.due_at)
            .where(due_t.c.kind.in_([k.value for k in LEADER_ONLY]), due_t.c.done_at.is_not(None))
            .order_by(due_t.c.due_at)
        )
        return [(kind, who, due) for kind, who, due in rows]


async def test_the_nightly_clean_up_runs_once_in_the_process_that_leads() -> None:
    """Two bot processes on one PostgreSQL database, each with its claim loop: the nightly
    clean-up runs once a night, in the process that leads; when that one dies, the other
    takes the lead and the next night's clean-up runs there."""
    async with new_postgres_database("nightly") as url:
        clock = FakeClock(MONDAY_MORNING)
        settings = Settings(database_url=url)
        apps = [await bootstrap(settings, clock=clock) for _ in range(2)]
        leaderships = [Leadership(url, retry=0.1, check=0.1) for _ in apps]
        runners = [
            DueWorkRunner(app.bot, worker=f"process {n}", leads=leadership.leading.is_set)
            for n, (app, leadership) in enumerate(zip(apps, leaderships, strict=True))
        ]
        try:
            async with apps[0].store.transaction() as tx:
                await tx.create_community("Buurt", "nl", "Europe/Amsterdam", {})
            # Nobody leads yet: nothing nightly is planned, nor looked for.
            await asyncio.gather(*(runner.run_due() for runner in runners))
            async with apps[0].store.transaction() as tx:
                community = (await tx.communities())[0]
                assert not await tx.has_pending_work(WorkKind.RETENTION, community.id)

            leaderships[0].start()
            await until(leaderships[0].leading.is_set, "the first leads")
            leaderships[1].start()
            await asyncio.sleep(0.3)  # the second asked, and was refused
            assert not leaderships[1].leading.is_set()
            await asyncio.gather(*(runner.run_due() for runner in runners))  # plans the night
            for night in (1, 2):
                clock.set(MONDAY_MORNING.replace(hour=4) + timedelta(days=night))
                for _ in range(3):
                    await asyncio.gather(*(runner.run_due() for runner in runners))
            # The second waits for nothing nightly: it would wake for work it may not do.
            assert await runners[1].next_due() is None or (
                await runners[1].next_due() > clock.now() + timedelta(days=1)
            )

            await leaderships[0].close()  # the first process dies
            await until(leaderships[1].leading.is_set, "the second takes over")
            clock.set(MONDAY_MORNING.replace(hour=4) + timedelta(days=3))
            for _ in range(3):
                await asyncio.gather(*(runner.run_due() for runner in runners))

            clean_ups = [
                (who, due) for kind, who, due in await nightly_runs(apps[0]) if kind == "retention"
            ]
            assert [who for who, _ in clean_ups] == ["process 0", "process 0", "process 1"]
            assert len({due for _, due in clean_ups}) == 3  # one a night
        finally:
            for leadership in leaderships:
                await leadership.close()
            for app in apps:
                await app.close()
