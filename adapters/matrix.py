"""Matrix, on matrix-nio: rooms are group chats, direct rooms with one member private chats.

Inbound, the bot syncs from the token kept in our own database (never nio's store). Each
event is translated to the core's neutral form and handed to ``Bot.handle``; the batch's
token is stored in the same transaction as the last event's effects, and every event id
passes the core's inbox, so a restart loses nothing and repeats nothing. A gap in a room's
timeline (``limited``) is filled from ``/messages`` back to the previous token.

History is never answered. The very first start syncs the rooms' state without any
timeline, and starts from that token. In a room the bot is invited to later, whatever came
before its invite is left alone; what people wrote after the invite, even before the bot
had joined, is meant for it and is answered.

Outbound, ``MatrixChannel`` sends ``m.notice`` messages with an HTML body, each with the
transaction id ``buurtbot-<outbox id>``: the homeserver deduplicates a send that is retried
(per user and device, which is why the device id is stable). Buttons are a numbered list
under the text with the bot's own reactions (1️⃣ 2️⃣ …) as the options; a member presses
one by reacting with it, or by replying to the message with just the number.

Encrypted rooms are not supported: invited to one, the bot says so and leaves.
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
import mimetypes
import re
import time
from collections import deque
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    InviteMemberEvent,
    JoinError,
    LoginResponse,
    MatrixRoom,
    MessageDirection,
    ReactionEvent,
    RoomCreateResponse,
    RoomMemberEvent,
    RoomMessagesResponse,
    RoomMessageText,
    RoomPreset,
    RoomRedactResponse,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)

from adapters.bootstrap import Runtime
from adapters.health import Health
from adapters.retry import jittered_backoff
from adapters.settings import Settings
from bot.app import Bot
from bot.errors import StoreUnavailable
from bot.outbox import MAX_BACKOFF
from bot.ports import Failed, RateLimits, RetryLater, SendResult, Sent, Unreachable
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

log = logging.getLogger("buurtbot.matrix")

PLATFORM = "matrix"
DEVICE_ID = "BUURTBOT"
# Small values kept in the database (``Bot.cursor``): the sync token, and which room is
# whose private room: user id -> room id, "" (none yet) or LEFT; room id -> user id.
NEXT_BATCH = f"{PLATFORM}.next_batch"
LEFT = "left"  # the member left or refused the bot's private room
# The bot account has the homeserver's rate-limit override; these keep rooms readable.
MATRIX_LIMITS = RateLimits(overall=(10, 1.0), per_chat=(1, 1.0), per_group=(60, 60.0))
KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
SYNC_TIMEOUT_MS = 30_000
# Bytes of text (UTF-8) in one message, options included: an event may hold 64 KiB, and the
# text is in it up to four times (plain and HTML, both again in an edit), JSON-escaped.
TEXT_ROOM = 4000
TIMELINE_LIMIT = 20
BACKFILL_PAGE = 100
MAX_SYNC_BACKOFF = 60.0
PRESS_WAIT = 5.0  # seconds a press waits for its message to be recorded as sent

_NOTHING = {"not_types": ["*"]}
SYNC_FILTER: dict[str, Any] = {
    "presence": _NOTHING,
    "account_data": _NOTHING,
    "room": {
        "timeline": {"limit": TIMELINE_LIMIT},
        "ephemeral": _NOTHING,
        "account_data": _NOTHING,
    },
}
# The very first sync: the rooms' state and pending invites, and no history to answer.
FIRST_SYNC_FILTER: dict[str, Any] = {
    "presence": _NOTHING,
    "account_data": _NOTHING,
    "room": {"timeline": {"limit": 0}, "ephemeral": _NOTHING, "account_data": _NOTHING},
}

MXID = re.compile(r"(?<![\w@])@[a-z0-9._=/+-]+:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d+)?")
NUMBER = re.compile(r"^(\d{1,2})[.)]?$")
ROOM_MENTION = re.compile(r"@room\b", re.IGNORECASE)
WORD_JOINER = "\u2060"

T = TypeVar("T")


def private_room_key(user_id: str) -> str:
    return f"{PLATFORM}.dm.{user_id}"


def private_member_key(room_id: str) -> str:
    return f"{PLATFORM}.dm_room.{room_id}"


class MatrixLoginError(RuntimeError):
    """The homeserver refused the bot's credentials; trying again will not help."""


