"""A neighbourhood at work: a realistic mix of events, made up as people would react.

``Mix`` plays many residents of one community with one group chat. Each next event is
chosen by weight (asking, offering, accepting a proposal, announcing a table, taking a
seat, ``/mijn``) and the answers people give to the bot's questions follow from what the
bot actually sent them: ``RecordingChannel`` keeps the buttons of every delivered message,
and a resident presses one of those, as on a phone. Everything is seeded: the same seed
gives the same events for the same answers of the bot.
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.bootstrap import Runtime, bootstrap
from adapters.settings import Settings
from bot.clock import FakeClock
from bot.outbox import OutboxSender
from bot.ports import RateLimits, SendResult, Sent
from bot.types import ButtonPress, ChatKind, ChatRef, Delivery, InboundEvent, Message, Sender

PLATFORM = "telegram"
GROUP = ChatRef(PLATFORM, "-1001000000001", ChatKind.GROUP, "Buurt Middelland")
# Monday 23 November 2026, 09:00 in Amsterdam
MONDAY_MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))

CATEGORIES = ("boodschappen", "gezelschap", "vervoer", "klusje", "maaltijd")
WHENS = ("morgen 14:00", "donderdagmiddag", "za 10:00", "morgen middag", "vrijdag ochtend")
WHATS = (
    "melk en brood",
    "even een kop koffie samen",
    "naar het ziekenhuis",
    "lamp ophangen",
    "soep voor twee dagen",
)
DAYS = ("ma-vr", "za zo", "elke dag", "weekend", "doordeweeks")
PARTS = ("ochtend", "middag", "avond", "")
POSTCODES = ("3021", "3022", "3023", "3024", "")
TABLES = (
    "/tafel do 18:00 Wijkpaleis, 8 plaatsen, € 3, stamppot, vegetarisch halal",
    "/tafel vr 17:30 Buurttuin Middelland, 12 plaatsen, vrije gift, soep en brood, veganistisch",
    "/tafel za 18:00 Huiskamer Snellemanstraat, 6 plaatsen, € 2, couscous, halal",
)
# How often each kind of event starts, per hundred.
WEIGHTS = {"ask": 16, "offer": 12, "accept": 18, "table": 3, "join": 18, "mine": 18, "other": 15}


@dataclass
class Shown:
    ref: str
    actions: tuple[str, ...]


@dataclass
class RecordingChannel:
    """Delivers by remembering: what was sent, and the buttons people can press now."""

    platform: str = PLATFORM
    limits: RateLimits = field(default_factory=RateLimits.unlimited)
    sent: int = 0
    edits: int = 0
    _shown: dict[str, deque[Shown]] = field(default_factory=lambda: defaultdict(deque))
    proposals: deque[tuple[str, str, str]] = field(default_factory=deque)  # chat, ref, id
    seat_posts: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=6))

    async def send(self, delivery: Delivery) -> SendResult:
        if delivery.edit_of is not None:
            self.edits += 1
            for shown in self._shown[delivery.chat_id]:
                if shown.ref == delivery.edit_message_ref:
                    shown.actions = tuple(b.action for row in delivery.buttons for b in row)
            return Sent(delivery.edit_message_ref)
        self.sent += 1
        ref = f"m{delivery.outbox_id}"
        actions = tuple(b.action for row in delivery.buttons for b in row)
        if actions:
            recent = self._shown[delivery.chat_id]
            recent.append(Shown(ref, actions))
            if len(recent) > 12:
                recent.popleft()
            for action in actions:
                if action.startswith("acc:"):
                    self.proposals.append((delivery.chat_id, ref, action.partition(":")[2]))
                elif action.startswith("seat:") and delivery.kind is ChatKind.GROUP:
                    self.seat_posts.append((ref, action))
        return Sent(ref)

    def private_chat_link(self) -> str | None:
        return None

    def room_for_text(self, delivery: Delivery) -> int:
        return 4096

    def text_size(self, text: str) -> int:
        return len(text)

    def newest(self, chat_id: str, *prefixes: str) -> tuple[str, str] | None:
        """(message ref, action) of the newest button in the chat starting with a prefix."""
        for shown in reversed(self._shown.get(chat_id, ())):
            for action in shown.actions:
                if action.startswith(prefixes):
                    return shown.ref, action
        return None


@dataclass
class Mix:
    """The next event of a busy neighbourhood, one at a time."""

    channel: RecordingChannel
    residents: int = 2000
    seed: int = 7
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _numbers: int = 800_000_000
    _pending: deque[tuple[Sender, tuple[str, ...]]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.people = [
            Sender(PLATFORM, str(100_000 + n), f"Buur {n}", f"@buur{n}", "nl")
            for n in range(self.residents)
        ]
        self._by_id = {p.user_id: p for p in self.people}

    # --- events ---------------------------------------------------------------------------
    def _id(self) -> str:
        self._numbers += 1
        return str(self._numbers)

    def say(self, who: Sender, text: str, *, group: bool = False) -> Message:
        chat = GROUP if group else ChatRef(PLATFORM, who.user_id, ChatKind.PRIVATE)
        return Message(self._id(), chat, who, text)

    def press(self, who: Sender, ref: str, action: str, *, group: bool = False) -> ButtonPress:
        chat = GROUP if group else ChatRef(PLATFORM, who.user_id, ChatKind.PRIVATE)
        return ButtonPress(self._id(), chat, who, action, ref)

    def someone(self) -> Sender:
        return self.random.choice(self.people)

    def offer(self, who: Sender | None = None) -> Message:
        pick = self.random
        kinds = " ".join(pick.sample(CATEGORIES, pick.randint(1, 2)))
        words = [kinds, pick.choice(DAYS), pick.choice(PARTS), pick.choice(POSTCODES)]
        return self.say(who or self.someone(), "/aanbod " + " ".join(w for w in words if w))

    def next_event(self) -> InboundEvent:
        """Half the time someone answers the bot's last question, if anyone has one."""
        if self._pending and self.random.random() < 0.5:
            answered = self._answer()
            if answered is not None:
                return answered
        kinds, weights = zip(*WEIGHTS.items(), strict=True)
        kind = self.random.choices(kinds, weights)[0]
        event = getattr(self, f"_{kind}")()
        if event is None:  # nothing to accept or join yet
            kind, event = "mine", self._mine()
        self.counts[kind] += 1
        assert isinstance(event, Message | ButtonPress)
        return event

    def _answer(self) -> InboundEvent | None:
        who, prefixes = self._pending.popleft()
        found = self.channel.newest(who.user_id, *prefixes)
        if found is None:
            return None
        ref, action = found
        if action.startswith("ask:adv"):
            self._pending.append((who, ("ask:vis",)))
            action = self.random.choice(("ask:adv:0", "ask:adv:1"))
        elif action.startswith("ask:vis"):
            action = "ask:vis:" + self.random.choice(("named", "anonymous", "helpers"))
        elif action.startswith(("plus:", "diet:")):
            seat = found[1].split(":")[1]
            action = self.random.choice((f"plus:{seat}:0", f"plus:{seat}:1", f"diet:{seat}"))
        self.counts["answer"] += 1
        return self.press(who, ref, action)

    def _ask(self) -> Message:
        who, pick = self.someone(), self.random
        text = f"/vraag {pick.choice(CATEGORIES)} {pick.choice(WHENS)} {pick.choice(WHATS)}"
        self._pending.append((who, ("ask:adv", "ask:vis")))
        return self.say(who, text)

    def _offer(self) -> Message:
        return self.offer()

    def _accept(self) -> ButtonPress | None:
        if not self.channel.proposals:
            return None
        chat_id, ref, request = self.channel.proposals.popleft()
        who = self._by_id[chat_id]
        verb = "acc" if self.random.random() < 0.75 else "dec"
        return self.press(who, ref, f"{verb}:{request}")

    def _table(self) -> Message:
        return self.say(self.someone(), self.random.choice(TABLES))

    def _join(self) -> ButtonPress | None:
        if not self.channel.seat_posts:
            return None
        ref, action = self.random.choice(self.channel.seat_posts)
        who = self.someone()
        self._pending.append((who, ("plus:", "diet:")))
        return self.press(who, ref, action, group=True)

    def _mine(self) -> Message:
        return self.say(self.someone(), "/mijn")

    def _other(self) -> Message:
        """What else people say to the bot: help, and group chatter it leaves alone."""
        who = self.someone()
        if self.random.random() < 0.3:
            return self.say(who, "/help")
        return self.say(who, "Weet iemand of de markt morgen doorgaat?", group=True)


