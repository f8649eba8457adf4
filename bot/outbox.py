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
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

from bot.clock import Clock
from bot.ports import Channel, Failed, RateLimits, RetryLater, Sent, Unreachable
from bot.store import OutboxQueue
from bot.types import ChatKind, Delivery

log = logging.getLogger("buurtbot.outbox")

UnreachableHook = Callable[[Delivery, str | None], Awaitable[None]]
# A member's message could not be taken out of the group (the bot may not delete there).
NotRemovedHook = Callable[[Delivery], Awaitable[None]]
MAX_BACKOFF = 300.0
# How long a claimed row stays the sender's. Renewed before a send when less than a third is
# left; a row whose sender died is sent by another after at most this.
LEASE = timedelta(seconds=60)
RENEW_WHEN_LEFT = 1 / 3
# On stopping, how long the send under way may take before the sender is cancelled.
STOP_GRACE_SECONDS = 5.0


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
        """Deliver until ``stop``; a failing database is tried again after ``idle_poll``."""
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
        await self.pacer.acquire(delivery.chat_id, delivery.kind is ChatKind.GROUP)
        if self.stopping.is_set() or not await self._still_mine(delivery.outbox_id):
            return True  # given back at the end of the batch, or no longer ours
        self._claimed.remove(delivery.outbox_id)
        try:
            result = await self.channel.send(delivery)
        except Exception as problem:  # a bug in an adapter must not stop the outbox
            log.exception("sending outbox row %s failed", delivery.outbox_id)
            result = RetryLater(self._backoff(delivery), type(problem).__name__)
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
                    "outbox row %s postponed %.1fs (%s)", delivery.outbox_id, seconds, reason
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

    async def _still_mine(self, outbox_id: int) -> bool:
        """Whether the lease on this row lasts through one more send; renewed if need be."""
        now = self.clock.now()
        if now + self.lease * RENEW_WHEN_LEFT <= self._lease_until:
            return outbox_id in self._claimed
        until = now + self.lease
        kept = await self.queue.extend_lease(self._claimed, self.worker, until)
        self._claimed = [i for i in self._claimed if i in kept]
        self._lease_until = until
        return outbox_id in kept

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
