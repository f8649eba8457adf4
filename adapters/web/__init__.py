"""The organisers' web pages (see ``adapters.web.app``), served beside the chat channels."""

from __future__ import annotations

import logging

from aiohttp import web

from adapters.web.app import Dashboard
from bot.app import Bot

log = logging.getLogger("buurtbot.web")


class WebServer:
    """Serves the dashboard on ``host``:``port`` (port 0: any free port, for tests)."""

    def __init__(self, bot: Bot, *, host: str, port: int, base_url: str) -> None:
        self.dashboard = Dashboard(bot, secure=base_url.startswith("https://"))
        self.host = host
        self.port = port
        self.base_url = base_url
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` actually bound."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("the web server is not running")
        host, port = self._runner.addresses[0][:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    async def start(self) -> None:
        # No access log: the path of a login link holds its token.
        self._runner = web.AppRunner(self.dashboard.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        log.info("organisers' dashboard on %s (links point to %s)", self.url, self.base_url)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


__all__ = ["Dashboard", "WebServer"]
