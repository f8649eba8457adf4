"""Running the configured platforms side by side until asked to stop.

Shutdown (SIGTERM from systemd or Docker, or Ctrl-C): ``stop`` is set, every platform stops
taking new updates and finishes the event it is handling (one transaction); what is still
in the outbox stays there, pending, for the next start. A platform that has not returned
after ``GRACE_SECONDS`` is cancelled; the whole process is gone within ``SHUTDOWN_SECONDS``.

Channels are independent: each runs supervised. One that fails (Telegram cannot be reached
at start-up, an unexpected error) is reported on /healthz as not connected, with the
reason, and started again after a pause that grows (with jitter) up to
``RESTART_LONGEST`` seconds, while the others keep serving. Only a channel whose
configuration is incomplete (``ValueError``) is not started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from adapters.bootstrap import Runtime, bootstrap
from adapters.health import Health, HealthServer, MetricsHandler
from adapters.logs import secrets_of
from adapters.retry import jittered_backoff
from adapters.settings import Settings
from scheduler import start_timer
from storage.engine import is_sqlite
from storage.leader import Leadership

if TYPE_CHECKING:
    from adapters.web import WebServer

log = logging.getLogger("buurtbot.service")

# A platform runner works until ``stop`` is set, then finishes what it is doing and returns.
PlatformRunner = Callable[[Runtime, Settings, asyncio.Event], Coroutine[Any, Any, None]]
SHUTDOWN_SECONDS = 10.0  # what we promise: gone within this after SIGTERM
GRACE_SECONDS = 7.0  # platforms finish their current event within this
CANCEL_SECONDS = 2.0  # a cancelled platform gets this to clean up; the rest closes the database
RESTART_FIRST = 1.0  # a failed channel is started again after about this many seconds …
RESTART_LONGEST = 60.0  # … doubling each time in a row, up to this
STEADY_SECONDS = 60.0  # a channel that ran this long before failing starts over at the first


def runners(settings: Settings, leadership: Leadership | None = None) -> list[PlatformRunner]:
    """The platforms to run; with ``leadership``, those that one process at a time may run
    (long polling, the Matrix sync) run only while this process leads."""
    found: list[PlatformRunner] = []
    if settings.telegram_enabled:
        from adapters.telegram import run_telegram

        by_webhook = settings.telegram_webhook_url is not None
        found.append(run_telegram if by_webhook else led(run_telegram, leadership))
    if settings.matrix_enabled:
        from adapters.matrix import run_matrix

        found.append(led(run_matrix, leadership))
    return found


def led(run: PlatformRunner, leadership: Leadership | None) -> PlatformRunner:
    """``run`` while this process leads; stopped when it no longer does, and started again
    when it leads again. Without ``leadership`` (SQLite, one process), simply ``run``."""
    if leadership is None:
        return run

    async def while_leading(runtime: Runtime, settings: Settings, stop: asyncio.Event) -> None:
        while await leadership.wait(stop):
            ended = asyncio.Event()
            watching = asyncio.create_task(_either(stop, leadership.deposed, ended))
            try:
                await run(runtime, settings, ended)
            finally:
                watching.cancel()
            if not stop.is_set():
                log.warning("%s stopped: this process no longer leads", run.__name__)

    while_leading.__name__ = run.__name__
    return while_leading


async def _either(first: asyncio.Event, second: asyncio.Event, then: asyncio.Event) -> None:
    """Set ``then`` as soon as ``first`` or ``second`` is set."""
    waiting = [asyncio.create_task(first.wait()), asyncio.create_task(second.wait())]
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        then.set()
    finally:
        for task in waiting:
            task.cancel()


def channel_names(settings: Settings) -> list[str]:
    return [
        name
        for name, on in (
            ("telegram", settings.telegram_enabled),
            ("matrix", settings.matrix_enabled),
        )
        if on
    ]


async def serve(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    platforms: list[PlatformRunner] | None = None,
    grace: float = GRACE_SECONDS,
    on_ready: Callable[[Runtime, HealthServer | None], None] | None = None,
) -> bool:
    """Run until ``stop`` is set (or SIGTERM/SIGINT); False when a platform was failing
    when the service stopped, or could not be started for want of configuration."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, _stopper(stop, sig))
    runtime = await bootstrap(settings)
    for name in channel_names(settings):
        runtime.health.expect_channel(name)
    metrics = MetricsHandler(runtime.health)
    metrics.install()
    server: HealthServer | None = None
    web_server: WebServer | None = None
    clean = True
    try:
        if settings.health_port is not None:
            server = HealthServer(
                runtime.health,
                runtime.store,
                host=settings.health_host,
                port=settings.health_port,
                senders=runtime.senders,
            )
            try:
                await server.start()
            except OSError as problem:
                log.error(
                    "cannot listen for health checks on %s port %s: %s",
                    settings.health_host,
                    settings.health_port,
                    problem.strerror or problem,
                )
                server = None
                return False
        if settings.web_port:
            from adapters.web import WebServer

            web_server = WebServer(
                runtime.bot,
                host=settings.web_host,
                port=settings.web_port,
                base_url=settings.web_base_url,
            )
            try:
                await web_server.start()
            except OSError as problem:
                # The chat comes first: without the dashboard the neighbourhood is still
                # helped (another process on this machine may be serving it already).
                log.warning(
                    "cannot serve the dashboard on %s port %s (%s); going on without it",
                    settings.web_host,
                    settings.web_port,
                    problem.strerror or problem,
                )
                web_server = None
        if on_ready is not None:
            on_ready(runtime, server)
        # On PostgreSQL several processes may run; one of them leads (see storage/leader.py)
        # and does the nightly jobs besides; due work of every other kind, any process.
        leadership = None
        if not is_sqlite(settings.database_url):
            woken: list[Callable[[], None]] = []
            leadership = Leadership(settings.database_url, on_change=_noted(runtime.health, woken))
            leadership.start()
        # reminders, follow-ups, escalation, digests and the nightly clean-up
        timer = start_timer(
            runtime.bot, leads=None if leadership is None else leadership.leading.is_set
        )
        if leadership is not None:
            woken.append(timer.nudge)  # a new leader looks for the nightly jobs at once
        try:
            clean = await _run_until_stopped(runtime, settings, stop, platforms, grace, leadership)
        finally:
            await timer.stop()
            if leadership is not None:
                await leadership.close()
    finally:
        if web_server is not None:
            await web_server.close()
        if server is not None:
            await server.close()
        metrics.uninstall()
        await runtime.close()
        for sig in signals:
            loop.remove_signal_handler(sig)
    log.info("stopped")
    return clean


