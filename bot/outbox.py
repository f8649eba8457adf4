"""Delivering the outbox through one channel, paced to the platform's limits.

A row is marked sent right after the platform accepted it; rows are taken in order. One
sender runs per platform and process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
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
        self.wakeup = asyncio.Event()
        self.sent = 0

    def wake(self) -> None:
        self.wakeup.set()

    async def drain(self) -> int:
        """Send everything that is due now; returns how many rows were handled."""
        handled = 0
        while True:
            due = await self.queue.due(self.channel.platform, self.clock.now(), self.batch)
            if not due:
                return handled
            blocked_chats: set[str] = set()
            for delivery in due:
                if delivery.chat_id in blocked_chats:
                    continue  # keep a chat's messages in order behind a postponed one
                if not await self._deliver(delivery):
                    blocked_chats.add(delivery.chat_id)
                handled += 1
            if blocked_chats and len(blocked_chats) >= len({d.chat_id for d in due}):
                return handled
            if len(due) < self.batch and not blocked_chats:
                return handled  # all that was due is done; new rows set ``wakeup``

    async def run(self) -> None:
        while True:
            self.wakeup.clear()
            await self.drain()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), timeout=self.idle_poll)

    async def _deliver(self, delivery: Delivery) -> bool:
        await self.pacer.acquire(delivery.chat_id, delivery.kind is ChatKind.GROUP)
        try:
            result = await self.channel.send(delivery)
        except Exception as problem:  # a bug in an adapter must not stop the outbox
            log.exception("sending outbox row %s failed", delivery.outbox_id)
            result = RetryLater(self._backoff(delivery), type(problem).__name__)
        now = self.clock.now()
        match result:
            case Sent(message_ref):
                await self.queue.mark_sent(delivery.outbox_id, message_ref, now)
                self.sent += 1
                return True
            case RetryLater(seconds, reason):
                log.warning(
                    "outbox row %s postponed %.1fs (%s)", delivery.outbox_id, seconds, reason
                )
                await self.queue.postpone(delivery.outbox_id, now + timedelta(seconds=seconds))
                if reason == "rate limit":
                    await self._sleep(seconds)  # the whole bot must slow down, not one chat
                return False
            case Unreachable(reason):
                log.info("member behind outbox row %s not reachable yet", delivery.outbox_id)
                await self.on_unreachable(delivery, self.channel.private_chat_link())
                return False
            case Failed(reason):
                await self.queue.mark_failed(delivery.outbox_id, reason, now)
                if delivery.delete_ref is None:
                    log.error("outbox row %s refused: %s", delivery.outbox_id, reason)
                    return True
                log.info("outbox row %s: message not removed: %s", delivery.outbox_id, reason)
                if self.on_not_removed is not None:
                    await self.on_not_removed(delivery)
                return True
        return False

    @staticmethod
    def _backoff(delivery: Delivery) -> float:
        return float(min(MAX_BACKOFF, 2 ** min(delivery.attempts, 10)))
