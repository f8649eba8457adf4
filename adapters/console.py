"""The console channel: try the bot in a terminal, and write scenarios as transcripts.

Input lines (see DESIGN.md):
    # a comment
    @at 2026-11-23 09:00        set the virtual clock (before the first message)
    @wait 2h                    advance the virtual clock; work that falls due runs
    @organiser anna             make anna an organiser of the community
    @may-delete no              the bot may not remove messages in the group (default yes)
    fatima: /vraag ...          fatima writes in the neighbourhood group
    fatima (dm): /vraag ...     fatima writes to the bot privately
    kees (dm): [Ik help]        kees presses that button on the newest message carrying it
Output lines:
    buurtbot -> group: <text>
    buurtbot -> fatima (dm): <text>
      [Label one] [Label two]
    buurtbot removed from group: fatima: /vraag ...   fatima's message taken out of the group
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.retry import jittered_backoff
from bot.app import Bot
from bot.clock import FakeClock
from bot.errors import StoreUnavailable
from bot.outbox import OutboxSender
from bot.ports import Failed, RateLimits, SendResult, Sent
from bot.types import (
    Button,
    ButtonPress,
    ChatKind,
    ChatRef,
    Delivery,
    InboundEvent,
    Message,
    Sender,
)

PLATFORM = "console"
GROUP_ID = "group"
LINE = re.compile(r"^(?P<name>[\w.-]+)(?P<dm> \(dm\))?:\s?(?P<text>.*)$")
PRESS = re.compile(r"^\[(?P<label>.+)\]$")
WAIT = re.compile(r"^(?P<amount>\d+)\s*(?P<unit>[mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
# Characters in one message: as on Telegram, so that a script shows the parts a long text
# goes out in there.
TEXT_ROOM = 4096


@dataclass
class _Shown:
    ref: str
    chat: str  # "group" or a member's name
    buttons: tuple[tuple[Button, ...], ...]
    text: str = ""  # as it reads now: an edit changes it


@dataclass
class ConsoleChannel:
    """Prints deliveries in the transcript format and remembers their buttons."""

    write: Callable[[str], None]
    platform: str = PLATFORM
    limits: RateLimits = field(default_factory=RateLimits.unlimited)
    shown: list[_Shown] = field(default_factory=list)
    may_delete: bool = True  # like a bot that is an admin of the group
    written: dict[str, str] = field(default_factory=dict)  # message ref -> "name: text"

    async def send(self, delivery: Delivery) -> SendResult:
        if delivery.delete_ref is not None:
            if not self.may_delete:
                return Failed("not allowed to delete messages in this group")
            removed = self.written.pop(delivery.delete_ref, None)
            if removed is not None:
                self.write(f"buurtbot removed from group: {removed}")
            return Sent(None)
        ref = str(delivery.outbox_id)
        if delivery.part < delivery.parts - 1:
            ref = f"{ref}.{delivery.part + 1}"  # the last part, with the buttons, is the row's
        if delivery.edit_of is not None:
            # Edits are not printed; the old message simply loses its buttons.
            for shown in self.shown:
                if shown.ref == delivery.edit_message_ref:
                    shown.buttons = delivery.buttons
                    shown.text = delivery.text
            return Sent(delivery.edit_message_ref)
        chat = GROUP_ID if delivery.kind is ChatKind.GROUP else delivery.chat_id
        target = "group" if chat == GROUP_ID else f"{chat} (dm)"
        first, *rest = delivery.text.split("\n")
        self.write(f"buurtbot -> {target}: {first}")
        for line in rest:
            self.write(f"  {line}" if line else "")
        if delivery.attachment is not None:
            self.write(f"  📎 {delivery.attachment[0]}")
        for row in delivery.buttons:
            self.write("  " + " ".join(f"[{b.label}]" for b in row))
        self.shown.append(_Shown(ref, chat, delivery.buttons, delivery.text))
        return Sent(ref)

    def private_chat_link(self) -> str | None:
        return None

    def room_for_text(self, delivery: Delivery) -> int:
        return TEXT_ROOM

    def text_size(self, text: str) -> int:
        return len(text)

    def find_button(self, chat: str, label: str) -> tuple[str, str] | None:
        """(action, message ref) of the newest message in ``chat`` with that button."""
        wanted = label.strip().casefold()
        for shown in reversed(self.shown):
            if shown.chat != chat:
                continue
            for row in shown.buttons:
                for button in row:
                    if button.label.casefold() == wanted:
                        return button.action, shown.ref
        return None


# Called on @wait with the moment the clock moves to; a hook may stop the clock on the way
# (at each due moment, say) and run what falls due there.
TimeHook = Callable[[datetime], Awaitable[None]]


@dataclass
class ConsoleSession:
    """Feeds transcript lines to the bot and prints what it says back."""

    bot: Bot
    channel: ConsoleChannel
    sender: OutboxSender
    clock: FakeClock
    run_id: str
    group_title: str = "Buurt"
    timezone: str = "Europe/Amsterdam"
    on_time_moved: list[TimeHook] = field(default_factory=list)
    echo: bool = True
    _count: int = 0
    _spoken: bool = False

    async def open(self) -> None:
        """The console's one group chat exists from the start."""
        await self.bot.register_group(self._group())

    async def feed(self, line: str) -> None:
        line = line.rstrip()
        if not line.strip():
            return
        if self.echo:
            self.channel.write(line)
        if line.startswith("#"):
            return
        if line.startswith("@"):
            await self._directive(line)
        else:
            await self._speak(line)
        # What a delivery sets off (a notice that a message stayed) comes out with it.
        while await self.sender.drain():
            pass

    async def _directive(self, line: str) -> None:
        word, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        if word == "at":
            if self._spoken:
                self._note("console.at_too_late")
                return
            try:
                moment = datetime.strptime(rest, "%Y-%m-%d %H:%M")
            except ValueError:
                self._note("console.bad_at")
                return
            self.clock.set(moment.replace(tzinfo=ZoneInfo(self.timezone)))
        elif word == "wait":
            match = WAIT.match(rest)
            if not match:
                self._note("console.bad_wait")
                return
            target = self.clock.now() + timedelta(**{UNITS[match["unit"]]: int(match["amount"])})
            for hook in self.on_time_moved:
                await hook(target)
            self.clock.set(target)
        elif word == "may-delete":
            if rest.lower() not in ("yes", "no"):
                self._note("console.bad_may_delete")
                return
            self.channel.may_delete = rest.lower() == "yes"
        elif word == "organiser":
            name = rest.lower()
            if not name:
                self._note("console.bad_organiser")
                return
            await self.bot.appoint_organiser(self._group(), self._sender(name))
        else:
            self._note("console.unknown_directive")

    async def _speak(self, line: str) -> None:
        match = LINE.match(line)
        if not match:
            self._note("console.bad_line")
            return
        self._spoken = True
        name = match["name"].lower()
        chat = ChatRef(PLATFORM, name, ChatKind.PRIVATE) if match["dm"] else self._group()
        text = match["text"]
        self._count += 1
        event_id = f"{self.run_id}-{self._count}"
        pressed = PRESS.match(text.strip())
        if pressed:
            found = self.channel.find_button(chat.chat_id, pressed["label"])
            if found is None:
                self._note("console.no_button", label=pressed["label"])
                return
            action, ref = found
            event: InboundEvent = ButtonPress(event_id, chat, self._sender(name), action, ref)
        else:
            if chat.kind is ChatKind.GROUP:
                self.channel.written[event_id] = f"{name}: {text}"
            event = Message(event_id, chat, self._sender(name), text, message_ref=event_id)
        await self.handle(event)

    async def handle(self, event: InboundEvent) -> None:
        """Hand the line to the core; while the database cannot be used, try again after a
        growing pause (the line is kept until it was handled)."""
        failures = 0
        while True:
            try:
                await self.bot.handle(event)
                return
            except StoreUnavailable:
                failures += 1
                if failures == 1:
                    self._note("console.database_away")
                await asyncio.sleep(jittered_backoff(failures))

    def _group(self) -> ChatRef:
        return ChatRef(PLATFORM, GROUP_ID, ChatKind.GROUP, self.group_title)

    @staticmethod
    def _sender(name: str) -> Sender:
        return Sender(PLATFORM, name, name.capitalize(), handle=f"@{name}")

    def _note(self, key: str, **params: object) -> None:
        self.channel.write(
            "! " + self.bot.catalog.text(self.bot.config.community.language, key, **params)
        )
