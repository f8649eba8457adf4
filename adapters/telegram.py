"""Telegram, on python-telegram-bot 22: long polling by default, a webhook by configuration.

Inbound, every update is translated by ``to_event`` (a pure function) and handed to
``Bot.handle``, which records its ``update_id`` in the inbox in the same transaction as the
replies: a redelivered update, or one fetched again after a restart, is answered once.
When the database cannot be used, the update is not confirmed to Telegram (long polling
keeps its offset; the webhook answers 503), so Telegram keeps it and it is handled when the
database is back.
Outbound, ``TelegramChannel`` sends what the outbox sender gives it and says how that went;
the sender paces to Telegram's limits and marks each row sent once.

The token is secret: it is part of every Bot API URL, so while ``run_telegram`` runs, every
log record that reaches a handler has it replaced by ``***``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeAlias
from urllib.parse import urlsplit

import telegram
from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    Chat,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
    User,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder

from adapters.bootstrap import Runtime
from adapters.health import HandlingState, Health
from adapters.retry import jittered_backoff
from adapters.settings import Settings
from bot.app import Bot
from bot.commands import Registry, Where
from bot.errors import StoreUnavailable
from bot.i18n import Catalog
from bot.outbox import MAX_BACKOFF
from bot.ports import Failed, RateLimits, RetryLater, SendResult, Sent, Unreachable
from bot.presses import button_ref
from bot.types import (
    BotAdded,
    Button,
    ButtonPress,
    ChatKind,
    ChatRef,
    Delivery,
    InboundEvent,
    MemberLeft,
    Message,
    Sender,
)

log = logging.getLogger("buurtbot.telegram")

TelegramApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]

PLATFORM = "telegram"
# About 30 messages a second overall, one a second per chat and 20 a minute per group.
TELEGRAM_LIMITS = RateLimits(overall=(30, 1.0), per_chat=(1, 1.0), per_group=(20, 60.0))
# The pacer counts a send when it begins, Telegram when it arrives. So that one request
# slower than a later one cannot tip a full window over, every window is a little longer:
# by 5 % and by 100 ms, more than requests usually differ.
WINDOW_SLACK = (1.05, 0.1)
ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER)
POLL_TIMEOUT = timedelta(seconds=30)
_NOT_PAUSED = HandlingState()
# What /start carries when someone follows the link to a private chat with the bot.
DEEP_LINK_PAYLOAD = "hallo"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
NOT_MODIFIED = "message is not modified"
GONE = "message to delete not found"
TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024  # UTF-16 code units, as Telegram counts
MENU_TEXT_LIMIT = 256  # characters of a command's description
# On stopping, how long the webhook calls under way may take.
STOP_GRACE_SECONDS = 5.0
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# --- inbound: updates to the core's events ------------------------------------------------


def to_event(update: Update, bot_username: str) -> InboundEvent | None:
    """The core's event for one update; None for what is not meant for the bot."""
    event_id = str(update.update_id)
    if update.callback_query is not None:
        return _button_press(event_id, update.callback_query)
    if update.my_chat_member is not None:
        return _bot_added(event_id, update.my_chat_member)
    if update.message is not None:
        return _message(event_id, update.message, bot_username)
    return None


def chat_ref(chat: Chat) -> ChatRef | None:
    """A group or a private chat; None for channels. A private chat's id is the user's id."""
    if chat.type == ChatType.PRIVATE:
        return ChatRef(PLATFORM, str(chat.id), ChatKind.PRIVATE)
    if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        return ChatRef(PLATFORM, str(chat.id), ChatKind.GROUP, chat.title or "")
    return None


def sender_of(user: User) -> Sender:
    handle = f"@{user.username}" if user.username else None
    return Sender(PLATFORM, str(user.id), user.full_name, handle, user.language_code)


def message_ref_of(chat_id: int, message_id: int) -> str:
    """How the core knows a sent message: Telegram numbers messages per chat."""
    return f"{chat_id}:{message_id}"


def _button_press(event_id: str, query: CallbackQuery) -> ButtonPress | None:
    if query.message is None or query.data is None:
        return None
    chat = chat_ref(query.message.chat)
    if chat is None:
        return None
    message_ref = message_ref_of(query.message.chat.id, query.message.message_id)
    return ButtonPress(event_id, chat, sender_of(query.from_user), query.data, message_ref)


