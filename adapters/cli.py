"""The ``buurtbot`` command."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from adapters import ops
from adapters.bootstrap import Runtime, bootstrap, configure_logging
from adapters.console import PLATFORM, ConsoleChannel, ConsoleSession
from adapters.logs import secrets_of
from adapters.settings import ConfigError, Settings, load_settings
from bot.clock import FakeClock
from bot.outbox import sending

if TYPE_CHECKING:
    from adapters.web import WebServer

# Never the values of local variables in a traceback: they hold the bot token and the
# database password (typer showed them by default in versions the project allows).
app = typer.Typer(
    help="Buurtbot: neighbourhood help in your group chat.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar="BUURTBOT_CONFIG", help="TOML configuration file"),
]
# Scripts start here unless they say @at: a fixed moment keeps their output the same.
SCRIPT_START = datetime(2026, 11, 23, 9, 0)


def _settings(config: Path | None, **overrides: object) -> Settings:
    try:
        return load_settings(config, **overrides)
    except ConfigError as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(2) from None


@app.command()
def run(config: ConfigOption = None) -> None:
    """Start every configured channel; with none configured, the console."""
    settings = _settings(config)
    secrets = secrets_of(settings)
    configure_logging(settings.log_level, json_lines=settings.log_json, secrets=secrets)
    with _ops_errors(), ops.run_lock(settings.database_url, "buurtbot run"):
        if settings.telegram_enabled or settings.matrix_enabled:
            from adapters.service import serve

            if not asyncio.run(serve(settings)):
                raise typer.Exit(1)
            return
        configure_logging("WARNING", tracebacks=False, secrets=secrets)
        typer.echo(
            f"No Telegram or Matrix configured: starting the console on {settings.database_url}"
        )
        asyncio.run(_console(settings, script=None))


@app.command()
def console(
    script: Annotated[
        Path | None, typer.Option("--script", "-s", help="transcript file to play")
    ] = None,
    database: Annotated[
        str | None, typer.Option("--database", help="database URL (scripts: a fresh file)")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Talk to the bot in the terminal, or play a transcript script."""
    overrides: dict[str, object] = {}
    if database:
        overrides["database_url"] = database
    settings = _settings(config, **overrides)
    configure_logging("WARNING", tracebacks=False)
    if script is not None and not script.exists():
        typer.echo(f"The script {script} does not exist.", err=True)
        raise typer.Exit(2)
    if script is not None and database is None:
        with tempfile.TemporaryDirectory() as folder:
            fresh = settings.model_copy(
                update={"database_url": f"sqlite:///{Path(folder) / 'script.db'}"}
            )
            asyncio.run(_console(fresh, script))
        return
    asyncio.run(_console(settings, script))


@app.command()
def migrate(config: ConfigOption = None) -> None:
    """Bring the database schema up to date."""
    settings = _settings(config)
    with _ops_errors():
        report = asyncio.run(ops.migrate_database(settings.database_url))
    typer.echo(str(report))


@app.command("check-config")
def check_config(config: ConfigOption = None) -> None:
    """Check the configuration and the database, and say in plain words what is wrong."""
    settings = _settings(config)
    findings = asyncio.run(ops.check_settings(settings, config))
    for note in findings.notes:
        typer.echo(f"- {note}")
    if findings.problems:
        typer.echo("The configuration is not right:", err=True)
        for problem in findings.problems:
            typer.echo(f"- {problem}", err=True)
        raise typer.Exit(2)
    typer.echo(f"The configuration is fine. Channels: {', '.join(ops.channel_list(settings))}.")


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="where to write the copy")],
    force: Annotated[bool, typer.Option("--force", help="overwrite FILE if it exists")] = False,
    config: ConfigOption = None,
) -> None:
    """Copy the SQLite database to FILE; safe while the bot runs."""
    settings = _settings(config)
    with _ops_errors():
        typer.echo(str(ops.backup(settings.database_url, file, overwrite=force)))


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="a backup made with 'buurtbot backup'")],
    config: ConfigOption = None,
) -> None:
    """Put a backup back in place of the SQLite database (stop the bot first)."""
    settings = _settings(config)
    with _ops_errors():
        typer.echo(str(ops.restore(settings.database_url, file)))


