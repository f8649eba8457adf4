"""Figure 1, its cause: what one database statement costs, and how many an event takes.

A transaction of the store runs its statements on the event loop, with SQLAlchemy on the
synchronous sqlite3 driver (``storage.sqlite_driver.LoopTransactions``); reads outside a
transaction, migrations and the tests' own look-ups go through SQLAlchemy's asyncio layer to
a thread of SQLite's own (``storage.engine.make_engine``). Measured here, on an indexed
look-up of one member:

- the CPU time of one statement as the bot runs it (in a store transaction, on the loop);
- the same through the asyncio engine (one trip to its thread), with aiosqlite alone, with
  SQLAlchemy on the synchronous sqlite3 driver, and one trip to a thread and back with
  nothing done there;
- the number of statements per event in the core mix (``bench.workload``), counted with
  SQLAlchemy's cursor events on both engines, replies delivered included, and the time
  SQLite itself takes for them (from the cursor's ``execute`` to its return; rows fetched
  after it are not counted).

Their product is the CPU time the round trips alone take per event, and its inverse the
most events per second one core could handle if the bot's own Python took no time at all.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import create_engine, event, select

from bench import data
from bench.common import Figure, Measurement, cli, emit
from bench.workload import MONDAY_MORNING, Neighbourhood
from storage import sqlite_driver
from storage.engine import make_engine
from storage.rows import member_t
from storage.sql import SqlStore

STATEMENTS = 3000
AS_THE_BOT_RUNS_IT = "in a store transaction, on the event loop (the bot) µs"


async def per_statement(folder: Path) -> dict[str, float]:
    path = folder / "roundtrips.db"
    url = await data.migrated(path)
    engine = data.connect(path)
    with engine.begin() as conn:
        community_id = data.community(conn)
        data.members(conn, community_id, 100, MONDAY_MORNING)
    engine.dispose()
    query = select(member_t).where(member_t.c.id == 7)
    costs: dict[str, float] = {}

    store = await SqlStore.open(url, run_migrations=False)
    try:
        async with store.transaction() as tx:
            for _ in range(200):
                await tx.conn.execute(query)
            cpu = time.process_time()
            for _ in range(STATEMENTS):
                (await tx.conn.execute(query)).first()
            costs[AS_THE_BOT_RUNS_IT] = (time.process_time() - cpu) / STATEMENTS * 1e6
    finally:
        await store.close()

    async_engine = make_engine(url)
    async with async_engine.connect() as conn:
        for _ in range(200):
            await conn.execute(query)
        cpu = time.process_time()
        for _ in range(STATEMENTS):
            (await conn.execute(query)).first()
        costs["SQLAlchemy asyncio, one trip to its thread µs"] = (
            (time.process_time() - cpu) / STATEMENTS * 1e6
        )
    await async_engine.dispose()

    connection = await sqlite_driver.connect(str(path))
    cpu = time.process_time()
    for _ in range(STATEMENTS):
        await connection.call(int)
    costs["one trip to the thread and back, nothing done there µs"] = (
        (time.process_time() - cpu) / STATEMENTS * 1e6
    )
    await connection.close()

    async with aiosqlite.connect(path) as db:
        cpu = time.process_time()
        for _ in range(STATEMENTS):
            async with db.execute("SELECT * FROM member WHERE id = ?", (7,)) as cursor:
                await cursor.fetchall()
        costs["aiosqlite alone µs"] = (time.process_time() - cpu) / STATEMENTS * 1e6

    sync_engine = create_engine(f"sqlite:///{path}")
    with sync_engine.connect() as sync:
        for _ in range(200):
            sync.execute(query)
        cpu = time.process_time()
        for _ in range(STATEMENTS):
            sync.execute(query).first()
        costs["SQLAlchemy on sqlite3, synchronous µs"] = (
            (time.process_time() - cpu) / STATEMENTS * 1e6
        )
    sync_engine.dispose()
    return costs


async def per_event(folder: Path, events: int) -> tuple[float, float, float]:
    """Statements per event in the core mix, SQLite's time and the CPU time per event."""
    hood = await Neighbourhood.open(folder)
    tick = timedelta(milliseconds=200)
    try:
        await hood.warm_up(helpers=300, events=200, tick=tick)
        counted = 0
        in_sqlite = 0.0
        started = 0.0

        def before(*_: Any) -> None:
            nonlocal counted, started
            counted += 1
            started = time.perf_counter()

        def after(*_: Any) -> None:
            nonlocal in_sqlite
            in_sqlite += time.perf_counter() - started

        engines = hood.runtime.store.statement_engines
        for engine in engines:
            event.listen(engine, "before_cursor_execute", before)
            event.listen(engine, "after_cursor_execute", after)
        cpu = time.process_time()
        for _ in range(events):
            await hood.step(hood.mix.next_event(), tick=tick)
        cpu = time.process_time() - cpu
        for engine in engines:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        return counted / events, in_sqlite / events, cpu / events
    finally:
        await hood.close()


async def main() -> None:
    args = cli(__doc__ or "")
    measurement = Measurement()
    with tempfile.TemporaryDirectory(prefix="buurtbot-bench-") as folder:
        costs = await per_statement(Path(folder))
        mix = Path(folder) / "mix"
        mix.mkdir()
        statements, in_sqlite, cpu = await per_event(mix, 150 if args.quick else 500)
    bot_cost = costs[AS_THE_BOT_RUNS_IT]
    round_trips_ms = statements * bot_cost / 1000
    details: dict[str, object] = {k: round(v, 1) for k, v in costs.items()}
    details.update(
        {
            "statements per event (BEGIN counted, it goes with the next one)": round(statements, 1),
            "SQLite ms per event (cursor execute)": round(in_sqlite * 1000, 2),
            "CPU ms per event in all": round(cpu * 1000, 2),
            "CPU ms per event in round trips": round(round_trips_ms, 2),
            "share of round trips": round(round_trips_ms / (cpu * 1000), 2),
        }
    )
    measurement.add(
        Figure(
            key="core.ceiling",
            title="1. Cause: most events/s one core allows for the database round trips alone",
            value=1000 / round_trips_ms,
            unit="msg/s",
            target=1000,
            comparison=">=",
            reference=1000,
            reference_name="target",
            details=details,
        )
    )
    emit(measurement.figures, args.out)


if __name__ == "__main__":
    asyncio.run(main())
