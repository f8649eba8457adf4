"""Figure 6: 10,000 reminders due in the same minute, delivered once each, claimed on time.

10,000 matched requests, each with its helper's reminder due within one minute of wall
time (spread evenly over it): half the reminder an hour before (urgent), half the one the
evening before (which respects quiet hours and the daily limit; the community's quiet hours
are off so that the hour of the run does not matter). The production timer
(``scheduler.timer.DueTimer`` on APScheduler, with the system clock) wakes the claim loop;
an outbox sender delivers to an in-memory channel, without pacing.

Lateness of claiming is ``claimed_at - due_at`` of each item. Duplicates: an outbox row
delivered more than once, two items sent in the same outbox row, or one helper reminded
twice about the same request.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import traceback
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from bench import data
from bench.common import Figure, Measurement, cli, emit, percentile
from bench.workload import RecordingChannel
from bot.clock import SystemClock
from bot.duework import DueWorkRunner
from bot.outbox import OutboxSender
from bot.ports import SendResult
from bot.types import Delivery
from scheduler.timer import DueTimer
from storage.rows import due_t, outbox_t, request_t


class CountingChannel(RecordingChannel):
    def __init__(self) -> None:
        super().__init__()
        self.per_row: Counter[int] = Counter()
        self.sent_at: dict[int, datetime] = {}

    async def send(self, delivery: Delivery) -> SendResult:
        self.per_row[delivery.outbox_id] += 1
        self.sent_at.setdefault(delivery.outbox_id, datetime.now(UTC))
        return await super().send(delivery)


def _setup(path: Path, count: int, first_due: datetime) -> None:
    now = datetime.now(UTC) - timedelta(days=1)
    engine = data.connect(path)
    with engine.begin() as conn:
        community_id = data.community(conn, settings={"quiet_hours": "off"})
        helpers = data.members(conn, community_id, count, now)
        requesters = data.members(conn, community_id, count, now, first_user=300_000)
        starts = first_due + timedelta(hours=2)
        rows: list[dict[str, Any]] = []
        for n in range(count):
            rows.append(
                {
                    "id": n + 1,
                    "community_id": community_id,
                    "requester_id": requesters[n],
                    "category": "shopping",
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=1),
                    "exact": True,
                    "description": "melk en brood",
                    "visibility": "helpers",
                    "status": "matched",
                    "helper_id": helpers[n],
                    "created_at": now,
                    "matched_at": now,
                    "group_posts": "",
                }
            )
        data.write(conn, request_t, iter(rows))
        stamp = now.isoformat()
        spread = 60.0 / count
        data.write(
            conn,
            due_t,
            (
                {
                    "kind": "remind_hour" if n % 2 else "remind_evening",
                    "dedupe_key": f"bench:{n}",
                    "community_id": community_id,
                    "subject_id": n + 1,
                    "member_id": helpers[n],
                    "urgent": bool(n % 2),
                    "due_at": first_due + timedelta(seconds=n * spread),
                    "created_at": now,
                    "attempts": 0,
                    "payload": {"matched_at": stamp},
                }
                for n in range(count)
            ),
        )
    engine.dispose()


async def _open(path: Path) -> int:
    """How many of the benchmark's reminders are not done yet."""

    def count() -> int:
        engine = data.connect(path)
        with engine.connect() as conn:
            rows = conn.execute(
                select(due_t.c.id).where(
                    due_t.c.dedupe_key.like("bench:%"), due_t.c.done_at.is_(None)
                )
            ).all()
        engine.dispose()
        return len(rows)

    return await asyncio.to_thread(count)


async def _deliver(sender: OutboxSender, failures: list[str]) -> None:
    """The outbox sender's loop as the adapters run it: a failed round is tried again."""
    while True:
        sender.wakeup.clear()
        try:
            await sender.drain()
        except Exception as problem:
            failures.append(repr(problem))
            if len(failures) == 1:
                traceback.print_exc()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sender.wakeup.wait(), timeout=sender.idle_poll)


async def _unsent(path: Path) -> int:
    """Outbox rows not delivered yet."""

    def count() -> int:
        engine = data.connect(path)
        with engine.connect() as conn:
            rows = conn.execute(select(outbox_t.c.id).where(outbox_t.c.status == "pending")).all()
        engine.dispose()
        return len(rows)

    return await asyncio.to_thread(count)


