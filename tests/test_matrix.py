"""The Matrix channel against a real Synapse, with real matrix-nio clients as residents."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import socket
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from nio import (
    AsyncClient,
    DownloadResponse,
    InviteMemberEvent,
    JoinResponse,
    MessageDirection,
    ReactionEvent,
    RoomCreateResponse,
    RoomMemberEvent,
    RoomMessageFile,
    RoomMessageNotice,
    RoomMessagesResponse,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
)
from pydantic import SecretStr

from adapters.bootstrap import Runtime, bootstrap
from adapters.matrix import (
    LEFT,
    Allowed,
    DirectRooms,
    MatrixChannel,
    MatrixLoginError,
    as_bang_commands,
    chosen_number,
    client_config,
    notice_content,
    options_text,
    private_room_key,
    reaction_content,
    run_matrix,
    slash_commands,
    to_html,
    without_reply_fallback,
)
from adapters.settings import Settings
from bot.clock import FakeClock
from bot.handlers import build_registry
from bot.i18n import Catalog
from bot.ports import RateLimits, RetryLater, Sent
from bot.types import Button, ChatKind, Delivery

if TYPE_CHECKING:
    from tests.synapse import MatrixUser, MatrixUsers, SynapseServer

pytest_plugins = ["tests.synapse"]

# Monday 23 November 2026, 09:00 in Amsterdam: "morgen middag" is Tuesday afternoon.
MONDAY_MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
# The production pacing answers one message per second in a room; tests need not wait.
FAST = RateLimits.unlimited()
RESIDENT_FILTER = {"room": {"timeline": {"limit": 100}}}
ROOT = Path(__file__).parent.parent
CATALOG = Catalog.load()
COMMANDS = slash_commands(build_registry().names())


def nl(key: str, /, **params: object) -> str:
    """A Dutch text of the catalog as the bot writes it on Matrix (``!vraag``), up to the
    first placeholder left open."""
    text = CATALOG.text("nl", key, **params).split("{", 1)[0]
    return as_bang_commands(text, COMMANDS)


WELCOME = nl("general.welcome_group")
UNKNOWN = re.compile(re.escape(nl("error.unknown_command")) + r"(\w+)")

T = TypeVar("T")


# --- pure parts ----------------------------------------------------------------------------
def test_text_becomes_escaped_html_with_links_to_people_in_private() -> None:
    content = notice_content("Zo bereik je Kees: @kees:example.org <b>&</b>\nTot zo", pills=True)

    assert content["msgtype"] == "m.notice"
    assert content["body"] == "Zo bereik je Kees: @kees:example.org <b>&</b>\nTot zo"
    assert content["formatted_body"] == (
        'Zo bereik je Kees: <a href="https://matrix.to/#/@kees:example.org">@kees:example.org</a>'
        " &lt;b&gt;&amp;&lt;/b&gt;<br>Tot zo"
    )
    assert content["m.mentions"] == {}  # a link, not a mention: nobody is notified


def test_buttons_are_a_numbered_list_under_the_text() -> None:
    buttons = ((Button("Ik help", "acc:1"), Button("Nu niet", "dec:1")), (Button("Stop", "x"),))

    assert options_text(buttons) == "1️⃣ Ik help  2️⃣ Nu niet\n3️⃣ Stop"
    assert notice_content("Kun jij helpen?", buttons)["body"] == (
        "Kun jij helpen?\n\n1️⃣ Ik help  2️⃣ Nu niet\n3️⃣ Stop"
    )


@pytest.mark.parametrize(
    ("text", "number"),
    [("2", 2), (" 3. ", 3), ("1)", 1), ("2️⃣", 2), ("2\u20e3", 2), ("🔟", 10), ("twee", None)],
)
def test_a_number_chooses_an_option(text: str, number: int | None) -> None:
    assert chosen_number(text) == number


def test_the_quote_of_a_reply_is_left_out() -> None:
    assert without_reply_fallback("> <@buurtbot:x> Kun jij helpen?\n> 1️⃣ Ik help\n\n1") == "1"
    assert without_reply_fallback("!vraag > niet geciteerd") == "!vraag > niet geciteerd"


def test_command_hints_use_the_exclamation_mark() -> None:
    commands = slash_commands(["vraag", "help"])

    assert as_bang_commands("Typ /vraag, of /help. Zie https://x.org/help", commands) == (
        "Typ !vraag, of !help. Zie https://x.org/help"
    )
    assert as_bang_commands("Die opdracht ken ik niet: /vraagje", commands) == (
        "Die opdracht ken ik niet: /vraagje"
    )


def test_invites_are_accepted_from_listed_rooms_and_servers() -> None:
    own = Allowed.parse("", "buurt.example")
    listed = Allowed.parse("!kamer:elders.example, :buren.example", "buurt.example")

    assert own.permits("!a:buurt.example", "@anna:buurt.example")
    assert not own.permits("!a:buurt.example", "@anna:evilbuurt.example")
    assert listed.permits("!kamer:elders.example", "@piet:elders.example")
    assert listed.permits("!b:x.example", "@fatima:buren.example")
    assert not listed.permits("!b:x.example", "@anna:buurt.example")


# --- residents: real clients on the test homeserver --------------------------------------------
@dataclass(frozen=True)
class Notice:
    """A message of the bot as a resident received it."""

    room_id: str
    event_id: str
    body: str
    content: dict[str, Any]


@dataclass
class Resident:
    """A neighbour's Matrix client: syncs, joins the bot's invites, reacts and replies."""

    name: str
    client: AsyncClient
    bot_id: str
    alive: Callable[[], None]
    since: str | None = None
    notices: list[Notice] = field(default_factory=list)
    edits: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    options: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    memberships: dict[tuple[str, str], str] = field(default_factory=dict)
    direct_rooms: list[str] = field(default_factory=list)  # the bot invited me to these
    files: list[RoomMessageFile] = field(default_factory=list)
    _taken: set[str] = field(default_factory=set)

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def say(self, room_id: str, text: str) -> str:
        return await self._send(room_id, "m.room.message", {"msgtype": "m.text", "body": text})

    async def reply(self, notice: Notice, text: str) -> str:
        content = {
            "msgtype": "m.text",
            "body": text,
            "m.relates_to": {"m.in_reply_to": {"event_id": notice.event_id}},
        }
        return await self._send(notice.room_id, "m.room.message", content)

    async def react(self, notice: Notice, key: str) -> str:
        return await self._send(
            notice.room_id, "m.reaction", reaction_content(notice.event_id, key)
        )

    async def open_direct_room(self) -> str:
        created = await self.client.room_create(
            is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[self.bot_id]
        )
        assert isinstance(created, RoomCreateResponse), created
        return str(created.room_id)

    async def join(self, room_id: str) -> None:
        assert isinstance(await self.client.join(room_id), JoinResponse)

    async def expect(self, text: str, *, room: str | None = None, timeout: float = 30) -> Notice:
        """The next message of the bot that contains ``text`` (each is returned once)."""

        def find() -> Notice | None:
            for notice in self.notices:
                if notice.event_id in self._taken or text not in notice.body:
                    continue
                if room is None or notice.room_id == room:
                    self._taken.add(notice.event_id)
                    return notice
            return None

        return await self.until(find, f"a message with {text!r}", timeout)

    async def expect_more(self, text: str, *, than: int) -> int:
        """Wait until more than ``than`` messages of the bot contain ``text``; how many do."""

        def count() -> int | None:
            found = sum(text in notice.body for notice in self.notices)
            return found if found > than else None

        return await self.until(count, f"more than {than} messages with {text!r}")

    async def accept_house_rules(self, *, room: str | None = None) -> None:
        """Press "Ik doe mee" under the house rules, shown before the first ask or offer."""
        rules = await self.expect(f"1️⃣ {nl('button.accept_rules')}", room=room)
        await self.react(rules, "1️⃣")

    async def expect_options(self, notice: Notice, count: int) -> list[str]:
        def found() -> list[str] | None:
            keys = self.options[notice.event_id]
            return keys if len(keys) >= count else None

        return await self.until(found, f"{count} options under {notice.body!r}")

    async def expect_edit(self, notice: Notice, text: str) -> str:
        def found() -> str | None:
            return next((body for body in self.edits[notice.event_id] if text in body), None)

        return await self.until(found, f"an edit of {notice.body!r} with {text!r}")

    async def expect_membership(self, room_id: str, user_id: str, membership: str) -> None:
        def found() -> bool | None:
            return True if self.memberships.get((room_id, user_id)) == membership else None

        await self.until(found, f"{user_id} to {membership} {room_id}")

    async def until(self, found: Callable[[], T | None], what: str, timeout: float = 30) -> T:
        deadline = time.monotonic() + timeout
        while (result := found()) is None:
            self.alive()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = "\n".join(f"  {n.body!r}" for n in self.notices)
                raise AssertionError(f"{self.name} waited in vain for {what}; saw:\n{seen}")
            await self.sync(min(remaining, 5.0))
        return result

    async def sync(self, timeout: float = 0) -> None:
        response = await self.client.sync(
            timeout=int(timeout * 1000), since=self.since, sync_filter=RESIDENT_FILTER
        )
        assert isinstance(response, SyncResponse), response
        self.since = response.next_batch
        for room_id, invited in response.rooms.invite.items():
            invite = next(
                (
                    e
                    for e in invited.invite_state
                    if isinstance(e, InviteMemberEvent) and e.state_key == self.user_id
                ),
                None,
            )
            if invite is not None and invite.sender == self.bot_id:
                await self.join(room_id)
                if invite.content.get("is_direct"):
                    self.direct_rooms.append(room_id)
        for room_id, joined in response.rooms.join.items():
            for event in joined.timeline.events:
                self._see(room_id, event)

    async def history(self, room_id: str) -> list[str]:
        """Every message the bot wrote in the room, oldest first, read back from the server."""
        bodies: list[str] = []
        start = self.since
        while start:
            page = await self.client.room_messages(
                room_id, start=start, direction=MessageDirection.back, limit=100
            )
            assert isinstance(page, RoomMessagesResponse), page
            bodies += [
                e.body
                for e in page.chunk
                if isinstance(e, RoomMessageNotice)
                and e.sender == self.bot_id
                and "m.new_content" not in e.source["content"]
            ]
            if not page.chunk or not page.end:
                break
            start = page.end
        return bodies[::-1]

    def _see(self, room_id: str, event: Any) -> None:
        if isinstance(event, RoomMemberEvent):
            self.memberships[(room_id, event.state_key)] = event.membership
        elif event.sender != self.bot_id:
            return
        elif isinstance(event, RoomMessageFile):
            self.files.append(event)
        elif isinstance(event, RoomMessageNotice):
            content = event.source["content"]
            if "m.new_content" in content:
                edited = content["m.relates_to"]["event_id"]
                self.edits[edited].append(content["m.new_content"]["body"])
            else:
                self.notices.append(Notice(room_id, event.event_id, event.body, content))
        elif isinstance(event, ReactionEvent):
            self.options[event.reacts_to].append(event.key)

    async def _send(self, room_id: str, kind: str, content: dict[str, Any]) -> str:
        sent = await self.client.room_send(room_id, kind, content)
        assert isinstance(sent, RoomSendResponse), sent
        return str(sent.event_id)


# --- the bot, run as the service runs it --------------------------------------------------------
@dataclass
class RunningBot:
    """The bot on a SQLite file: ``run_matrix`` in a task, stopped and started again at will,
    or in a process of its own, to be killed the hard way."""

    settings: Settings
    log_path: Path
    clock: FakeClock = field(default_factory=lambda: FakeClock(MONDAY_MORNING))
    runtime: Runtime | None = None
    task: asyncio.Task[None] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    process: asyncio.subprocess.Process | None = None

    @property
    def user_id(self) -> str:
        assert self.settings.matrix_user
        return self.settings.matrix_user

    async def start(self) -> None:
        self.runtime = await bootstrap(self.settings, clock=self.clock)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(
            run_matrix(self.runtime, self.settings, self.stop, limits=FAST)
        )

    async def stop_gracefully(self) -> None:
        assert self.task and self.runtime
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=30)
        await self.runtime.close()
        self.task = self.runtime = None

    async def ended(self, timeout: float = 30) -> None:
        """Wait for the bot to stop by itself; what stopped it is raised."""
        assert self.task and self.runtime
        try:
            await asyncio.wait_for(self.task, timeout)
        finally:
            await self.runtime.close()
            self.task = self.runtime = None

    async def start_process(self) -> None:
        """``python -m tests.test_matrix``: see ``serve_until_killed`` below."""
        assert self.settings.matrix_password and self.settings.matrix_homeserver
        environment = {
            **os.environ,
            "BUURTBOT_DATABASE_URL": self.settings.database_url,
            "BUURTBOT_MATRIX_HOMESERVER": self.settings.matrix_homeserver,
            "BUURTBOT_MATRIX_USER": self.user_id,
            "BUURTBOT_MATRIX_PASSWORD": self.settings.matrix_password.get_secret_value(),
        }
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.test_matrix",
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )

    async def kill(self) -> None:
        """SIGKILL: nothing is finished, nothing is closed, as in a crash."""
        assert self.process
        self.process.kill()
        await self.process.wait()
        self.process = None

    async def close(self) -> None:
        if self.task is not None:
            await self.stop_gracefully()
        if self.process is not None:
            await self.kill()

    def check(self) -> None:
        """Fail at once when the bot has stopped by itself."""
        if self.task is not None and self.task.done():
            self.task.result()
            raise AssertionError("the bot stopped by itself")
        if self.process is not None and self.process.returncode is not None:
            log = self.log_path.read_text(errors="replace")[-3000:]
            raise AssertionError(f"the bot's process ended by itself:\n{log}")


async def serve_until_killed() -> None:
    """The bot in a process of its own, configured by ``BUURTBOT_*`` in the environment."""
    logging.basicConfig(level=logging.INFO)
    settings = Settings()
    runtime = await bootstrap(settings, clock=FakeClock(MONDAY_MORNING))
    await run_matrix(runtime, settings, asyncio.Event(), limits=FAST)


@dataclass
class Neighbourhood:
    server: SynapseServer
    matrix: MatrixUsers
    bot: RunningBot
    account: MatrixUser  # the bot's

    async def resident(self, name: str) -> Resident:
        client = await self.matrix.client(name.lower(), rate_limited=False)
        await client.set_displayname(name)
        return Resident(name, client, self.bot.user_id, self.bot.check)

    async def room(self, owner: Resident, *members: Resident, **create: Any) -> str:
        """A neighbourhood room made by ``owner``, with the bot and ``members`` invited."""
        created = await owner.client.room_create(
            name="Burenhulp Middelland",
            preset=RoomPreset.private_chat,
            invite=[self.bot.user_id, *(m.user_id for m in members)],
            **create,
        )
        assert isinstance(created, RoomCreateResponse), created
        for member in members:
            await member.join(created.room_id)
        return str(created.room_id)


@asynccontextmanager
async def neighbourhood_of(
    synapse: SynapseServer,
    matrix: MatrixUsers,
    tmp_path: Path,
    clock: FakeClock | None = None,
    **more: Any,
) -> AsyncIterator[Neighbourhood]:
    """A new bot account (with the rate-limit override) and the bot running on it."""
    account = await asyncio.to_thread(synapse.register, f"buurtbot-{secrets.token_hex(4)}")
    await asyncio.to_thread(synapse.override_ratelimit, account.user_id)
    more.setdefault("database_url", f"sqlite:///{tmp_path / 'bot.db'}")
    settings = Settings(
        matrix_homeserver=synapse.base_url,
        matrix_user=account.user_id,
        matrix_password=SecretStr(account.password),
        **more,
    )
    bot = RunningBot(settings, tmp_path / "bot.log", clock or FakeClock(MONDAY_MORNING))
    await bot.start()
    try:
        yield Neighbourhood(synapse, matrix, bot, account)
    finally:
        await bot.close()


@pytest.fixture
async def neighbourhood(
    synapse: SynapseServer, matrix: MatrixUsers, tmp_path: Path
) -> AsyncIterator[Neighbourhood]:
    async with neighbourhood_of(synapse, matrix, tmp_path) as hood:
        yield hood


# --- the stories -----------------------------------------------------------------------------
async def test_ask_offer_and_match(neighbourhood: Neighbourhood) -> None:
    anna = await neighbourhood.resident("Anna")
    kees = await neighbourhood.resident("Kees")
    fatima = await neighbourhood.resident("Fatima")
    room = await neighbourhood.room(anna, kees, fatima)
    welcome = await anna.expect(WELCOME, room=room)  # "Hallo allemaal! ..."
    assert welcome.content["msgtype"] == "m.notice"
    assert "!vraag" in welcome.body

    # Kees offers help in a direct room he opens with the bot, without waiting for it.
    kees_dm = await kees.open_direct_room()
    await kees.say(kees_dm, "!aanbod boodschappen ma-vr middag")
    await kees.accept_house_rules(room=kees_dm)
    await kees.expect(nl("offer.saved"), room=kees_dm)  # "Dank je wel! Je biedt aan: ..."

    # Fatima asks in the group; the bot goes on with her in a private room it opens.
    await fatima.say(room, "!vraag boodschappen morgen middag melk en brood")
    await fatima.expect(nl("general.continue_private", name="Fatima"), room=room)
    await fatima.accept_house_rules()
    visibility = await fatima.expect(nl("request.ask_visibility"))
    [fatima_dm] = fatima.direct_rooms
    assert visibility.room_id == fatima_dm
    # whether the helper pays in advance is one extra, optional choice on the same message
    assert f"\n4️⃣ {nl('button.advance_ask')}\n" in visibility.body
    assert f"\n3️⃣ {nl('button.visible_helpers')}\n" in visibility.body
    await fatima.reply(visibility, "3")
    await fatima.expect(nl("request.placed_helpers"), room=fatima_dm)
    await fatima.expect_edit(visibility, nl("request.placed_short"))

    # Kees is asked privately and says yes with a reaction; both hear from the other.
    proposal = await kees.expect(nl("match.proposal"), room=kees_dm)  # "Kun jij helpen? ..."
    assert proposal.body.endswith(f"1️⃣ {nl('button.i_help')}  2️⃣ {nl('button.not_now')}")
    await kees.expect_options(proposal, 2)
    await kees.react(proposal, "1️⃣")
    found = await fatima.expect(nl("match.found_requester", name="Kees"), room=fatima_dm)
    thanks = await kees.expect(nl("match.found_helper", name="Fatima"), room=kees_dm)
    await kees.expect_edit(proposal, nl("match.accepted_short", helper="Kees"))
    assert found.body.startswith("Goed nieuws! Kees helpt je")

    # The introduction links to the other, without mentioning anyone.
    assert f'href="https://matrix.to/#/{kees.user_id}"' in found.content["formatted_body"]
    assert found.content["m.mentions"] == {}
    assert fatima.user_id in thanks.body


async def test_a_burst_of_fifty_commands_is_answered_once_each(
    neighbourhood: Neighbourhood,
) -> None:
    people = [await neighbourhood.resident(name) for name in ("Anna", "Bram", "Cor", "Dewi", "Eef")]
    anna = people[0]
    room = await neighbourhood.room(anna, *people[1:])
    await anna.expect(WELCOME, room=room)

    async def burst(numbers: range) -> None:
        async def one_resident(resident: Resident) -> None:
            for number in numbers[people.index(resident) :: len(people)]:
                await resident.say(room, f"!burst{number}")

        await asyncio.gather(*(one_resident(resident) for resident in people))

    await burst(range(1, 26))
    # Stopped in the middle of it, while 25 more arrive: a gap the restart has to fill.
    await neighbourhood.bot.stop_gracefully()
    await burst(range(26, 51))
    await neighbourhood.bot.start()
    await anna.say(room, "!klaarmetdeburst")
    await anna.expect("klaarmetdeburst", room=room, timeout=60)

    answered = Counter(
        match.group(1) for body in await anna.history(room) if (match := UNKNOWN.search(body))
    )
    assert answered == Counter({f"burst{n}": 1 for n in range(1, 51)} | {"klaarmetdeburst": 1})


async def test_a_killed_bot_starts_again_without_losing_or_repeating(
    neighbourhood: Neighbourhood,
) -> None:
    # A process of its own: a crash frees everything the process held, the database's
    # write lock too; cancelling a task in the middle of a database call may not.
    bot = neighbourhood.bot
    await bot.stop_gracefully()
    await bot.start_process()
    anna = await neighbourhood.resident("Anna")
    bram = await neighbourhood.resident("Bram")
    room = await neighbourhood.room(anna, bram)
    await anna.expect(WELCOME, room=room)

    for number in range(1, 21):
        await (anna if number % 2 else bram).say(room, f"!kill{number}")
    answered = 0
    for _ in range(2):  # killed while answering, twice
        answered = await anna.expect_more(nl("error.unknown_command"), than=answered)
        await bot.kill()
        await bot.start_process()
    await anna.say(room, "!naderestart")
    await anna.expect("naderestart", room=room, timeout=60)

    history = await anna.history(room)
    replies = Counter(match.group(1) for body in history if (match := UNKNOWN.search(body)))
    assert replies == Counter({f"kill{n}": 1 for n in range(1, 21)} | {"naderestart": 1})
    assert sum(WELCOME in body for body in history) == 1


async def test_who_leaves_the_private_room_is_asked_in_the_group_to_open_one(
    neighbourhood: Neighbourhood,
) -> None:
    anna = await neighbourhood.resident("Anna")
    fatima = await neighbourhood.resident("Fatima")
    room = await neighbourhood.room(anna, fatima)
    await anna.expect(WELCOME, room=room)
    await fatima.say(room, "!vraag boodschappen morgen middag melk en brood")
    rules = nl("button.accept_rules")
    await fatima.expect(rules)
    [first_dm] = fatima.direct_rooms
    await fatima.client.room_leave(first_dm)
    # The bot learns of it through its next sync; only then does "she left" hold for it.
    assert neighbourhood.bot.runtime is not None
    bot = neighbourhood.bot.runtime.bot
    async with asyncio.timeout(30):
        while await bot.cursor(private_room_key(fatima.user_id)) != LEFT:
            await asyncio.sleep(0.1)

    # Asked again, the bot does not invite her again; the group gets a link to open a
    # private room with the bot, naming nobody.
    await fatima.say(room, "!vraag boodschappen morgen middag melk en brood")
    link = f"https://matrix.to/#/{neighbourhood.bot.user_id}"
    hint = await fatima.expect(nl("general.continue_private_link", link=link), room=room)
    assert link in hint.body and "Fatima" not in hint.body
    assert fatima.direct_rooms == [first_dm]

    # Once she opens a private room herself and writes there, what waited arrives.
    dm = await fatima.open_direct_room()
    await fatima.say(dm, "Hallo")
    await fatima.expect(rules, room=dm)


async def test_an_encrypted_room_is_refused_in_plain_words(neighbourhood: Neighbourhood) -> None:
    anna = await neighbourhood.resident("Anna")
    encryption = {
        "type": "m.room.encryption",
        "state_key": "",
        "content": {"algorithm": "m.megolm.v1.aes-sha2"},
    }
    room = await neighbourhood.room(anna, initial_state=[encryption])

    refusal = await anna.expect(nl("matrix.encrypted_room"), room=room)
    assert CATALOG.text("en", "matrix.encrypted_room") in refusal.body
    await anna.expect_membership(room, neighbourhood.bot.user_id, "leave")
    assert [n.body for n in anna.notices] == [refusal.body]  # no welcome, nothing else


async def test_an_invite_from_elsewhere_is_declined(neighbourhood: Neighbourhood) -> None:
    bot = neighbourhood.bot
    await bot.stop_gracefully()
    bot.settings = bot.settings.model_copy(update={"matrix_allowed": ":buren.example"})
    await bot.start()
    anna = await neighbourhood.resident("Anna")

    room = await neighbourhood.room(anna)

    await anna.expect_membership(room, bot.user_id, "leave")
    assert anna.notices == []


async def test_a_bot_with_an_access_token_stops_when_the_token_is_revoked(
    neighbourhood: Neighbourhood,
) -> None:
    bot, account = neighbourhood.bot, neighbourhood.account
    await bot.stop_gracefully()
    bot.settings = bot.settings.model_copy(
        update={"matrix_password": None, "matrix_access_token": SecretStr(account.access_token)}
    )
    await bot.start()
    anna = await neighbourhood.resident("Anna")
    room = await neighbourhood.room(anna)
    await anna.expect(WELCOME, room=room)

    logout = f"{neighbourhood.server.base_url}/_matrix/client/v3/logout"
    headers = {"Authorization": f"Bearer {account.access_token}"}
    async with httpx.AsyncClient() as http:
        (await http.post(logout, headers=headers)).raise_for_status()
    await anna.say(room, "!help")  # ends the sync under way; the next one is refused

    with pytest.raises(MatrixLoginError, match="no longer knows"):
        await bot.ended()


async def test_what_was_written_before_the_invite_is_not_answered(
    neighbourhood: Neighbourhood,
) -> None:
    anna = await neighbourhood.resident("Anna")
    created = await anna.client.room_create(name="Buurt", preset=RoomPreset.private_chat)
    assert isinstance(created, RoomCreateResponse), created
    room = str(created.room_id)
    await anna.say(room, "!voordeuitnodiging")
    await anna.client.room_invite(room, neighbourhood.bot.user_id)
    await anna.expect(WELCOME, room=room)
    await anna.say(room, "!nadeuitnodiging")
    await anna.expect(nl("error.unknown_command") + "nadeuitnodiging", room=room)

    assert not any("voordeuitnodiging" in body for body in await anna.history(room))


async def test_a_refusing_homeserver_and_a_lost_connection_mean_try_again_later(
    neighbourhood: Neighbourhood,
) -> None:
    # An account without the rate-limit override: 0.2 messages a second after ten.
    slow = await neighbourhood.matrix.client("traag")
    room = await neighbourhood.matrix.create_room(slow)
    assert neighbourhood.bot.runtime
    channel = MatrixChannel(slow, DirectRooms(neighbourhood.bot.runtime.bot, slow))
    results = [
        await channel.send(Delivery(n, "matrix", room, ChatKind.GROUP, f"Bericht {n}"))
        for n in range(1, 13)
    ]
    refused = [result for result in results if not isinstance(result, Sent)]
    assert isinstance(results[0], Sent)
    assert refused
    assert all(isinstance(r, RetryLater) and r.reason == "rate limit" for r in refused)
    assert all(isinstance(r, RetryLater) and r.seconds > 0 for r in refused)

    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
        unreachable = AsyncClient(nowhere, slow.user_id, config=client_config())
        unreachable.restore_login(slow.user_id, "LOST", "token")
        lost = MatrixChannel(unreachable, DirectRooms(neighbourhood.bot.runtime.bot, unreachable))
        try:
            result = await lost.send(Delivery(99, "matrix", room, ChatKind.GROUP, "Hallo?"))
        finally:
            await unreachable.close()
    assert result == RetryLater(1.0, "network")


if __name__ == "__main__":
    asyncio.run(serve_until_killed())


async def test_my_data_arrives_as_a_file(neighbourhood: Neighbourhood) -> None:
    fatima = await neighbourhood.resident("Fatima")
    dm = await fatima.open_direct_room()
    await fatima.say(dm, "!mijngegevens")
    await fatima.expect(nl("privacy.my_data", name="Fatima"), room=dm)
    found = await fatima.until(lambda: fatima.files[0] if fatima.files else None, "a file")
    assert found.body == "mijn-gegevens.json"
    downloaded = await fatima.client.download(found.url)
    assert isinstance(downloaded, DownloadResponse), downloaded
    data = json.loads(downloaded.body)
    assert data["identities"][0]["user_id"] == fatima.user_id


async def test_health_hears_of_each_good_sync(neighbourhood: Neighbourhood) -> None:
    fatima = await neighbourhood.resident("Fatima")
    dm = await fatima.open_direct_room()
    await fatima.say(dm, "!hulp")
    await fatima.expect(nl("help.short"), room=dm)
    assert neighbourhood.bot.runtime is not None
    state = neighbourhood.bot.runtime.health.channels["matrix"]
    assert state.connected is True and state.last_ok is not None


async def test_a_plain_question_in_the_room_is_taken_up_privately(
    neighbourhood: Neighbourhood,
) -> None:
    """The bot reads every message of a Matrix room: chatter is left alone, and a plain
    question for help is taken up with its writer only, in her private room."""
    anna = await neighbourhood.resident("Anna")
    fatima = await neighbourhood.resident("Fatima")
    room = await neighbourhood.room(anna, fatima)
    await anna.expect(WELCOME, room=room)
    await anna.say(room, "Goedemorgen allemaal, wat een mooi weer!")
    await fatima.say(room, "Wie kan mij morgen helpen met boodschappen?")
    noticed = await fatima.expect("Je schreef in de groep")
    assert noticed.room_id != room
    assert "Alleen jij ziet dit bericht." in noticed.body
    await fatima.say(noticed.room_id, "ja")  # typed, instead of choosing 1️⃣
    await fatima.accept_house_rules(room=noticed.room_id)
    await fatima.expect(nl("request.ask_what_or_skip"), room=noticed.room_id)
    assert await anna.history(room) == [welcome.body for welcome in anna.notices[:1]]
    assert not any("Je schreef" in notice.body for notice in anna.notices)


# --- anonymous means anonymous ----------------------------------------------------------------
async def room_events(reader: Resident, room_id: str) -> list[dict[str, Any]]:
    """Every event of the room as ``reader`` gets it from the server, edits and reactions too."""
    events: list[dict[str, Any]] = []
    start = reader.since
    while start:
        page = await reader.client.room_messages(
            room_id, start=start, direction=MessageDirection.back, limit=100
        )
        assert isinstance(page, RoomMessagesResponse), page
        events += [event.source for event in page.chunk]
        if not page.chunk or not page.end:
            break
        start = page.end
    return events[::-1]


async def choose(resident: Resident, notice: Notice, label: str) -> None:
    """React with the number the bot put before ``label`` under its message."""
    [key] = re.findall(rf"(\S+) {re.escape(label)}(?:  |\n|$)", notice.body)
    await resident.expect_options(notice, 1)
    await resident.react(notice, key)


@pytest.mark.parametrize("in_the_room", [False, True], ids=["asked privately", "in the room"])
async def test_the_group_room_reads_placeholders_and_the_helper_the_whole_request(
    neighbourhood: Neighbourhood, in_the_room: bool
) -> None:
    details = "insuline ophalen, ik woon Kerklaan 12, bel 0612345678"
    masked = "[gezondheid] ophalen, ik woon [adres], bel [telefoon]"
    anna = await neighbourhood.resident("Anna")
    kees = await neighbourhood.resident("Kees")
    fatima = await neighbourhood.resident("Fatima")
    # The bot is a moderator: it may take what members wrote to it out of the room.
    moderator = {"users": {neighbourhood.bot.user_id: 50}}
    room = await neighbourhood.room(anna, kees, fatima, power_level_override=moderator)
    await anna.expect(WELCOME, room=room)

    # Kees takes part already (he offers transport), so his press in the room is answered
    # at once and the post he pressed is edited to show it.
    kees_dm = await kees.open_direct_room()
    await kees.say(kees_dm, "!aanbod vervoer weekend")
    await kees.accept_house_rules(room=kees_dm)
    await kees.expect(nl("offer.saved"), room=kees_dm)

    ask = f"!vraag boodschappen morgen 14:00 {details}"
    if in_the_room:
        asked = await fatima.say(room, ask)
        await fatima.accept_house_rules()
        [dm] = fatima.direct_rooms
    else:
        dm = await fatima.open_direct_room()
        await fatima.say(dm, ask)
        await fatima.accept_house_rules(room=dm)
    visibility = await fatima.expect(nl("request.ask_visibility"), room=dm)
    await choose(fatima, visibility, nl("button.visible_anonymous"))
    preview = await fatima.expect("Zo zien de buren die ik vraag je vraag", room=dm)
    shown = f"Een buur vraagt om hulp:\nBoodschappen, morgen (di 24 nov) om 14:00: {masked}"
    assert shown in preview.body
    assert to_html(shown) in preview.content["formatted_body"]
    await anna.sync()
    assert not any("Een buur" in body for body in await anna.history(room))  # not yet
    await choose(fatima, preview, nl("button.post_as_shown"))

    # Anna, a neighbour in the room, reads the post as the server gives it to her.
    post = await anna.expect("Een buur vraagt om hulp:", room=room)
    assert post.body == f"{shown}\nKun jij helpen?\n\n1️⃣ {nl('button.i_help')}"
    assert post.content["formatted_body"] == to_html(post.body, pills=False)
    assert post.content["m.mentions"] == {}  # nobody is notified by name
    assert "matrix.to" not in post.content["formatted_body"]
    assert fatima.user_id not in json.dumps(post.content)

    # Kees says yes under the group post and gets the whole request, privately.
    await kees.react(post, "1️⃣")
    thanks = await kees.expect(nl("match.found_helper", name="Fatima"), room=kees_dm)
    assert details in thanks.body
    await anna.expect_edit(post, masked)  # the group post shows what came of it

    # Nothing in the room, not in an edit, a reaction or formatted text, gives her away;
    # what she wrote to the bot there was taken out.
    if in_the_room:

        async def redacted() -> bool:
            [mine] = [e for e in await room_events(anna, room) if e["event_id"] == asked]
            return "redacted_because" in mine.get("unsigned", {})

        for _ in range(300):
            if await redacted():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("her message with the details stayed in the room")
    events = await room_events(anna, room)
    assert any(masked in json.dumps(e, ensure_ascii=False) for e in events)
    leaks = ("Kerklaan", "insuline", "0612", "345678", "5678", "06 12")
    for event in events:
        content = json.dumps(event.get("content", {}), ensure_ascii=False)
        assert not [leak for leak in leaks if leak in content], event
        if event["sender"] == neighbourhood.bot.user_id:
            assert "Fatima" not in content and fatima.user_id not in content, event
