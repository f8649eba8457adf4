"""One contract every channel keeps: the console, Telegram and Matrix.

Each case runs once per channel. The ``channel`` fixture starts the bot on that channel, as
the service does (the real python-telegram-bot against ``tests.botapi.BotApiServer``, real
matrix-nio against the test Synapse, the console session), with a neighbourhood group and two
residents, Fatima and Kees, and yields a driver: the same few verbs on every channel.
Residents are named in lower case ("fatima"); commands are written with "/" and become "!"
on Matrix, as residents there type them.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest
from nio import RoomRedactResponse
from sqlalchemy import text as sql

from adapters.bootstrap import bootstrap
from adapters.console import GROUP_ID as CONSOLE_GROUP
from adapters.console import PLATFORM as CONSOLE
from adapters.console import TEXT_ROOM as CONSOLE_TEXT_ROOM
from adapters.matrix import NEXT_BATCH, run_matrix
from adapters.matrix import TEXT_ROOM as MATRIX_TEXT_ROOM
from adapters.telegram import TEXT_LIMIT as TELEGRAM_TEXT_LIMIT
from adapters.telegram import utf16_units
from bot.errors import StoreUnavailable
from bot.model import Category, NewRequest, Visibility
from bot.types import ChatKind, ChatRef, InboundEvent, Message, Sender
from tests.botapi import BotApiServer, Chat, User
from tests.conftest import MONDAY_MORNING, Transcript, make_transcript
from tests.test_failsafe import fresh_database

# Fixtures shared with the per-channel tests: PostgreSQL of the module's own, the Bot API
# server with Fatima, Kees and their group.
from tests.test_failsafe import postgres as postgres
from tests.test_matrix import CATALOG, FAST, WELCOME, Neighbourhood, Resident, neighbourhood_of
from tests.test_telegram import Buurtbot, RunningClock, press, settings_for
from tests.test_telegram import fatima as fatima
from tests.test_telegram import group as group
from tests.test_telegram import kees as kees
from tests.test_telegram import retry_after_as_timedelta as retry_after_as_timedelta
from tests.test_telegram import server as server

if TYPE_CHECKING:
    from adapters.bootstrap import Runtime
    from tests.pgserver import PostgresServer
    from tests.synapse import MatrixUsers, SynapseServer

pytest_plugins = ["tests.synapse"]

OUTAGE_SECONDS = 3.0
HANG = 60.0

CHANNELS = ["console", "telegram", "matrix"]
RESIDENTS = ("fatima", "kees")
KEYCAP = re.compile(r"(\d)\ufe0f\u20e3 ")


def nl(key: str, /, **params: object) -> str:
    """A Dutch catalog text up to its first placeholder left open."""
    return CATALOG.text("nl", key, **params).split("{", 1)[0]


class Driver(Protocol):
    """What a test does on a channel, and what it reads back."""

    name: str

    async def send(self, who: str, text: str, *, private: bool = True) -> None:
        """``who`` writes ``text`` in their private chat with the bot (or in the group)."""

    async def press(self, who: str, label: str) -> None:
        """``who`` presses the newest button ``label`` in their private chat."""

    def received(self, who: str) -> list[str]:
        """Every message the bot sent ``who`` in private (or the "group"), oldest first."""

    def buttons(self, who: str) -> list[str]:
        """The labels of every button still offered in ``who``'s private chat."""

    def address(self, who: str) -> str:
        """How others reach ``who`` on this channel, as the bot writes it."""

    async def redeliver_last(self) -> None:
        """The platform delivers the last message or press once more."""

    async def leave(self, who: str) -> None:
        """``who`` can no longer be written to in private (blocked the bot, left the room)."""

    async def come_back(self, who: str) -> None:
        """``who`` opens a private chat with the bot again, once the bot found her away."""

    async def throttle(self) -> None:
        """The platform starts refusing the bot's messages as too many (429)."""

    async def wait_until(self, found: Callable[[], bool], what: str) -> None:
        """Until ``found()`` holds, letting the platform and the bot do their work."""

    @property
    def runtime(self) -> Runtime:
        """The bot as it runs now: its store and clock."""

    def user_id(self, who: str) -> str:
        """The platform's id of ``who``."""

    def shown(self, who: str) -> list[str]:
        """The bot's messages in ``who``'s private chat as they read now, after edits."""

    def fits(self, text: str) -> bool:
        """Whether one message of the bot as shown is within the platform's limit."""

    async def refuse_after_one(self) -> None:
        """The platform takes one more message, then refuses some as too many."""

    async def take_away(self, who: str, text: str) -> None:
        """``who`` removes the bot's message with ``text`` from their private chat."""