# --- writing: pure functions -----------------------------------------------------------------
def keycap(number: int) -> str:
    return KEYCAPS[number - 1] if 1 <= number <= len(KEYCAPS) else f"{number}."


def options_text(buttons: Sequence[Sequence[Button]]) -> str:
    """``1️⃣ Ik help  2️⃣ Nu niet``: a line per row of buttons, numbered across the rows."""
    lines, number = [], 0
    for row in buttons:
        labels = []
        for button in row:
            number += 1
            labels.append(f"{keycap(number)} {button.label}")
        lines.append("  ".join(labels))
    return "\n".join(lines)


def to_html(text: str, *, pills: bool = True) -> str:
    """Escaped HTML for ``text``; with ``pills``, Matrix ids become links to the person."""
    parts: list[str] = []
    start = 0
    for match in MXID.finditer(text) if pills else ():
        user_id = html.escape(match.group())
        parts.append(html.escape(text[start : match.start()]))
        parts.append(f'<a href="https://matrix.to/#/{user_id}">{user_id}</a>')
        start = match.end()
    parts.append(html.escape(text[start:]))
    return "".join(parts).replace("\n", "<br>").replace("  ", "&nbsp; ")


def without_room_mention(text: str) -> str:
    """``@room`` with a word joiner after the ``@``: it reads the same and notifies nobody."""
    return ROOM_MENTION.sub(lambda match: f"@{WORD_JOINER}{match.group()[1:]}", text)


def slash_commands(names: Iterable[str]) -> re.Pattern[str]:
    """Finds ``/vraag`` in a text, for the given command names."""
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True)) or "(?!)"
    return re.compile(rf"(?<![\w/:.#])/({alternatives})\b")


def as_bang_commands(text: str, commands: re.Pattern[str]) -> str:
    """``/vraag`` written as ``!vraag``: Matrix clients take ``/`` for their own commands."""
    return commands.sub(r"!\1", text)


def notice_content(
    text: str, buttons: Sequence[Sequence[Button]] = (), *, pills: bool = False
) -> dict[str, Any]:
    """A notice that mentions nobody: what the bot passes on may hold Matrix ids and
    ``@room`` written by members, and none of that may notify anyone. ``m.mentions`` is
    empty (MSC3952: clients and servers then ignore names in the text); ``@room`` is
    broken up for those that do not know ``m.mentions``; links to people (``pills``) only
    where nobody else reads along, in a private room."""
    body = f"{text}\n\n{options_text(buttons)}" if buttons else text
    body = without_room_mention(body)
    return {
        "msgtype": "m.notice",
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": to_html(body, pills=pills),
        "m.mentions": {},
    }


def edit_content(event_id: str, new: dict[str, Any]) -> dict[str, Any]:
    return {
        **new,
        "body": f"* {new['body']}",
        "formatted_body": f"* {new['formatted_body']}",
        "m.new_content": new,
        "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        "m.mentions": {},  # those named in the edit were mentioned by the original already
    }


def reaction_content(event_id: str, key: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}


# --- reading: pure functions -----------------------------------------------------------------
def without_reply_fallback(body: str) -> str:
    """The text of a reply without the quoted lines older clients put in front of it."""
    if not body.startswith(">"):
        return body
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).strip()


def chosen_number(text: str) -> int | None:
    """The option a reaction or a one-word reply names: ``"2"``, ``"2."``, ``"2️⃣"``."""
    word = text.strip().replace("\ufe0f", "")
    keycaps = [key.replace("\ufe0f", "") for key in KEYCAPS]
    if word in keycaps:
        return keycaps.index(word) + 1
    match = NUMBER.match(word)
    return int(match.group(1)) if match else None


def server_of(user_id: str) -> str:
    return user_id.partition(":")[2]


