"""A Telegram Bot API server on localhost, for testing the Telegram adapter.

The server speaks the Bot API's HTTP protocol, so the real python-telegram-bot ``Bot`` and
``Application`` run against it unchanged::

    async with BotApiServer() as server:
        fatima = server.user(1001, "Fatima")
        application = (
            Application.builder()
            .token(server.token)
            .base_url(server.base_url)
            .base_file_url(server.base_file_url)
            .build()
        )
        ...
        server.send_text(fatima, fatima, "/start")
        [reply] = await server.wait_sent(1, chat_id=fatima.id)

Requests go to ``{base_url}{token}/{method}`` as JSON, form or multipart bodies (or a query
string); method names are case-insensitive, as on Telegram. Every answer is
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...}``.

People are simulated with ``user``, ``group``, ``send_text``, ``press``, ``add_member`` and
friends; what the bot did is in ``sent``, ``messages_in``, ``answered_callbacks``, ``commands``
and the raw ``requests`` log. ``wait_for`` and ``wait_sent`` wake on every change, so tests
never sleep for a fixed time.

Flood limits, as Telegram has them, are on by default: 30 messages per second overall, one per
second per chat and 20 per minute per group, as sliding windows over ``sendMessage`` and
``sendDocument``. A send over a limit is refused with 429 and ``retry_after``, and is counted
in ``too_many_requests``; refused sends do not count towards the windows.

Time scaling: ``time_scale`` multiplies the length of every window, and nothing else. With
``time_scale=0.01`` "a minute" lasts 0.6 s, so 200 messages to one group take about 6 s
instead of 10 minutes. ``retry_after`` stays what the Bot API promises: whole seconds of real
time (at least 1) after which the refused send will be accepted. It is the real wait rounded
up, never the unscaled one, so a client that honours it is never refused again for the same
window. Because of the rounding, a refused send costs at least a second even when scaled: a
well-paced sender never sees one. ``effective_limits`` gives the windows in real seconds, for
configuring the pacer under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Self, TypeAlias

from aiohttp import web
from telegram import Bot

Json: TypeAlias = Any
FaultKind: TypeAlias = Literal["drop", "drop_after", "stall"]

DEFAULT_TOKEN = "424242:TEST-buurtbot-token-for-localhost1"
DEFAULT_BOT_USERNAME = "buurtbot_test_bot"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

# Without allowed_updates, Telegram sends every update type except these.
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_HTML_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Limit:
    """At most ``count`` messages in any window of ``seconds``."""

    count: int
    seconds: float


@dataclass(frozen=True)
class Limits:
    """Telegram's flood limits on sending; ``None`` switches one off."""

    overall: Limit | None = Limit(30, 1.0)
    per_chat: Limit | None = Limit(1, 1.0)
    per_group: Limit | None = Limit(20, 60.0)

    def scaled(self, factor: float) -> Limits:
        def scale(limit: Limit | None) -> Limit | None:
            return None if limit is None else Limit(limit.count, limit.seconds * factor)

        return Limits(scale(self.overall), scale(self.per_chat), scale(self.per_group))


NO_LIMITS = Limits(overall=None, per_chat=None, per_group=None)


@dataclass(frozen=True)
class User:
    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "nl"
    is_bot: bool = False

    def to_api(self) -> dict[str, Json]:
        data: dict[str, Json] = {
            "id": self.id,
            "is_bot": self.is_bot,
            "first_name": self.first_name,
        }
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class Chat:
    id: int
    type: Literal["private", "group", "supergroup"]
    title: str | None = None
    user: User | None = None
    bot_is_member: bool = True
    # An administrator with the right to delete messages may delete what others write.
    bot_can_delete: bool = False

    @property
    def is_group(self) -> bool:
        return self.type != "private"

    def to_api(self) -> dict[str, Json]:
        data: dict[str, Json] = {"id": self.id, "type": self.type}
        if self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.username:
                data["username"] = self.user.username
        if self.title is not None:
            data["title"] = self.title
        return data


ChatRef: TypeAlias = Chat | User | int
UserRef: TypeAlias = User | int


@dataclass(frozen=True)
class Document:
    """A file the bot uploaded with ``sendDocument``."""

    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    data: bytes

    @property
    def file_path(self) -> str:
        return f"documents/{self.file_unique_id}"

    def to_api(self) -> dict[str, Json]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }


