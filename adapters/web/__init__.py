"""The organisers' web pages (see ``adapters.web.app``), served beside the chat channels."""

from __future__ import annotations

import logging

from adapters.serving import AppServer
from adapters.web.app import Dashboard
from bot.app import Bot

log = logging.getLogger("buurtbot.web")


class WebServer(AppServer):
    """Serves the dashboard on ``host``:``port`` (port 0: any free port, for tests)."""

    def __init__(self, bot: Bot, *, host: str, port: int, base_url: str) -> None:
        super().__init__(host, port)
        self.dashboard = Dashboard(bot, secure=base_url.startswith("https://"))
        self.base_url = base_url

    async def start(self) -> None:
        await self.serve(self.dashboard.app())
        log.info("organisers' dashboard on %s (links point to %s)", self.url, self.base_url)


__all__ = ["Dashboard", "WebServer"]
