"""Wiring: one place that builds the bot from settings, every part overridable."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from adapters.details import PatternDetails
from adapters.health import Health
from adapters.logs import configure_logging
from adapters.settings import Settings
from bot.app import Bot
from bot.clock import Clock, SystemClock
from bot.details import DetailFinder
from bot.handlers import build_registry, build_work
from bot.i18n import Catalog
from bot.outbox import OutboxSender, sending
from bot.ports import Channel
from storage.sql import SqlStore


@dataclass
class Runtime:
    settings: Settings
    store: SqlStore
    bot: Bot
    clock: Clock
    # What adapters report about their connection (health.channel_ok("telegram") after
    # each good poll or sync, health.channel_down(...) on trouble); see adapters/health.py.
    health: Health = field(default_factory=Health)
    senders: list[OutboxSender] = field(default_factory=list)

    def sender_for(self, channel: Channel) -> OutboxSender:
        sender = OutboxSender(
            self.store,
            channel,
            self.clock,
            self.bot.member_unreachable,
            worker=f"{channel.platform}@{socket.gethostname()}:{os.getpid()}:{len(self.senders)}",
            # On SQLite the run lock lets one process in: claims left are of one that died.
            sole=self.store.engine.dialect.name == "sqlite",
            on_not_removed=self.bot.message_not_removed,
        )
        self.bot.listeners.append(sender.wake)
        self.senders.append(sender)
        return sender

    @contextlib.asynccontextmanager
    async def delivering(self, channel: Channel) -> AsyncIterator[OutboxSender]:
        """The outbox sender of ``channel``, sending for as long as this lasts."""
        sender = self.sender_for(channel)
        try:
            async with sending(sender):
                yield sender
        finally:
            self.bot.listeners.remove(sender.wake)

    async def close(self) -> None:
        await self.store.close()


async def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    store: SqlStore | None = None,
    catalog: Catalog | None = None,
    details: DetailFinder | None = None,
) -> Runtime:
    store = store or await SqlStore.open(settings.database_url)
    clock = clock or SystemClock()
    bot = Bot(
        store=store,
        clock=clock,
        catalog=catalog or Catalog.load(),
        registry=build_registry(),
        work=build_work(),
        config=settings.core(),
        details=details or PatternDetails.load(),
    )
    return Runtime(settings, store, bot, clock)


__all__ = ["Runtime", "bootstrap", "configure_logging"]