@app.command("move-to-postgres")
def move_to_postgres(
    url: Annotated[str, typer.Argument(help="postgresql://user:password@host:5432/database")],
    config: ConfigOption = None,
) -> None:
    """Copy everything from the SQLite database into an empty PostgreSQL database."""
    settings = _settings(config)
    with _ops_errors():
        report = asyncio.run(ops.move_to_postgres(settings.database_url, url, typer.echo))
    typer.echo(str(report))
    if not report.complete:
        raise typer.Exit(1)


@contextlib.contextmanager
def _ops_errors() -> Iterator[None]:
    try:
        yield
    except ops.OpsError as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None


async def _console(settings: Settings, script: Path | None) -> None:
    tz = ZoneInfo(settings.timezone)
    start = SCRIPT_START if script else datetime.now(tz).replace(second=0, microsecond=0)
    clock = FakeClock(start.replace(tzinfo=tz))
    runtime = await bootstrap(settings, clock=clock)
    try:
        session = await _session(runtime, clock, echo=script is not None or not sys.stdin.isatty())
        if script is not None:
            for line in script.read_text(encoding="utf-8").splitlines():
                await session.feed(line)
            return
        if sys.stdin.isatty():
            typer.echo(runtime.bot.catalog.text(settings.language, "console.intro"))
        web_server = await _dashboard(runtime)
        # SIGTERM or Ctrl-C: finish the line being handled (and its answers), then stop.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        lines = _StdinLines(loop)
        # What an organiser does on the dashboard (assign a helper …) is told in the
        # console as it happens, not only after the next typed line.
        delivering = sending(session.sender) if web_server else contextlib.nullcontext()
        try:
            async with delivering:
                while (typed := await lines.next(stop)) is not None:
                    await session.feed(typed)
        finally:
            if web_server is not None:
                await web_server.close()
    finally:
        await runtime.close()


async def _dashboard(runtime: Runtime) -> WebServer | None:
    """The organisers' web pages beside the console (not while a script plays)."""
    settings = runtime.settings
    if not settings.web_port:
        return None
    from adapters.web import WebServer

    server = WebServer(
        runtime.bot, host=settings.web_host, port=settings.web_port, base_url=settings.web_base_url
    )
    try:
        await server.start()
    except OSError as problem:
        typer.echo(
            f"The dashboard cannot listen on {settings.web_host} port {settings.web_port}:"
            f" {problem.strerror or problem}",
            err=True,
        )
        return None
    typer.echo(f"Dashboard for organisers: {settings.web_base_url} (type /dashboard in a dm)")
    return server


class _StdinLines:
    """Lines from stdin, read one at a time and only when asked, by a daemon thread (a
    blocked read must not keep the process alive after a stop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.wanted = threading.Semaphore(0)
        self.lines: asyncio.Queue[str] = asyncio.Queue()
        threading.Thread(target=self._pump, name="stdin", daemon=True).start()

    def _pump(self) -> None:
        while True:
            self.wanted.acquire()
            line = sys.stdin.readline()
            try:
                self.loop.call_soon_threadsafe(self.lines.put_nowait, line)
            except RuntimeError:  # the loop is closed: we are stopping
                return
            if not line:
                return

    async def next(self, stop: asyncio.Event) -> str | None:
        """The next line; None at the end of input or once ``stop`` is set."""
        if stop.is_set():
            return None
        self.wanted.release()
        reading = asyncio.ensure_future(self.lines.get())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait([reading, stopping], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if reading.done():
            return reading.result() or None  # a line already read is still handled
        reading.cancel()
        return None


async def _session(runtime: Runtime, clock: FakeClock, *, echo: bool) -> ConsoleSession:
    channel = ConsoleChannel(write=lambda text: print(text, flush=True))
    sender = runtime.sender_for(channel)
    runs = int(await runtime.bot.cursor(f"{PLATFORM}.runs") or 0) + 1
    async with runtime.store.transaction() as tx:
        await tx.set_cursor(f"{PLATFORM}.runs", str(runs))
    session = ConsoleSession(
        bot=runtime.bot,
        channel=channel,
        sender=sender,
        clock=clock,
        run_id=f"r{runs}",
        group_title=runtime.settings.community_name,
        timezone=runtime.settings.timezone,
        echo=echo,
    )
    from scheduler.stepping import wait_hook  # the console's @wait runs due work

    session.on_time_moved.append(wait_hook(runtime.bot, clock))
    await session.open()
    return session


def main() -> None:
    app()


if __name__ == "__main__":
    main()
