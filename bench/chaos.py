"""Figure 8 (``make chaos``): kill the bot at random moments; nothing lost, nothing doubled.

A real ``buurtbot run`` process, configured for Telegram, long-polls the localhost Bot API
server of the Telegram tests, which runs in *this* process with Telegram's real flood
limits. 5,000 updates are replayed onto the server at a steady pace, from 1,000 people:

- 40 % chatter in the neighbourhood group, which the bot records and leaves unanswered;
- 45 % an unknown command unique to the update (``/x123``), answered with exactly one
  message that names it ("Die opdracht ken ik niet: /x123");
- 15 % a request with a unique description (``/vraag klusje morgen ... t123``), answered
  with exactly one message that shows it.

While the replay runs the bot is killed with SIGKILL at random moments (seeded), at least
20 times, and started again each time. At the end it runs undisturbed until all is
answered, and is stopped with SIGTERM. Then:

- an update is **lost** when its id is not in the bot's inbox (never handled), or, for one
  that should be answered, no answer reached the server;
- an answer is **duplicated** when the server accepted it more than once. Duplicates are
  told apart by their cause: *handled twice* (two outbox rows for one update: the inbox
  failed) or *sent twice* (one outbox row delivered twice: Telegram accepted the send,
  and the bot was killed before it could record that; at-least-once delivery, which no
  bot can avoid without an idempotency key the Bot API does not have). Each is checked
  for a kill between the two sends, or within a second before the first was accepted (a
  request under way when the bot was killed can still be accepted after the kill).

Then the same replay once more (figure 8b) with three ``buurtbot run`` processes on one
PostgreSQL server that the benchmark makes itself (``initdb`` and ``pg_ctl`` in a temporary
folder): one process long-polls (the leader, by advisory lock), all three send from the
one outbox, and a random one of them is killed each time. A killed leader's lock passes to
another process within seconds; what a killed process had claimed to send is sent by
another when its lease has run out. With ``BUURTBOT_CHAOS_OUTAGES=1`` the database is also
stopped for 2 to 6 seconds at some of the moments.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench import data
from bench.common import Figure, Measurement, cli, emit
from bench.startup import buurtbot_command
from storage.sql import SqlStore
from tests.botapi import BotApiServer, Sent, User

GROUP_ID = -1001000000042
TAG = re.compile(r"(?:/x|t)(\d+)\b")
IN_FLIGHT = 1.0  # seconds a request may be under way when its sender is killed
# Also stop the database now and then in the run on PostgreSQL (BUURTBOT_CHAOS_OUTAGES=1):
# for once a failing database leaves the update it was handling unconfirmed.
OUTAGES = os.environ.get("BUURTBOT_CHAOS_OUTAGES", "") == "1"


@dataclass
class Replay:
    """What is sent, and what each update should get back."""

    updates: int
    seed: int = 8
    answer_tag: dict[int, int] = field(default_factory=dict)  # update id -> tag
    update_ids: list[int] = field(default_factory=list)

    def plan(self) -> list[tuple[str, int, str]]:
        """(where, person, text) for every update: where is "group" or "dm"."""
        pick = random.Random(self.seed)
        planned = []
        for n in range(self.updates):
            person = pick.randrange(1000)
            roll = pick.random()
            if roll < 0.40:
                planned.append(("group", person, "Weet iemand of de markt morgen doorgaat?"))
            elif roll < 0.85:
                planned.append(("dm", person, f"/x{n}"))
            else:
                planned.append(("dm", person, f"/vraag klusje morgen lamp ophangen t{n}"))
        return planned


@dataclass
class Process:
    folder: Path
    environment: dict[str, str]
    kills: list[float] = field(default_factory=list)  # monotonic times of SIGKILL
    starts: int = 0
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        log = (self.folder / "bot.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *buurtbot_command(),
            cwd=self.folder,
            env=self.environment,
            stdout=log,
            stderr=log,
        )
        log.close()
        self.starts += 1

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.kills.append(time.monotonic())
        await self.process.wait()
        self.process = None

    async def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), timeout=30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None


def _bot_environment(server: BotApiServer, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "BUURTBOT_DATABASE_URL": database_url,
        "BUURTBOT_TELEGRAM_TOKEN": server.token,
        "BUURTBOT_TELEGRAM_BASE_URL": server.base_url,
        "BUURTBOT_LOG_LEVEL": "WARNING",
        "BUURTBOT_HOUSE_RULES_REQUIRED": "false",
        "PTB_TIMEDELTA": "true",
    }


async def _replay(
    server: BotApiServer,
    replay: Replay,
    bots: list[Process],
    kills: int,
    pace: float,
    pending_rows: Callable[[], Awaitable[int]],
    chance: random.Random,
    disturb: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Feed the replay while killing a random one of ``bots`` (and starting it again) at
    random moments, then run undisturbed until every update is confirmed and the outbox is
    empty. ``disturb``, if given, is awaited at some of the moments instead of a kill."""
    people: list[User] = [server.user(100_000 + n, f"Buur {n}") for n in range(1000)]
    group = server.group(GROUP_ID, "Buurt Chaos")
    plan = replay.plan()

    async def feed() -> None:
        began = time.monotonic()
        for n, (where, person, text) in enumerate(plan):
            if (delay := began + n / pace - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            user = people[person]
            update_id = server.send_text(group if where == "group" else user, user, text)
            replay.update_ids.append(update_id)
            if where == "dm":
                replay.answer_tag[update_id] = n

    def killed() -> int:
        return sum(len(bot.kills) for bot in bots)

    feeding = asyncio.create_task(feed())
    for bot in bots:
        await bot.start()
    # Kill at random moments while the replay runs: up-times of 0.3 to 2 × the
    # average that spreads the kills over the replay.
    replay_seconds = replay.updates / pace
    mean_up = max(replay_seconds / (kills + 2), 1.0)
    while killed() < kills or not feeding.done():
        await asyncio.sleep(chance.uniform(0.3, 2 * mean_up))
        for bot in bots:
            if not bot.alive():
                raise RuntimeError("a bot ended by itself: see " + str(bot.folder / "bot.log"))
        if killed() < kills or not feeding.done():
            if disturb is not None and chance.random() < 0.2:
                await disturb()
                continue
            victim = chance.choice(bots) if len(bots) > 1 else bots[0]
            await victim.kill()
            await victim.start()
        if killed() >= 4 * kills:
            break
    await feeding
    # Undisturbed now: until every update is confirmed and the outbox is empty (rows a
    # killed process had claimed are due again when their lease has run out).
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        await asyncio.sleep(2.0)
        pending = any(server.is_pending(u) for u in replay.update_ids)
        if not pending and not await pending_rows():
            break
    await asyncio.sleep(2.0)
    for bot in bots:
        await bot.stop()


async def run(folder: Path, updates: int, kills: int, pace: float) -> list[Figure]:
    path = folder / "chaos.db"
    await data.migrated(path)
    replay = Replay(updates)

    async def pending_rows() -> int:
        with sqlite3.connect(path) as db:
            (waiting,) = db.execute(
                "SELECT count(*) FROM outbox WHERE status = 'pending'"
            ).fetchone()
        return int(waiting)

    async with BotApiServer() as server:  # Telegram's real limits
        bot = Process(folder, _bot_environment(server, f"sqlite:///{path}"))
        await _replay(server, replay, [bot], kills, pace, pending_rows, random.Random(13))
        sent = list(server.sent)
        too_many = server.too_many_requests

    with sqlite3.connect(path) as db:
        inbox = {int(r[0]) for r in db.execute("SELECT event_id FROM inbox")}
        rows = [(int(i), t) for i, t in db.execute("SELECT id, text FROM outbox").fetchall()]
    return _figures(
        "chaos.",
        "8. Crash test",
        replay,
        Outcome(inbox, rows, sent, bot.kills, bot.starts, too_many),
        {"replay pace updates/s": pace},
    )


@dataclass
class Outcome:
    inbox: set[int]  # update ids the bot recorded
    rows: list[tuple[int, str]]  # outbox (id, text)
    sent: list[Sent]  # what the server accepted
    kills: list[float]  # monotonic times of SIGKILL, of every process
    starts: int
    too_many: int  # 429 answers


def _figures(
    prefix: str, title: str, replay: Replay, outcome: Outcome, more: dict[str, Any]
) -> list[Figure]:
    measurement = Measurement()
    rows_per_tag: dict[int, list[int]] = defaultdict(list)
    for row_id, text in outcome.rows:
        for match in TAG.finditer(text or ""):
            rows_per_tag[int(match.group(1))].append(row_id)
    sends_per_tag: dict[int, list[float]] = defaultdict(list)
    for s in outcome.sent:
        for match in TAG.finditer(s.text or ""):
            sends_per_tag[int(match.group(1))].append(s.time)
    never_handled = [u for u in replay.update_ids if u not in outcome.inbox]
    unanswered = [t for t in replay.answer_tag.values() if not sends_per_tag.get(t)]
    twice_handled = {t: ids for t, ids in rows_per_tag.items() if len(set(ids)) > 1}
    resent = {
        t: times
        for t, times in sends_per_tag.items()
        if len(times) > 1 and len(set(rows_per_tag.get(t, []))) <= 1
    }
    explained = 0
    for times in resent.values():
        first, second = sorted(times)[:2]
        # The server runs in this process: a request the bot sent just before it was
        # killed may be accepted a moment after the kill, while this loop was busy.
        explained += any(first - IN_FLIGHT <= k <= second for k in outcome.kills)
    lost = len(set(never_handled) | {u for u, t in replay.answer_tag.items() if t in unanswered})
    details = {
        "updates": replay.updates,
        "kills (SIGKILL)": len(outcome.kills),
        "starts": outcome.starts,
        "updates never handled": len(never_handled),
        "answers missing": len(unanswered),
        "answers expected": len(replay.answer_tag),
        "answers accepted by the server": len(outcome.sent),
        "handled twice (two outbox rows)": len(twice_handled),
        "sent twice (one outbox row, at-least-once)": len(resent),
        "of those, a kill between the two sends (or while the first was under way)": explained,
        "429 answers": outcome.too_many,
        **more,
    }
    measurement.add(
        Figure(
            key=f"{prefix}lost",
            title=f"{title}: updates lost over {len(outcome.kills)} kills",
            value=lost,
            unit="",
            target=0,
            comparison="<=",
            reference=1,
            reference_name="one",
            details=details,
        )
    )
    measurement.add(
        Figure(
            key=f"{prefix}duplicated",
            title=f"{title}: replies handled twice",
            value=len(twice_handled),
            unit="",
            target=0,
            comparison="<=",
            reference=1,
            reference_name="one",
        )
    )
    measurement.add(
        Figure(
            key=f"{prefix}resent",
            title=f"{title}: at-least-once resends (sent, killed before recorded)",
            value=len(resent),
            unit="",
            target=0,
            comparison="<=",
            reference=1,
            reference_name="one",
            details={"kill between the two sends (or while the first was under way)": explained},
        )
    )
    return measurement.figures


class TemporaryPostgres:
    """A PostgreSQL server of its own in a temporary folder (``initdb``, ``pg_ctl``), so
    that it can be stopped and started at will. As root it runs as the user postgres."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="buurtbot-chaos-pg-"))
        self.data = self.folder / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/chaos"
        self.stops = 0

    @staticmethod
    def available() -> bool:
        return shutil.which("initdb") is not None and shutil.which("pg_ctl") is not None

    def _as_owner(self, *command: str) -> list[str]:
        if os.geteuid() != 0:
            return list(command)
        return ["runuser", "-u", "postgres", "--", *command]

    async def _run(self, *command: str) -> None:
        done = await asyncio.create_subprocess_exec(
            *self._as_owner(*command),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await done.communicate()
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {err.decode(errors='replace')}")

    async def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        await self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust")
        await self.start()
        connection = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user="postgres", database="postgres"
        )
        await connection.execute("CREATE DATABASE chaos")
        await connection.close()
        store = await SqlStore.open(self.url)  # migrated, as buurtbot run would
        await store.close()

    async def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1"
            f" -c unix_socket_directories={self.folder} -c max_connections=100"
        )
        log = str(self.folder / "postgres.log")
        await self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    async def stop(self) -> None:
        await self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    async def away(self, seconds: float) -> None:
        """Gone for ``seconds``: every connection is cut, then it is back."""
        self.stops += 1
        await self.stop()
        await asyncio.sleep(seconds)
        await self.start()

    async def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            await self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


async def run_postgres(
    folder: Path, updates: int, kills: int, pace: float, processes: int, outages: bool
) -> list[Figure]:
    """The same replay, served by ``processes`` bot processes on one PostgreSQL server:
    one of them long-polls (the leader), all of them send; a random one is killed each
    time. With ``outages``, the database is also stopped for a few seconds now and then."""
    postgres = TemporaryPostgres()
    replay = Replay(updates)
    chance = random.Random(13)
    try:
        await postgres.create()
        plain_url = postgres.url.replace("+asyncpg", "")

        async def query(sql: str) -> list[asyncpg.Record]:
            connection = await asyncpg.connect(plain_url)
            try:
                return list(await connection.fetch(sql))
            finally:
                await connection.close()

        async def pending_rows() -> int:
            try:
                rows = await query("SELECT count(*) FROM outbox WHERE status = 'pending'")
            except (OSError, asyncpg.PostgresError):
                return 1  # not back yet
            return int(rows[0][0])

        async def outage() -> None:
            await postgres.away(chance.uniform(2.0, 6.0))

        async with BotApiServer() as server:  # Telegram's real limits
            bots = []
            for n in range(processes):
                (folder / f"bot{n}").mkdir()
                bots.append(Process(folder / f"bot{n}", _bot_environment(server, postgres.url)))
            await _replay(
                server,
                replay,
                bots,
                kills,
                pace,
                pending_rows,
                chance,
                outage if outages else None,
            )
            sent = list(server.sent)
            too_many = server.too_many_requests
        inbox = {int(r[0]) for r in await query("SELECT event_id FROM inbox")}
        rows = [(int(r[0]), str(r[1])) for r in await query("SELECT id, text FROM outbox")]
    finally:
        await postgres.remove()
    return _figures(
        "chaos-postgres.",
        f"8b. Crash test, {processes} processes on PostgreSQL",
        replay,
        Outcome(
            inbox,
            rows,
            sent,
            sorted(k for bot in bots for k in bot.kills),
            sum(bot.starts for bot in bots),
            too_many,
        ),
        {"replay pace updates/s": pace, "processes": processes, "database stops": postgres.stops},
    )


async def main() -> None:
    args = cli(__doc__ or "")
    updates, kills = (600, 5) if args.quick else (5000, 25)
    with tempfile.TemporaryDirectory(prefix="buurtbot-chaos-") as folder:
        figures = await run(Path(folder), updates, kills, pace=40.0)
    if TemporaryPostgres.available():
        with tempfile.TemporaryDirectory(prefix="buurtbot-chaos-") as folder:
            figures += await run_postgres(
                Path(folder), updates, kills, pace=40.0, processes=3, outages=OUTAGES
            )
    else:
        print("PostgreSQL's initdb and pg_ctl were not found: the run on PostgreSQL is left out")
    emit(figures, args.out)


if __name__ == "__main__":
    asyncio.run(main())
