"""One leader among the processes that share a PostgreSQL database.

Some work may be done by one process at a time: long polling Telegram, the Matrix sync of
one account. The process that holds a PostgreSQL advisory lock does it. The lock is taken
with ``pg_try_advisory_lock`` on a connection of its own and held for as long as that
connection lives: when the leader dies, its connection closes and PostgreSQL frees the lock;
another process, asking every ``retry`` seconds, takes it over. A leader that cannot reach
the database on its lock connection (checked every ``check`` seconds) stops leading at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import NullPool

from storage.engine import make_engine

log = logging.getLogger("buurtbot.leader")

_TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
_ALIVE = text("SELECT 1")
CLOSE_SECONDS = 5.0


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name``."""
    digest = hashlib.sha256(f"buurtbot leader: {name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Leadership:
    """Tries to lead until closed; ``leading`` is set while this process leads."""

    def __init__(
        self,
        url: str,
        *,
        name: str = "run",
        retry: float = 2.0,
        check: float = 2.0,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.engine = make_engine(url, poolclass=NullPool)
        self.key = lock_key(name)
        self.retry = retry
        self.check = check
        self.leading = asyncio.Event()
        self.deposed = asyncio.Event()  # set when leading ends; cleared when it begins again
        self.deposed.set()
        self._task: asyncio.Task[None] | None = None
        self._on_change = on_change or (lambda leading: None)
        self._on_change(False)

    def start(self) -> None:
        self._task = asyncio.create_task(self._hold(), name="leadership")

    async def close(self) -> None:
        """Stop leading, or trying to: the lock is freed with its connection."""
        if self._task is not None:
            self._task.cancel()
            # a connection cut off in the middle of a statement may not close cleanly: its
            # process is about to end anyway, and PostgreSQL frees the lock with it
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(self._task, return_exceptions=True), timeout=CLOSE_SECONDS
                )
            self._task = None
        self._step_down()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.engine.dispose(), timeout=CLOSE_SECONDS)

    async def _hold(self) -> None:
        while True:
            try:
                async with self.engine.connect() as conn:
                    await self._lead_on(conn)
            except asyncio.CancelledError:
                raise
            except Exception as problem:
                if self.leading.is_set():
                    log.error("leadership lost: the lock connection failed (%r)", problem)
                else:
                    log.warning("cannot ask for the leader lock: %r", problem)
            self._step_down()
            await asyncio.sleep(self.retry)

    async def _lead_on(self, conn: AsyncConnection) -> None:
        """Ask for the lock until it is ours, then check the connection until it fails."""
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        while not (await conn.execute(_TRY_LOCK, {"key": self.key})).scalar_one():
            await asyncio.sleep(self.retry)
        log.info("this process leads: long polling and syncing run here")
        self.deposed.clear()
        self.leading.set()
        self._on_change(True)
        while True:
            await asyncio.sleep(self.check)
            await asyncio.wait_for(conn.execute(_ALIVE), timeout=max(self.check, 1.0))

    def _step_down(self) -> None:
        if self.leading.is_set():
            self.leading.clear()
            self._on_change(False)
            log.info("this process no longer leads")
        self.deposed.set()

    async def wait(self, stop: asyncio.Event) -> bool:
        """Until this process leads (True) or ``stop`` is set (False)."""
        if self.leading.is_set():
            return not stop.is_set()
        waiting = [
            asyncio.create_task(self.leading.wait()),
            asyncio.create_task(stop.wait()),
        ]
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waiting:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*waiting, return_exceptions=True)
        return self.leading.is_set() and not stop.is_set()


__all__ = ["Leadership", "lock_key"]