@dataclass
class BotMessage:
    """A message the bot sent, in its current state: edits change it, deletion marks it."""

    chat_id: int
    message_id: int
    text: str | None
    reply_markup: dict[str, Json] | None
    parse_mode: str | None = None
    document: Document | None = None
    date: int = field(default_factory=lambda: int(time.time()))
    edit_count: int = 0
    edit_date: int | None = None
    deleted: bool = False

    @property
    def buttons(self) -> list[list[dict[str, Json]]]:
        if self.reply_markup is None:
            return []
        rows: list[list[dict[str, Json]]] = self.reply_markup.get("inline_keyboard", [])
        return rows

    @property
    def labels(self) -> list[list[str]]:
        """The inline buttons' labels, row by row."""
        return [[button["text"] for button in row] for row in self.buttons]

    def callback_data(self, label: str) -> str:
        """The callback data of the button labelled ``label``."""
        for row in self.buttons:
            for button in row:
                if button["text"] == label and "callback_data" in button:
                    return str(button["callback_data"])
        raise KeyError(f"no button {label!r} on message {self.message_id}: {self.labels}")


@dataclass(frozen=True)
class Sent:
    """One accepted ``sendMessage`` or ``sendDocument``, as it was at that moment.

    ``text`` is the caption for a document; ``time`` is ``time.monotonic()``.
    """

    method: str
    chat_id: int
    message_id: int
    text: str | None
    reply_markup: dict[str, Json] | None
    parse_mode: str | None
    document: Document | None
    time: float


@dataclass(frozen=True)
class AnsweredCallback:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclass(frozen=True)
class CommandScope:
    """A ``BotCommandScope``: ``CommandScope("chat", chat_id=-100)`` and so on."""

    type: str = "default"
    chat_id: int | None = None
    user_id: int | None = None


DEFAULT_SCOPE = CommandScope()


@dataclass
class RequestRecord:
    """One HTTP request as it arrived, and what it was answered.

    ``params`` holds the values as sent: strings for form and multipart bodies (PTB sends
    those), JSON values for JSON bodies. ``status`` stays ``None`` for a dropped connection.
    """

    method: str
    content_type: str
    params: dict[str, Json]
    files: dict[str, str]
    time: float
    status: int | None = None
    response: dict[str, Json] | None = None


@dataclass(frozen=True)
class _Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class _Fault:
    kind: FaultKind | Literal["429"]
    method: str | None
    remaining: int
    retry_after: int = 0
    after: int = 0  # requests to let through first

    def matches(self, method: str) -> bool:
        if self.method is None:
            return method != "getUpdates"
        return self.method == method