@dataclass
class Neighbourhood:
    """The bot on a SQLite file, with a recording channel and a clock moved by hand."""

    runtime: Runtime
    channel: RecordingChannel
    sender: OutboxSender
    clock: FakeClock
    mix: Mix

    @classmethod
    async def open(
        cls, folder: Path, *, residents: int = 2000, seed: int = 7, **settings: Any
    ) -> Neighbourhood:
        clock = FakeClock(MONDAY_MORNING)
        config = Settings.model_validate(
            {
                "database_url": f"sqlite:///{folder / 'bench.db'}",
                "house_rules_required": False,
                **settings,
            }
        )
        runtime = await bootstrap(config, clock=clock)
        channel = RecordingChannel()
        sender = runtime.sender_for(channel)
        await runtime.bot.register_group(GROUP)
        return cls(runtime, channel, sender, clock, Mix(channel, residents, seed))

    async def step(self, event: InboundEvent, *, tick: timedelta) -> None:
        """One event handled and its replies delivered, as one unit of work."""
        self.clock.advance(tick)
        await self.runtime.bot.handle(event)
        await self.sender.drain()

    async def warm_up(self, helpers: int, events: int, *, tick: timedelta) -> None:
        """Residents who offer help, and some life in the group, before measuring."""
        for who in self.mix.people[:helpers]:
            await self.step(self.mix.offer(who), tick=tick)
        for _ in range(events):
            await self.step(self.mix.next_event(), tick=tick)
        self.mix.counts.clear()

    async def close(self) -> None:
        await self.runtime.close()
