"""APScheduler 3 as the alarm clock for due work.

One ``AsyncIOScheduler`` per process holds two jobs: a wake-up at the next due time read
from the database, and a slow poll that notices work scheduled by another process on the
same database and anything a missed wake-up left behind. Every time a job fires, the
database is read again; nothing about *what* is due lives in APScheduler. Late jobs are not
skipped (APScheduler's default grace is one second): the grace time is a week and missed
runs are coalesced into one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import Bot
from bot.duework import DueWorkRunner

log = logging.getLogger("buurtbot.scheduler")

WAKE_JOB = "due-work-wake"
POLL_JOB = "due-work-poll"
GRACE_SECONDS = 7 * 24 * 3600
NUDGE_DELAY = 0.2  # a burst of events costs one look at the database, not one each
# APScheduler logs every added and every run job at INFO: on each event, for us.
CHATTY_LOGGERS = ("apscheduler.scheduler", "apscheduler.executors.default")


def worker_name() -> str:
    """Who claimed a row: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class DueTimer:
    """Wakes ``runner.run_due`` at the next due time and every ``poll_seconds``."""

    def __init__(self, runner: DueWorkRunner, *, poll_seconds: float = 30.0) -> None:
        self.runner = runner
        self.poll_seconds = poll_seconds
        self.ticks = 0  # how often the claim loop ran
        self._scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    def start(self) -> None:
        """Start on the running event loop; overdue work runs right away."""
        for name in CHATTY_LOGGERS:
            chatty = logging.getLogger(name)
            if chatty.level == logging.NOTSET:
                chatty.setLevel(logging.WARNING)
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "misfire_grace_time": GRACE_SECONDS,
                "coalesce": True,
                "max_instances": 2,  # a wake-up during a run waits for it, not skipped
            },
        )
        scheduler.start()
        self._scheduler = scheduler
        scheduler.add_job(
            self._tick,
            IntervalTrigger(seconds=self.poll_seconds, timezone=UTC),
            id=POLL_JOB,
            next_run_time=datetime.now(UTC),
        )
        self.runner.bot.listeners.append(self.nudge)

    def nudge(self) -> None:
        """Something happened (an event was handled): read the database again soon."""
        self._wake_in(NUDGE_DELAY)

    async def stop(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        if self.nudge in self.runner.bot.listeners:
            self.runner.bot.listeners.remove(self.nudge)
        scheduler.shutdown(wait=False)
        async with self._lock:
            pass  # a run in progress finishes its transaction first

    def next_wake(self) -> datetime | None:
        """When APScheduler will wake the claim loop next (for logs and tests)."""
        if self._scheduler is None:
            return None
        job = self._scheduler.get_job(WAKE_JOB)
        return None if job is None else job.next_run_time

    def _wake_in(self, seconds: float) -> None:
        if self._scheduler is None:
            return
        moment = datetime.now(UTC) + timedelta(seconds=max(0.0, seconds))
        self._scheduler.add_job(
            self._tick,
            DateTrigger(run_date=moment, timezone=UTC),
            id=WAKE_JOB,
            replace_existing=True,
        )

    async def _tick(self) -> None:
        async with self._lock:
            if self._scheduler is None:
                return
            try:
                await self.runner.run_due()
                upcoming = await self.runner.next_due()
            except Exception:
                log.exception("the claim loop failed; the next poll tries again")
                return
            finally:
                self.ticks += 1
            if upcoming is not None:
                # The core's clock decides how long to wait; APScheduler counts wall time.
                wait = (upcoming - self.runner.bot.clock.now()).total_seconds()
                self._wake_in(wait)


def start_timer(
    bot: Bot, *, poll_seconds: float = 30.0, leads: Callable[[], bool] | None = None
) -> DueTimer:
    """The platforms' runtime: one timer next to the platform runners. ``leads`` tells
    whether this process leads (see ``storage.leader``); the nightly jobs run only then.
    Without it, the process is the only one (SQLite) and always does them."""
    runner = DueWorkRunner(bot, worker=worker_name())
    if leads is not None:
        runner.leads = leads
    timer = DueTimer(runner, poll_seconds=poll_seconds)
    timer.start()
    return timer
