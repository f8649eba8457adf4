"""The SQLite driver: one trip per statement, and the event loop free while SQLite waits."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.engine import make_engine


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
