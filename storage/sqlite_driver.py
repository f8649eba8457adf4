"""SQLite for the asyncio engine: one trip to the connection's thread per statement.

SQLAlchemy's aiosqlite dialect drives an aiosqlite-shaped connection: ``cursor()``, then on
the cursor ``execute``, ``fetchall`` and ``close``. aiosqlite sends each of those to its
thread on its own, so one statement costs four hand-overs to that thread and four wake-ups
of the event loop, about 300 µs of CPU in all where SQLite itself needs a few
(``bench/roundtrips.py``). Here a statement is executed, its rows fetched and its cursor
closed in one trip; the rows wait in memory, as SQLAlchemy's asyncio layer keeps them
anyway. SQLite still runs in a thread of its own, never on the event loop, so a transaction
waiting for the write lock (``busy_timeout``) does not hold up anything else.

Pass ``async_creator=lambda: connect(path)`` to ``create_async_engine`` with a
``sqlite+aiosqlite://`` URL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from itertools import count
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")

_Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None
_Job = tuple["asyncio.Future[Any]", Callable[[], Any]]
_names = count(1)


def _settle(future: asyncio.Future[T], result: T) -> None:
    if not future.done():  # the waiting task may have been cancelled
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _run(
    connection: sqlite3.Connection, sql: str, parameters: Sequence[Any]
) -> tuple[_Description, int, int | None, list[Any]]:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, sql: str, rows: Iterable[Sequence[Any]]) -> int:
    cursor = connection.cursor()
    try:
        cursor.executemany(sql, rows)
        return cursor.rowcount
    finally:
        cursor.close()


class Cursor:
    """What SQLAlchemy's adapter asks of an aiosqlite cursor, the work done in ``execute``."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.description: _Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._rows = []

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
        conn = self._connection.sqlite
        self.description, self.rowcount, self.lastrowid, self._rows = await self._connection.call(
            _run, conn, sql, parameters
        )
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        conn = self._connection.sqlite
        self.description, self.lastrowid, self._rows = None, None, []
        self.rowcount = await self._connection.call(_run_many, conn, sql, list(rows))
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = self.arraysize if size is None else size
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def close(self) -> None:
        self._rows = []


class Connection:
    """One SQLite connection and the thread that alone uses it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self._thread = threading.Thread(
            target=self._work, name=f"buurtbot-sqlite-{next(_names)}", daemon=True
        )
        self._sqlite: sqlite3.Connection | None = None

    # SQLAlchemy's adapter looks at ``_connection`` to know whether this one is still open.
    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._sqlite

    @property
    def sqlite(self) -> sqlite3.Connection:
        if self._sqlite is None:
            raise ValueError("no active connection")
        return self._sqlite

    @property
    def isolation_level(self) -> str | None:
        return None  # transactions are begun by the engine ("BEGIN IMMEDIATE")

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, function = job
            try:
                result = function()
            except BaseException as error:  # handed to the waiting task, raised there
                self._loop.call_soon_threadsafe(_fail, future, error)
            else:
                self._loop.call_soon_threadsafe(_settle, future, result)

    def call(self, function: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``function(*args)`` on this connection's thread."""
        if not self._thread.is_alive():
            raise ValueError("connection closed")
        future: asyncio.Future[T] = self._loop.create_future()
        self._jobs.put((future, lambda: function(*args)))
        return future

    async def open(self, path: str) -> Connection:
        self._thread.start()

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(path, isolation_level=None)

        self._sqlite = await self.call(connect)
        return self

    def cursor(self) -> Cursor:
        return Cursor(self)

    async def commit(self) -> None:
        await self.call(self.sqlite.commit)

    async def rollback(self) -> None:
        await self.call(self.sqlite.rollback)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        sqlite = self.sqlite
        await self.call(lambda: sqlite.create_function(*args, **kwargs))

    async def close(self) -> None:
        if self._sqlite is None:
            return
        sqlite, self._sqlite = self._sqlite, None
        try:
            await self.call(sqlite.close)
        finally:
            self.stop()

    def stop(self) -> None:
        """End the thread without waiting (the connection was dropped)."""
        self._sqlite = None
        self._jobs.put(None)


async def connect(path: str) -> Connection:
    return await Connection(asyncio.get_running_loop()).open(path)
