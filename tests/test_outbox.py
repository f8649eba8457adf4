"""The outbox sender: pacing, retries and held messages, with a recording channel."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.clock import FakeClock
from bot.outbox import OutboxSender, Pacer
from bot.ports import RateLimits, RetryLater, SendResult, Sent, Unreachable
from bot.types import ChatKind, Delivery
from storage.sql import SqlStore
from tests.conftest import new_postgres_database

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class VirtualTime:
    """A monotonic clock and a sleep that only move each other."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pacer_keeps_a_group_under_twenty_a_minute() -> None:
    time = VirtualTime()
    pacer = Pacer(RateLimits(), monotonic=time.monotonic)
    sends = []
    for _ in range(60):
        wait = pacer.delay("group", True)
        time.now += wait
        pacer._all.append(time.now)
        pacer._chat["group"].append(time.now)
        pacer._group["group"].append(time.now)
        sends.append(time.now)
    for index in range(len(sends) - 20):
        assert sends[index + 20] - sends[index] >= 60.0 - 1e-9
    for earlier, later in itertools.pairwise(sends):
        assert later - earlier >= 1.0 - 1e-9


async def test_pacer_acquire_overall_limit() -> None:
    time = VirtualTime()
    pacer = Pacer(RateLimits(), monotonic=time.monotonic, sleep=time.sleep)
    for chat in range(90):
        await pacer.acquire(str(chat), False)
    # 90 private chats at 30 per second: at least two seconds
    assert time.now >= 2.0


@dataclass
class Recording:
    platform: str = "console"
    limits: RateLimits = field(default_factory=RateLimits.unlimited)
    answers: list[SendResult] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)

    async def send(self, delivery: Delivery) -> SendResult:
        if self.answers:
            answer = self.answers.pop(0)
            if not isinstance(answer, Sent):
                return answer
        self.delivered.append(delivery.text)
        return Sent(str(delivery.outbox_id))

    def private_chat_link(self) -> str | None:
        return "https://t.me/buurtbot?start=hallo"


async def enqueue(store: SqlStore, text: str, chat: str = "1") -> int:
    async with store.transaction() as tx:
        return await tx.enqueue(
            platform="console",
            chat_id=chat,
            kind=ChatKind.PRIVATE,
            member_id=None,
            text=text,
            buttons=(),
            edit_of=None,
            attachment=None,
            now=NOW,
        )


async def test_retry_later_keeps_order_and_sends_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = await SqlStore.open(f"sqlite:///{tmp_path / 'o.db'}")
    clock = FakeClock(NOW)
    time = VirtualTime()
    channel = Recording(answers=[RetryLater(5, "network")])
    held: list[int] = []

    async def unreachable(delivery: Delivery, link: str | None) -> None:
        held.append(delivery.outbox_id)

    sender = OutboxSender(store, channel, clock, unreachable, sleep=time.sleep)
    for text in ("een", "twee", "drie"):
        await enqueue(store, text)
    await sender.drain()
    assert channel.delivered == []  # "een" failed; the rest of that chat waits behind it
    await sender.drain()
    assert channel.delivered == []  # not due yet
    clock.advance(timedelta(seconds=6))
    await sender.drain()
    await sender.drain()
    assert channel.delivered == ["een", "twee", "drie"]
    await sender.drain()
    assert channel.delivered == ["een", "twee", "drie"]
    await store.close()


