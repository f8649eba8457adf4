"""Playing an attacker, through the console and through Telegram.

Sections (each a group of tests; more may follow):
- Presses: forged, foreign, replayed, naming what does not exist (console).
- Organisers: they act only within their own community, and only while they are organisers.
- Presses through Telegram: the real python-telegram-bot against the local Bot API server,
  with callback data that a modified client makes up.
- Presses through Matrix: a real Synapse; an answer to a message in someone else's room.
- Property: for random commands and presses by random members, nobody learns a requester's
  name or request text unless she may.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.console import GROUP_ID
from bot.model import HelpRequest, ProposalStatus, RequestStatus, Visibility
from bot.types import ButtonPress, ChatKind, ChatRef, MemberLeft, Sender
from tests.botapi import BotApiServer
from tests.conftest import Transcript, make_transcript
from tests.test_matrix import Neighbourhood as MatrixStreet
from tests.test_matrix import neighbourhood_of, nl
from tests.test_telegram import TIME_SCALE, Buurtbot, nth, press, settings_for

if TYPE_CHECKING:
    from tests.synapse import MatrixUsers, SynapseServer

pytest_plugins = ["tests.synapse"]

NOT_FOR_YOU = "Deze knop is niet voor jou bedoeld. Er is niets veranderd."
NO_LONGER = (
    "Deze knop werkt niet meer. Er is niets veranderd. Typ /mijn om te zien wat er open staat."
)
SECRET = "lamp ophangen in de gang"


def sender(name: str) -> Sender:
    return Sender("console", name, name.capitalize(), handle=f"@{name}")


def private(name: str) -> ChatRef:
    return ChatRef("console", name, ChatKind.PRIVATE)


def elsewhere() -> ChatRef:
    """The group chat of a second neighbourhood."""
    return ChatRef("console", "elders", ChatKind.GROUP, "Elders")


async def send(chat: Transcript, event: ButtonPress | MemberLeft) -> list[str]:
    """Hand one event to the bot; return what it printed."""
    start = len(chat.lines)
    await chat.runtime.bot.handle(event)
    await chat.session.sender.drain()
    return chat.lines[start:]


async def request_one(chat: Transcript) -> HelpRequest:
    async with chat.runtime.store.transaction() as tx:
        request = await tx.request(1)
    assert request is not None
    return request


async def member_id(chat: Transcript, name: str) -> int:
    async with chat.runtime.store.transaction() as tx:
        identity = await tx.identity("console", name)
    assert identity is not None
    return identity.member_id


def newest_ref(chat: Transcript, who: str) -> str:
    """The ref of the newest message with buttons shown in ``who``'s private chat."""
    for shown in reversed(chat.session.channel.shown):
        if shown.chat == who and shown.buttons:
            return shown.ref
    raise AssertionError(f"no message with buttons for {who}")


