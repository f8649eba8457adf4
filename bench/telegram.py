"""Figure 2: updates per second through python-telegram-bot, ours against a bare echo bot.

The localhost Bot API server of the Telegram tests runs in this process with its flood
limits off; each bot runs in a process of its own (``bench.bots``): Buurtbot's
``run_telegram`` with its outbox unpaced, and a bare python-telegram-bot ``Application``
that echoes every text. Both long-poll the same server. Once a bot listens, ``N`` private
messages from 400 people (``/mijn``, ``/help`` and offers: each answered with one message)
are put on the server at once; the rate is ``N`` divided by the time until every one has
been answered. The two bots take turns, twice each; the better round of each counts, as
the one least disturbed by other work on the machine.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import data
from bench.common import Figure, Measurement, cli, emit
from tests.botapi import NO_LIMITS, BotApiServer

TEXTS = ("/mijn", "/help", "/aanbod boodschappen ma-vr middag", "/aanbod vervoer za zo 3021")
PEOPLE = 400


async def one_round(server: BotApiServer, which: str, folder: Path, updates: int) -> float:
    """Updates per second of one bot over ``updates`` messages."""
    path = folder / f"{which}-{time.monotonic_ns()}.db"
    await data.migrated(path)
    environment = {
        **os.environ,
        "BUURTBOT_DATABASE_URL": f"sqlite:///{path}",
        "BUURTBOT_TELEGRAM_TOKEN": server.token,
        "BUURTBOT_TELEGRAM_BASE_URL": server.base_url,
        "BUURTBOT_LOG_LEVEL": "WARNING",
        "BUURTBOT_HOUSE_RULES_REQUIRED": "false",
        "PTB_TIMEDELTA": "true",
    }
    polls = len(server.calls("getUpdates"))
    log = (folder / f"{which}.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.bots",
        f"telegram-{which}",
        env=environment,
        stdout=log,
        stderr=log,
    )
    try:
        await server.wait_for(
            lambda: len(server.calls("getUpdates")) > polls or process.returncode is not None,
            timeout=60,
            what=f"the {which} bot to listen",
        )
        if process.returncode is not None:
            raise RuntimeError(f"the {which} bot stopped: see {folder / (which + '.log')}")
        await asyncio.sleep(0.5)
        pick = random.Random(4)
        before = len(server.sent)
        wanted: Counter[int] = Counter()
        users = [server.user(200_000 + n, f"Buur {n}") for n in range(PEOPLE)]
        began = time.monotonic()
        for n in range(updates):
            user = users[n % PEOPLE]
            server.send_text(user, user, pick.choice(TEXTS))
            wanted[user.id] += 1

        def answered() -> bool:
            if len(server.sent) - before < updates:
                return False
            got = Counter(s.chat_id for s in server.sent[before:])
            return all(got[chat] >= count for chat, count in wanted.items())

        await server.wait_for(answered, timeout=600, what=f"{updates} answers from {which}")
        return updates / (time.monotonic() - began)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)
        log.close()


async def run(folder: Path, updates: int, rounds: int) -> list[Figure]:
    measurement = Measurement()
    rates: dict[str, list[float]] = {"ours": [], "echo": []}
    async with BotApiServer(limits=NO_LIMITS) as server:
        for _ in range(rounds):
            for which in ("ours", "echo"):
                rate = await one_round(server, which, folder, updates)
                rates[which].append(rate)
                print(f"  {which}: {rate:.1f} updates/s", flush=True)
    ours, echo = max(rates["ours"]), max(rates["echo"])
    measurement.add(
        Figure(
            key="telegram.ratio",
            title="2. Telegram end to end: ours / bare PTB echo bot",
            value=ours / echo,
            unit="×",
            target=0.7,
            comparison=">=",
            reference=1.0,
            reference_name="echo bot",
            details={
                "ours updates/s": round(ours, 1),
                "echo updates/s": round(echo, 1),
                "rounds ours": [round(r, 1) for r in rates["ours"]],
                "rounds echo": [round(r, 1) for r in rates["echo"]],
                "median ratio": round(
                    statistics.median(rates["ours"]) / statistics.median(rates["echo"]), 3
                ),
                "updates per round": updates,
            },
        )
    )
    return measurement.figures


async def main() -> None:
    args = cli(__doc__ or "")
    updates, rounds = (200, 1) if args.quick else (1000, 2)
    with tempfile.TemporaryDirectory(prefix="buurtbot-bench-") as folder:
        figures = await run(Path(folder), updates, rounds)
    emit(figures, args.out)


if __name__ == "__main__":
    asyncio.run(main())