def _bot_added(event_id: str, change: ChatMemberUpdated) -> BotAdded | None:
    chat = chat_ref(change.chat)
    was_out = change.old_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
    is_in = change.new_chat_member.status in (
        ChatMemberStatus.MEMBER,
        ChatMemberStatus.ADMINISTRATOR,
    )
    if chat is None or chat.kind is not ChatKind.GROUP or not (was_out and is_in):
        return None
    return BotAdded(event_id, chat, sender_of(change.from_user))


def _message(event_id: str, message: telegram.Message, bot_username: str) -> InboundEvent | None:
    chat = chat_ref(message.chat)
    if chat is None:
        return None
    left = message.left_chat_member
    if left is not None:
        if left.is_bot or chat.kind is not ChatKind.GROUP:
            return None
        return MemberLeft(event_id, chat, sender_of(left))
    user, text = message.from_user, message.text
    # Anonymous admins and channels write as bots; their messages are nobody's to answer.
    if user is None or user.is_bot or text is None or _for_another_bot(text, bot_username):
        return None
    message_ref = message_ref_of(message.chat.id, message.message_id)
    return Message(event_id, chat, sender_of(user), text, message_ref)


def _for_another_bot(text: str, bot_username: str) -> bool:
    """``/vraag@other_bot``: a command for another bot in the same group."""
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    if not head.startswith("/") or "@" not in head:
        return False
    return head.partition("@")[2].lower() != bot_username.lower()


@dataclass
class Inbound:
    """Every update goes to the core, one at a time, by long polling or the webhook.

    Raises ``StoreUnavailable`` when the database could not be used: the update must then
    not be confirmed to Telegram.
    """

    core: Bot
    bot_username: str

    async def receive(self, update: Update) -> None:
        try:
            await self._handle(update)
        except StoreUnavailable:
            raise
        except Exception:  # a bug: logged, and the update counts as handled
            log.exception("handling Telegram update %s failed", update.update_id)
        finally:
            # Always, also after an error: until then the person sees the button spin.
            if update.callback_query is not None:
                await _answer(update.callback_query)

    async def _handle(self, update: Update) -> None:
        if update.message is not None and update.message.migrate_to_chat_id is not None:
            # The group became a supergroup, with a new id: the neighbourhood goes along.
            await self.core.move_group(
                PLATFORM, str(update.message.chat.id), str(update.message.migrate_to_chat_id)
            )
        event = to_event(update, self.bot_username)
        if event is not None:
            await self.core.handle(event)


async def _answer(query: CallbackQuery) -> None:
    try:
        await query.answer()
    except TelegramError as problem:  # too old, after a restart: nothing left to stop
        log.info("button press %s not answered: %s", query.id, problem.message)


# --- outbound: the outbox through the Bot API ---------------------------------------------


class TelegramChannel:
    """Sends outbox rows as Telegram messages; buttons become an inline keyboard."""

    platform = PLATFORM

    def __init__(self, bot: telegram.Bot, limits: RateLimits = TELEGRAM_LIMITS) -> None:
        self.bot = bot
        self.limits = limits

    def private_chat_link(self) -> str:
        return f"https://t.me/{self.bot.username}?start={DEEP_LINK_PAYLOAD}"

    def room_for_text(self, delivery: Delivery) -> int:
        return CAPTION_LIMIT if delivery.attachment is not None else TEXT_LIMIT

    def text_size(self, text: str) -> int:
        return utf16_units(text)

    async def send(self, delivery: Delivery) -> SendResult:
        if delivery.edit_of is not None and delivery.edit_message_ref is None:
            return Failed("the message to edit was never sent")
        private = delivery.kind is ChatKind.PRIVATE
        try:
            return Sent(await self._post(delivery))
        except RetryAfter as problem:
            return RetryLater(_seconds(problem.retry_after), "rate limit")
        except Forbidden as problem:
            # 403 in a private chat: they never started the bot, or blocked it.
            return Unreachable(problem.message) if private else Failed(problem.message)
        except ChatMigrated as problem:
            return Failed(f"the group became supergroup {problem.new_chat_id}")
        except BadRequest as problem:
            reason = problem.message.lower()
            if delivery.edit_of is not None and NOT_MODIFIED in reason:
                return Sent(delivery.edit_message_ref)
            if private and "chat not found" in reason:
                return Unreachable(problem.message)
            if delivery.delete_ref is not None and GONE in reason:
                return Sent(None)  # removed already, by the member or another admin
            return Failed(problem.message)
        except NetworkError:  # TimedOut included
            return RetryLater(backoff(delivery.attempts), "network")
        except TelegramError as problem:
            return RetryLater(backoff(delivery.attempts), type(problem).__name__)

    async def _post(self, delivery: Delivery) -> str | None:
        chat_id = int(delivery.chat_id)
        if delivery.delete_ref is not None:
            # Refused (BadRequest) where the bot is no admin allowed to delete messages.
            await self.bot.delete_message(chat_id, int(delivery.delete_ref.rpartition(":")[2]))
            return None
        if delivery.edit_message_ref is not None:
            # Only the buttons the core kept stay: an old button cannot be pressed twice.
            await self.bot.edit_message_text(
                fit(delivery.text, TEXT_LIMIT),
                chat_id=chat_id,
                message_id=int(delivery.edit_message_ref.rpartition(":")[2]),
                reply_markup=keyboard(delivery.buttons),
                link_preview_options=NO_PREVIEW,
            )
            return delivery.edit_message_ref
        markup = keyboard(delivery.buttons)
        if delivery.attachment is not None:
            name, content = delivery.attachment
            caption = fit(delivery.text, CAPTION_LIMIT) or None
            sent = await self.bot.send_document(
                chat_id, content, filename=name, caption=caption, reply_markup=markup
            )
        else:
            text = fit(delivery.text, TEXT_LIMIT)
            sent = await self.bot.send_message(
                chat_id, text, reply_markup=markup, link_preview_options=NO_PREVIEW
            )
        return message_ref_of(chat_id, sent.message_id)


def keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """The core's buttons as an inline keyboard. The callback data is only a reference to
    the button's place on its message: the core reads the action from the stored message
    and checks who pressed it (a modified client can send any callback data)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(button.label, callback_data=button_ref(r, c))
                for c, button in enumerate(row)
            ]
            for r, row in enumerate(rows)
        ]
    )


def utf16_units(text: str) -> int:
    """The length of ``text`` as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int) -> str:
    """``text`` within ``limit`` UTF-16 code units (as Telegram counts); the rest is "…".
    The outbox splits a long text before it comes here: this only guards the limit."""
    if utf16_units(text) <= limit:
        return text
    log.warning("a text of %d characters was cut to fit Telegram", len(text))
    kept = units = 0
    for char in text:
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit - 1:
            break
        kept += 1
    return text[:kept].rstrip() + "…"


def with_slack(limits: RateLimits) -> RateLimits:
    factor, extra = WINDOW_SLACK

    def stretched(window: tuple[int, float]) -> tuple[int, float]:
        count, seconds = window
        return count, seconds * factor + extra

    return RateLimits(
        stretched(limits.overall), stretched(limits.per_chat), stretched(limits.per_group)
    )


def backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 2.0 ** min(attempts, 10))


def _seconds(period: int | float | timedelta) -> float:
    """``RetryAfter.retry_after``: a timedelta with PTB_TIMEDELTA=true, else seconds."""
    return period.total_seconds() if isinstance(period, timedelta) else float(period)


# --- the command menu ---------------------------------------------------------------------

MENU_SCOPES: dict[Where, BotCommandScope] = {
    Where.PRIVATE: BotCommandScopeAllPrivateChats(),
    Where.GROUP: BotCommandScopeAllGroupChats(),
}


def command_menu(registry: Registry, catalog: Catalog, lang: str, where: Where) -> list[BotCommand]:
    """The commands people can use in private chats or in groups, in one language."""
    return [
        BotCommand(command.name_in(lang), menu_text(catalog.text(lang, command.help_key)))
        for command in registry
        if command.listed
        and not command.organisers_only
        and command.where in (Where.ANYWHERE, where)
    ]


def menu_text(text: str) -> str:
    """A help text as a command's description: one line, at most 256 characters."""
    line = " ".join(text.split())
    if len(line) > MENU_TEXT_LIMIT:
        line = line[: MENU_TEXT_LIMIT - 1].rstrip() + "…"
    return line


async def publish_commands(bot: telegram.Bot, core: Bot) -> None:
    """The command menu for private chats and for groups, in every catalog language and
    (for people whose app has another language) in the community's own language."""
    default = core.config.community.language
    for where, scope in MENU_SCOPES.items():
        for code in ("", *core.catalog.languages):
            commands = command_menu(core.registry, core.catalog, code or default, where)
            await bot.set_my_commands(commands, scope=scope, language_code=code or None)


# --- the token stays out of the logs ------------------------------------------------------