async def helpers_only_request(chat: Transcript) -> ButtonPress:
    """Kees offers; Fatima asks, for helpers only. Returns Kees's press of [Ik help]."""
    await chat.say(
        "kees (dm): /aanbod klusje elke dag",
        f"fatima (dm): /vraag klusje morgen {SECRET}",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    assert chat.to("kees")[-1].startswith("Kun jij helpen?")
    assert "Fatima" not in chat.to("kees")[-1]
    return chat.press("kees", "Ik help", "kees-helps")


def reveals(lines: list[str]) -> list[str]:
    return [line for line in lines if "Fatima" in line or "lamp" in line or "@fatima" in line]


# --- presses ------------------------------------------------------------------------------


class TestForgedPresses:
    @pytest.mark.parametrize(
        "forgery",
        [
            "the helper's message and action",
            "the helper's message, by the button's place",
            "no message at all",
            "a message of her own",
            "the helper's private chat",
        ],
    )
    async def test_another_helpers_button_changes_and_reveals_nothing(
        self, chat: Transcript, forgery: str
    ) -> None:
        kees_press = await helpers_only_request(chat)
        await chat.say("mallory (dm): /start")
        own_ref = newest_ref(chat, "mallory")
        mallory = sender("mallory")
        event_id = "forged"
        press = {
            "the helper's message and action": ButtonPress(
                event_id, private("mallory"), mallory, "acc:1", kees_press.message_ref
            ),
            "the helper's message, by the button's place": ButtonPress(
                event_id, private("mallory"), mallory, "b0.0", kees_press.message_ref
            ),
            "no message at all": ButtonPress(event_id, private("mallory"), mallory, "acc:1"),
            "a message of her own": ButtonPress(
                event_id, private("mallory"), mallory, "acc:1", own_ref
            ),
            "the helper's private chat": replace(kees_press, event_id=event_id, sender=mallory),
        }[forgery]
        said = await send(chat, press)
        if forgery == "the helper's private chat":
            assert said == []  # not even an answer, and nothing in Kees's chat
        else:
            expected = NOT_FOR_YOU if "helper's message" in forgery else NO_LONGER
            assert said == [f"buurtbot -> mallory (dm): {expected}"]
        assert reveals(chat.to("mallory")) == []
        request = await request_one(chat)
        assert request.status is RequestStatus.OPEN and request.helper_id is None

        # The helper who was asked can still say yes.
        await send(chat, kees_press)
        assert chat.to("kees")[-1].startswith("Dank je wel! Je helpt Fatima")
        assert (await request_one(chat)).helper_id == await member_id(chat, "kees")

    async def test_a_replayed_press_after_it_was_settled_changes_nothing(
        self, chat: Transcript
    ) -> None:
        accept = await helpers_only_request(chat)
        decline = chat.press("kees", "Nu niet", "kees-declines")
        await send(chat, accept)
        assert chat.to("kees")[-1].startswith("Dank je wel! Je helpt Fatima")
        for replayed in (replace(accept, event_id="again"), replace(decline, event_id="later")):
            said = await send(chat, replayed)
            assert said == [f"buurtbot -> kees (dm): {NO_LONGER}"]
        assert sum(line.startswith("Goed nieuws!") for line in chat.to("fatima")) == 1
        async with chat.runtime.store.transaction() as tx:
            [proposal] = await tx.proposals(1)
        assert proposal.status is ProposalStatus.ACCEPTED
        assert (await request_one(chat)).status is RequestStatus.MATCHED

    @pytest.mark.parametrize(
        "action",
        [
            "acc:99999999999999999999",
            "acc:4242",
            "assign:1:424242",
            "assign:99999999999999999999:1",
            "mod:block:99999999999999999999",
            "approve:424242:yes",
            "repaid:0",
            "seat:-1",
            "zzz",
            "",
        ],
    )
    async def test_a_press_naming_what_does_not_exist_is_answered_plainly(
        self, chat: Transcript, action: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        await helpers_only_request(chat)
        await chat.say("@organiser anna", "anna (dm): /overzicht")
        overview = newest_ref(chat, "anna")
        with caplog.at_level(logging.ERROR):
            for event_id, ref in (("on-her-overview", overview), ("on-nothing", None)):
                said = await send(
                    chat, ButtonPress(event_id, private("anna"), sender("anna"), action, ref)
                )
                assert said == [f"buurtbot -> anna (dm): {NO_LONGER}"]
        assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
        request = await request_one(chat)
        assert request.status is RequestStatus.OPEN and request.helper_id is None


# --- organisers ---------------------------------------------------------------------------


class TestOrganisersOnlyAtHome:
    async def test_an_organiser_of_another_community_cannot_assign_or_pick_up(
        self, chat: Transcript
    ) -> None:
        await helpers_only_request(chat)
        bot = chat.runtime.bot
        await bot.appoint_organiser(elsewhere(), sender("mallory"))
        await chat.say("mallory (dm): /overzicht")
        assert chat.to("mallory")[-1] == "Er staan geen vragen open. Mooi!"
        await chat.say("mallory (dm): /start")
        own_ref = newest_ref(chat, "mallory")
        mallory_id = await member_id(chat, "mallory")
        for n, action in enumerate(["assign:1", f"assign:1:{mallory_id}", "org:take:1"]):
            said = await send(
                chat, ButtonPress(f"f{n}", private("mallory"), sender("mallory"), action, own_ref)
            )
            assert len(said) == 1 and NO_LONGER in said[0]
        assert reveals(chat.to("mallory")) == []
        request = await request_one(chat)
        assert request.status is RequestStatus.OPEN and request.helper_id is None

    async def test_an_organiser_who_left_the_group_no_longer_assigns(
        self, chat: Transcript
    ) -> None:
        await helpers_only_request(chat)
        await chat.say(
            "@organiser anna", "anna (dm): /overzicht", "anna (dm): [Helper kiezen voor #1]"
        )
        assign = chat.press("anna", "Kees", "assign-kees")
        group = ChatRef("console", GROUP_ID, ChatKind.GROUP, "Buurt")
        await send(chat, MemberLeft("anna-leaves", group, sender("anna")))
        said = await send(chat, assign)
        assert said == [
            "buurtbot -> anna (dm): Dat kunnen alleen de organisatoren van de buurt doen."
        ]
        await chat.say("anna (dm): /overzicht")
        assert chat.to("anna")[-1] == "Dat kunnen alleen de organisatoren van de buurt doen."
        request = await request_one(chat)
        assert request.status is RequestStatus.OPEN and request.helper_id is None

    async def test_a_helper_who_left_cannot_be_assigned(self, chat: Transcript) -> None:
        await helpers_only_request(chat)
        await chat.say(
            "@organiser anna", "anna (dm): /overzicht", "anna (dm): [Helper kiezen voor #1]"
        )
        group = ChatRef("console", GROUP_ID, ChatKind.GROUP, "Buurt")
        await send(chat, MemberLeft("kees-leaves", group, sender("kees")))
        said = await chat.say("anna (dm): [Kees]")
        assert said == [
            "buurtbot -> anna (dm): Die buur doet niet (meer) mee in deze buurt. "
            "Kies iemand anders; er is niets veranderd."
        ]
        request = await request_one(chat)
        assert request.status is RequestStatus.OPEN and request.helper_id is None


# --- presses through Telegram ---------------------------------------------------------------


async def test_forged_callback_data_through_telegram_changes_and_reveals_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with BotApiServer(time_scale=TIME_SCALE) as server:
        await forged_callback_data(server, Buurtbot(server, settings_for(server, tmp_path)))


async def forged_callback_data(server: BotApiServer, buurtbot: Buurtbot) -> None:
    fatima, kees = server.user(1001, "Fatima", "fatima_r"), server.user(1002, "Kees", "kees_b")
    mallory = server.user(1003, "Mallory", "mallory_x")
    group = server.group(-1001234567890, "Buurt Middelland")
    async with buurtbot.running() as runtime:
        server.bot_added(group, fatima)
        await nth(server, group, 1)
        server.send_text(kees, kees, "/aanbod klusje elke dag")
        await press(runtime, server, kees, await nth(server, kees, 1), "Ik doe mee")
        await nth(server, kees, 2)
        server.send_text(fatima, fatima, f"/vraag klusje morgen {SECRET}")
        await press(runtime, server, fatima, await nth(server, fatima, 1), "Ik doe mee")
        visibility = await nth(server, fatima, 2)
        await press(runtime, server, fatima, visibility, "Alleen helpers die gevraagd worden")
        proposal = await nth(server, kees, 3)
        assert proposal.text is not None and SECRET in proposal.text
        data = server.message(kees, proposal.message_id).callback_data("Ik help")

        # Mallory takes part too: she accepted the house rules.
        server.send_text(mallory, mallory, "/huisregels")
        await press(runtime, server, mallory, await nth(server, mallory, 1), "Ik doe mee")
        own = await nth(server, mallory, 2)
        answered = len(server.answered_callbacks)
        # the old form of the proposal's data, and a made-up place, on her own message
        server.forged_press(mallory, mallory, own.message_id, "acc:1")
        server.forged_press(mallory, mallory, own.message_id, "b7.3")
        # the helper's real data on the helper's message, claimed from another account
        server.forged_press(kees, mallory, proposal.message_id, data)
        await server.wait_for(
            lambda: len(server.answered_callbacks) == answered + 3, what="three answers"
        )
        refusals = await server.wait_sent(4, chat_id=mallory.id)
        assert [s.text for s in refusals[2:]] == [NO_LONGER] * 2
        async with runtime.store.transaction() as tx:
            request = await tx.request(1)
        assert request is not None and request.status is RequestStatus.OPEN
        assert request.helper_id is None

        # What a press on Telegram carries is no action: only a reference to a button.
        assert data == "b0.0"

        # The helper who was asked can still say yes.
        await press(runtime, server, kees, proposal, "Ik help")
        helping = await nth(server, kees, 4)
        assert helping.text is not None and helping.text.startswith("Dank je wel! Je helpt Fatima")
    told_mallory = [s.text or "" for s in server.sent_to(mallory)]
    assert len(told_mallory) == 4
    assert not [t for t in told_mallory if "Fatima" in t or "lamp" in t or "fatima_r" in t]
    assert len(server.sent_to(kees)) == 4  # the forged press in his chat got no answer there


# --- presses through Matrix ------------------------------------------------------------------


@pytest.fixture
async def street(
    synapse: SynapseServer, matrix: MatrixUsers, tmp_path: Path
) -> AsyncIterator[MatrixStreet]:
    async with neighbourhood_of(synapse, matrix, tmp_path) as hood:
        yield hood


async def test_an_answer_to_another_members_message_on_matrix_changes_nothing(
    street: MatrixStreet,
) -> None:
    kees, fatima = await street.resident("Kees"), await street.resident("Fatima")
    mallory = await street.resident("Mallory")
    await street.room(fatima, kees, mallory)
    kees_dm = await kees.open_direct_room()
    await kees.say(kees_dm, "!aanbod klusje elke dag")
    await kees.accept_house_rules(room=kees_dm)
    await kees.expect(nl("offer.saved"), room=kees_dm)
    fatima_dm = await fatima.open_direct_room()
    await fatima.say(fatima_dm, f"!vraag klusje morgen {SECRET}")
    await fatima.accept_house_rules(room=fatima_dm)
    visibility = await fatima.expect(nl("request.ask_visibility"), room=fatima_dm)
    await fatima.reply(visibility, "3")  # only helpers who are asked
    proposal = await kees.expect(nl("match.proposal"), room=kees_dm)
    await kees.expect_options(proposal, 2)

    # Mallory takes part too; she answers "1" in her own room, but to Kees's proposal
    # (an event id is no secret: it may be quoted, forwarded, guessed from a leak).
    mallory_dm = await mallory.open_direct_room()
    await mallory.say(mallory_dm, "!huisregels")
    await mallory.accept_house_rules(room=mallory_dm)
    await mallory.expect(nl("rules.accepted"), room=mallory_dm)
    await mallory.reply(replace(proposal, room_id=mallory_dm), "1")
    await mallory.expect(nl("press.not_for_you"), room=mallory_dm)

    # Kees still can say yes; Mallory heard nothing of Fatima.
    await kees.react(proposal, "1️⃣")
    await kees.expect(nl("match.found_helper", name="Fatima"), room=kees_dm)
    told = [n.body for n in mallory.notices]
    assert not [t for t in told if "Fatima" in t or "lamp" in t or fatima.user_id in t]


# --- property: nobody learns what is not theirs to know --------------------------------------

MEMBERS = ["fatima", "kees", "piet", "saar", "anna"]  # anna is the organiser
ASKERS = ["fatima", "piet", "saar"]
VISIBILITY = {
    "In de groep, met mijn naam": Visibility.NAMED,
    "In de groep, zonder mijn naam": Visibility.ANONYMOUS,
    "Alleen helpers die gevraagd worden": Visibility.HELPERS,
}
COMMANDS = ["/mijn", "/klaar", "/annuleer", "/overzicht", "/hulp", "/aanbod klusje elke dag"]
OUT = re.compile(r"buurtbot -> (group|(\w+) \(dm\)): (.*)")

Step = tuple[object, ...]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), st.sampled_from(ASKERS), st.sampled_from(sorted(VISIBILITY))),
        st.tuples(st.just("offer"), st.sampled_from(MEMBERS)),
        st.tuples(st.just("press"), st.sampled_from(MEMBERS), st.integers(0, 99)),
        st.tuples(st.just("forge"), st.sampled_from(MEMBERS), st.integers(0, 999), st.booleans()),
        st.tuples(st.just("say"), st.sampled_from(MEMBERS), st.sampled_from(COMMANDS)),
    ),
    min_size=3,
    max_size=14,
)