def _noted(health: Health, woken: Sequence[Callable[[], None]] = ()) -> Callable[[bool], None]:
    """Notes on /healthz whether this process leads; on becoming leader, calls ``woken``."""

    def note(leading: bool) -> None:
        health.leading = leading
        if leading:
            for wake in woken:
                wake()

    return note


def _stopper(stop: asyncio.Event, sig: signal.Signals) -> Callable[[], None]:
    def handler() -> None:
        if not stop.is_set():
            log.info("%s received: finishing the current work, then stopping", sig.name)
        stop.set()

    return handler


async def _run_until_stopped(
    runtime: Runtime,
    settings: Settings,
    stop: asyncio.Event,
    platforms: list[PlatformRunner] | None,
    grace: float,
    leadership: Leadership | None = None,
) -> bool:
    tasks = [
        asyncio.create_task(supervised(run, runtime, settings, stop), name=run.__name__)
        for run in (runners(settings, leadership) if platforms is None else platforms)
    ]
    stopping = asyncio.create_task(stop.wait())
    clean = True
    try:
        if not tasks:
            await stopping  # the health endpoint alone, until asked to stop
            return clean
        running = set(tasks)
        while running and not stopping.done():
            done, running = await asyncio.wait(
                [stopping, *running], return_when=asyncio.FIRST_COMPLETED
            )
            running.discard(stopping)
        if not stop.is_set():
            log.error("no channel is left running: stopping")
        stop.set()
        done = {task for task in tasks if task.done()}
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                clean = False
                log.error("%s stopped: %r", task.get_name(), task.exception())
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            log.warning("%s did not stop within %.0f s: cancelling it", task.get_name(), grace)
            task.cancel()
        if late:
            _, stuck = await asyncio.wait(late, timeout=CANCEL_SECONDS)
            for task in stuck:
                log.error("%s ignored being cancelled", task.get_name())
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                if task not in done:
                    log.error("%s failed while stopping: %r", task.get_name(), task.exception())
                clean = False
            elif task.done() and not task.cancelled() and task.result() is False:
                clean = False  # it was failing when we stopped
        return clean
    finally:
        stopping.cancel()


def channel_of(run: PlatformRunner) -> str:
    """``run_telegram`` -> ``"telegram"``: the name the channel reports its health under."""
    return run.__name__.removeprefix("run_")


async def supervised(
    run: PlatformRunner, runtime: Runtime, settings: Settings, stop: asyncio.Event
) -> bool:
    """Run one channel until ``stop`` is set, starting it again after every failure.

    True when it stopped because it was asked to, False when it was failing at that moment.
    A ``ValueError`` (the channel's configuration is incomplete) is raised: trying again
    cannot help.
    """
    name = channel_of(run)
    failures = 0
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        try:
            await run(runtime, settings, stop)
            if stop.is_set():
                return True
            problem = "stopped by itself"
        except ValueError as error:
            runtime.health.channel_down(name, f"not configured: {error}")
            raise
        except Exception as error:
            problem = f"{type(error).__name__}: {error}".splitlines()[0][:200]
            for secret in secrets_of(settings):
                problem = problem.replace(secret, "***")
        if loop.time() - started >= STEADY_SECONDS:
            failures = 0
        failures += 1
        delay = jittered_backoff(failures, first=RESTART_FIRST, longest=RESTART_LONGEST)
        runtime.health.channel_down(name, problem)
        log.error("%s failed (%s); starting it again in %.1f s", name, problem, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        if stop.is_set():
            return False