class HideToken(logging.Filter):
    """Replaces the bot token by ``***`` in a record's message, traceback and stack."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep what is there
            message = f"{record.msg!s} {record.args!r}"
        if self.token in message:
            record.msg, record.args = self._hide(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._hide(record.exc_text)
        if record.stack_info:
            record.stack_info = self._hide(record.stack_info)
        return True

    def _hide(self, text: str) -> str:
        return text.replace(self.token, "***")


@contextlib.contextmanager
def token_hidden_in_logs(token: str) -> Iterator[None]:
    """Install ``HideToken`` on every handler of the root logger, for as long as this lasts."""
    hide = HideToken(token)
    handlers = list(logging.getLogger().handlers)
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        handler.addFilter(hide)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(hide)


# --- receiving updates: long polling or a webhook -----------------------------------------


@contextlib.asynccontextmanager
async def polling(
    application: TelegramApplication, inbound: Inbound, health: Health | None = None
) -> AsyncIterator[None]:
    """Long polling that confirms an update to Telegram only once it has been handled.

    PTB's own ``Updater`` confirms a batch by fetching the next one while the batch may
    still be waiting to be handled, so a crash in between would lose it. Here the next
    ``getUpdates`` (whose offset confirms) is only sent after the batch went through the
    core; after a crash Telegram sends the unconfirmed updates again, and the inbox makes
    sure each is answered once. When the database cannot be used, the offset stays before
    the update that failed: after a pause (growing, with jitter) that update is fetched and
    handled again, and the ones after it in order.
    """
    stopping = asyncio.Event()
    task = asyncio.create_task(
        _poll(application, inbound, stopping, health), name="telegram polling"
    )
    try:
        yield
    finally:
        stopping.set()
        await task  # finishes the update under way; what was not handled is not confirmed


async def _poll(
    application: TelegramApplication,
    inbound: Inbound,
    stopping: asyncio.Event,
    health: Health | None,
) -> None:
    offset: int | None = None
    failures = 0
    database_failures = 0
    while not stopping.is_set():
        fetch = asyncio.ensure_future(
            application.bot.get_updates(
                offset=offset,
                timeout=POLL_TIMEOUT,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        )
        stop_wait = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({fetch, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        stop_wait.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await fetch
            break
        try:
            updates = fetch.result()
        except RetryAfter as problem:
            await _pause(stopping, _seconds(problem.retry_after))
            continue
        except (NetworkError, TelegramError) as problem:
            failures += 1
            log.warning("fetching updates failed (%s); trying again", type(problem).__name__)
            if health is not None:
                health.channel_down(PLATFORM, type(problem).__name__)
            await _pause(stopping, backoff(failures))
            continue
        failures = 0
        if health is not None:
            health.channel_ok(PLATFORM)
        try:
            for update in updates:
                await inbound.receive(update)
                offset = update.update_id + 1
        except StoreUnavailable as problem:
            database_failures += 1
            delay = jittered_backoff(database_failures)
            log.warning(
                "the database is unavailable (%s): the update stays with Telegram, "
                "fetched again in %.1f s",
                problem.reason,
                delay,
            )
            if health is not None:
                health.handling_paused(PLATFORM, problem.reason)
            await _pause(stopping, delay)
            continue
        if updates and database_failures:
            database_failures = 0
            log.info("the database is back: handling Telegram updates again")
            if health is not None:
                health.handling_resumed(PLATFORM)
    if offset is not None:  # confirm what was handled, so it is not fetched again
        with contextlib.suppress(TelegramError):
            await application.bot.get_updates(offset=offset, timeout=0)


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)


class WebhookReceiver:
    """Takes Telegram's webhook calls; only a call carrying the secret token is handled.

    The answer is given after the update has been handled, so Telegram sends it again when
    we could not take it (and the inbox makes sure it is handled once). When the database
    cannot be used the answer is 503: Telegram keeps the update and sends it again later,
    with its own growing pauses.
    """

    def __init__(
        self,
        application: TelegramApplication,
        secret: str,
        inbound: Inbound,
        health: Health | None = None,
    ) -> None:
        self.application = application
        self.inbound = inbound
        self.health = health
        self._secret = secret.encode()
        self._one_at_a_time = asyncio.Lock()  # in order, as with polling

    async def handle(self, request: web.Request) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("a webhook call without the right secret token was refused")
            return web.Response(status=403)
        try:
            data = await request.json()
        except ValueError:
            return web.Response(status=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return web.Response(status=400)
        update = Update.de_json(data, self.application.bot)
        async with self._one_at_a_time:
            try:
                await self.inbound.receive(update)
            except StoreUnavailable as problem:
                log.warning(
                    "the database is unavailable (%s): update %s answered 503, "
                    "Telegram sends it again",
                    problem.reason,
                    update.update_id,
                )
                if self.health is not None:
                    self.health.handling_paused(PLATFORM, problem.reason)
                return web.Response(status=503, headers={"Retry-After": "5"})
        if self.health is not None and self.health.handling.get(PLATFORM, _NOT_PAUSED).paused:
            log.info("the database is back: handling Telegram updates again")
            self.health.handling_resumed(PLATFORM)
        return web.Response()


@contextlib.asynccontextmanager
async def webhook(
    application: TelegramApplication,
    settings: Settings,
    inbound: Inbound,
    health: Health | None = None,
) -> AsyncIterator[None]:
    url, secret = settings.telegram_webhook_url, settings.telegram_webhook_secret
    if url is None or secret is None:
        raise ValueError("a webhook needs BUURTBOT_TELEGRAM_WEBHOOK_URL and _SECRET")
    receiver = WebhookReceiver(application, secret.get_secret_value(), inbound, health)
    server = web.Application()
    server.router.add_post(urlsplit(url).path or "/", receiver.handle)
    runner = web.AppRunner(server, access_log=None, shutdown_timeout=STOP_GRACE_SECONDS)
    await runner.setup()
    try:
        listen, port = settings.telegram_webhook_listen, settings.telegram_webhook_port
        await web.TCPSite(runner, listen, port).start()
        await application.bot.set_webhook(
            url, secret_token=secret.get_secret_value(), allowed_updates=ALLOWED_UPDATES
        )
        if health is not None:
            health.channel_ok(PLATFORM)
        yield
    finally:
        await runner.cleanup()  # lets the call under way finish


# --- running ------------------------------------------------------------------------------


def build_application(token: str, base_url: str | None, *, polling: bool) -> TelegramApplication:
    # Updates are fetched by ``polling`` or the webhook receiver; the scheduler is ours.
    builder = ApplicationBuilder().token(token).job_queue(None).updater(None)
    if base_url:
        builder = builder.base_url(base_url).base_file_url(file_url_of(base_url))
    if polling:
        # long polls need a read timeout longer than the poll
        builder = builder.get_updates_read_timeout(POLL_TIMEOUT.total_seconds() + 10)
    return builder.build()


def file_url_of(base_url: str) -> str:
    """``http://127.0.0.1:8081/bot`` -> ``http://127.0.0.1:8081/file/bot``."""
    head, _, last = base_url.rstrip("/").rpartition("/")
    return f"{head}/file/{last}"