async def run(folder: Path, count: int, lead: float) -> list[Figure]:
    path = folder / "reminders.db"
    url = await data.migrated(path)
    first_due = datetime.now(UTC) + timedelta(seconds=lead + 5)
    # building takes a while: the reminders fall due a fixed time after it is done
    await asyncio.to_thread(_setup, path, count, first_due)
    setup_left = (first_due - datetime.now(UTC)).total_seconds()
    runtime = await bootstrap(Settings(database_url=url), clock=SystemClock())
    channel = CountingChannel()
    sender = runtime.sender_for(channel)
    failures: list[str] = []
    sending = asyncio.create_task(_deliver(sender, failures))
    timer = DueTimer(DueWorkRunner(runtime.bot, worker="bench"), poll_seconds=30)
    measurement = Measurement()
    try:
        timer.start()
        deadline = time.monotonic() + max(setup_left, 0) + 60 + 240
        while time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            if channel.sent >= count or not await _open(path):
                break
        # Let the sender finish what it has begun: stopping it in the middle of a send
        # would leave a sent row unrecorded, and a second sender would send it again.
        claimed_all = time.monotonic()
        behind = await _unsent(path)
        settle = claimed_all + 180
        while await _unsent(path) and time.monotonic() < settle:
            await asyncio.sleep(0.5)
        catching_up = time.monotonic() - claimed_all
        engine = data.connect(path)
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    due_t.c.id,
                    due_t.c.subject_id,
                    due_t.c.member_id,
                    due_t.c.due_at,
                    due_t.c.claimed_at,
                    due_t.c.done_at,
                    due_t.c.outcome,
                    due_t.c.outbox_id,
                ).where(due_t.c.dedupe_key.like("bench:%"))
            ).all()
        engine.dispose()
    finally:
        await timer.stop()
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        await runtime.close()
    late = [(r.claimed_at - r.due_at).total_seconds() for r in rows if r.claimed_at is not None]
    outcomes = Counter(r.outcome for r in rows)
    sent_rows = Counter(r.outbox_id for r in rows if r.outbox_id is not None)
    per_pair = Counter((r.member_id, r.subject_id) for r in rows if r.outcome == "sent")
    resent = sum(n - 1 for n in channel.per_row.values() if n > 1)
    shared = sum(n - 1 for n in sent_rows.values() if n > 1)
    twice = sum(n - 1 for n in per_pair.values() if n > 1)
    duplicates = resent + shared + twice
    delivered = sum(1 for r in rows if r.outbox_id is not None and channel.per_row[r.outbox_id])
    p50, p99 = percentile(late, 0.5), percentile(late, 0.99)
    arrived = [
        (channel.sent_at[r.outbox_id] - r.due_at).total_seconds()
        for r in rows
        if r.outbox_id in channel.sent_at
    ]
    done = [r.done_at for r in rows if r.done_at is not None]
    span = (max(done) - min(r.due_at for r in rows)).total_seconds() if done else float("nan")
    details = {
        "reminders": count,
        "claimed": len(late),
        "delivered once": delivered,
        "outcomes": dict(outcomes),
        "duplicates": duplicates,
        "lateness p50 s": round(p50, 2),
        "lateness p99 s": round(p99, 2),
        "lateness max s": round(max(late), 2) if late else None,
        "delivered after due p50 s": round(percentile(arrived, 0.5), 2),
        "delivered after due p99 s": round(percentile(arrived, 0.99), 2),
        "first due to last done s": round(span, 1),
        "claims per second": round(len(late) / span, 1) if span == span and span else None,
        "outbox rows waiting when all were claimed": behind,
        "seconds until those were delivered": round(catching_up, 1),
        "outbox rounds that failed (tried again)": len(failures),
        "first failure": failures[0][:200] if failures else None,
    }
    measurement.add(
        Figure(
            key="reminders.lateness_p99",
            title=f"6. Reminders: lateness of claiming p99 ({count // 1000}k due in one minute)",
            value=p99,
            unit="s",
            target=2,
            comparison="<=",
            reference=2,
            reference_name="target",
            details=details,
        )
    )
    measurement.add(
        Figure(
            key="reminders.delivered_p99",
            title="6. Reminders: delivered after due, p99 (no target; the claiming target shown)",
            value=percentile(arrived, 0.99),
            unit="s",
            target=2,
            comparison="<=",
            reference=2,
            reference_name="claiming target",
            details={
                "p50 s": round(percentile(arrived, 0.5), 2),
                "outbox rows waiting when all were claimed": behind,
            },
        )
    )
    measurement.add(
        Figure(
            key="reminders.duplicates",
            title="6. Reminders: duplicates and undelivered",
            value=duplicates + (count - delivered),
            unit="",
            target=0,
            comparison="<=",
            reference=1,
            reference_name="one",
            details={
                "one outbox row delivered twice": resent,
                "two reminders in one outbox row": shared,
                "a helper reminded twice of one request": twice,
                "not delivered": count - delivered,
            },
        )
    )
    return measurement.figures


async def main() -> None:
    args = cli(__doc__ or "")
    count = 1000 if args.quick else 10_000
    with tempfile.TemporaryDirectory(prefix="buurtbot-bench-") as folder:
        figures = await run(Path(folder), count, lead=2.0)
    emit(figures, args.out)


if __name__ == "__main__":
    asyncio.run(main())
