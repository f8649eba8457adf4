"""Shared fixtures: a bot on a real database, driven through the console channel."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.bootstrap import Runtime, bootstrap
from adapters.console import GROUP_ID, PLATFORM, ConsoleChannel, ConsoleSession
from adapters.settings import Settings
from bot.clock import FakeClock
from bot.types import ButtonPress, ChatKind, ChatRef, Sender
from scheduler.stepping import wait_hook
from storage.engine import make_engine
from storage.sql import SqlStore

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
POSTGRES_URL = os.environ.get(
    "BUURTBOT_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# Monday 23 November 2026, 09:00 in Amsterdam
MONDAY_MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=AMSTERDAM)


async def _postgres_reachable() -> str | None:
    try:
        import asyncpg

        connection = await asyncio.wait_for(
            asyncpg.connect(POSTGRES_URL.replace("+asyncpg", "")), timeout=3
        )
        await connection.close()
        return None
    except Exception as problem:
        return f"PostgreSQL is not reachable at {POSTGRES_URL}: {problem!r}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: a SQLite file, or a schema of its own on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    async with new_postgres_database("buurtbot") as url:
        yield url


@asynccontextmanager
async def new_postgres_database(prefix: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database of its own, dropped afterwards; skips the test
    with the reason when no server is reachable."""
    reason = await _postgres_reachable()
    if reason:
        pytest.skip(reason)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.dispose()


async def open_store(url: str) -> SqlStore:
    return await SqlStore.open(url)


@dataclass
class Transcript:
    """A bot on a real database, talked to in the console transcript format."""

    runtime: Runtime
    session: ConsoleSession
    clock: FakeClock
    lines: list[str] = field(default_factory=list)
    _read: int = 0

    async def say(self, *lines: str) -> list[str]:
        """Feed lines; return what the bot printed in answer (the echo left out)."""
        start = len(self.lines)
        for line in lines:
            await self.session.feed(line)
        return [line for line in self.lines[start:] if line not in lines]

    def text(self) -> str:
        return "\n".join(self.lines)

    def press(self, who: str, label: str, event_id: str, *, in_group: bool = False) -> ButtonPress:
        """``who`` pressing the newest button ``label`` shown in their private chat (or in the
        group), as the console builds it: to send later, twice or at the same time."""
        chat = (
            ChatRef(PLATFORM, GROUP_ID, ChatKind.GROUP, self.session.group_title)
            if in_group
            else ChatRef(PLATFORM, who, ChatKind.PRIVATE)
        )
        found = self.session.channel.find_button(chat.chat_id, label)
        assert found is not None, f"no button [{label}] for {who}"
        action, ref = found
        sender = Sender(PLATFORM, who, who.capitalize(), handle=f"@{who}")
        return ButtonPress(event_id, chat, sender, action, ref)

    def to(self, who: str) -> list[str]:
        """Every message sent to ``who`` ("group" or a name), with its continuation lines."""
        target = "buurtbot -> group:" if who == "group" else f"buurtbot -> {who} (dm):"
        found: list[str] = []
        taking = False
        for line in self.lines:
            if line.startswith("buurtbot -> "):
                taking = line.startswith(target)
                if taking:
                    found.append(line[len(target) :].strip())
            elif taking and line.startswith("  ") and found:
                found[-1] += "\n" + line.strip()
            else:
                taking = False
        return found


async def make_transcript(
    database_url: str, *, start: datetime = MONDAY_MORNING, **settings: object
) -> Transcript:
    clock = FakeClock(start)
    # Accepting the house rules is tested on its own (tests/test_organisers.py); elsewhere
    # members take part straight away, so that each test shows only what it is about.
    settings.setdefault("house_rules_required", False)
    config = Settings(database_url=database_url, **settings)  # type: ignore[arg-type]
    runtime = await bootstrap(config, clock=clock)
    lines: list[str] = []
    channel = ConsoleChannel(write=lines.append)
    sender = runtime.sender_for(channel)
    run = int(await runtime.bot.cursor("console.runs") or 0) + 1
    async with runtime.store.transaction() as tx:
        await tx.set_cursor("console.runs", str(run))
    session = ConsoleSession(runtime.bot, channel, sender, clock, run_id=f"r{run}")
    session.on_time_moved.append(wait_hook(runtime.bot, clock))
    await session.open()
    return Transcript(runtime, session, clock, lines)


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Transcript]:
    """The bot on a fresh SQLite file, Monday 23 November 2026, 09:00."""
    transcript = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}")
    yield transcript
    await transcript.runtime.close()
