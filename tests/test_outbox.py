"""The outbox sender: pacing, retries and held messages, with a recording channel."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.clock import FakeClock, SystemClock
from bot.outbox import LEASE, OutboxSender, Pacer, rest_after, split_text
from bot.ports import RateLimits, RetryLater, SendResult, Sent, Unreachable
from bot.types import Button, ChatKind, Delivery
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

    def room_for_text(self, delivery: Delivery) -> int:
        return 4096

    def text_size(self, text: str) -> int:
        return len(text)


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

    def room_for_text(self, delivery: Delivery) -> int:
        return 4096

    def text_size(self, text: str) -> int:
        return len(text)


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
        clock.advance(LEASE / 2)
        await second.drain()
        assert healthy.delivered == []  # the first is still sending it
        clock.advance(LEASE / 2 + timedelta(seconds=1))
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


# --- a long text, in parts -------------------------------------------------------------------
def test_a_long_text_is_split_between_words_and_lines_within_the_room() -> None:
    lines = [f"Regel {n}: " + " ".join(f"woord{n}x{w}" for w in range(12)) for n in range(40)]
    text = "\n".join(lines[:20]) + "\n\n" + "\n".join(lines[20:])
    parts = split_text(text, 1000)
    assert len(parts) > 3
    assert all(0 < len(part) <= 1000 for part in parts)
    # nothing lost, nothing doubled, no word cut: the words read on in the same order
    assert " ".join(parts).split() == text.split()
    # each part ends at the end of a line, as every line fits in a part
    assert all(part.split("\n")[-1] in lines for part in parts)


def test_a_text_without_lines_is_split_between_words_and_counted_as_the_platform_does() -> None:
    text = " ".join(["buurt🍲"] * 1000)  # the emoji is two units in UTF-16, as Telegram counts

    def utf16(part: str) -> int:
        return len(part.encode("utf-16-le")) // 2

    parts = split_text(text, 4096, utf16)
    assert all(utf16(part) <= 4096 for part in parts)
    assert all(word == "buurt🍲" for part in parts for word in part.split(" "))
    assert sum(len(part.split(" ")) for part in parts) == 1000
    assert split_text("kort", 4096, utf16) == ["kort"]


@dataclass
class Parts(Recording):
    """Records each message with its buttons; answers from ``answers`` per send."""

    shown: list[tuple[str, tuple[tuple[Button, ...], ...]]] = field(default_factory=list)
    room: int = 100

    async def send(self, delivery: Delivery) -> SendResult:
        if self.answers:
            answer = self.answers.pop(0)
            if not isinstance(answer, Sent):
                return answer
        self.shown.append((delivery.text, delivery.buttons))
        return Sent(f"{delivery.outbox_id}.{delivery.part}")

    def room_for_text(self, delivery: Delivery) -> int:
        return self.room


LONG = "\n".join(f"Verzoek {n}: boodschappen voor de buren op de hoek." for n in range(12))
BUTTONS = ((Button("Annuleer 1", "cancel:1"), Button("Annuleer 2", "cancel:2")),)


async def enqueue_long(store: SqlStore) -> int:
    async with store.transaction() as tx:
        return await tx.enqueue(
            platform="console",
            chat_id="1",
            kind=ChatKind.PRIVATE,
            member_id=None,
            text=LONG,
            buttons=BUTTONS,
            edit_of=None,
            attachment=None,
            now=NOW,
        )


async def test_a_long_text_refused_half_way_goes_on_where_it_stopped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = await SqlStore.open(f"sqlite:///{tmp_path / 'o.db'}")
    clock = FakeClock(NOW)
    time = VirtualTime()
    channel = Parts(answers=[Sent(), RetryLater(5, "rate limit")])
    sender = OutboxSender(store, channel, clock, nobody, sleep=time.sleep)
    row = await enqueue_long(store)
    await sender.drain()
    assert [text for text, _ in channel.shown] == split_text(LONG, 100)[:1]
    clock.advance(timedelta(seconds=6))
    await sender.drain()

    parts = split_text(LONG, 100)
    assert len(parts) >= 6
    assert [text for text, _ in channel.shown] == parts  # each once, in order
    assert [buttons for _, buttons in channel.shown] == [()] * (len(parts) - 1) + [BUTTONS]
    async with store.transaction() as tx:
        sent = await tx.outbox_row(row)
        assert sent is not None and sent.parts_sent == len(parts) - 1
        # a press on the last part finds the row: its message is the one with the buttons
        assert await tx.outbox_row_by_ref("console", f"{row}.{len(parts) - 1}") is not None
    await store.close()


async def test_an_edit_of_a_long_text_changes_its_last_part(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Its buttons go, and a word is added under it: the message with the buttons (the
    last part) reads as its part of the new text; the parts before it stay as they were."""
    store = await SqlStore.open(f"sqlite:///{tmp_path / 'o.db'}")
    channel = Parts()
    sender = OutboxSender(store, channel, FakeClock(NOW), nobody)
    row = await enqueue_long(store)
    await sender.drain()
    parts = split_text(LONG, 100)
    async with store.transaction() as tx:
        await tx.enqueue(
            platform="console",
            chat_id="1",
            kind=ChatKind.PRIVATE,
            member_id=None,
            text=f"{LONG}\n\n✖ Ingetrokken",
            buttons=(),
            edit_of=row,
            attachment=None,
            now=NOW,
        )
    edits: list[Delivery] = []
    sent = channel.send

    async def send(delivery: Delivery) -> SendResult:
        edits.append(delivery)
        return await sent(delivery)

    channel.send = send  # type: ignore[method-assign]
    await sender.drain()
    [edit] = edits
    assert edit.edit_message_ref == f"{row}.{len(parts) - 1}"
    assert edit.text == f"{parts[-1]}\n\n✖ Ingetrokken" and edit.buttons == ()
    await store.close()