@dataclass(frozen=True, slots=True)
class Allowed:
    """Whose invites the bot accepts: to the listed rooms, and from people on listed servers."""

    rooms: frozenset[str]
    servers: frozenset[str]

    @classmethod
    def parse(cls, value: str, own_server: str) -> Allowed:
        items = [part.strip() for part in value.split(",") if part.strip()]
        if not items:
            return cls(frozenset(), frozenset({own_server}))
        rooms = frozenset(item for item in items if item.startswith("!"))
        return cls(rooms, frozenset(item[1:] for item in items if item.startswith(":")))

    def permits(self, room_id: str, inviter: str) -> bool:
        return room_id in self.rooms or server_of(inviter) in self.servers


# --- private rooms ---------------------------------------------------------------------------
class DirectRooms:
    """Which room is the private chat with which member: kept in the database, cached here."""

    def __init__(self, bot: Bot, client: AsyncClient) -> None:
        self._bot = bot
        self._client = client
        self._member_of: dict[str, str | None] = {}
        self._room_of: dict[str, str] = {}

    async def member_of(self, room_id: str) -> str | None:
        if room_id not in self._member_of:
            stored = await self._bot.cursor(private_member_key(room_id))
            self._member_of[room_id] = stored or None
        return self._member_of[room_id]

    async def room_of(self, user_id: str) -> str:
        """The member's private room; "" when there is none, ``LEFT`` when they left it."""
        if user_id not in self._room_of:
            self._room_of[user_id] = await self._bot.cursor(private_room_key(user_id)) or ""
        return self._room_of[user_id]

    async def remember(self, user_id: str, room_id: str) -> None:
        # The room first: a private room taken for a group would start a neighbourhood.
        await self._bot.set_cursor(private_member_key(room_id), user_id)
        self._member_of[room_id] = user_id
        await self._set_room_of(user_id, room_id)

    async def forget(self, room_id: str, *, member_left: bool = False) -> None:
        """The bot is out of the room. When the member left it, do not invite them again:
        they can open a private room with the bot themselves."""
        user_id = await self.member_of(room_id)
        if user_id is not None and await self.room_of(user_id) == room_id:
            await self._set_room_of(user_id, LEFT if member_left else "")

    async def may_open_for(self, member_id: int | None) -> bool:
        """No new room for someone who asked to be forgotten: it would note them again."""
        return not await self._bot.forgotten(member_id)

    async def open(self, user_id: str) -> str | ErrorResponse:
        created = await self._client.room_create(
            is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[user_id]
        )
        if not isinstance(created, RoomCreateResponse):
            return created
        await self.remember(user_id, created.room_id)
        return str(created.room_id)

    async def _set_room_of(self, user_id: str, value: str) -> None:
        await self._bot.set_cursor(private_room_key(user_id), value)
        self._room_of[user_id] = value


