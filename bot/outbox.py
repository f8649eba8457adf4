"""Delivering the outbox through one channel, paced to the platform's limits.

A row is claimed for a while (a lease) before it is sent, and marked sent by the sender
that claimed it right after the platform accepted it; rows are taken in order. One sender
runs per platform and process; several processes may share one outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import timedelta

from bot.clock import Clock
from bot.ports import Channel, Failed, RateLimits, RetryLater, SendResult, Sent, Unreachable
from bot.store import OutboxQueue
from bot.types import ChatKind, Delivery

log = logging.getLogger("buurtbot.outbox")

UnreachableHook = Callable[[Delivery, str | None], Awaitable[None]]
# A member's message could not be taken out of the group (the bot may not delete there).
NotRemovedHook = Callable[[Delivery], Awaitable[None]]
MAX_BACKOFF = 300.0
# How long a claimed row stays the sender's. Renewed every third of it while the sender
# lives (``OutboxSender.heartbeat``), and before a send when less than a third is left; a
# row whose sender died is sent by another after at most this.
LEASE = timedelta(seconds=10)
RENEW_WHEN_LEFT = 1 / 3
# Telegram takes 1..4096 characters a message (UTF-16 code units); Matrix events may be
# 64 KiB, but a text is carried in them up to four times over (plain and HTML, and both
# again in an edit), JSON-escaped: so a few kilobytes a message there.

# On stopping, how long the send under way may take before the sender is cancelled.
STOP_GRACE_SECONDS = 5.0


def parts_of(delivery: Delivery, channel: Channel) -> list[str]:
    """The text of ``delivery`` in as many messages as ``channel`` needs for it.

    An edit changes one message: the last of those its original went out in (the one with
    the buttons). It gets the new text after as many parts as came before that message.
    """
    if delivery.delete_ref is not None:
        return [delivery.text]
    room, size = channel.room_for_text(delivery), channel.text_size
    if delivery.edit_of is not None:
        return [rest_after(delivery.text, delivery.edited_parts_before, room, size)]
    return split_text(delivery.text, room, size)


def split_text(text: str, room: int, size: Callable[[str], int] = len) -> list[str]:
    """``text`` in parts of at most ``room`` (as ``size`` counts), in order.

    A part ends where a paragraph ends if one ends in its second half, else where a line
    ends, else between two words; only a word longer than a whole part is cut. The same
    text and room always give the same parts: a sender that takes a row over goes on from
    the part where the first one stopped.
    """
    return [part for part, _ in _pieces(text, room, size)]


def rest_after(text: str, parts: int, room: int, size: Callable[[str], int] = len) -> str:
    """What is left of ``text`` after its first ``parts`` parts (``split_text``); the last
    part when it has no more. A text that begins as another, longer, one does (a message
    with a word added under it) has the same first parts."""
    pieces = list(_pieces(text, room, size))
    if parts <= 0 or parts >= len(pieces):
        return pieces[-1][0] if parts > 0 else text
    return pieces[parts - 1][1]


def _pieces(text: str, room: int, size: Callable[[str], int]) -> Iterator[tuple[str, str]]:
    """Each part of ``text`` with what is left after it."""
    rest = text
    while size(rest) > room:
        fits = _longest_prefix(rest, room, size)
        cut = _boundary(rest, fits)
        part = rest[:cut].rstrip()
        rest = rest[cut:]
        # the space between two words, or the line ends between two paragraphs, go
        rest = rest[1:] if rest[:1] in (" ", "\t") else rest.lstrip("\n")
        if part:
            yield part, rest
    yield rest, ""


def _longest_prefix(text: str, room: int, size: Callable[[str], int]) -> int:
    """The most characters of ``text`` whose size is within ``room`` (at least one)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if size(text[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return low


def _boundary(text: str, fits: int) -> int:
    """Where to end a part of ``text`` that may hold ``fits`` characters."""
    for mark in ("\n\n", "\n"):
        at = text.rfind(mark, 0, fits + len(mark))
        if at >= fits // 2:
            return at
    at = max(text.rfind(white, 0, fits + 1) for white in (" ", "\n", "\t"))
    return at if at > 0 else fits


class Pacer:
    """Sliding-window limits: overall per second, per chat per second, per group per minute."""

    def __init__(
        self,
        limits: RateLimits,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self._monotonic = monotonic
        self._sleep = sleep
        self._all: deque[float] = deque()
        self._chat: dict[str, deque[float]] = defaultdict(deque)
        self._group: dict[str, deque[float]] = defaultdict(deque)

    def delay(self, chat_id: str, is_group: bool) -> float:
        """Seconds to wait before one more message may go to this chat."""
        now = self._monotonic()
        waits = [
            self._wait(self._all, now, self.limits.overall),
            self._wait(self._chat[chat_id], now, self.limits.per_chat),
        ]
        if is_group:
            waits.append(self._wait(self._group[chat_id], now, self.limits.per_group))
        return max(waits)

    async def acquire(self, chat_id: str, is_group: bool) -> None:
        while (wait := self.delay(chat_id, is_group)) > 0:
            await self._sleep(wait)
        now = self._monotonic()
        self._all.append(now)
        self._chat[chat_id].append(now)
        if is_group:
            self._group[chat_id].append(now)

    @staticmethod
    def _wait(window: deque[float], now: float, limit: tuple[int, float]) -> float:
        """Seconds until ``window`` (times of earlier sends) has room for one more."""
        capacity, span = limit
        while window and window[0] <= now - span:
            window.popleft()
        if len(window) < capacity:
            return 0.0
        return window[len(window) - capacity] + span - now


class OutboxSender:
    """The one send loop of every channel.

    It claims due rows for a while (``lease``), sends each through ``channel.send`` and
    records the answer: sent, postponed (``RetryLater``; a rate limit slows the whole
    channel down), held for an unreachable member, or failed. Rows it could not get to are
    given back. Any number of senders, in any number of processes, may share one outbox:
    a row is sent by the sender that claimed it, and by another only when the first let
    its lease run out (it died, or hung, between taking the row and recording the send).
    """

    def __init__(
        self,
        queue: OutboxQueue,
        channel: Channel,
        clock: Clock,
        on_unreachable: UnreachableHook,
        *,
        on_not_removed: NotRemovedHook | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        batch: int = 50,
        idle_poll: float = 1.0,
        worker: str | None = None,
        lease: timedelta = LEASE,
        sole: bool = False,
    ) -> None:
        self.queue = queue
        self.channel = channel
        self.clock = clock
        self.on_unreachable = on_unreachable
        self.on_not_removed = on_not_removed
        self.pacer = pacer or Pacer(channel.limits, sleep=sleep)
        self._sleep = sleep
        self.batch = batch
        self.idle_poll = idle_poll
        # Who holds a claim: unique to this sender, so that two senders never share one.
        self.worker = worker or f"{channel.platform}-{uuid.uuid4().hex[:12]}"
        self.lease = lease
        # The only sender of this platform there can be (SQLite, under the run lock): any
        # claim left in the outbox is that of a sender that died, and is freed at the start.
        self._free_left_claims = sole
        self.wakeup = asyncio.Event()
        self.stopping = asyncio.Event()
        self.sent = 0
        self.taken_over = 0  # sent here, but recorded by no one: another sender took the row
        self._claimed: list[int] = []  # rows of the batch in hand, not yet sent
        self._in_hand: int | None = None  # the row being sent now
        self._lease_until = clock.now()

    def wake(self) -> None:
        self.wakeup.set()

    def stop(self) -> None:
        """Start no new send; ``run`` returns after the send under way is recorded."""
        self.stopping.set()
        self.wakeup.set()

    async def drain(self) -> int:
        """Send everything that is due now; returns how many rows were handled."""
        if self._free_left_claims:
            freed = await self.queue.release_all(self.channel.platform)
            if freed:
                log.info(
                    "%s outbox: %d rows left claimed at the last stop are due again",
                    self.channel.platform,
                    freed,
                )
            self._free_left_claims = False
        handled = 0
        while not self.stopping.is_set():
            now = self.clock.now()
            self._lease_until = now + self.lease
            due = await self.queue.claim(
                self.channel.platform, now, self.batch, self.worker, self._lease_until
            )
            if not due:
                return handled
            self._claimed = [delivery.outbox_id for delivery in due]
            blocked_chats: set[str] = set()
            try:
                for delivery in due:
                    if self.stopping.is_set():
                        break
                    if delivery.chat_id in blocked_chats:
                        continue  # keep a chat's messages in order behind a postponed one
                    if delivery.outbox_id not in self._claimed:
                        continue  # the lease ran out and another sender took it
                    if not await self._deliver(delivery):
                        blocked_chats.add(delivery.chat_id)
                    handled += 1
            finally:
                left, self._claimed = self._claimed, []
                if left:
                    await self.queue.release(left, self.worker)
            if blocked_chats and len(blocked_chats) >= len({d.chat_id for d in due}):
                return handled
            if len(due) < self.batch and not blocked_chats:
                return handled  # all that was due is done; new rows set ``wakeup``
        return handled

    async def run(self) -> None:
        """Deliver until ``stop``; a failing database is tried again after ``idle_poll``.
        The lease on what it holds is renewed meanwhile (``heartbeat``)."""
        beat = asyncio.create_task(self.heartbeat(), name=f"{self.channel.platform} lease")
        try:
            await self._run()
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)

    async def _run(self) -> None:
        while not self.stopping.is_set():
            self.wakeup.clear()
            try:
                await self.drain()
            except Exception:  # the database went away for a moment: try again soon
                log.exception("delivering the %s outbox failed", self.channel.platform)
            if self.stopping.is_set():
                return
            # Not ``wait_for``: on Python 3.11 it swallows a cancellation that arrives just
            # as the event is set, and the loop would go on.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.idle_poll):
                    await self.wakeup.wait()

    async def _deliver(self, delivery: Delivery) -> bool:
        """Send one row, in parts when its text is too long for one message; True when
        this chat may go on to its next row."""
        await self.pacer.acquire(delivery.chat_id, delivery.kind is ChatKind.GROUP)
        if self.stopping.is_set() or not await self._still_mine(delivery.outbox_id):
            return True  # given back at the end of the batch, or no longer ours
        self._claimed.remove(delivery.outbox_id)
        self._in_hand = delivery.outbox_id  # the heartbeat holds it while its parts go out
        try:
            return await self._deliver_parts(delivery)
        finally:
            self._in_hand = None

    async def _deliver_parts(self, delivery: Delivery) -> bool:
        parts = parts_of(delivery, self.channel)
        first = min(delivery.parts_sent, len(parts) - 1)
        last = len(parts) - 1
        for number in range(first, len(parts)):
            if number > first:
                await self.pacer.acquire(delivery.chat_id, delivery.kind is ChatKind.GROUP)
                if self.stopping.is_set() or not await self._still_mine(
                    delivery.outbox_id, in_hand=True
                ):
                    # The parts sent are recorded: whoever sends the row goes on from here.
                    await self.queue.release([delivery.outbox_id], self.worker)
                    return True
            part = replace(
                delivery,
                text=parts[number],
                buttons=delivery.buttons if number == last else (),
                attachment=delivery.attachment if number == last else None,
                part=number,
                parts=len(parts),
            )
            result = await self._send(part)
            if number == last or not isinstance(result, Sent):
                return await self._record(part, result)
            if not await self.queue.mark_part_sent(delivery.outbox_id, number, self.worker):
                self.taken_over += 1
                log.warning(
                    "outbox row %s: part %d was sent after its lease ran out; another sender"
                    " may send it too",
                    delivery.outbox_id,
                    number + 1,
                )
                return True
        return True

    async def _send(self, delivery: Delivery) -> SendResult:
        try:
            return await self.channel.send(delivery)
        except Exception as problem:  # a bug in an adapter must not stop the outbox
            log.exception("sending outbox row %s failed", delivery.outbox_id)
            return RetryLater(self._backoff(delivery), type(problem).__name__)

    async def _record(self, delivery: Delivery, result: SendResult) -> bool:
        """Write down what became of the (last) send of a row."""
        now = self.clock.now()
        match result:
            case Sent(message_ref):
                if await self.queue.mark_sent(delivery.outbox_id, message_ref, now, self.worker):
                    self.sent += 1
                else:
                    self.taken_over += 1
                    log.warning(
                        "outbox row %s was sent after its lease ran out; another sender"
                        " may send it too",
                        delivery.outbox_id,
                    )
                return True
            case RetryLater(seconds, reason):
                log.warning(
                    "outbox row %s%s postponed %.1fs (%s)",
                    delivery.outbox_id,
                    f" (part {delivery.part + 1} of {delivery.parts})"
                    if delivery.parts > 1
                    else "",
                    seconds,
                    reason,
                )
                until = now + timedelta(seconds=seconds)
                await self.queue.postpone(delivery.outbox_id, until, self.worker)
                if reason == "rate limit":
                    await self._sleep(seconds)  # the whole bot must slow down, not one chat
                return False
            case Unreachable(reason):
                log.info("member behind outbox row %s not reachable yet", delivery.outbox_id)
                await self.on_unreachable(delivery, self.channel.private_chat_link())
                await self.queue.release([delivery.outbox_id], self.worker)
                return False
            case Failed(reason):
                await self.queue.mark_failed(delivery.outbox_id, reason, now, self.worker)
                if delivery.delete_ref is None:
                    log.error("outbox row %s refused: %s", delivery.outbox_id, reason)
                    return True
                log.info("outbox row %s: message not removed: %s", delivery.outbox_id, reason)
                if self.on_not_removed is not None:
                    await self.on_not_removed(delivery)
                return True
        return False

    async def _still_mine(self, outbox_id: int, *, in_hand: bool = False) -> bool:
        """Whether the lease on this row lasts through one more send; renewed if need be.
        ``in_hand``: the row is being sent (in parts), no longer among those claimed."""
        now = self.clock.now()
        if now + self.lease * RENEW_WHEN_LEFT <= self._lease_until:
            return in_hand or outbox_id in self._claimed
        return outbox_id in await self._renew([outbox_id] if in_hand else [])

    async def _renew(self, in_hand: list[int]) -> set[int]:
        """Hold every row claimed (and ``in_hand``) for another ``lease``; the answer names
        those still this sender's. Rows another sender took meanwhile are let go."""
        asked = [*self._claimed, *in_hand]
        if not asked:
            return set()
        until = self.clock.now() + self.lease
        kept = await self.queue.extend_lease(asked, self.worker, until)
        lost = set(asked) - kept
        self._claimed = [i for i in self._claimed if i not in lost]
        if set(self._claimed) <= set(asked):
            self._lease_until = max(self._lease_until, until)
        return kept

    async def heartbeat(self) -> None:
        """While the sender lives, renew the lease on what it holds every third of the
        lease: a sender that dies lets its rows go within one ``lease``, however long a
        send (a flood wait, a slow upload) takes while it lives."""
        every = self.lease.total_seconds() * RENEW_WHEN_LEFT
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=every)
            if self.stopping.is_set():
                return
            in_hand = [] if self._in_hand is None else [self._in_hand]
            try:
                await self._renew(in_hand)
            except Exception:  # the database went away for a moment: the next beat tries
                log.warning("renewing the %s outbox lease failed", self.channel.platform)

    @staticmethod
    def _backoff(delivery: Delivery) -> float:
        return float(min(MAX_BACKOFF, 2 ** min(delivery.attempts, 10)))


@contextlib.asynccontextmanager
async def sending(sender: OutboxSender, grace: float = STOP_GRACE_SECONDS) -> AsyncIterator[None]:
    """``sender.run`` for as long as this lasts.

    On leaving, the send under way is finished and recorded; a sender still waiting (for
    the pacer, or out a flood wait) has nothing under way and is cancelled after ``grace``.
    When the task leaving is itself being cancelled, the sender is cancelled at once, as a
    crash would stop it: what it had claimed is due again when the lease runs out.
    """
    task = asyncio.create_task(sender.run(), name=f"{sender.channel.platform} outbox")
    try:
        yield
    finally:
        this = asyncio.current_task()
        if this is not None and this.cancelling():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        else:
            sender.stop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, timeout=grace)
