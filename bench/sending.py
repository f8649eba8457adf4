"""Figure 5: 600 private messages queued at once, delivered under the Bot API's limits.

The localhost Bot API server of the Telegram tests (``tests.botapi.BotApiServer``) runs in
this process with Telegram's real limits (30 messages a second overall, one a second per
chat, windows in real seconds) and answers 429 beyond them. 600 outbox rows to 600
different members are written in one transaction; then ``run_telegram`` starts as the
service starts it, with its production pacing (``TELEGRAM_LIMITS``). The time from its
start until the server has accepted the 600th message is compared with the theoretical
minimum, 600 / 30 per second = 20 s; 429 answers are counted.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from adapters.telegram import run_telegram
from bench import data
from bench.common import Figure, Measurement, cli, emit
from bench.workload import MONDAY_MORNING
from bot.clock import SystemClock
from bot.types import ChatKind
from tests.botapi import BotApiServer


async def run(folder: Path, count: int) -> list[Figure]:
    path = folder / "sending.db"
    url = await data.migrated(path)
    engine = data.connect(path)
    with engine.begin() as conn:
        community_id = data.community(conn)
        members = data.members(conn, community_id, count, MONDAY_MORNING)
    engine.dispose()
    measurement = Measurement()
    async with BotApiServer() as server:
        for n in range(count):
            server.user(100_000 + n, f"Buur {n}")
        settings = Settings(
            database_url=url,
            telegram_token=server.token,
            telegram_base_url=server.base_url,
        )
        runtime = await bootstrap(settings, clock=SystemClock())
        async with runtime.store.transaction() as tx:
            for n, member_id in enumerate(members):
                await tx.enqueue(
                    platform="telegram",
                    chat_id=str(100_000 + n),
                    kind=ChatKind.PRIVATE,
                    member_id=member_id,
                    text=f"Herinnering {n}: morgen om 14:00 boodschappen voor je buur.",
                    buttons=(),
                    edit_of=None,
                    attachment=None,
                    now=SystemClock().now(),
                )
        stop = asyncio.Event()
        began = time.monotonic()
        task = asyncio.create_task(run_telegram(runtime, settings, stop))
        try:
            await server.wait_sent(count, timeout=120)
            elapsed = time.monotonic() - began
            first = min(s.time for s in server.sent)
            last = max(s.time for s in server.sent)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)
            await runtime.close()
        chats = {s.chat_id for s in server.sent}
        ratio_minimum = count / 30
        measurement.add(
            Figure(
                key="sending.ratio",
                title=f"5. Sending {count} private messages: time / theoretical minimum",
                value=elapsed / ratio_minimum,
                unit="×",
                target=1.15,
                comparison="<=",
                reference=1.0,
                reference_name="20 s minimum",
                details={
                    "seconds from start to last accepted": round(elapsed, 2),
                    "first to last accepted s": round(last - first, 2),
                    "theoretical minimum s": ratio_minimum,
                    "429 answers": server.too_many_requests,
                    "messages accepted": len(server.sent),
                    "distinct chats": len(chats),
                },
            )
        )
        measurement.add(
            Figure(
                key="sending.429",
                title="5. Sending: 429 answers from the Bot API",
                value=server.too_many_requests,
                unit="",
                target=0,
                comparison="<=",
                reference=1,
                reference_name="one",
            )
        )
    return measurement.figures


async def main() -> None:
    args = cli(__doc__ or "")
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    with tempfile.TemporaryDirectory(prefix="buurtbot-bench-") as folder:
        figures = await run(Path(folder), 150 if args.quick else 600)
    emit(figures, args.out)


if __name__ == "__main__":
    asyncio.run(main())
