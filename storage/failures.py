"""Which database errors mean "the database cannot be used just now".

Such a failure (the server is down or restarting, the connection was cut, another process
holds SQLite's lock longer than ``busy_timeout``, no connection is free) becomes
``bot.errors.StoreUnavailable``, so that the core and the adapters can leave the update
unacknowledged and try again, without knowing SQLAlchemy, asyncpg or sqlite3. Everything
else (a constraint broken, a mistake in a query) is left as it is: that is a bug.

Only what the database does is classified: its statements (``Classified``), and beginning
and ending a transaction (``classified`` around them). A ``TimeoutError`` or ``OSError``
that the code running inside a transaction raises itself is a bug, not an outage.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVarTuple, overload

from sqlalchemy import exc
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows

from bot.errors import StoreUnavailable

_Ts = TypeVarTuple("_Ts")

# SQLSTATE classes and codes of PostgreSQL that pass when tried again later:
# 08 connection exception, 53 insufficient resources (too many connections, disk full),
# 57P operator intervention (shut down, restarting), 40001 / 40P01 serialization failure and
# deadlock, 55P03 lock not available.
_PASSING_STATES = ("08", "53", "57P", "40001", "40P01", "55P03")
# SQLite's messages for the same: the file is locked or busy, or cannot be read or written.
_SQLITE_PASSING = ("locked", "busy", "disk i/o", "unable to open", "disk is full", "readonly")


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        # Drivers wrap what went wrong with ``raise ... from``; SQLAlchemy keeps it as
        # ``orig``. An error raised while handling another (``__context__``) is its own.
        todo.extend([current.__cause__, getattr(current, "orig", None)])


def unavailable_reason(error: BaseException) -> str | None:
    """A short reason when ``error`` means the database cannot be used just now, else None."""
    for found in _chain(error):
        if isinstance(found, exc.DBAPIError) and found.connection_invalidated:
            return "connection lost"
        if isinstance(found, exc.DisconnectionError | exc.TimeoutError):
            return type(found).__name__
        if isinstance(found, sqlite3.OperationalError):
            message = str(found).lower()
            if any(words in message for words in _SQLITE_PASSING):
                return f"SQLite: {message[:80]}"
            return None
        state = getattr(found, "sqlstate", None) or getattr(found, "pgcode", None)
        if isinstance(state, str) and state:
            if state.startswith(_PASSING_STATES):
                return f"PostgreSQL {state}: {type(found).__name__}"
            return None
        if type(found).__name__ in ("ConnectionDoesNotExistError", "InterfaceError") and (
            "asyncpg" in type(found).__module__
        ):
            return "connection lost"
        if isinstance(found, ConnectionError | TimeoutError):
            return f"cannot connect: {type(found).__name__}"
        if isinstance(found, OSError) and found.errno is not None:
            return f"cannot connect: {found.strerror or type(found).__name__}"
    return None


@contextmanager
def classified() -> Iterator[None]:
    """Turn a passing database failure raised inside into ``StoreUnavailable``."""
    try:
        yield
    except (StoreUnavailable, InsideTransaction):
        raise
    except Exception as error:
        reason = unavailable_reason(error)
        if reason is None:
            raise
        raise StoreUnavailable(reason) from error


class Classified:
    """An open connection whose statements raise ``StoreUnavailable`` when the database
    cannot be used just now (see ``classified``)."""

    def __init__(self, raw: AsyncConnection) -> None:
        self.raw = raw

    @property
    def dialect(self) -> Dialect:
        return self.raw.dialect

    @overload
    async def execute(
        self, statement: TypedReturnsRows[*_Ts], parameters: Any = None
    ) -> CursorResult[*_Ts]: ...
    @overload
    async def execute(
        self, statement: Executable, parameters: Any = None
    ) -> CursorResult[*tuple[Any, ...]]: ...
    async def execute(
        self, statement: Executable, parameters: Any = None
    ) -> CursorResult[*tuple[Any, ...]]:
        with classified():
            return await self.raw.execute(statement, parameters)

    async def exec_driver_sql(
        self, statement: str, parameters: Any = None
    ) -> CursorResult[*tuple[Any, ...]]:
        with classified():
            return await self.raw.exec_driver_sql(statement, parameters)


class InsideTransaction(Exception):
    """What the code inside a transaction raised, carried past ``classified`` unclassified."""

    def __init__(self, error: Exception) -> None:
        super().__init__(repr(error))
        self.error = error


__all__ = ["Classified", "InsideTransaction", "classified", "unavailable_reason"]