def test_the_rest_of_a_longer_text_after_the_parts_of_the_first() -> None:
    parts = split_text(LONG, 100)
    longer = LONG + "\n\nEen woord erbij."
    assert split_text(longer, 100)[: len(parts) - 1] == parts[:-1]
    assert rest_after(longer, len(parts) - 1, 100) == parts[-1] + "\n\nEen woord erbij."
    assert rest_after("kort", 3, 100) == "kort"
    assert rest_after(LONG, 0, 100) == LONG


@dataclass
class DiesAfterOnePart(Parts):
    """Sends the first part, then hangs in the second until the test lets it die."""

    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, delivery: Delivery) -> SendResult:
        if delivery.part > 0:
            self.started.set()
            await asyncio.Event().wait()
        return await super().send(delivery)


async def test_a_long_text_whose_sender_died_half_way_is_finished_by_another(
    database_url: str,
) -> None:
    stores = [
        await SqlStore.open(database_url),
        await SqlStore.open(database_url, run_migrations=False),
    ]
    try:
        await enqueue_long(stores[0])
        dying, healthy = DiesAfterOnePart(), Parts()
        clock = FakeClock(NOW)
        first = OutboxSender(stores[0], dying, clock, nobody)
        second = OutboxSender(stores[1], healthy, clock, nobody)
        task = asyncio.create_task(first.drain())
        await dying.started.wait()
        task.cancel()  # the process dies in the middle of the second part
        await asyncio.gather(task, return_exceptions=True)
        await second.drain()
        assert healthy.shown == []  # the row is still the first's
        clock.advance(LEASE + timedelta(seconds=1))
        await second.drain()

        parts = split_text(LONG, 100)
        person_sees = [text for text, _ in dying.shown + healthy.shown]
        assert person_sees == parts
        assert healthy.shown[-1] == (parts[-1], BUTTONS)
    finally:
        for store in stores:
            await store.close()


# --- a lease kept alive while the sender lives --------------------------------------------------
async def test_a_live_sender_keeps_its_rows_and_a_killed_one_loses_them_within_seconds() -> None:
    """On PostgreSQL, two processes' senders with a lease of one second. While the first
    hangs in a send (a slow upload, a long flood wait) but lives, its heartbeat keeps the
    row its own; killed, its row is sent by the other within about one lease."""
    lease = timedelta(seconds=1)
    async with new_postgres_database("lease") as url:
        stores = [await SqlStore.open(url), await SqlStore.open(url, run_migrations=False)]
        hanging, healthy = Gated(), Recording()
        first = OutboxSender(stores[0], hanging, SystemClock(), nobody, lease=lease)
        second = OutboxSender(stores[1], healthy, SystemClock(), nobody, lease=lease)
        running = asyncio.create_task(first.run())
        try:
            await enqueue(stores[0], "hallo")
            first.wake()
            await asyncio.wait_for(hanging.started.wait(), 10)
            for _ in range(15):  # three leases long
                await second.drain()
                await asyncio.sleep(0.2)
            assert healthy.delivered == []  # the first lives: the row is still its own

            running.cancel()  # the first process is killed in the middle of the send
            await asyncio.gather(running, return_exceptions=True)
            killed = time.monotonic()
            while not healthy.delivered:
                assert time.monotonic() - killed < 5 * lease.total_seconds(), "not taken over"
                await second.drain()
                await asyncio.sleep(0.05)
            took = time.monotonic() - killed
            assert took <= lease.total_seconds() + 1.0
            assert healthy.delivered == ["hallo"]
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            for store in stores:
                await store.close()
