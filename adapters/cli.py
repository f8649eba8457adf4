"""The ``buurtbot`` command."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from adapters.bootstrap import Runtime, bootstrap, configure_logging
from adapters.console import PLATFORM, ConsoleChannel, ConsoleSession
from adapters.settings import ConfigError, Settings, load_settings
from bot.clock import FakeClock

app = typer.Typer(help="Buurtbot: neighbourhood help in your group chat.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="TOML configuration file")
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
    configure_logging(settings.log_level)
    if settings.telegram_enabled or settings.matrix_enabled:
        from adapters.service import serve

        asyncio.run(serve(settings))
        return
    configure_logging("WARNING", tracebacks=False)
    typer.echo(f"No Telegram or Matrix configured: starting the console on {settings.database_url}")
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

    async def go() -> None:
        from storage.sql import SqlStore

        store = await SqlStore.open(settings.database_url)
        await store.close()

    asyncio.run(go())
    typer.echo("The database is up to date.")


@app.command("check-config")
def check_config(config: ConfigOption = None) -> None:
    """Check the configuration and say what is wrong, if anything."""
    settings = _settings(config)
    channels = [
        name
        for name, on in (
            ("Telegram", settings.telegram_enabled),
            ("Matrix", settings.matrix_enabled),
        )
        if on
    ] or ["console"]
    typer.echo(f"The configuration is fine. Channels: {', '.join(channels)}.")


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
        while line := await asyncio.to_thread(sys.stdin.readline):
            await session.feed(line)
    finally:
        await runtime.close()


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