async def reply_with(driver: Driver, who: str, text: str, *, after: int = 0) -> str:
    """The first message to ``who`` from number ``after`` on that contains ``text``."""

    def match() -> str | None:
        return next((t for t in driver.received(who)[after:] if text in t), None)

    await driver.wait_until(lambda: match() is not None, f"{who} to get {text!r}")
    return match() or ""


# --- the console ---------------------------------------------------------------------------
@dataclass
class ConsoleDriver:
    transcript: Transcript
    name: str = "console"
    last: InboundEvent | None = None
    count: int = 0

    async def send(self, who: str, text: str, *, private: bool = True) -> None:
        session = self.transcript.session
        chat = (
            ChatRef(CONSOLE, who, ChatKind.PRIVATE)
            if private
            else ChatRef(CONSOLE, CONSOLE_GROUP, ChatKind.GROUP, session.group_title)
        )
        event_id = self._next_id()
        sender = Sender(CONSOLE, who, who.capitalize(), handle=f"@{who}")
        await self._deliver(Message(event_id, chat, sender, text, message_ref=event_id))

    async def press(self, who: str, label: str) -> None:
        await self._deliver(self.transcript.press(who, label, self._next_id()))

    def received(self, who: str) -> list[str]:
        return self.transcript.to(who)

    async def leave(self, who: str) -> None:
        raise NotImplementedError("everyone on the console can be written to")

    async def come_back(self, who: str) -> None:
        raise NotImplementedError("everyone on the console can be written to")

    async def throttle(self) -> None:
        raise NotImplementedError("the console takes every line")

    def buttons(self, who: str) -> list[str]:
        shown = self.transcript.session.channel.shown
        return [b.label for s in shown if s.chat == who for row in s.buttons for b in row]

    def address(self, who: str) -> str:
        return f"@{who}"

    async def redeliver_last(self) -> None:
        assert self.last is not None
        await self._deliver(self.last)

    async def wait_until(self, found: Callable[[], bool], what: str) -> None:
        # The console answers before ``send`` returns: there is nothing to wait for.
        assert found(), f"the console did not show {what}"

    @property
    def runtime(self) -> Runtime:
        return self.transcript.runtime

    def user_id(self, who: str) -> str:
        return who

    def shown(self, who: str) -> list[str]:
        return [s.text for s in self.transcript.session.channel.shown if s.chat == who]

    def fits(self, text: str) -> bool:
        return 0 < len(text) <= CONSOLE_TEXT_ROOM

    async def refuse_after_one(self) -> None:
        raise NotImplementedError("the console takes every line")

    async def take_away(self, who: str, text: str) -> None:
        raise NotImplementedError("nothing printed on the console can be taken away")

    def _next_id(self) -> str:
        self.count += 1
        return f"contract-{self.count}"

    async def _deliver(self, event: InboundEvent) -> None:
        self.last = event
        await self.transcript.session.handle(event)
        while await self.transcript.session.sender.drain():
            pass


