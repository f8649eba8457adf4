"""Running the configured platforms side by side until asked to stop."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any

from adapters.bootstrap import Runtime, bootstrap
from adapters.settings import Settings
from scheduler import start_timer

log = logging.getLogger("buurtbot.service")

# A platform runner works until ``stop`` is set, then finishes what it is doing and returns.
PlatformRunner = Callable[[Runtime, Settings, asyncio.Event], Coroutine[Any, Any, None]]
SHUTDOWN_SECONDS = 10.0


def runners(settings: Settings) -> list[PlatformRunner]:
    found: list[PlatformRunner] = []
    if settings.telegram_enabled:
        from adapters.telegram import run_telegram

        found.append(run_telegram)
    if settings.matrix_enabled:
        from adapters.matrix import run_matrix

        found.append(run_matrix)
    return found


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runtime = await bootstrap(settings)
    timer = start_timer(runtime.bot)  # reminders, follow-ups, escalation and digests
    tasks = [
        asyncio.create_task(run(runtime, settings, stop), name=run.__name__)
        for run in runners(settings)
    ]
    try:
        done, _ = await asyncio.wait(
            [asyncio.create_task(stop.wait()), *tasks], return_when=asyncio.FIRST_COMPLETED
        )
        for task in tasks:
            if task in done and task.exception() is not None:
                log.error("%s stopped: %r", task.get_name(), task.exception())
        stop.set()
        _, late = await asyncio.wait(tasks, timeout=SHUTDOWN_SECONDS)
        for task in late:
            task.cancel()
    finally:
        await timer.stop()
        await runtime.close()