# --- outbound --------------------------------------------------------------------------------
class MatrixChannel:
    """Delivers outbox rows to Matrix rooms and says how that went."""

    platform = PLATFORM

    def __init__(
        self,
        client: AsyncClient,
        rooms: DirectRooms,
        commands: Iterable[str] = (),
        limits: RateLimits = MATRIX_LIMITS,
    ) -> None:
        self.limits = limits
        self._client = client
        self._rooms = rooms
        self._commands = slash_commands(commands)
        self._with_options: deque[str] = deque(maxlen=1000)

    def private_chat_link(self) -> str | None:
        """The bot opens private rooms itself; this link lets a member who left one (or
        never got the invite) open one with the bot, in any client."""
        user_id = self._client.user_id
        return f"https://matrix.to/#/{user_id}" if user_id else None

    def room_for_text(self, delivery: Delivery) -> int:
        """A few kilobytes of text a message, less the options written under it."""
        options = options_text(delivery.buttons) if delivery.buttons else ""
        return TEXT_ROOM - len(options.encode()) - 2

    def text_size(self, text: str) -> int:
        return len(text.encode())

    def sent_with_options(self, event_id: str) -> bool:
        """Whether this process sent ``event_id`` lately, as a message with options."""
        return event_id in self._with_options

    async def send(self, delivery: Delivery) -> SendResult:
        try:
            if delivery.delete_ref is not None:
                return await self._redact(delivery.chat_id, delivery.delete_ref, delivery)
            if delivery.kind is ChatKind.GROUP:
                return await self._send_in(delivery.chat_id, delivery)
            return await self._send_privately(delivery)
        except (aiohttp.ClientError, TimeoutError) as problem:
            log.warning("outbox row %s not sent: %r", delivery.outbox_id, problem)
            return RetryLater(_backoff(delivery), "network")

    async def _send_privately(self, delivery: Delivery) -> SendResult:
        """In the member's private room; a new one when there is none or the bot is out."""
        user_id = delivery.chat_id
        room_id = await self._rooms.room_of(user_id)
        if room_id == LEFT:
            return Unreachable("the member left the private room")
        if room_id:
            result = await self._send_in(room_id, delivery)
            if result != Failed("M_FORBIDDEN") or delivery.edit_of is not None:
                return result
            await self._rooms.forget(room_id)
        if delivery.edit_of is not None:
            return Failed("the private room of the message to edit is gone")
        if not await self._rooms.may_open_for(delivery.member_id):
            return Failed("the member asked to be forgotten and has no private room left")
        opened = await self._rooms.open(user_id)
        if isinstance(opened, ErrorResponse):
            result = _refused(opened, delivery)
            return Unreachable(result.reason) if isinstance(result, Failed) else result
        return await self._send_in(opened, delivery)

    async def _send_in(self, room_id: str, delivery: Delivery) -> SendResult:
        text = as_bang_commands(delivery.text, self._commands)
        private = delivery.kind is ChatKind.PRIVATE
        content = notice_content(text, delivery.buttons, pills=private)
        tx_id = f"buurtbot-{delivery.outbox_id}"
        if delivery.part:
            tx_id = f"{tx_id}-part{delivery.part}"  # each part of a long text its own
        if delivery.edit_of is not None:
            if delivery.edit_message_ref is None:
                return Failed("the message to edit was never sent")
            content = edit_content(delivery.edit_message_ref, content)
            edited = await self._client.room_send(room_id, "m.room.message", content, tx_id)
            if not isinstance(edited, RoomSendResponse):
                return _refused(edited, delivery)
            return Sent(edited.event_id)
        sent = await self._client.room_send(room_id, "m.room.message", content, tx_id)
        if not isinstance(sent, RoomSendResponse):
            return _refused(sent, delivery)
        options = min(sum(len(row) for row in delivery.buttons), len(KEYCAPS))
        if options:
            self._with_options.append(sent.event_id)
        for number in range(1, options + 1):
            option = reaction_content(sent.event_id, keycap(number))
            added = await self._client.room_send(room_id, "m.reaction", option, f"{tx_id}-{number}")
            if not isinstance(added, RoomSendResponse):
                # Tried again later with the same transaction ids: nothing is doubled.
                return _refused(added, delivery)
        if delivery.attachment is not None:
            attached = await self._attach(room_id, delivery, f"{tx_id}-file")
            if attached is not None:
                return attached
        return Sent(sent.event_id)

    async def _redact(self, room_id: str, event_id: str, delivery: Delivery) -> SendResult:
        """Take a member's message out of a room; refused (M_FORBIDDEN) where the bot's
        power level is below the room's level for redacting what others wrote."""
        redacted = await self._client.room_redact(
            room_id, event_id, tx_id=f"buurtbot-{delivery.outbox_id}"
        )
        if isinstance(redacted, RoomRedactResponse):
            return Sent(None)
        return _refused(redacted, delivery)

    async def _attach(self, room_id: str, delivery: Delivery, tx_id: str) -> SendResult | None:
        """Upload a file and send it after its message; None when that went well."""
        assert delivery.attachment is not None
        name, data = delivery.attachment
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        uploaded, _ = await self._client.upload(
            io.BytesIO(data), content_type=kind, filename=name, filesize=len(data)
        )
        if not isinstance(uploaded, UploadResponse):
            return _refused(uploaded, delivery)
        content = {
            "msgtype": "m.file",
            "body": name,
            "filename": name,
            "url": uploaded.content_uri,
            "info": {"mimetype": kind, "size": len(data)},
        }
        sent = await self._client.room_send(room_id, "m.room.message", content, tx_id)
        return None if isinstance(sent, RoomSendResponse) else _refused(sent, delivery)