@dataclass
class Neighbourhood:
    """What happened so far, as a person could see it, and who may know what."""

    chat: Transcript
    read: int = 0
    secrets: dict[int, str] = field(default_factory=dict)  # request id -> its text
    matched: set[tuple[str, str]] = field(default_factory=set)  # (requester, helper) ever
    asked: set[tuple[int, str]] = field(default_factory=set)  # (request id, helper) proposed
    helping: set[tuple[int, str]] = field(default_factory=set)  # (request id, helper) ever
    names: dict[int, str] = field(default_factory=dict)  # member id -> console name
    requests: list[HelpRequest] = field(default_factory=list)
    counter: Iterator[int] = field(default_factory=itertools.count)

    async def run(self, step: Step) -> None:
        chat = self.chat
        kind, who = step[0], str(step[1])
        if kind == "ask":
            secret = f"geheim-{next(self.counter)}-eind"
            await chat.say(f"{who} (dm): /vraag klusje morgen {secret}")
            if chat.session.channel.find_button(who, str(step[2])) is not None:
                await chat.say(f"{who} (dm): [{step[2]}]")
        elif kind == "offer":
            await chat.say(f"{who} (dm): /aanbod klusje elke dag")
        elif kind == "say":
            await chat.say(f"{who} (dm): {step[2]}")
        else:
            await self.press(kind, who, step)
        await self.learn()
        self.check()

    async def press(self, kind: object, who: str, step: Step) -> None:
        chat, index = self.chat, int(str(step[2]))
        mine = kind == "press"
        shown = [
            (s.chat, s.ref, button)
            for s in chat.session.channel.shown
            if not mine or s.chat in (who, GROUP_ID)
            for row in s.buttons
            for button in row
        ]
        if not shown:
            return
        where, ref, button = shown[index % len(shown)]
        in_group = where == GROUP_ID if mine else bool(step[3])
        room = ChatRef("console", GROUP_ID, ChatKind.GROUP, "Buurt") if in_group else private(who)
        event = ButtonPress(f"p{next(self.counter)}", room, sender(who), button.action, ref)
        await send(chat, event)

    async def learn(self) -> None:
        """Who was asked and who helps, after a step. A helper must be one the request was
        offered to: asked privately, anyone once it is in the group, or chosen by the
        organiser; a forged press must not make anyone a helper."""
        async with self.chat.runtime.store.transaction() as tx:
            for name in MEMBERS:
                identity = await tx.identity("console", name)
                if identity is not None:
                    self.names[identity.member_id] = name
            self.requests = await tx.community_requests(1)
            assigned = {e.subject for e in await tx.audit_log(1, 1000) if e.action == "assign"}
            asked = set(self.asked)
            for request in self.requests:
                for proposal in await tx.proposals(request.id):
                    asked.add((request.id, self.names[proposal.helper_id]))
                self.secrets[request.id] = request.description.split()[-1]
                if request.helper_id is None:
                    continue
                helper = self.names[request.helper_id]
                if (request.id, helper) not in self.helping:
                    assert (
                        (request.id, helper) in self.asked
                        or request.posted_in_group
                        or helper == "anna"
                        or f"request:{request.id} member:{request.helper_id}" in assigned
                    ), f"{helper} helps with request {request.id} without being asked"
                    self.helping.add((request.id, helper))
                self.matched.add((self.names[request.requester_id], helper))
            self.asked = asked

    def check(self) -> None:
        messages: list[tuple[str, str]] = []
        for line in self.chat.lines[self.read :]:
            if found := OUT.match(line):
                messages.append((found[2] or "group", found[3]))
            elif line.startswith("  ") and messages:
                messages[-1] = (messages[-1][0], messages[-1][1] + "\n" + line)
        self.read = len(self.chat.lines)
        for to, text in messages:
            for request in self.requests:
                self.check_one(to, text, request)

    def check_one(self, to: str, text: str, request: HelpRequest) -> None:
        requester = self.names[request.requester_id]
        name = requester.capitalize()
        if to in (requester, "anna"):
            return
        with_text = self.secrets[request.id] in text
        with_name = name in text or f"@{requester}" in text
        if to == "group":
            if with_text:
                assert request.visibility is not Visibility.HELPERS, text
            if with_text and with_name:
                assert request.visibility is Visibility.NAMED, text
            return
        helper = (requester, to) in self.matched
        if with_text:
            assert helper or (request.id, to) in self.asked, (to, text)
        if with_name:
            assert helper or (to, requester) in self.matched, (to, text)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    yield running
    running.close()


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(plan=steps)
def test_nobody_learns_a_requesters_name_or_text_who_may_not(
    loop: asyncio.AbstractEventLoop, tmp_path_factory: pytest.TempPathFactory, plan: list[Step]
) -> None:
    path: Path = tmp_path_factory.mktemp("abuse") / "bot.db"

    async def play() -> None:
        chat = await make_transcript(f"sqlite:///{path}", organisers="console:anna")
        try:
            neighbourhood = Neighbourhood(chat)
            # Something to go after from the start: a request for the asked helper only.
            await chat.say("anna (dm): /start")
            await neighbourhood.run(("offer", "kees"))
            await neighbourhood.run(("ask", "fatima", "Alleen helpers die gevraagd worden"))
            for step in plan:
                await neighbourhood.run(step)
        finally:
            await chat.runtime.close()

    loop.run_until_complete(play())