async def run_telegram(
    runtime: Runtime,
    settings: Settings,
    stop: asyncio.Event,
    *,
    limits: RateLimits = TELEGRAM_LIMITS,
) -> None:
    """Serve Telegram until ``stop`` is set; then finish the update under way and return.

    ``limits`` are Telegram's flood limits as Telegram states them (tests give those of
    their local server); the outbox keeps a little under them.
    """
    if settings.telegram_token is None:
        raise ValueError("BUURTBOT_TELEGRAM_TOKEN is not set")
    token = settings.telegram_token.get_secret_value()
    by_webhook = settings.telegram_webhook_url is not None
    with token_hidden_in_logs(token):
        application = build_application(token, settings.telegram_base_url, polling=not by_webhook)
        async with application:
            username = application.bot.username
            inbound = Inbound(runtime.bot, username)
            try:
                await publish_commands(application.bot, runtime.bot)
            except TelegramError as problem:
                log.warning("the command menu was not published: %s", problem.message)
            channel = TelegramChannel(application.bot, with_slack(limits))
            runtime.bot.private_links[PLATFORM] = channel.private_chat_link()
            health = runtime.health
            health.expect_channel(PLATFORM)
            receiving = (
                webhook(application, settings, inbound, health)
                if by_webhook
                else polling(application, inbound, health)
            )
            # They stop in reverse: no more updates; those fetched handled; the outbox paused.
            async with runtime.delivering(channel), handling(application), receiving:
                log.info("Telegram: @%s listens (%s)", username, _mode(by_webhook))
                await stop.wait()
    log.info("Telegram: stopped")


def _mode(by_webhook: bool) -> str:
    return "webhook" if by_webhook else "long polling"


@contextlib.asynccontextmanager
async def handling(application: TelegramApplication) -> AsyncIterator[None]:
    await application.start()
    try:
        yield
    finally:
        await application.stop()


__all__ = [
    "ALLOWED_UPDATES",
    "TELEGRAM_LIMITS",
    "HideToken",
    "TelegramChannel",
    "WebhookReceiver",
    "command_menu",
    "publish_commands",
    "run_telegram",
    "to_event",
]