def _refused(error: ErrorResponse, delivery: Delivery) -> RetryLater | Failed:
    code = str(error.status_code or "")
    if code == "M_LIMIT_EXCEEDED":
        return RetryLater((error.retry_after_ms or 5000) / 1000, "rate limit")
    if code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
        return RetryLater(_backoff(delivery), "not logged in")  # sent once the login works
    status = getattr(error.transport_response, "status", None)
    if status is None or status >= 500:
        return RetryLater(_backoff(delivery), f"homeserver: {code} {error.message}")
    return Failed(code or str(error.message))


def _backoff(delivery: Delivery) -> float:
    return float(min(MAX_BACKOFF, 2 ** min(delivery.attempts, 10)))


# --- inbound ---------------------------------------------------------------------------------
class MatrixListener:
    """Syncs, and hands each event of a batch to the core in its own transaction."""

    def __init__(
        self,
        client: AsyncClient,
        bot: Bot,
        rooms: DirectRooms,
        channel: MatrixChannel,
        allowed: Allowed,
        languages: Sequence[str],
        health: Health | None = None,
    ) -> None:
        self._health = health
        self._client = client
        self._bot = bot
        self._rooms = rooms
        self._channel = channel
        self._allowed = allowed
        self._languages = languages  # for what the bot says before anyone is known
        self._inviters: dict[str, str] = {}

    @property
    def me(self) -> str:
        return str(self._client.user_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Sync until ``stop`` is set; a failing sync is tried again after a growing pause.

        When the database cannot be used, the sync token stays where it was (in the
        database and here): after a pause the same batch is synced again, and the events
        of it that were handled before the failure are recognised and not answered twice.
        """
        since = await self._bot.cursor(NEXT_BATCH)
        full_state = True  # a new process knows no rooms yet: their whole state, once
        failures = 0
        database_failures = 0
        while not stop.is_set():
            try:
                response = await until_stopped(self._sync(since, full_state), stop)
                if response is None or not await self.process(response, since, stop):
                    return
            except MatrixLoginError:
                raise
            except StoreUnavailable as problem:
                database_failures += 1
                delay = jittered_backoff(database_failures)
                log.warning(
                    "the database is unavailable (%s): the sync token stays, "
                    "the batch is synced again in %.1f s",
                    problem.reason,
                    delay,
                )
                if self._health is not None:
                    self._health.handling_paused(PLATFORM, problem.reason)
                await pause(delay, stop)
                continue
            except Exception as problem:
                failures += 1
                delay = sync_backoff(failures)
                if self._health is not None:
                    self._health.channel_down(PLATFORM, type(problem).__name__)
                if isinstance(problem, aiohttp.ClientError | TimeoutError | ConnectionError):
                    log.warning("Matrix sync failed (%r); again in %.0f s", problem, delay)
                else:
                    log.exception("a Matrix sync batch failed; again in %.0f s", delay)
                await pause(delay, stop)
                continue
            failures = 0
            if self._health is not None:
                self._health.channel_ok(PLATFORM)
            if database_failures:
                database_failures = 0
                log.info("the database is back: handling Matrix events again")
                if self._health is not None:
                    self._health.handling_resumed(PLATFORM)
            since, full_state = response.next_batch, False

    async def _sync(self, since: str | None, full_state: bool) -> SyncResponse:
        if since is None:
            response = await self._client.sync(timeout=0, sync_filter=FIRST_SYNC_FILTER)
        else:
            response = await self._client.sync(
                timeout=SYNC_TIMEOUT_MS,
                sync_filter=SYNC_FILTER,
                since=since,
                full_state=full_state,
            )
        if isinstance(response, SyncResponse):
            return response
        if response.status_code == "M_UNKNOWN_TOKEN":
            raise MatrixLoginError(f"the homeserver no longer knows the bot: {response.message}")
        raise ConnectionError(f"sync refused: {response.status_code} {response.message}")

    async def process(self, response: SyncResponse, since: str | None, stop: asyncio.Event) -> bool:
        """Handle one sync batch; False when stopped before its end."""
        for room_id, invited in response.rooms.invite.items():
            await self._answer_invite(room_id, invited.invite_state)
        for room_id in response.rooms.leave:
            await self._rooms.forget(room_id)
        events: list[InboundEvent] = []
        for room_id, joined in response.rooms.join.items():
            room = self._client.rooms.get(room_id)
            if room is None:
                continue
            if room.encrypted:
                await self._refuse_encrypted(room_id)
                continue
            timeline = await self._whole_timeline(room_id, joined.timeline, since)
            for event in self._since_invite(room_id, timeline):
                inbound = await self._translate(room, event)
                if inbound is not None:
                    events.append(inbound)
        if not events:
            await self._bot.set_cursor(NEXT_BATCH, response.next_batch)
            return True
        for number, event in enumerate(events, start=1):
            if stop.is_set():
                return False
            last = number == len(events)
            await self._bot.handle(
                event, cursor=(NEXT_BATCH, response.next_batch) if last else None
            )
        return True

    # --- rooms -----------------------------------------------------------------------------
    async def _answer_invite(self, room_id: str, state: Sequence[Any]) -> None:
        invite = next(
            (
                event
                for event in state
                if isinstance(event, InviteMemberEvent)
                and event.state_key == self.me
                and event.membership == "invite"
            ),
            None,
        )
        if invite is None:
            return
        inviter = str(invite.sender)
        if not self._allowed.permits(room_id, inviter):
            log.info("declined the invite of %s to %s: not an allowed room", inviter, room_id)
            await self._client.room_leave(room_id)
            return
        if invite.content.get("is_direct"):
            await self._rooms.remember(inviter, room_id)
        self._inviters[room_id] = inviter
        joined = await self._client.join(room_id)
        if isinstance(joined, JoinError):
            log.warning("could not join %s: %s", room_id, joined.message)

    async def _refuse_encrypted(self, room_id: str) -> None:
        """The bot cannot read an encrypted room: it says so, rather than seem to work,
        in every language, since it knows nobody there yet, and leaves."""
        text = "\n\n".join(
            self._bot.catalog.text(lang, "matrix.encrypted_room") for lang in self._languages
        )
        tx_id = f"buurtbot-encrypted-{room_id}"
        await self._client.room_send(room_id, "m.room.message", notice_content(text), tx_id)
        await self._client.room_leave(room_id)
        await self._rooms.forget(room_id)

    async def _whole_timeline(self, room_id: str, timeline: Any, since: str | None) -> list[Any]:
        """The batch's events in a room; a ``limited`` timeline is filled back to ``since``."""
        events = list(timeline.events)
        if not timeline.limited or since is None or not timeline.prev_batch:
            return events
        earlier: list[Any] = []  # newest first
        start = timeline.prev_batch
        while True:
            page = await self._client.room_messages(
                room_id,
                start=start,
                end=since,
                direction=MessageDirection.back,
                limit=BACKFILL_PAGE,
            )
            if not isinstance(page, RoomMessagesResponse):
                raise ConnectionError(f"/messages refused: {page.status_code} {page.message}")
            earlier += page.chunk
            if not page.chunk or not page.end or page.end == start:
                break
            start = page.end
        known = {event.event_id for event in events}
        gap = [event for event in reversed(earlier) if event.event_id not in known]
        if gap:
            log.info("filled a gap of %d events in %s", len(gap), room_id)
        return gap + events

    def _since_invite(self, room_id: str, timeline: list[Any]) -> list[Any]:
        """The events from the bot's latest invite on: what came before was not for it."""
        for index in range(len(timeline) - 1, -1, -1):
            event = timeline[index]
            if (
                isinstance(event, RoomMemberEvent)
                and event.state_key == self.me
                and event.membership == "invite"
            ):
                self._inviters[room_id] = event.sender
                return timeline[index + 1 :]
        return timeline

    # --- events ----------------------------------------------------------------------------
    async def _translate(self, room: MatrixRoom, event: Any) -> InboundEvent | None:
        if isinstance(event, RoomMemberEvent):
            return await self._membership(room, event)
        if event.sender == self.me:
            return None
        if isinstance(event, RoomMessageText):
            return await self._message(room, event)
        if isinstance(event, ReactionEvent) and (number := chosen_number(event.key)):
            chat = await self._chat(room, event.sender)
            sender = self._sender(room, event.sender)
            return await self._press(event.event_id, chat, sender, event.reacts_to, number)
        return None  # m.notice (other bots), images, redactions, state: not for the bot

    async def _message(self, room: MatrixRoom, event: RoomMessageText) -> InboundEvent | None:
        relates = event.source.get("content", {}).get("m.relates_to") or {}
        if relates.get("rel_type") == "m.replace":
            return None  # an edit of a message that was handled already
        chat = await self._chat(room, event.sender)
        sender = self._sender(room, event.sender)
        text = without_reply_fallback(event.body)
        replied_to = (relates.get("m.in_reply_to") or {}).get("event_id")
        if replied_to and (number := chosen_number(text)):
            press = await self._press(event.event_id, chat, sender, replied_to, number)
            if press is not None:
                return press
        return Message(event.event_id, chat, sender, text, message_ref=event.event_id)

    async def _press(
        self, event_id: str, chat: ChatRef, sender: Sender, message_ref: str, number: int
    ) -> ButtonPress | None:
        actions = await self._actions_of(message_ref)
        if not 1 <= number <= len(actions):
            return None
        return ButtonPress(event_id, chat, sender, actions[number - 1], message_ref)

    async def _actions_of(self, message_ref: str) -> list[str]:
        """The actions of a message's buttons. A member may answer a message before the
        outbox has recorded it as sent (its options are still being added): wait for that."""
        deadline = time.monotonic() + PRESS_WAIT
        actions = await self._bot.buttons_of(PLATFORM, message_ref)
        while not actions and self._channel.sent_with_options(message_ref):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
            actions = await self._bot.buttons_of(PLATFORM, message_ref)
        return actions

    async def _membership(self, room: MatrixRoom, event: RoomMemberEvent) -> InboundEvent | None:
        private = await self._rooms.member_of(room.room_id) is not None
        if event.state_key == self.me:
            if event.membership != "join" or event.prev_membership != "invite" or private:
                return None
            inviter = self._inviters.pop(room.room_id, None)
            if inviter is None:
                return None  # joined before a restart, and the invite is out of sight
            return BotAdded(event.event_id, self._group(room), self._sender(room, inviter))
        if event.membership not in ("leave", "ban"):
            return None
        if private:
            if event.prev_membership in ("join", "invite"):
                await self._rooms.forget(room.room_id, member_left=True)
                await self._client.room_leave(room.room_id)
            return None
        if event.prev_membership != "join":
            return None
        name = (event.prev_content or {}).get("displayname")
        return MemberLeft(
            event.event_id, self._group(room), self._sender(room, event.state_key, name)
        )

    async def _chat(self, room: MatrixRoom, sender: str) -> ChatRef:
        if await self._rooms.member_of(room.room_id) is not None:
            return ChatRef(PLATFORM, sender, ChatKind.PRIVATE)
        return self._group(room)

    @staticmethod
    def _group(room: MatrixRoom) -> ChatRef:
        return ChatRef(PLATFORM, room.room_id, ChatKind.GROUP, room.name or room.display_name)

    @staticmethod
    def _sender(room: MatrixRoom, user_id: str, name: str | None = None) -> Sender:
        display_name = name or room.user_name(user_id) or user_id[1:].partition(":")[0]
        return Sender(PLATFORM, user_id, display_name, handle=user_id)


# --- running ---------------------------------------------------------------------------------
async def until_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """The result of ``work``, or None when ``stop`` is set first (``work`` is cancelled)."""
    task = asyncio.ensure_future(work)
    halt = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, halt), return_when=asyncio.FIRST_COMPLETED)
    finally:
        halt.cancel()
        if not task.done():
            task.cancel()
    return task.result() if task.done() and not task.cancelled() else None


