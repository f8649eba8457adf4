"""Figure 7: memory and start-up time with 10k members and 100k historical records.

The database holds 10,000 members (each with a Telegram identity, a membership and an
offer) and 100,000 historical records (closed requests, inbox entries, sent outbox rows and
done due work, a quarter each). ``buurtbot run`` is started as a real process, configured
for Telegram against the localhost Bot API server (in this process). Start-up is the time
from starting the process until it asks the server for updates (it listens); memory is the
process's resident set size then, and again after it has handled 1,000 updates from 500
members (``/mijn``, ``/help`` and offers) and sent their answers.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import data
from bench.common import Figure, Measurement, cli, emit
from bench.workload import MONDAY_MORNING
from tests.botapi import NO_LIMITS, BotApiServer


def rss_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of a process, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def buurtbot_command() -> list[str]:
    found = shutil.which("buurtbot", path=str(Path(sys.executable).parent))
    return [found, "run"] if found else [sys.executable, "-m", "adapters.cli", "run"]


def build(path: Path, members: int, records: int) -> None:
    engine = data.connect(path)
    with engine.begin() as conn:
        community_id = data.community(conn)
        ids = data.members(conn, community_id, members, MONDAY_MORNING)
        data.offers(conn, community_id, ids, MONDAY_MORNING)
        data.history(conn, community_id, ids, records, MONDAY_MORNING)
    engine.dispose()


async def run(folder: Path, members: int, records: int, updates: int) -> list[Figure]:
    path = folder / "startup.db"
    await data.migrated(path)
    await asyncio.to_thread(build, path, members, records)
    measurement = Measurement()
    async with BotApiServer(limits=NO_LIMITS) as server:
        people = [server.user(100_000 + n, f"Buur {n}") for n in range(members)]
        environment = {
            **os.environ,
            "BUURTBOT_DATABASE_URL": f"sqlite:///{path}",
            "BUURTBOT_TELEGRAM_TOKEN": server.token,
            "BUURTBOT_TELEGRAM_BASE_URL": server.base_url,
            "BUURTBOT_LOG_LEVEL": "WARNING",
            "BUURTBOT_HOUSE_RULES_REQUIRED": "false",
            "PTB_TIMEDELTA": "true",
        }
        log = (folder / "bot.log").open("wb")
        began = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *buurtbot_command(), cwd=folder, env=environment, stdout=log, stderr=log
        )
        try:
            await server.wait_for(
                lambda: bool(server.calls("getUpdates")) or process.returncode is not None,
                timeout=60,
                what="the bot to listen",
            )
            ready = time.monotonic() - began
            if process.returncode is not None:
                raise RuntimeError((folder / "bot.log").read_text()[-2000:])
            rss_ready, _ = rss_mb(process.pid)
            pick = random.Random(9)
            for _ in range(updates):
                who = people[pick.randrange(500)]
                text = pick.choice(("/mijn", "/help", "/aanbod boodschappen ma-vr middag"))
                server.send_text(who, who, text)
            await server.wait_sent(updates, timeout=180)
            rss_busy, peak = rss_mb(process.pid)
        finally:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                process.kill()
                await process.wait()
            log.close()
    size = path.stat().st_size / 1e6
    details = {
        "members": members,
        "historical records": records,
        "database MB": round(size, 1),
        "RSS when ready MB": round(rss_ready, 1),
        "RSS after updates MB": round(rss_busy, 1),
        "peak RSS MB": round(peak, 1),
        "updates handled": updates,
    }
    measurement.add(
        Figure(
            key="startup.memory",
            title="7. Resident memory (10k members, 100k records)",
            value=max(rss_ready, rss_busy),
            unit="MB",
            target=150,
            comparison="<=",
            reference=150,
            reference_name="target",
            details=details,
        )
    )
    measurement.add(
        Figure(
            key="startup.ready",
            title="7. Start-up until ready (10k members, 100k records)",
            value=ready,
            unit="s",
            target=3,
            comparison="<=",
            reference=3,
            reference_name="target",
        )
    )
    return measurement.figures


async def main() -> None:
    args = cli(__doc__ or "")
    members, records, updates = (1000, 10_000, 200) if args.quick else (10_000, 100_000, 1000)
    with tempfile.TemporaryDirectory(prefix="buurtbot-bench-") as folder:
        figures = await run(Path(folder), members, records, updates)
    emit(figures, args.out)


if __name__ == "__main__":
    asyncio.run(main())
