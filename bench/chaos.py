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
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sqlite3
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench import data
from bench.common import Figure, Measurement, cli, emit
from bench.startup import buurtbot_command
from tests.botapi import BotApiServer, User

GROUP_ID = -1001000000042
TAG = re.compile(r"(?:/x|t)(\d+)\b")
IN_FLIGHT = 1.0  # seconds a request may be under way when its sender is killed


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


async def run(folder: Path, updates: int, kills: int, pace: float) -> list[Figure]:
    path = folder / "chaos.db"
    await data.migrated(path)
    replay = Replay(updates)
    plan = replay.plan()
    chance = random.Random(13)
    measurement = Measurement()
    async with BotApiServer() as server:  # Telegram's real limits
        people: list[User] = [server.user(100_000 + n, f"Buur {n}") for n in range(1000)]
        group = server.group(GROUP_ID, "Buurt Chaos")
        bot = Process(
            folder,
            {
                **os.environ,
                "BUURTBOT_DATABASE_URL": f"sqlite:///{path}",
                "BUURTBOT_TELEGRAM_TOKEN": server.token,
                "BUURTBOT_TELEGRAM_BASE_URL": server.base_url,
                "BUURTBOT_LOG_LEVEL": "WARNING",
                "BUURTBOT_HOUSE_RULES_REQUIRED": "false",
                "PTB_TIMEDELTA": "true",
            },
        )

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

        feeding = asyncio.create_task(feed())
        await bot.start()
        # Kill at random moments while the replay runs: up-times of 0.3 to 2 × the
        # average that spreads the kills over the replay.
        replay_seconds = updates / pace
        mean_up = max(replay_seconds / (kills + 2), 1.0)
        while len(bot.kills) < kills or not feeding.done():
            await asyncio.sleep(chance.uniform(0.3, 2 * mean_up))
            if not bot.alive():
                raise RuntimeError("the bot ended by itself: see " + str(folder / "bot.log"))
            if len(bot.kills) < kills or not feeding.done():
                await bot.kill()
                await bot.start()
            if len(bot.kills) >= 4 * kills:
                break
        await feeding
        # Undisturbed now: until every update is confirmed and the outbox is empty.
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            await asyncio.sleep(2.0)
            pending = any(server.is_pending(u) for u in replay.update_ids)
            with sqlite3.connect(path) as db:
                (waiting,) = db.execute(
                    "SELECT count(*) FROM outbox WHERE status = 'pending'"
                ).fetchone()
            if not pending and not waiting:
                break
        await asyncio.sleep(2.0)
        await bot.stop()
        sent = list(server.sent)
        too_many = server.too_many_requests

    with sqlite3.connect(path) as db:
        inbox = {int(r[0]) for r in db.execute("SELECT event_id FROM inbox")}
        rows = db.execute("SELECT id, text, status FROM outbox").fetchall()
    rows_per_tag: dict[int, list[int]] = defaultdict(list)
    for row_id, text, _ in rows:
        for match in TAG.finditer(text or ""):
            rows_per_tag[int(match.group(1))].append(row_id)
    sends_per_tag: dict[int, list[float]] = defaultdict(list)
    for s in sent:
        for match in TAG.finditer(s.text or ""):
            sends_per_tag[int(match.group(1))].append(s.time)
    never_handled = [u for u in replay.update_ids if u not in inbox]
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
        explained += any(first - IN_FLIGHT <= k <= second for k in bot.kills)
    lost = len(set(never_handled) | {u for u, t in replay.answer_tag.items() if t in unanswered})
    details = {
        "updates": updates,
        "kills (SIGKILL)": len(bot.kills),
        "starts": bot.starts,
        "updates never handled": len(never_handled),
        "answers missing": len(unanswered),
        "answers expected": len(replay.answer_tag),
        "answers accepted by the server": len(sent),
        "handled twice (two outbox rows)": len(twice_handled),
        "sent twice (one outbox row, at-least-once)": len(resent),
        "of those, a kill between the two sends (or while the first was under way)": explained,
        "429 answers": too_many,
        "replay pace updates/s": pace,
    }
    measurement.add(
        Figure(
            key="chaos.lost",
            title=f"8. Crash test: updates lost over {len(bot.kills)} kills",
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
            key="chaos.duplicated",
            title="8. Crash test: replies handled twice",
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
            key="chaos.resent",
            title="8. Crash test: at-least-once resends (sent, killed before recorded)",
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


async def main() -> None:
    args = cli(__doc__ or "")
    updates, kills = (600, 5) if args.quick else (5000, 25)
    with tempfile.TemporaryDirectory(prefix="buurtbot-chaos-") as folder:
        figures = await run(Path(folder), updates, kills, pace=40.0)
    emit(figures, args.out)


if __name__ == "__main__":
    asyncio.run(main())