async def pause(seconds: float, stop: asyncio.Event) -> None:
    await until_stopped(asyncio.sleep(seconds), stop)


def sync_backoff(failures: int) -> float:
    """1, 2, 4 … seconds after each failure in a row, at most a minute."""
    return min(MAX_SYNC_BACKOFF, 2.0 ** min(failures - 1, 10))


def client_config() -> AsyncClientConfig:
    """nio waits out rate limits and lost connections itself, without end, unless told not
    to: the outbox sender and the sync loop decide when to try again."""
    return AsyncClientConfig(
        max_limit_exceeded=0, max_timeouts=0, encryption_enabled=False, request_timeout=30
    )


async def connect(
    settings: Settings, stop: asyncio.Event, health: Health | None = None
) -> AsyncClient | None:
    """A logged-in client; None when stopped while the homeserver could not be reached."""
    if not (settings.matrix_homeserver and settings.matrix_user):
        raise ValueError("BUURTBOT_MATRIX_HOMESERVER and BUURTBOT_MATRIX_USER are needed")
    client = AsyncClient(
        settings.matrix_homeserver,
        settings.matrix_user,
        device_id=DEVICE_ID,
        config=client_config(),
    )
    failures = 0
    try:
        while not stop.is_set():
            try:
                await _log_in(client, settings)
                return client
            except (aiohttp.ClientError, TimeoutError) as problem:
                failures += 1
                delay = sync_backoff(failures)
                log.warning(
                    "cannot reach %s (%r); again in %.0f s", client.homeserver, problem, delay
                )
                if health is not None:
                    health.channel_down(PLATFORM, f"cannot reach the homeserver: {problem!r}")
                await pause(delay, stop)
    except BaseException:
        await client.close()
        raise
    await client.close()
    return None