class ApiError(Exception):
    """An unsuccessful Bot API answer."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Json] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_api(self) -> dict[str, Json]:
        data: dict[str, Json] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            data["parameters"] = self.parameters
        return data


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


class _Params:
    """Typed access to a method's parameters, whether they came as JSON or as form strings."""

    def __init__(self, values: Mapping[str, Json], files: Mapping[str, _Upload]) -> None:
        self.values = values
        self.files = files

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise bad_request(f"field {name!r} must be of type String")

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise bad_request(f"field {name!r} must be of type Integer")

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None:
            return None
        if not isinstance(value, bool):
            try:
                return float(value)
            except (TypeError, ValueError):
                pass
        raise bad_request(f"field {name!r} must be a Number")

    def flag(self, name: str) -> bool:
        value = self.values.get(name, False)
        if isinstance(value, str):
            value = value.strip().lower() in {"true", "1"}
        return bool(value)

    def json(self, name: str) -> Json:
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def required_int(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value


async def _read_params(request: web.Request) -> tuple[dict[str, Json], dict[str, _Upload]]:
    values: dict[str, Json] = dict(request.query)
    files: dict[str, _Upload] = {}
    if request.content_type == "application/json":
        body = await request.read()
        if body.strip():
            try:
                decoded = json.loads(body)
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(decoded, dict):
                raise bad_request("the request body must be a JSON object")
            values.update(decoded)
    elif request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = _Upload(value.filename, value.content_type, value.file.read())
            elif isinstance(value, str):
                values[name] = value
            else:
                values[name] = bytes(value).decode()
    return values, files


def _visible_length(text: str, parse_mode: str | None) -> int:
    """Length as Telegram counts it: UTF-16 code units of the text after HTML markup."""
    if parse_mode is not None and parse_mode.lower() == "html":
        text = html.unescape(_HTML_TAG.sub("", text))
    return len(text.encode("utf-16-le")) // 2


def _checked_text(params: _Params) -> tuple[str, str | None]:
    """A message's ``text`` and ``parse_mode``, if Telegram would accept the text."""
    text, parse_mode = params.text("text") or "", params.text("parse_mode")
    length = _visible_length(text, parse_mode)
    if length == 0 or not text.strip():
        raise bad_request("message text is empty")
    if length > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text, parse_mode


def _check_reply_markup(markup: Json, *, inline_only: bool) -> dict[str, Json] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if inline_only:
            raise bad_request("inline keyboard expected")
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for button in itertools.chain.from_iterable(rows):
        if not isinstance(button, dict) or not button.get("text"):
            raise bad_request("can't parse inline keyboard button: Text must be non-empty")
        if not BUTTON_ACTIONS & button.keys():
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        data = button.get("callback_data")
        if data is not None and not (
            isinstance(data, str) and 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
        ):
            raise bad_request("BUTTON_DATA_INVALID")
    # An empty inline keyboard shows nothing, and Telegram does not return it.
    return markup if any(rows) else None


def _scope(raw: Json) -> CommandScope:
    if raw is None:
        return DEFAULT_SCOPE
    if not isinstance(raw, dict) or raw.get("type") not in SCOPE_TYPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    params = _Params(raw, {})
    scope = CommandScope(raw["type"], params.integer("chat_id"), params.integer("user_id"))
    if scope.type.startswith("chat") and scope.chat_id is None:
        raise bad_request("chat_id is empty")
    if scope.type == "chat_member" and scope.user_id is None:
        raise bad_request("user_id is empty")
    return scope


class _SlidingWindows:
    """Counts accepted sends per key and tells how long a new one must wait."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._times: dict[tuple[str, int], deque[float]] = {}

    def _windows(self, chat: Chat) -> Iterable[tuple[tuple[str, int], Limit]]:
        if self.limits.overall is not None:
            yield ("overall", 0), self.limits.overall
        if self.limits.per_chat is not None:
            yield ("chat", chat.id), self.limits.per_chat
        if self.limits.per_group is not None and chat.is_group:
            yield ("group", chat.id), self.limits.per_group

    def wait_needed(self, chat: Chat, now: float) -> float:
        wait = 0.0
        for key, limit in self._windows(chat):
            times = self._times.setdefault(key, deque())
            while times and times[0] <= now - limit.seconds:
                times.popleft()
            if len(times) >= limit.count:
                wait = max(wait, times[-limit.count] + limit.seconds - now)
        return wait

    def record(self, chat: Chat, now: float) -> None:
        for key, _ in self._windows(chat):
            self._times.setdefault(key, deque()).append(now)


_Handler: TypeAlias = Callable[[_Params], Awaitable[Json]]


class BotApiServer:
    """A Bot API server on 127.0.0.1 (free port), used as ``async with BotApiServer() as s``."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_BOT_USERNAME,
        limits: Limits = Limits(),
        time_scale: float = 1.0,
        first_update_id: int = 700_000_000,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.token = token
        self.bot_user = User(
            int(token.split(":", 1)[0]), "Buurtbot", bot_username, None, is_bot=True
        )
        self.limits = limits
        self.time_scale = time_scale
        self.url = ""

        # What the bot did.
        self.requests: list[RequestRecord] = []
        self.sent: list[Sent] = []
        self.answered_callbacks: list[AnsweredCallback] = []
        self.commands: dict[tuple[CommandScope, str], list[tuple[str, str]]] = {}
        self.webhook: dict[str, Json] | None = None
        self.too_many_requests = 0

        # The world the bot lives in.
        self.updates: dict[int, dict[str, Json]] = {}
        self.allowed_updates: list[str] = []
        self._chats: dict[int, Chat] = {}
        self._blocked: set[int] = set()
        self._messages: dict[tuple[int, int], BotMessage] = {}
        self._user_messages: dict[tuple[int, int], dict[str, Json]] = {}
        self.deleted_user_messages: list[tuple[int, int]] = []  # (chat id, message id)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._pending: dict[int, dict[str, Json]] = {}
        self._next_update_id = first_update_id
        self._open_callbacks: set[str] = set()
        self._callback_ids = itertools.count(1)
        self._files: dict[str, Document] = {}
        self._file_numbers = itertools.count(1)
        self._faults: list[_Fault] = []
        self._windows = _SlidingWindows(limits.scaled(time_scale))
        self._poll_generation = 0

        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "sendDocument": self._send_document,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendChatAction": self._ok,
                "getChat": self._get_chat,
                "getFile": self._get_file,
                "close": self._ok,
                "logOut": self._ok,
            }.items()
        }

    # ----------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # Cancel a handler when its client goes away: an abandoned long poll must not linger.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def close(self) -> None:
        self._closing.set()
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)``: requests go to ``{base_url}{token}/{method}``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def effective_limits(self) -> Limits:
        """The flood limits with windows in real seconds, after ``time_scale``."""
        return self._windows.limits

    def bot(self, **kwargs: Any) -> Bot:
        """A python-telegram-bot ``Bot`` talking to this server."""
        return Bot(self.token, base_url=self.base_url, base_file_url=self.base_file_url, **kwargs)

    # ----------------------------------------------------------------------- people and chats

    def user(
        self,
        id: int,
        first_name: str,
        username: str | None = None,
        language_code: str | None = "nl",
    ) -> User:
        """A person; their private chat with the bot has their id."""
        if id <= 0:
            raise ValueError("user ids are positive")
        user = User(id, first_name, username, language_code)
        self._chats[id] = Chat(id, "private", user=user)
        return user

    def group(
        self,
        chat_id: int,
        title: str,
        kind: Literal["group", "supergroup"] = "supergroup",
        *,
        bot_can_delete: bool = False,
    ) -> Chat:
        """A group chat the bot is a member of; with ``bot_can_delete``, as an administrator
        with the right to delete messages."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = Chat(chat_id, kind, title=title, bot_can_delete=bot_can_delete)
        self._chats[chat_id] = chat
        return chat

    def chat(self, ref: ChatRef) -> Chat:
        """A known chat; a ``User`` stands for their private chat."""
        chat_id = ref if isinstance(ref, int) else ref.id
        try:
            return self._chats[chat_id]
        except KeyError:
            raise KeyError(f"unknown chat {chat_id}: create it with user() or group()") from None

    def block_private(self, user: UserRef) -> None:
        """The bot may not write to this person until they write to it (``/start``)."""
        self._blocked.add(self._user(user).id)

    # ----------------------------------------------------------------------- what people do

    def send_text(
        self, chat: ChatRef, user: UserRef, text: str, *, reply_to: int | None = None
    ) -> int:
        """``user`` writes ``text`` in ``chat``; returns the update id.

        A leading ``/command`` (or ``/command@botname``) is marked as a bot command. Writing
        in the private chat lifts ``block_private``, as pressing Start does on Telegram.
        """
        target, sender = self.chat(chat), self._user(user)
        if not target.is_group:
            if target.id != sender.id:
                raise ValueError(f"{sender.first_name} cannot write in private chat {target.id}")
            self._blocked.discard(sender.id)
        fields: dict[str, Json] = {"text": text}
        if match := _COMMAND.match(text):
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": match.end()}]
        if reply_to is not None:
            fields["reply_to_message"] = self._message_api(target.id, reply_to)
        return self._push_update("message", self._user_message(target, sender, **fields))

    def press(self, chat: ChatRef, user: UserRef, message_id: int, callback_data: str) -> int:
        """``user`` presses the inline button with ``callback_data``; returns the update id."""
        message = self.message(self.chat(chat), message_id)
        offered = [button.get("callback_data") for row in message.buttons for button in row]
        if callback_data not in offered:
            raise ValueError(f"message {message_id} has no button {callback_data!r}: {offered}")
        return self.forged_press(chat, user, message_id, callback_data)

    def forged_press(
        self, chat: ChatRef, user: UserRef, message_id: int, callback_data: str
    ) -> int:
        """A callback query as a modified client can make one: any data, on any message of
        ``chat`` (Telegram does not check the data against the message's buttons)."""
        target, sender = self.chat(chat), self._user(user)
        self.message(target, message_id)  # the message itself must exist
        query_id = str(next(self._callback_ids))
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": sender.to_api(),
            "message": self._message_api(target.id, message_id),
            "chat_instance": str(abs(target.id)),
            "data": callback_data,
        }
        return self._push_update("callback_query", query)

    def add_member(self, chat: ChatRef, user: UserRef, *, by: UserRef | None = None) -> int:
        """``user`` joins the group (added ``by`` someone, or by themselves).

        Pushes the ``new_chat_members`` service message, whose update id is returned, and a
        ``chat_member`` update, which reaches the bot only if it asked for ``chat_member``.
        """
        target, member = self._group(chat), self._user(user)
        actor = member if by is None else self._user(by)
        message = self._user_message(target, actor, new_chat_members=[member.to_api()])
        update_id = self._push_update("message", message)
        self._push_update("chat_member", self._member_change(target, actor, member, "member"))
        return update_id

    def member_left(self, chat: ChatRef, user: UserRef) -> int:
        """``user`` leaves the group: a ``left_chat_member`` message and a ``chat_member``."""
        target, member = self._group(chat), self._user(user)
        message = self._user_message(target, member, left_chat_member=member.to_api())
        update_id = self._push_update("message", message)
        self._push_update("chat_member", self._member_change(target, member, member, "left"))
        return update_id

    def bot_added(self, chat: ChatRef, by_user: UserRef) -> int:
        """``by_user`` adds the bot to the group; returns the ``my_chat_member`` update id."""
        target, actor = self._group(chat), self._user(by_user)
        target.bot_is_member = True
        change = self._member_change(target, actor, self.bot_user, "member")
        update_id = self._push_update("my_chat_member", change)
        bot = self.bot_user.to_api()
        self._push_update("message", self._user_message(target, actor, new_chat_members=[bot]))
        return update_id

    def bot_removed(self, chat: ChatRef, by_user: UserRef) -> int:
        """``by_user`` removes the bot: from now on sending there is ``403 Forbidden``."""
        target, actor = self._group(chat), self._user(by_user)
        target.bot_is_member = False
        change = self._member_change(target, actor, self.bot_user, "kicked")
        return self._push_update("my_chat_member", change)

    def redeliver(self, update_id: int) -> None:
        """Deliver an update again, as Telegram does when a bot restarts before confirming it."""
        self._pending[update_id] = self.updates[update_id]
        self._notify()

    def jump_update_ids(self, n: int) -> None:
        """Skip ``n`` update ids, as Telegram does after a quiet week."""
        self._next_update_id += n

    # ----------------------------------------------------------------------------- faults

    def fail_next(self, n: int = 1, *, kind: FaultKind = "drop", method: str | None = None) -> None:
        """Make the next ``n`` requests to ``method`` fail at the transport level.

        ``drop`` closes the connection before the method runs (nothing happened);
        ``drop_after`` runs it and then closes the connection (it happened, the answer is
        lost); ``stall`` never answers, so the client times out. ``method=None`` means any
        method except ``getUpdates``.
        """
        self._faults.append(_Fault(kind, self._method_name(method), n))

    def clear_faults(self) -> None:
        """Take back every fault still waiting: from now on the server answers normally."""
        self._faults.clear()

    def force_429(
        self, n: int = 1, *, retry_after: int = 1, method: str | None = None, after: int = 0
    ) -> None:
        """Answer the next ``n`` requests to ``method`` with 429 and ``retry_after``, once
        ``after`` more of them went through.

        ``method=None`` means any method except ``getUpdates``.
        """
        if retry_after < 1:
            raise ValueError("retry_after is a whole number of seconds, at least 1")
        self._faults.append(_Fault("429", self._method_name(method), n, retry_after, after))

    def member_deletes(self, chat: ChatRef, message_id: int) -> None:
        """A member takes one of the bot's messages out of their private chat."""
        self.message(chat, message_id).deleted = True

    # ----------------------------------------------------------------------- what the bot did

    def messages_in(self, chat: ChatRef) -> list[BotMessage]:
        """The bot's messages in ``chat`` that still exist, as they are now."""
        chat_id = self.chat(chat).id
        return [
            message
            for (in_chat, _), message in self._messages.items()
            if in_chat == chat_id and not message.deleted
        ]

    def message(self, chat: ChatRef, message_id: int) -> BotMessage:
        """One of the bot's messages, as it is now."""
        chat_id = self.chat(chat).id
        try:
            return self._messages[chat_id, message_id]
        except KeyError:
            raise KeyError(f"the bot sent no message {message_id} in chat {chat_id}") from None

    def message_id_of(self, update_id: int) -> int:
        """The id of the message a person wrote in update ``update_id``."""
        return int(self.updates[update_id]["message"]["message_id"])

    def sent_to(self, chat: ChatRef) -> list[Sent]:
        chat_id = self.chat(chat).id
        return [sent for sent in self.sent if sent.chat_id == chat_id]

    def commands_for(
        self, scope: CommandScope = DEFAULT_SCOPE, language_code: str = ""
    ) -> list[tuple[str, str]]:
        """The commands set for exactly this scope and language, as ``(command, help)``."""
        return self.commands.get((scope, language_code), [])

    def is_pending(self, update_id: int) -> bool:
        """Whether the update still waits to be confirmed by a ``getUpdates`` offset."""
        return update_id in self._pending

    def calls(self, method: str) -> list[RequestRecord]:
        """The logged requests to ``method`` (case-insensitive, as on Telegram)."""
        return [record for record in self.requests if record.method.lower() == method.lower()]

    # --------------------------------------------------------------------------------- waits

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = ""
    ) -> None:
        """Wait until ``predicate()`` holds; it is checked after every change."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    if predicate():
                        return
                    await changed.wait()
        except TimeoutError:
            sent = [(s.chat_id, s.text) for s in self.sent[-5:]]
            raise TimeoutError(
                f"waited {timeout} s for {what or 'a condition'}; last sent: {sent}"
            ) from None

    async def wait_sent(
        self, count: int, chat_id: int | None = None, timeout: float = 10.0
    ) -> list[Sent]:
        """Wait until the bot has sent ``count`` messages (to ``chat_id``); returns them all."""

        def matching() -> list[Sent]:
            return [s for s in self.sent if chat_id is None or s.chat_id == chat_id]

        where = "" if chat_id is None else f" to chat {chat_id}"
        await self.wait_for(lambda: len(matching()) >= count, timeout, f"{count} sent{where}")
        return matching()

    async def wait_confirmed(self, update_id: int, timeout: float = 10.0) -> None:
        """Wait until the bot has confirmed the update with a ``getUpdates`` offset."""
        await self.wait_for(
            lambda: not self.is_pending(update_id), timeout, f"update {update_id} confirmed"
        )

    # --------------------------------------------------------------------------------- HTTP

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        name, handler = self._methods.get(
            request.match_info["method"].lower(), (request.match_info["method"], None)
        )
        record = RequestRecord(name, request.content_type, {}, {}, time.monotonic())
        self.requests.append(record)
        try:
            values, files = await _read_params(request)
            record.params = values
            record.files = {part: upload.filename for part, upload in files.items()}
            self._notify()
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if handler is None:
                raise ApiError(404, "Not Found")
            params = _Params(values, files)
            match self._take_fault(name):
                case None:
                    result = await handler(params)
                case _Fault(kind="429", retry_after=retry_after):
                    raise too_many_requests(retry_after)
                case _Fault(kind="drop_after"):
                    with contextlib.suppress(ApiError):
                        await handler(params)
                    return self._drop(request)
                case _Fault(kind="stall"):
                    # Until the client gives up (which cancels this handler) or we close.
                    await self._closing.wait()
                    return self._drop(request)
                case _:
                    return self._drop(request)
            record.status, record.response = 200, {"ok": True, "result": result}
        except ApiError as error:
            if error.error_code == 429:
                self.too_many_requests += 1
            record.status, record.response = error.error_code, error.to_api()
        finally:
            self._notify()
        return web.json_response(record.response, status=record.status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized()
        for document in self._files.values():
            if document.file_path == request.match_info["path"]:
                return web.Response(body=document.data, content_type=document.mime_type)
        raise web.HTTPNotFound()

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        """Close the connection without an answer; aiohttp writes nothing after this."""
        if request.transport is not None:
            request.transport.close()
        return web.Response()

    def _take_fault(self, method: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(method):
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.remaining -= 1
                return fault
        return None

    def _method_name(self, method: str | None) -> str | None:
        if method is None:
            return None
        try:
            return self._methods[method.lower()][0]
        except KeyError:
            raise ValueError(f"unknown Bot API method {method!r}") from None

    # ------------------------------------------------------------------------------ methods

    async def _ok(self, params: _Params) -> Json:
        return True

    async def _get_me(self, params: _Params) -> Json:
        return self.bot_user.to_api() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: _Params) -> Json:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        self._set_allowed_updates(params.json("allowed_updates"))
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        deadline = time.monotonic() + timeout
        while True:
            changed = self._changed
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._deliverable(limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing.is_set():
                return batch
            try:
                async with asyncio.timeout(remaining):
                    await changed.wait()
            except TimeoutError:
                pass

    async def _set_webhook(self, params: _Params) -> Json:
        url = params.text("url") or ""
        self._set_allowed_updates(params.json("allowed_updates"))
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        self.webhook = dict(params.values) if url else None
        return True

    async def _delete_webhook(self, params: _Params) -> Json:
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        return True

    async def _get_webhook_info(self, params: _Params) -> Json:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _send_message(self, params: _Params) -> Json:
        chat = self._writable_chat(params)
        text, parse_mode = _checked_text(params)
        markup = _check_reply_markup(params.json("reply_markup"), inline_only=False)
        message = self._deliver("sendMessage", chat, text, markup, parse_mode, None)
        return self._message_api(chat.id, message.message_id)

    async def _send_document(self, params: _Params) -> Json:
        chat = self._writable_chat(params)
        caption = params.text("caption")
        parse_mode = params.text("parse_mode")
        if caption is not None and _visible_length(caption, parse_mode) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        markup = _check_reply_markup(params.json("reply_markup"), inline_only=False)
        document = self._document(params)
        message = self._deliver("sendDocument", chat, caption, markup, parse_mode, document)
        return self._message_api(chat.id, message.message_id)

    async def _edit_message_text(self, params: _Params) -> Json:
        message = self._editable(params)
        text, parse_mode = _checked_text(params)
        if message.document is not None:
            raise bad_request("there is no text in the message to edit")
        # Telegram drops the keyboard of a message whose text is edited without one.
        markup = _check_reply_markup(params.json("reply_markup"), inline_only=True)
        if (text, markup) == (message.text, message.reply_markup):
            raise bad_request(NOT_MODIFIED)
        message.text, message.reply_markup, message.parse_mode = text, markup, parse_mode
        message.edit_count += 1
        message.edit_date = int(time.time())
        return self._message_api(message.chat_id, message.message_id)

    async def _edit_message_reply_markup(self, params: _Params) -> Json:
        message = self._editable(params)
        markup = _check_reply_markup(params.json("reply_markup"), inline_only=True)
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        message.reply_markup = markup
        message.edit_count += 1
        message.edit_date = int(time.time())
        return self._message_api(message.chat_id, message.message_id)

    async def _delete_message(self, params: _Params) -> Json:
        key = (params.required_int("chat_id"), params.required_int("message_id"))
        if key in self._user_messages:
            # What people wrote: in a group only an administrator with the right may.
            chat = self.chat(key[0])
            if chat.is_group and not chat.bot_can_delete:
                raise bad_request("message can't be deleted")
            if key in self.deleted_user_messages:
                raise bad_request("message to delete not found")
            self.deleted_user_messages.append(key)
            self._notify()
            return True
        message = self._messages.get(key)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        return True

    async def _answer_callback_query(self, params: _Params) -> Json:
        query_id = params.text("callback_query_id") or ""
        if query_id not in self._open_callbacks:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.text("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)
        self.answered_callbacks.append(
            AnsweredCallback(
                query_id,
                text,
                params.flag("show_alert"),
                params.text("url"),
                params.integer("cache_time"),
            )
        )
        return True

    async def _set_my_commands(self, params: _Params) -> Json:
        raw = params.json("commands")
        if not isinstance(raw, list):
            raise bad_request("can't parse commands JSON object")
        commands: list[tuple[str, str]] = []
        for item in raw:
            if not isinstance(item, dict):
                raise bad_request("can't parse BotCommand JSON object")
            command, description = item.get("command"), item.get("description")
            if not isinstance(command, str) or not _BOT_COMMAND.fullmatch(command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            commands.append((command, description))
        key = self._commands_key(params)
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: _Params) -> Json:
        commands = self.commands.get(self._commands_key(params), [])
        return [{"command": command, "description": help} for command, help in commands]

    async def _delete_my_commands(self, params: _Params) -> Json:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_chat(self, params: _Params) -> Json:
        chat = self._known_chat(params)
        return chat.to_api() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_file(self, params: _Params) -> Json:
        document = self._files.get(params.text("file_id") or "")
        if document is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": document.file_id,
            "file_unique_id": document.file_unique_id,
            "file_size": len(document.data),
            "file_path": document.file_path,
        }

    # ------------------------------------------------------------------------------ helpers

    def _notify(self) -> None:
        """Wake everyone waiting for a change."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _user(self, ref: UserRef) -> User:
        chat = self.chat(ref)
        if chat.user is None:
            raise KeyError(f"{ref} is a group, not a user")
        return chat.user

    def _group(self, ref: ChatRef) -> Chat:
        chat = self.chat(ref)
        if not chat.is_group:
            raise ValueError(f"chat {chat.id} is a private chat, not a group")
        return chat

    def _known_chat(self, params: _Params) -> Chat:
        chat_id = params.values.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        try:
            return self._chats[int(chat_id)]
        except (KeyError, ValueError):
            raise bad_request("chat not found") from None

    def _writable_chat(self, params: _Params) -> Chat:
        chat = self._known_chat(params)
        if chat.id in self._blocked:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if not chat.bot_is_member:
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
        return chat

    def _editable(self, params: _Params) -> BotMessage:
        if params.values.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._known_chat(params)
        message_id = params.required_int("message_id")
        message = self._messages.get((chat.id, message_id))
        if message is None or message.deleted:
            if (chat.id, message_id) in self._user_messages:
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return message

    def _document(self, params: _Params) -> Document:
        upload = params.files.get("document")
        if upload is None:
            file_id = params.text("document")
            if file_id in self._files:
                return self._files[file_id]
            raise bad_request("wrong file identifier/HTTP URL specified")
        number = next(self._file_numbers)
        document = Document(
            file_id=f"BQACAgQAAxkDAAI{number:06d}",
            file_unique_id=f"AgAD{number:06d}",
            file_name=upload.filename,
            mime_type=upload.content_type,
            data=upload.data,
        )
        self._files[document.file_id] = document
        return document

    def _deliver(
        self,
        method: str,
        chat: Chat,
        text: str | None,
        markup: dict[str, Json] | None,
        parse_mode: str | None,
        document: Document | None,
    ) -> BotMessage:
        """Accept a send if the flood limits allow it."""
        now = time.monotonic()
        wait = self._windows.wait_needed(chat, now)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        self._windows.record(chat, now)
        message = BotMessage(
            chat.id, self._next_message_id(chat), text, markup, parse_mode, document
        )
        self._messages[chat.id, message.message_id] = message
        self.sent.append(
            Sent(method, chat.id, message.message_id, text, markup, parse_mode, document, now)
        )
        return message

    def _next_message_id(self, chat: Chat) -> int:
        return next(self._message_ids.setdefault(chat.id, itertools.count(1)))

    def _message_api(self, chat_id: int, message_id: int) -> dict[str, Json]:
        if (chat_id, message_id) in self._user_messages:
            return self._user_messages[chat_id, message_id]
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        data: dict[str, Json] = {
            "message_id": message.message_id,
            "from": self.bot_user.to_api(),
            "chat": self._chats[chat_id].to_api(),
            "date": message.date,
        }
        if message.document is not None:
            data["document"] = message.document.to_api()
            if message.text is not None:
                data["caption"] = message.text
        else:
            data["text"] = message.text
        if message.reply_markup is not None:
            data["reply_markup"] = message.reply_markup
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        return data

    def _user_message(self, chat: Chat, sender: User, **fields: Json) -> dict[str, Json]:
        message = {
            "message_id": self._next_message_id(chat),
            "from": sender.to_api(),
            "chat": chat.to_api(),
            "date": int(time.time()),
            **fields,
        }
        self._user_messages[chat.id, message["message_id"]] = message
        return message

    def _member_change(
        self, chat: Chat, actor: User, member: User, status: Literal["member", "left", "kicked"]
    ) -> dict[str, Json]:
        old, new = ("member", status) if status != "member" else ("left", "member")
        new_member: dict[str, Json] = {"status": new, "user": member.to_api()}
        if new == "kicked":
            new_member["until_date"] = 0
        return {
            "chat": chat.to_api(),
            "from": actor.to_api(),
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": member.to_api()},
            "new_chat_member": new_member,
        }

    def _push_update(self, kind: str, body: dict[str, Json]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self.updates[update_id] = self._pending[update_id] = {"update_id": update_id, kind: body}
        self._notify()
        return update_id

    def _set_allowed_updates(self, allowed: Json) -> None:
        if allowed is None:
            return
        if not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed):
            raise bad_request("can't parse allowed_updates JSON array")
        self.allowed_updates = list(allowed)

    def _is_allowed(self, update: dict[str, Json]) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in OPT_IN_UPDATE_TYPES

    def _confirm(self, offset: int | None) -> None:
        """Forget updates before ``offset``; a negative offset keeps only the last few."""
        if offset is None:
            return
        ids = sorted(self._pending)
        if offset < 0:
            forget = ids[: max(len(ids) + offset, 0)]
        else:
            forget = [update_id for update_id in ids if update_id < offset]
        for update_id in forget:
            del self._pending[update_id]

    def _deliverable(self, limit: int) -> list[dict[str, Json]]:
        """The oldest pending updates; those the bot did not ask for never reach it."""
        batch: list[dict[str, Json]] = []
        for update_id in sorted(self._pending):
            update = self._pending[update_id]
            if not self._is_allowed(update):
                del self._pending[update_id]
            elif len(batch) < limit:
                batch.append(update)
        return batch

    def _commands_key(self, params: _Params) -> tuple[CommandScope, str]:
        language_code = params.text("language_code") or ""
        if language_code and not re.fullmatch(r"[a-z]{2}", language_code):
            raise bad_request("invalid language code specified")
        return _scope(params.json("scope")), language_code
