"""The bots the end-to-end benchmarks run in processes of their own.

``python -m bench.bots telegram-ours``: Buurtbot's Telegram adapter (``run_telegram``) on
the database, token and Bot API URL in ``BUURTBOT_*``, with the outbox unpaced ("limits
off", for throughput). ``telegram-echo``: a bare python-telegram-bot ``Application`` that
answers every text with the same text. ``matrix-ours`` and ``matrix-echo``: the same for
Matrix, with Buurtbot's ``run_matrix`` and a bare matrix-nio client. Each runs until
SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from bot.ports import RateLimits


def _stop_on_term() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def telegram_ours() -> None:
    from adapters.telegram import run_telegram

    settings = Settings()
    runtime = await bootstrap(settings)
    try:
        await run_telegram(runtime, settings, _stop_on_term(), limits=RateLimits.unlimited())
    finally:
        await runtime.close()


async def telegram_echo() -> None:
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is not None and update.message.text is not None:
            await update.message.reply_text(update.message.text)

    base_url = os.environ["BUURTBOT_TELEGRAM_BASE_URL"]
    application = (
        Application.builder()
        .token(os.environ["BUURTBOT_TELEGRAM_TOKEN"])
        .base_url(base_url)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    stop = _stop_on_term()
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=30)
        await stop.wait()
        await application.updater.stop()
        await application.stop()


async def matrix_ours() -> None:
    from adapters.matrix import run_matrix

    settings = Settings()
    runtime = await bootstrap(settings)
    try:
        await run_matrix(runtime, settings, _stop_on_term(), limits=RateLimits.unlimited())
    finally:
        await runtime.close()


async def matrix_echo() -> None:
    """Joins every invite and answers every text with a notice of the same text, from the
    sync token it keeps in a file (as a bot must, to answer what came while it was away)."""
    from nio import (
        AsyncClient,
        AsyncClientConfig,
        InviteMemberEvent,
        MatrixRoom,
        RoomMessageText,
        SyncResponse,
    )

    token_file = Path(os.environ["BENCH_MATRIX_TOKEN_FILE"])
    config = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, encryption_enabled=False)
    client = AsyncClient(
        os.environ["BUURTBOT_MATRIX_HOMESERVER"],
        os.environ["BUURTBOT_MATRIX_USER"],
        device_id="ECHO",
        config=config,
    )
    await client.login(os.environ["BUURTBOT_MATRIX_PASSWORD"])
    me = client.user_id

    async def on_text(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == me:
            return
        content = {"msgtype": "m.notice", "body": event.body}
        await client.room_send(room.room_id, "m.room.message", content)

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == me and event.membership == "invite":
            await client.join(room.room_id)

    client.add_event_callback(on_text, RoomMessageText)
    client.add_event_callback(on_invite, InviteMemberEvent)
    stop = _stop_on_term()
    since = token_file.read_text().strip() if token_file.exists() else None
    timeline: dict[str, Any] = {"room": {"timeline": {"limit": 1000}}}
    if since is None:  # the first start: no history to answer
        first = await client.sync(timeout=0, sync_filter={"room": {"timeline": {"limit": 0}}})
        assert isinstance(first, SyncResponse), first
        since = first.next_batch
        token_file.write_text(since)
    while not stop.is_set():
        sync = asyncio.ensure_future(client.sync(timeout=30_000, since=since, sync_filter=timeline))
        halt = asyncio.ensure_future(stop.wait())
        await asyncio.wait((sync, halt), return_when=asyncio.FIRST_COMPLETED)
        halt.cancel()
        if not sync.done():
            sync.cancel()
            break
        response = sync.result()
        if isinstance(response, SyncResponse):
            since = response.next_batch
            token_file.write_text(since)
    await client.close()


BOTS = {
    "telegram-ours": telegram_ours,
    "telegram-echo": telegram_echo,
    "matrix-ours": matrix_ours,
    "matrix-echo": matrix_echo,
}


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    name = sys.argv[1]
    asyncio.run(BOTS[name]())


if __name__ == "__main__":
    main()