async def _log_in(client: AsyncClient, settings: Settings) -> None:
    if settings.matrix_access_token is not None:
        client.access_token = settings.matrix_access_token.get_secret_value()
        who = await client.whoami()
        if not isinstance(who, WhoamiResponse):
            raise MatrixLoginError(f"the access token was refused: {who.status_code} {who.message}")
        client.restore_login(who.user_id, who.device_id or DEVICE_ID, client.access_token)
        return
    if settings.matrix_password is None:
        raise ValueError("BUURTBOT_MATRIX_PASSWORD or BUURTBOT_MATRIX_ACCESS_TOKEN is needed")
    answer = await client.login(settings.matrix_password.get_secret_value(), "Buurtbot")
    if not isinstance(answer, LoginResponse):
        raise MatrixLoginError(f"the password was refused: {answer.status_code} {answer.message}")


async def run_matrix(
    runtime: Runtime, settings: Settings, stop: asyncio.Event, *, limits: RateLimits = MATRIX_LIMITS
) -> None:
    """Serve Matrix until ``stop`` is set; then finish the event under way and return.

    ``limits`` pace the outbox; tests that need no pacing pass ``RateLimits.unlimited()``.
    """
    client = await connect(settings, stop, runtime.health)
    if client is None:
        return
    bot = runtime.bot
    rooms = DirectRooms(bot, client)
    channel = MatrixChannel(client, rooms, bot.registry.names(), limits)
    if (link := channel.private_chat_link()) is not None:
        bot.private_links[PLATFORM] = link
    first = bot.config.community.language
    languages = [first, *(lang for lang in bot.catalog.languages if lang != first)]
    allowed = Allowed.parse(settings.matrix_allowed, server_of(client.user_id))
    runtime.health.expect_channel(PLATFORM)
    listener = MatrixListener(client, bot, rooms, channel, allowed, languages, runtime.health)
    log.info("Matrix: %s listens on %s", client.user_id, client.homeserver)
    try:
        async with runtime.delivering(channel):
            await listener.run(stop)
    finally:
        await client.close()
    log.info("Matrix: stopped")


__all__ = [
    "MATRIX_LIMITS",
    "Allowed",
    "DirectRooms",
    "MatrixChannel",
    "MatrixListener",
    "MatrixLoginError",
    "run_matrix",
]