# --- Telegram ------------------------------------------------------------------------------
@dataclass
class TelegramDriver:
    server: BotApiServer
    runtime: Runtime
    group: Chat
    users: dict[str, User]
    name: str = "telegram"
    last: int | None = None

    async def send(self, who: str, text: str, *, private: bool = True) -> None:
        user = self.users[who]
        self.last = self.server.send_text(user if private else self.group, user, text)

    async def press(self, who: str, label: str) -> None:
        user = self.users[who]
        offering = [
            sent
            for sent in self.server.sent_to(user)
            if any(label in row for row in self.server.message(user, sent.message_id).labels)
        ]
        assert offering, f"no button [{label}] for {who}"
        self.last = await press(self.runtime, self.server, user, offering[-1], label)

    def received(self, who: str) -> list[str]:
        chat = self.group if who == "group" else self.users[who]
        return [sent.text or "" for sent in self.server.sent_to(chat)]

    async def leave(self, who: str) -> None:
        self.server.block_private(self.users[who])

    async def come_back(self, who: str) -> None:
        user = self.users[who]

        def refused() -> bool:
            return any(
                call.status == 403 and call.params.get("chat_id") in (user.id, str(user.id))
                for call in self.server.calls("sendMessage")
            )

        await self.server.wait_for(refused, what=f"a message to {who} to be refused")
        self.last = self.server.send_text(user, user, "/start")

    async def throttle(self) -> None:
        self.server.force_429(2, retry_after=1, method="sendMessage")

    def buttons(self, who: str) -> list[str]:
        user = self.users[who]
        return [
            label
            for message in self.server.messages_in(user)
            for row in message.labels
            for label in row
        ]

    def address(self, who: str) -> str:
        return f"@{self.users[who].username}"

    async def redeliver_last(self) -> None:
        assert self.last is not None
        self.server.redeliver(self.last)
        await self.server.wait_confirmed(self.last)

    async def wait_until(self, found: Callable[[], bool], what: str) -> None:
        await self.server.wait_for(found, what=what)

    def user_id(self, who: str) -> str:
        return str(self.users[who].id)

    def shown(self, who: str) -> list[str]:
        messages = sorted(self.server.messages_in(self.users[who]), key=lambda m: m.message_id)
        return [message.text or "" for message in messages]

    def fits(self, text: str) -> bool:
        return 0 < utf16_units(text) <= TELEGRAM_TEXT_LIMIT

    async def refuse_after_one(self) -> None:
        self.server.force_429(2, retry_after=1, method="sendMessage", after=1)

    async def take_away(self, who: str, text: str) -> None:
        user = self.users[who]
        message = next(m for m in self.server.messages_in(user) if text in (m.text or ""))
        self.server.member_deletes(user, message.message_id)


