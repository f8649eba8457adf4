"""The SQLite driver: one trip per statement, and the event loop free while SQLite waits."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.errors import StoreUnavailable
from storage.engine import make_engine
from storage.failures import classified
from storage.sql import SqlStore
from storage.sqlite_driver import CHECKPOINT_EVERY, LoopTransactions


async def test_statements_rows_and_errors(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
            await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "a"}, {"n": "b"}])
            done = await conn.execute(text("UPDATE t SET name = name || '!'"))
            assert done.rowcount == 2
            rows = await conn.execute(text("SELECT name FROM t ORDER BY id"))
            assert rows.scalars().all() == ["a!", "b!"]
            returned = await conn.execute(text("DELETE FROM t WHERE name = 'a!' RETURNING id"))
            assert returned.scalar_one() == 1
        with pytest.raises(Exception, match="UNIQUE"):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (name) VALUES ('c')"))
                await conn.execute(text("INSERT INTO t (name) VALUES ('b!')"))
        async with engine.connect() as conn:  # the failed transaction left nothing behind
            names = await conn.execute(text("SELECT name FROM t"))
            assert names.scalars().all() == ["b!"]
    finally:
        await engine.dispose()


async def test_the_event_loop_runs_on_while_a_writer_waits_for_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

        async def write() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t DEFAULT VALUES"))

        writer = asyncio.create_task(write())
        ticks = 0
        for _ in range(20):  # 0.4 s in which the writer is stuck in busy_timeout
            await asyncio.sleep(0.02)
            ticks += 1
        assert ticks == 20 and not writer.done()
        other.execute("COMMIT")
        await asyncio.wait_for(writer, timeout=5)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
    finally:
        other.close()
        await engine.dispose()


# --- the store's transactions, whose statements run on the event loop ----------------------


async def test_a_store_transaction_waits_by_awaiting_while_another_process_writes(
    tmp_path: Path,
) -> None:
    store = await SqlStore.open(f"sqlite:///{tmp_path / 'bot.db'}")
    other = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

        async def write() -> None:
            async with store.transaction() as tx:
                await tx.set_cursor("telegram", "42")

        writer = asyncio.create_task(write())
        ticks = 0
        for _ in range(20):  # 0.4 s in which the writer waits for the lock
            await asyncio.sleep(0.02)
            ticks += 1
        assert ticks == 20 and not writer.done()
        other.execute("COMMIT")
        await asyncio.wait_for(writer, timeout=5)
        async with store.transaction() as tx:
            assert await tx.get_cursor("telegram") == "42"
        assert other.execute("SELECT value FROM cursor").fetchall() == [("42",)]
    finally:
        other.close()
        await store.close()


async def test_a_lock_held_longer_than_the_wait_makes_the_database_unavailable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    setup.execute("BEGIN IMMEDIATE")
    transactions = LoopTransactions(str(path), lock_wait=0.3)
    try:
        with pytest.raises(StoreUnavailable), classified():
            async with transactions.begin() as conn:
                await conn.exec_driver_sql("INSERT INTO t DEFAULT VALUES")
        setup.execute("ROLLBACK")
        async with transactions.begin() as conn:
            await conn.exec_driver_sql("INSERT INTO t DEFAULT VALUES")
        with pytest.raises(IntegrityError):
            async with transactions.begin() as conn:  # a failed transaction leaves nothing
                await conn.exec_driver_sql("INSERT INTO t (id) VALUES (2)")
                await conn.exec_driver_sql("INSERT INTO t (id) VALUES (1)")
        assert setup.execute("SELECT id FROM t").fetchall() == [(1,)]
    finally:
        setup.close()
        transactions.dispose()


async def test_the_store_s_commits_reach_the_database_file_through_checkpoints(
    tmp_path: Path,
) -> None:
    """The loop's connection leaves checkpoints to a thread; they still happen, so the
    database file itself (without its WAL) holds what was committed."""
    path = tmp_path / "db.sqlite"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)")
    setup.close()
    transactions = LoopTransactions(str(path))
    try:
        for number in range(CHECKPOINT_EVERY * 2 + 1):
            async with transactions.begin() as conn:
                await conn.exec_driver_sql("INSERT INTO t (note) VALUES (?)", (f"n{number}",))
        for _ in range(100):  # the last checkpoint runs in its thread
            await asyncio.sleep(0.01)
            copy = tmp_path / "copy.sqlite"
            copy.write_bytes(path.read_bytes())  # the file alone, as a backup of it would be
            alone = sqlite3.connect(copy)
            (kept,) = alone.execute("SELECT count(*) FROM t").fetchone()
            alone.close()
            if kept >= CHECKPOINT_EVERY * 2:
                break
        assert kept >= CHECKPOINT_EVERY * 2
    finally:
        transactions.dispose()


async def test_other_tasks_run_between_the_transactions_of_a_long_loop(tmp_path: Path) -> None:
    """A transaction on the loop suspends nowhere while it runs; a loop of many (due work)
    still lets the other tasks (the outbox sender, a chat) in between two of them."""
    store = await SqlStore.open(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        turns: list[int] = []
        done = 0

        async def many() -> None:
            nonlocal done
            for number in range(50):
                async with store.transaction() as tx:
                    await tx.set_cursor("telegram", str(number))
                done += 1

        async def other() -> None:
            while done < 50:
                turns.append(done)
                await asyncio.sleep(0)

        await asyncio.gather(many(), other())
        assert len(set(turns)) >= 40  # it ran while the loop of transactions went on
    finally:
        await store.close()
