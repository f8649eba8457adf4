"""A neighbourhood with the organisers' web pages served on a free port, for the web tests.

The chat goes through the console channel (``Transcript``); the web pages are served by
the real ``WebServer`` on 127.0.0.1; links from /dashboard point at it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from adapters.web import WebServer
from tests.conftest import MONDAY_MORNING, Transcript, make_transcript

LINK = re.compile(r"https?://\S+/login/[A-Za-z0-9_-]+")


@dataclass
class Site:
    chat: Transcript
    server: WebServer

    @property
    def url(self) -> str:
        return self.server.url

    async def link_for(self, who: str) -> str:
        """What ``who`` gets for /dashboard in a private chat: the link in it."""
        answer = "\n".join(await self.chat.say(f"{who} (dm): /dashboard"))
        found = LINK.findall(answer)
        assert found, answer
        return found[-1]

    async def deliver(self) -> None:
        """Send what the web pages queued (the console sends when a line is typed)."""
        while await self.chat.session.sender.drain():
            pass


@asynccontextmanager
async def web_site(database_url: str, start: datetime = MONDAY_MORNING) -> AsyncIterator[Site]:
    chat = await make_transcript(database_url, start=start)
    server = WebServer(chat.runtime.bot, host="127.0.0.1", port=0, base_url="http://127.0.0.1")
    await server.start()
    bot = chat.runtime.bot
    bot.config = replace(bot.config, web_base_url=server.url)
    try:
        yield Site(chat, server)
    finally:
        await server.close()
        await chat.runtime.close()
