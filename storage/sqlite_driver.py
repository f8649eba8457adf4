"""SQLite for the asyncio engine: one trip to the connection's thread per statement.

SQLAlchemy's aiosqlite dialect drives an aiosqlite-shaped connection: ``cursor()``, then on
the cursor ``execute``, ``fetchall`` and ``close``. aiosqlite sends each of those to its
thread on its own, so one statement costs four hand-overs to that thread and four wake-ups
of the event loop, about 300 µs of CPU in all where SQLite itself needs a few
(``bench/roundtrips.py``). Here a statement is executed, its rows fetched and its cursor
closed in one trip; the rows wait in memory, as SQLAlchemy's asyncio layer keeps them
anyway. A ``BEGIN`` travels with the statement after it, and a commit or rollback when no
transaction is open (a connection going back to the pool) makes no trip at all.

Here SQLite runs in a thread of its own, so a transaction waiting for the write lock
(``busy_timeout``) does not hold up anything else. The store's own transactions run their
statements on the event loop instead (``LoopTransactions`` below), under the conditions
that keep the loop from waiting; this engine serves reads, migrations and the rest.

Pass ``async_creator=lambda: connect(path)`` to ``create_async_engine`` with a
``sqlite+aiosqlite://`` URL.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from itertools import count
from queue import SimpleQueue
from typing import Any, TypeVar

from sqlalchemy import Connection as SaConnection
from sqlalchemy import CursorResult, Executable, RootTransaction, create_engine
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.util import _distill_params_20
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.elements import ClauseElement

T = TypeVar("T")
log = logging.getLogger(__name__)

_Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None
_Job = tuple["asyncio.Future[Any]", Callable[[], Any]]
_names = count(1)


def _settle(future: asyncio.Future[T], result: T) -> None:
    if not future.done():  # the waiting task may have been cancelled
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


_BEGIN = frozenset({"BEGIN", "BEGIN DEFERRED", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"})


def _run(
    connection: sqlite3.Connection, begin: str | None, sql: str, parameters: Sequence[Any]
) -> tuple[_Description, int, int | None, list[Any], bool]:
    if begin is not None:
        connection.execute(begin)
    cursor = connection.cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return (
            cursor.description,
            cursor.rowcount,
            cursor.lastrowid,
            rows,
            connection.in_transaction,
        )
    finally:
        cursor.close()


def _run_many(
    connection: sqlite3.Connection, begin: str | None, sql: str, rows: Iterable[Sequence[Any]]
) -> tuple[int, bool]:
    if begin is not None:
        connection.execute(begin)
    cursor = connection.cursor()
    try:
        cursor.executemany(sql, rows)
        return cursor.rowcount, connection.in_transaction
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
        connection = self._connection
        if not parameters and sql.strip().upper() in _BEGIN:
            connection.begin_later(sql)  # goes with the transaction's first statement
            self.description, self.rowcount, self.lastrowid, self._rows = None, -1, None, []
            return self
        begin = connection.take_begin()
        try:
            result = await connection.call(_run, connection.sqlite, begin, sql, parameters)
        except BaseException:
            connection.unsure()
            raise
        self.description, self.rowcount, self.lastrowid, self._rows, open_ = result
        connection.in_transaction = open_
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        connection = self._connection
        begin = connection.take_begin()
        self.description, self.lastrowid, self._rows = None, None, []
        try:
            self.rowcount, connection.in_transaction = await connection.call(
                _run_many, connection.sqlite, begin, sql, list(rows)
            )
        except BaseException:
            connection.unsure()
            raise
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
        # Whether SQLite has a transaction open, as of the last trip (None: not known); a
        # commit or rollback without one, as SQLAlchemy does when a connection goes back to
        # its pool, needs no trip.
        self.in_transaction: bool | None = False
        self._begin: str | None = None  # a BEGIN not sent yet

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
                outcome: tuple[Callable[..., None], object] = (_settle, function())
            except BaseException as error:  # handed to the waiting task, raised there
                outcome = (_fail, error)
            try:
                self._loop.call_soon_threadsafe(outcome[0], future, outcome[1])
            except RuntimeError:  # the event loop is closed: nobody is waiting any more
                break

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

    def begin_later(self, sql: str) -> None:
        """Keep a BEGIN to send with the next statement: one trip less per transaction."""
        self._begin = sql

    def take_begin(self) -> str | None:
        begin, self._begin = self._begin, None
        return begin

    def unsure(self) -> None:
        """A trip failed or was cancelled: whether a transaction is open is not known."""
        self.in_transaction = None

    def cursor(self) -> Cursor:
        return Cursor(self)

    async def commit(self) -> None:
        await self._end(self.sqlite.commit)

    async def rollback(self) -> None:
        await self._end(self.sqlite.rollback)

    async def _end(self, end: Callable[[], None]) -> None:
        self._begin = None  # a BEGIN that no statement followed began nothing
        if self.in_transaction is False:
            return
        try:
            await self.call(end)
        except BaseException:
            self.unsure()
            raise
        self.in_transaction = False

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


# --- transactions on the event loop ---------------------------------------------------------
# A statement that hits an index takes SQLite a few microseconds; a trip to a thread and back
# takes 60 to 90 µs of CPU here, and SQLAlchemy's asyncio layer as much again. The store's
# transactions therefore run their statements on the event loop, under the conditions that
# keep the loop from ever waiting (DESIGN rule 6):
#
# - this process's writers take turns in its own ordered queue (``SqlStore._writers``), so
#   none of them meets SQLite's lock held by another of them;
# - ``busy_timeout`` is 0: when another process holds the write lock, ``BEGIN IMMEDIATE``
#   fails at once with SQLITE_BUSY, and it is tried again after an awaited pause, for as
#   long as ``busy_timeout`` gave before (then the database counts as unavailable);
# - nothing waits for the disk on the loop. In WAL mode with ``synchronous=NORMAL`` a
#   commit appends to the WAL file without an fsync; the fsyncs come with a checkpoint,
#   and with the first commit into a WAL begun anew after one. This connection does not
#   checkpoint by itself (``wal_autocheckpoint=0``): every ``CHECKPOINT_EVERY`` commits a
#   checkpoint runs in a thread, on a connection of its own, and while it runs and for the
#   first commit after it, commits run in a thread too.
#
# After ``BEGIN IMMEDIATE`` the transaction holds the write lock, and in WAL mode nothing
# else in it can wait for another connection.

LOCK_WAIT_SECONDS = 10.0  # as long as the busy_timeout of the engine's other connections
CHECKPOINT_EVERY = 100  # commits; a small transaction writes a few pages to the WAL
_FIRST_PAUSE, _LONGEST_PAUSE = 0.001, 0.05


def _busy(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


_CompiledKey = tuple[int, tuple[str, ...], bool]
_COMPILED_KEPT = 500  # statements compiled once and kept, at most


class Statements:
    """Statements compiled once for this connection's dialect, and used again.

    SQLAlchemy looks each statement up in its cache of compiled SQL by a key it works out
    from the statement's whole structure, on every execution: for a statement built once
    with bound parameters, that costs about as much as running it. A statement object seen
    a second time is compiled here once and found again by its identity (the entry holds the
    object, so its identity cannot pass to another while kept). A statement built anew for
    one execution is left to SQLAlchemy's own cache.
    """

    def __init__(self) -> None:
        self._seen: dict[int, Executable] = {}
        self._compiled: dict[_CompiledKey, tuple[Executable, Compiled]] = {}

    def execute(
        self, connection: SaConnection, statement: Executable, parameters: Any
    ) -> CursorResult[Any]:
        if not isinstance(statement, ClauseElement):
            return connection.execute(statement, parameters)
        distilled = _distill_params_20(parameters)
        keys = tuple(sorted(distilled[0])) if distilled else ()
        many = len(distilled) > 1
        key = (id(statement), keys, many)
        found = self._compiled.get(key)
        if found is None or found[0] is not statement:
            if self._seen.get(id(statement)) is not statement:
                if len(self._seen) >= _COMPILED_KEPT:
                    self._seen.clear()
                self._seen[id(statement)] = statement
                return connection.execute(statement, parameters)
            if len(self._compiled) >= _COMPILED_KEPT:
                self._compiled.clear()
            dialect = connection.dialect
            compiled = statement.compile(
                dialect=dialect, column_keys=list(keys), for_executemany=many
            )
            found = self._compiled[key] = (statement, compiled)
        compiled = found[1]
        dialect = connection.dialect
        return connection._execute_context(  # what Connection.execute does after its cache
            dialect,
            dialect.execution_ctx_cls._init_compiled,
            compiled,
            distilled,
            statement._execution_options.merge_with(connection._execution_options),
            compiled,
            distilled,
            statement,
            None,
            cache_hit=dialect.CACHE_HIT,
        )


class LoopConnection:
    """The statements of one transaction, run on the event loop (an ``AsyncConnection``'s
    ``execute`` and ``exec_driver_sql``, awaited the same way)."""

    def __init__(self, connection: SaConnection, statements: Statements) -> None:
        self.sync = connection
        self._statements = statements

    @property
    def dialect(self) -> Dialect:
        return self.sync.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        return self._statements.execute(self.sync, statement, parameters)

    async def exec_driver_sql(self, sql: str, parameters: Any = None) -> CursorResult[Any]:
        return self.sync.exec_driver_sql(sql, parameters)


class LoopTransactions:
    """Write transactions on SQLite whose statements run on the event loop."""

    def __init__(self, path: str, lock_wait: float = LOCK_WAIT_SECONDS) -> None:
        self._lock_wait = lock_wait

        def connect() -> sqlite3.Connection:
            # Used on the event loop, its commit in the worker thread: never at the same time.
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            for pragma in (
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=NORMAL",
                "PRAGMA busy_timeout=0",
                "PRAGMA foreign_keys=ON",
                "PRAGMA wal_autocheckpoint=0",  # checkpoints run in a thread, see above
            ):
                connection.execute(pragma)
            return connection

        self._path = path

        self.engine = create_engine(
            "sqlite://", creator=connect, poolclass=QueuePool, pool_size=1, max_overflow=4
        )
        self._statements = Statements()
        # One thread for a checkpoint, one for a commit that may wait for the disk meanwhile.
        self._threads = ThreadPoolExecutor(2, thread_name_prefix="buurtbot-sqlite-sync")
        self._commits = 0  # since the last checkpoint began
        self._checkpoint: asyncio.Future[None] | None = None
        # Commits go to a thread until this is False: at the start (the WAL may be begun
        # anew), and from the start of a checkpoint to the first commit after its end.
        self._commit_in_thread = True

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[LoopConnection]:
        loop = asyncio.get_running_loop()
        connection = self.engine.connect()
        try:
            raw = connection.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            deadline, pause = loop.time() + self._lock_wait, _FIRST_PAUSE
            while True:
                try:
                    raw.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as error:
                    if not _busy(error) or loop.time() + pause > deadline:
                        raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE)
            transaction = connection.begin()  # SQLAlchemy's bookkeeping of the BEGIN above
            try:
                yield LoopConnection(connection, self._statements)
            except BaseException:
                transaction.rollback()
                raise
            await self._commit(loop, transaction)
        finally:
            connection.close()

    async def _commit(self, loop: asyncio.AbstractEventLoop, transaction: RootTransaction) -> None:
        if self._commit_in_thread:
            after_checkpoint = self._checkpoint is None
            await self._in_thread(loop, transaction.commit)
            if after_checkpoint:
                self._commit_in_thread = False  # began the WAL anew, if it was to be
        else:
            transaction.commit()  # appends to the WAL: no fsync
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and self._checkpoint is None:
            self._commits = 0
            self._commit_in_thread = True
            self._checkpoint = loop.run_in_executor(self._threads, self._checkpoint_now)
            self._checkpoint.add_done_callback(self._checkpoint_done)

    def _checkpoint_now(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, timeout=0)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()

    def _checkpoint_done(self, checkpoint: asyncio.Future[None]) -> None:
        self._checkpoint = None
        if not checkpoint.cancelled() and (problem := checkpoint.exception()) is not None:
            # tried again after the next CHECKPOINT_EVERY commits; the WAL grows meanwhile
            log.warning("SQLite checkpoint failed: %s", problem)

    async def _in_thread(self, loop: asyncio.AbstractEventLoop, work: Callable[[], None]) -> None:
        """Run ``work`` in the commit thread; the connection is not used again before it ends,
        even when the waiting task is cancelled."""
        done = loop.run_in_executor(self._threads, work)
        cancelled = False
        while True:
            try:
                await asyncio.shield(done)
                break
            except asyncio.CancelledError:
                if done.done():
                    break
                cancelled = True
        if cancelled:
            done.result()
            raise asyncio.CancelledError

    def dispose(self) -> None:
        self.engine.dispose()
        self._threads.shutdown(wait=True)