# --- Matrix --------------------------------------------------------------------------------
@dataclass
class MatrixDriver:
    hood: Neighbourhood
    residents: dict[str, Resident]
    private_rooms: dict[str, str]
    group: str
    name: str = "matrix"
    # The bot's sync token from before the last message or reaction: synced from there
    # again, the homeserver hands the bot that event once more.
    before_last: str | None = None

    async def send(self, who: str, text: str, *, private: bool = True) -> None:
        if text.startswith("/"):
            text = "!" + text[1:]
        resident = self.residents[who]
        await self._note_token()
        await resident.say(self.private_rooms[who] if private else self.group, text)

    async def press(self, who: str, label: str) -> None:
        resident = self.residents[who]
        for notice in reversed(resident.notices):
            if notice.room_id != self.private_rooms[who]:
                continue
            for key, shown in self._options(self._now(resident, notice.event_id, notice.body)):
                if shown == label:
                    await self._note_token()
                    await resident.react(notice, f"{key}\ufe0f\u20e3")
                    return
        raise AssertionError(f"no button [{label}] for {who}")

    def received(self, who: str) -> list[str]:
        if who == "group":
            resident, room = self.residents["fatima"], self.group
        else:
            resident, room = self.residents[who], self.private_rooms[who]
        return [n.body for n in resident.notices if n.room_id == room]

    async def leave(self, who: str) -> None:
        resident = self.residents[who]
        await resident.client.room_leave(self.private_rooms[who])

    async def come_back(self, who: str) -> None:
        resident = self.residents[who]
        self.private_rooms[who] = await resident.open_direct_room()
        await self.send(who, "Hallo")

    async def throttle(self) -> None:
        # One message a second, after a burst of one: what a normal account gets, and less.
        await asyncio.to_thread(
            self.hood.server.override_ratelimit,
            self.hood.bot.user_id,
            messages_per_second=1,
            burst_count=1,
        )

    def buttons(self, who: str) -> list[str]:
        resident = self.residents[who]
        room = self.private_rooms[who]
        return [
            label
            for notice in resident.notices
            if notice.room_id == room
            for _, label in self._options(self._now(resident, notice.event_id, notice.body))
        ]

    def address(self, who: str) -> str:
        return self.residents[who].user_id

    async def redeliver_last(self) -> None:
        """A restart from the sync token before the last event: as when the bot stopped
        before it could store that it had handled it."""
        assert self.before_last is not None
        bot = self.hood.bot
        await bot.stop_gracefully()
        runtime = await bootstrap(bot.settings, clock=bot.clock)
        await runtime.bot.set_cursor(NEXT_BATCH, self.before_last)
        bot.runtime, bot.stop = runtime, asyncio.Event()
        bot.task = asyncio.create_task(run_matrix(runtime, bot.settings, bot.stop, limits=FAST))

    async def wait_until(self, found: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + 30
        while not found():
            self.hood.bot.check()
            if time.monotonic() > deadline:
                raise AssertionError(f"waited in vain for {what}")
            await asyncio.gather(*(r.sync(0.5) for r in self.residents.values()))

    @property
    def runtime(self) -> Runtime:
        assert self.hood.bot.runtime is not None
        return self.hood.bot.runtime

    def user_id(self, who: str) -> str:
        return self.residents[who].user_id

    def shown(self, who: str) -> list[str]:
        resident = self.residents[who]
        room = self.private_rooms[who]
        return [
            self._now(resident, n.event_id, n.body) for n in resident.notices if n.room_id == room
        ]

    def fits(self, text: str) -> bool:
        return 0 < len(text.encode()) <= MATRIX_TEXT_ROOM

    async def refuse_after_one(self) -> None:
        await self.throttle()

    async def take_away(self, who: str, text: str) -> None:
        resident = self.residents[who]
        room = self.private_rooms[who]
        notice = next(n for n in resident.notices if n.room_id == room and text in n.body)
        removed = await resident.client.room_redact(room, notice.event_id)
        assert isinstance(removed, RoomRedactResponse), removed

    async def _note_token(self) -> None:
        assert self.hood.bot.runtime is not None
        try:
            self.before_last = await self.hood.bot.runtime.bot.cursor(NEXT_BATCH)
        except StoreUnavailable:
            self.before_last = None  # the database is away: nothing to redeliver from

    @staticmethod
    def _now(resident: Resident, event_id: str, body: str) -> str:
        edits = resident.edits.get(event_id)
        return edits[-1] if edits else body

    @staticmethod
    def _options(body: str) -> list[tuple[str, str]]:
        """(number, label) of the numbered options under a message's text."""
        last = body.rpartition("\n\n")[2]
        parts = KEYCAP.split(last)
        if len(parts) < 3 or parts[0].strip():
            return []
        return [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]


# --- the fixtures --------------------------------------------------------------------------
@pytest.fixture(params=CHANNELS)
def channel(request: pytest.FixtureRequest) -> Driver:
    """The bot on one channel, in a neighbourhood group with Fatima and Kees in it."""
    driver: Driver = request.getfixturevalue(f"{request.param}_channel")
    return driver


@pytest.fixture
async def bot_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file; or, asked for with ``indirect``, a database on a PostgreSQL server of
    the module's own that a test may stop and start (``postgres``)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return await fresh_database(request.getfixturevalue("postgres"))


@pytest.fixture
async def console_channel(bot_database: str) -> AsyncIterator[Driver]:
    transcript = await make_transcript(bot_database)
    try:
        yield ConsoleDriver(transcript)
    finally:
        await transcript.runtime.close()


@pytest.fixture
async def telegram_channel(
    server: BotApiServer, fatima: User, kees: User, group: Chat, tmp_path: Path, bot_database: str
) -> AsyncIterator[Driver]:
    settings = settings_for(server, tmp_path, database_url=bot_database, house_rules_required=False)
    async with Buurtbot(server, settings).running() as runtime:
        server.bot_added(group, fatima)
        await server.wait_sent(1, chat_id=group.id)
        yield TelegramDriver(server, runtime, group, {"fatima": fatima, "kees": kees})


@pytest.fixture
async def matrix_channel(
    synapse: SynapseServer, matrix: MatrixUsers, tmp_path: Path, bot_database: str
) -> AsyncIterator[Driver]:
    # The clock runs on, so that a message postponed by the homeserver falls due again.
    clock = RunningClock(MONDAY_MORNING)
    async with neighbourhood_of(
        synapse, matrix, tmp_path, clock, database_url=bot_database, house_rules_required=False
    ) as hood:
        fatima, kees = await hood.resident("Fatima"), await hood.resident("Kees")
        group = await hood.room(fatima, kees)
        await fatima.expect(WELCOME, room=group)
        rooms = {"fatima": await fatima.open_direct_room(), "kees": await kees.open_direct_room()}
        yield MatrixDriver(hood, {"fatima": fatima, "kees": kees}, rooms, group)


# --- the contract ----------------------------------------------------------------------------
ASK = "/vraag boodschappen morgen middag melk en brood"
OFFER = "/aanbod boodschappen ma-vr middag"


async def test_ask_offer_and_match(channel: Driver) -> None:
    await channel.send("kees", OFFER)
    await reply_with(channel, "kees", nl("offer.saved"))

    await channel.send("fatima", ASK)
    await reply_with(channel, "fatima", nl("request.ask_visibility"))
    await channel.press("fatima", nl("button.visible_helpers"))
    await reply_with(channel, "fatima", nl("request.placed_helpers"))

    # Kees is asked without her name; only once he says yes do they learn of each other.
    proposal = await reply_with(channel, "kees", nl("match.proposal"))
    assert "melk en brood" in proposal
    assert "Fatima" not in proposal
    assert not any("Kees" in text for text in channel.received("fatima"))
    await channel.press("kees", nl("button.i_help"))

    found = await reply_with(channel, "fatima", nl("match.found_requester", name="Kees"))
    assert found.startswith("Goed nieuws! Kees helpt je")
    assert channel.address("kees") in found
    thanks = await reply_with(channel, "kees", nl("match.found_helper", name="Fatima"))
    assert channel.address("fatima") in thanks


async def test_a_redelivered_message_and_press_are_answered_once(channel: Driver) -> None:
    await channel.send("fatima", ASK)
    await reply_with(channel, "fatima", nl("request.ask_visibility"))
    await channel.redeliver_last()
    await channel.press("fatima", nl("button.visible_helpers"))
    await reply_with(channel, "fatima", nl("request.placed_helpers"))
    await channel.redeliver_last()

    # What is said after both came again is answered after one answer to each of them.
    await channel.send("fatima", "/help")
    await reply_with(channel, "fatima", nl("help.short"))
    texts = channel.received("fatima")
    assert sum(nl("request.ask_visibility") in text for text in texts) == 1
    assert sum(nl("request.placed_helpers") in text for text in texts) == 1
    assert nl("help.short") in texts[-1]


async def test_a_pressed_button_is_settled_and_answered(channel: Driver) -> None:
    await channel.send("fatima", ASK)
    await reply_with(channel, "fatima", nl("request.ask_visibility"))
    choices = [
        nl("button.visible_named"),
        nl("button.visible_anonymous"),
        nl("button.visible_helpers"),
    ]
    await channel.wait_until(
        lambda: all(label in channel.buttons("fatima") for label in choices), "the choices"
    )

    await channel.press("fatima", nl("button.visible_helpers"))
    await reply_with(channel, "fatima", nl("request.placed_helpers"))
    # The answered question keeps no buttons: it cannot be answered twice by mistake.
    await channel.wait_until(
        lambda: not any(label in channel.buttons("fatima") for label in choices),
        "the answered question to lose its buttons",
    )


async def test_a_message_to_a_member_out_of_reach_waits_until_she_is_back(
    channel: Driver,
) -> None:
    if channel.name == "console":
        pytest.skip("the console reaches everyone it prints to")
    await channel.leave("fatima")
    said = len(channel.received("fatima"))
    await channel.send("fatima", ASK, private=False)
    # The group hears how to go on in private, without her name or her question.
    await channel.wait_until(lambda: len(channel.received("group")) == 2, "a word in the group")
    hint = channel.received("group")[-1]
    assert "Fatima" not in hint and "melk" not in hint
    assert len(channel.received("fatima")) == said

    await channel.come_back("fatima")
    await reply_with(channel, "fatima", nl("request.ask_visibility"), after=said)
    assert len(channel.received("group")) == 2


async def test_too_many_messages_are_answered_with_patience_and_nothing_is_lost(
    channel: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    if channel.name == "console":
        pytest.skip("the console has no rate limit to run into")
    await channel.throttle()
    for who in RESIDENTS:
        await channel.send(who, "/help")
    for who in RESIDENTS:
        await channel.send(who, OFFER)

    for who in RESIDENTS:
        await reply_with(channel, who, nl("offer.saved"))
        texts = channel.received(who)
        assert sum(nl("help.short") in text for text in texts) == 1
        assert sum(nl("offer.saved") in text for text in texts) == 1
    postponed = [r for r in caplog.records if "(rate limit)" in r.getMessage()]
    assert postponed, "the platform never refused a message"


@pytest.mark.parametrize("bot_database", ["own postgresql"], indirect=True)
async def test_what_is_said_while_the_database_is_away_is_answered_once_it_is_back(
    bot_database: str, channel: Driver, request: pytest.FixtureRequest
) -> None:
    database: PostgresServer = request.getfixturevalue("postgres")
    await channel.send("fatima", "/help")
    await reply_with(channel, "fatima", nl("help.short"))

    await asyncio.to_thread(database.stop)
    try:
        # The console waits with the line; the platforms keep it until it was handled.
        saying = asyncio.create_task(channel.send("kees", "/help"))
        await asyncio.sleep(OUTAGE_SECONDS)
        assert channel.received("kees") == []
    finally:
        await asyncio.to_thread(database.start)
    await asyncio.wait_for(saying, HANG)
    await reply_with(channel, "kees", nl("help.short"))

    # One more, so that a second answer to what was said in the outage would show.
    await channel.send("kees", "/help")
    await channel.wait_until(
        lambda: sum(nl("help.short") in text for text in channel.received("kees")) >= 2,
        "the second answer",
    )
    texts = channel.received("kees")
    assert sum(nl("help.short") in text for text in texts) == 2
    assert len(channel.received("fatima")) == 1


# --- long texts and edits ----------------------------------------------------------------------
ERRAND = (
    "Wie kan er deze week voor mij langs de markt en de bakker op de hoek? Ik kom zelf"
    " moeilijk de trap af sinds de operatie, en de boodschappen zijn te zwaar om te dragen."
)


async def with_many_requests(channel: Driver, who: str, count: int) -> list[int]:
    """``who`` has ``count`` requests open, each with a long description ("Verzoek n: ...");
    together more than one message can carry. Their numbers, in order."""
    await channel.send(who, "/help")
    await reply_with(channel, who, nl("help.short"))
    runtime = channel.runtime
    async with runtime.store.transaction() as tx:
        identity = await tx.identity(channel.name, channel.user_id(who))
        assert identity is not None
        community = (await tx.communities())[0]
        numbers = []
        for n in range(count):
            request = await tx.add_request(
                NewRequest(
                    community_id=community.id,
                    requester_id=identity.member_id,
                    category=Category.SHOPPING,
                    starts_at=None,
                    ends_at=None,
                    exact=False,
                    place=None,
                    description=f"Verzoek {n}: {ERRAND} {ERRAND} {ERRAND}",
                    visibility=Visibility.HELPERS,
                    advance=False,
                ),
                runtime.clock.now(),
            )
            numbers.append(request.id)
    return numbers


async def overview_in_parts(channel: Driver, numbers: list[int]) -> list[str]:
    """Fatima asks for her overview; the messages it came in, once all of it is there."""
    said = len(channel.received("fatima"))
    await channel.send("fatima", "/mijn")
    await reply_with(channel, "fatima", f"Verzoek {len(numbers) - 1}:", after=said)
    cancel = [nl("button.cancel_nr", nr=nr) for nr in numbers]
    await channel.wait_until(
        lambda: all(label in channel.buttons("fatima") for label in cancel), "the buttons"
    )
    return channel.received("fatima")[said:]


def assert_whole_and_once(channel: Driver, parts: list[str], numbers: list[int]) -> None:
    """Every request in the overview once, in order; each message within the limit; the
    buttons once, under the last."""
    assert len(parts) >= 2, "the overview came in one message"
    together = "\n".join(parts)
    places = [together.find(f"Verzoek {n}: ") for n in range(len(numbers))]
    assert all(together.count(f"Verzoek {n}: ") == 1 for n in range(len(numbers)))
    assert places == sorted(places) and places[0] >= 0
    assert together.count(ERRAND) == 3 * len(numbers)  # no word of it lost or cut
    assert all(channel.fits(text) for text in channel.shown("fatima"))
    labels = channel.buttons("fatima")
    assert all(labels.count(nl("button.cancel_nr", nr=nr)) == 1 for nr in numbers)


async def test_a_long_text_arrives_whole_in_parts_within_the_limit(channel: Driver) -> None:
    numbers = await with_many_requests(channel, "fatima", 9)
    parts = await overview_in_parts(channel, numbers)
    assert_whole_and_once(channel, parts, numbers)

    # The buttons, under the last part, work as under any message.
    await channel.press("fatima", nl("button.cancel_nr", nr=numbers[2]))
    await reply_with(channel, "fatima", nl("close.cancelled_self", nr=numbers[2]))


async def test_a_long_text_refused_after_its_first_part_arrives_whole_and_once(
    channel: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    if channel.name == "console":
        pytest.skip("the console has no rate limit to run into")
    numbers = await with_many_requests(channel, "fatima", 9)
    await channel.refuse_after_one()
    parts = await overview_in_parts(channel, numbers)
    assert_whole_and_once(channel, parts, numbers)
    halfway = [
        r.getMessage()
        for r in caplog.records
        if "(rate limit)" in r.getMessage()
        and "part 1 of" not in r.getMessage()
        and "part " in r.getMessage()
    ]
    assert halfway, "the platform never refused a part after the first"


async def kees_is_asked(channel: Driver) -> str:
    """Kees offers help; Fatima asks; Kees is asked whether he helps. The question."""
    await channel.send("kees", OFFER)
    await reply_with(channel, "kees", nl("offer.saved"))
    await channel.send("fatima", ASK)
    await reply_with(channel, "fatima", nl("request.ask_visibility"))
    await channel.press("fatima", nl("button.visible_helpers"))
    await reply_with(channel, "fatima", nl("request.placed_helpers"))
    return await reply_with(channel, "kees", nl("match.proposal"))


async def test_an_edited_message_reads_as_edited(channel: Driver) -> None:
    await kees_is_asked(channel)
    await channel.wait_until(lambda: nl("button.i_help") in channel.buttons("kees"), "[Ik help]")

    await channel.send("fatima", "/annuleer")
    await reply_with(channel, "fatima", nl("close.cancelled_self"))
    # His question now says it is withdrawn, and can no longer be answered.
    withdrawn = nl("match.withdrawn_short")

    def edited() -> bool:
        return any(withdrawn in t and "melk en brood" in t for t in channel.shown("kees"))

    await channel.wait_until(edited, "the question to Kees to read as withdrawn")
    await channel.wait_until(
        lambda: nl("button.i_help") not in channel.buttons("kees"), "[Ik help] to go"
    )


async def test_an_edit_of_a_message_taken_away_is_given_up_and_nothing_waits_behind_it(
    channel: Driver,
) -> None:
    if channel.name == "console":
        pytest.skip("nothing printed on the console can be taken away")
    await kees_is_asked(channel)
    await channel.take_away("kees", nl("match.proposal"))

    await channel.send("fatima", "/annuleer")
    await reply_with(channel, "fatima", nl("close.cancelled_self"))
    await reply_with(channel, "kees", nl("match.withdrawn"))
    said = len(channel.received("kees"))
    await channel.send("kees", "/help")
    await reply_with(channel, "kees", nl("help.short"), after=said)

    # The edit is settled (sent or given up), not waiting to be tried for ever.
    async with channel.runtime.store.engine.connect() as conn:
        edits = (
            await conn.execute(sql("SELECT status FROM outbox WHERE edit_of IS NOT NULL"))
        ).all()
    assert edits and all(status in ("sent", "failed") for (status,) in edits)