async def test_unreachable_member_is_handed_to_the_core(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = await SqlStore.open(f"sqlite:///{tmp_path / 'o.db'}")
    channel = Recording(answers=[Unreachable("never started")])
    held: list[tuple[int, str | None]] = []

    async def unreachable(delivery: Delivery, link: str | None) -> None:
        held.append((delivery.outbox_id, link))
        async with store.transaction() as tx:
            await tx.park_waiting(delivery.outbox_id)

    sender = OutboxSender(store, channel, FakeClock(NOW), unreachable)
    first = await enqueue(store, "privé")
    await sender.drain()
    assert held == [(first, "https://t.me/buurtbot?start=hallo")]
    assert channel.delivered == []
    async with store.transaction() as tx:
        assert await tx.release_waiting("console", "1") == 1
    await sender.drain()
    assert channel.delivered == ["privé"]
    await store.close()


@dataclass
class Gated:
    """A channel whose sends wait until the test lets them through."""

    platform: str = "console"
    limits: RateLimits = field(default_factory=RateLimits.unlimited)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    delivered: list[str] = field(default_factory=list)

    async def send(self, delivery: Delivery) -> SendResult:
        self.started.set()
        await self.gate.wait()
        self.delivered.append(delivery.text)
        return Sent(f"gated-{delivery.outbox_id}")

    def private_chat_link(self) -> str | None:
        return None


async def nobody(delivery: Delivery, link: str | None) -> None:
    raise AssertionError("nobody is unreachable here")


async def test_two_senders_on_one_postgres_send_each_row_once() -> None:
    """Two processes' senders (each its own engine) drain one outbox at the same time."""
    async with new_postgres_database("outbox") as url:
        stores = [await SqlStore.open(url), await SqlStore.open(url, run_migrations=False)]
        try:
            for chat in range(20):
                for n in range(10):
                    await enqueue(stores[0], f"{chat}-{n}", chat=str(chat))
            channels = [Slow(), Slow()]
            senders = [
                OutboxSender(store, channel, FakeClock(NOW), nobody, batch=5)
                for store, channel in zip(stores, channels, strict=True)
            ]
            for _ in range(3):
                await asyncio.gather(*(sender.drain() for sender in senders))
            everything = channels[0].delivered + channels[1].delivered
            assert sorted(everything) == sorted(f"{c}-{n}" for c in range(20) for n in range(10))
            assert channels[0].delivered and channels[1].delivered
        finally:
            for store in stores:
                await store.close()


@dataclass
class Slow(Recording):
    """Sends take a moment, as over a network: the other sender runs meanwhile."""

    async def send(self, delivery: Delivery) -> SendResult:
        await asyncio.sleep(0.002)
        return await super().send(delivery)


async def test_a_row_whose_sender_died_is_sent_by_another_after_the_lease(
    database_url: str,
) -> None:
    """The first sender hangs in the middle of a send: while its lease lasts no one else
    sends the row; afterwards another does, and the first, waking up, records nothing."""
    stores = [
        await SqlStore.open(database_url),
        await SqlStore.open(database_url, run_migrations=False),
    ]
    try:
        row = await enqueue(stores[0], "hallo")
        hanging, healthy = Gated(), Recording()
        clock = FakeClock(NOW)
        first = OutboxSender(stores[0], hanging, clock, nobody)
        second = OutboxSender(stores[1], healthy, clock, nobody)
        stuck = asyncio.create_task(first.drain())
        await hanging.started.wait()
        clock.advance(timedelta(seconds=30))
        await second.drain()
        assert healthy.delivered == []  # the first is still sending it
        clock.advance(timedelta(seconds=31))
        await second.drain()
        assert healthy.delivered == ["hallo"]
        hanging.gate.set()  # the first's send went through after all: sent twice
        await stuck
        assert first.sent == 0 and first.taken_over == 1
        async with stores[0].transaction() as tx:
            sent = await tx.outbox_row(row)
        assert sent is not None and sent.attempts == 1
        assert await stores[0].claim("console", clock.now(), 10, "x", clock.now()) == []
        async with stores[0].transaction() as tx:
            assert await tx.outbox_row_by_ref("console", str(row)) is not None  # the second's
            assert await tx.outbox_row_by_ref("console", f"gated-{row}") is None
    finally:
        for store in stores:
            await store.close()


async def test_a_sender_cancelled_just_as_it_is_woken_stops(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Cancelled in the moment between being woken and running again, the send loop still
    ends (the shutdown of a channel waits for it)."""
    store = await SqlStore.open(f"sqlite:///{tmp_path / 'o.db'}")

    async def nobody(delivery: Delivery, link: str | None) -> None:
        raise AssertionError("nothing is sent here")

    try:
        sender = OutboxSender(store, Recording(), FakeClock(NOW), nobody, idle_poll=0.05)
        task = asyncio.create_task(sender.run())
        for _ in range(50):  # until it waits to be woken
            await asyncio.sleep(0.01)
        sender.wake()
        await asyncio.sleep(0)  # the wait ends; the loop has not run again yet
        task.cancel()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), timeout=2)
        assert task.cancelled()
    finally:
        await store.close()
