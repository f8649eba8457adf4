"""Wiring: one place that builds the bot from settings, every part overridable."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adapters.settings import Settings
from bot.app import Bot
from bot.clock import Clock, SystemClock
from bot.handlers import build_registry
from bot.i18n import Catalog
from bot.outbox import OutboxSender
from bot.ports import Channel
from storage.sql import SqlStore


@dataclass
class Runtime:
    settings: Settings
    store: SqlStore
    bot: Bot
    clock: Clock

    def sender_for(self, channel: Channel) -> OutboxSender:
        sender = OutboxSender(self.store, channel, self.clock, self.bot.member_unreachable)
        self.bot.listeners.append(sender.wake)
        return sender

    async def close(self) -> None:
        await self.store.close()


async def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    store: SqlStore | None = None,
    catalog: Catalog | None = None,
) -> Runtime:
    store = store or await SqlStore.open(settings.database_url)
    clock = clock or SystemClock()
    bot = Bot(
        store=store,
        clock=clock,
        catalog=catalog or Catalog.load(),
        registry=build_registry(),
        config=settings.core(),
    )
    return Runtime(settings, store, bot, clock)


class _NoTraceback(logging.Formatter):
    """For the console, where the operator and the resident are the same person."""

    def formatException(self, ei: object) -> str:
        return ""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = ""
        return super().format(record).rstrip()


def configure_logging(level: str, *, tracebacks: bool = True) -> None:
    handler = logging.StreamHandler()
    formatter_class = logging.Formatter if tracebacks else _NoTraceback
    handler.setFormatter(formatter_class("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # httpx logs whole URLs, and a Telegram URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
