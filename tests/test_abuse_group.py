"""Abuse of the small holes and of asking in the group: what an attacker or a tired
neighbour types, and what the others then see.

- numbers far out of range get a plain answer in the member's language, never an apology
  for an internal error;
- an unhandled error at start prints no token and no database password;
- Matrix ids and ``@room`` written by members never become real mentions;
- a ``/vraag`` typed in the group is removed where the bot may, the asker is never named
  there, and where the bot may not remove it, she hears so privately.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
import pytest
from nio import AsyncClient, JoinResponse, RoomCreateResponse, RoomPreset

from adapters.bootstrap import bootstrap
from adapters.matrix import WORD_JOINER, DirectRooms, MatrixChannel, notice_content
from adapters.settings import Settings
from bot.clock import FakeClock
from bot.ports import Sent
from bot.types import ChatKind, Delivery
from tests.botapi import BotApiServer
from tests.conftest import Transcript, make_transcript
from tests.test_matrix import Neighbourhood, Resident, neighbourhood_of
from tests.test_matrix import nl as matrix_nl
from tests.test_telegram import (
    BOT_USERNAME,
    DEEP_LINK,
    TIME_SCALE,
    Buurtbot,
    nth,
    press,
    settings_for,
)

if TYPE_CHECKING:
    from tests.synapse import MatrixUsers, SynapseServer

pytest_plugins = ["tests.synapse"]

ROOT = Path(__file__).parent.parent
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
HUGE = "99999999999999999999"
INTERNAL_NL = "er ging bij mij iets mis"
INTERNAL_EN = "something went wrong"


# --- numbers out of range ---------------------------------------------------------------
NUMBER_COMMANDS = [
    ("kees (dm): /meld #{n} dit klopt niet", "geen nummer van een vraag"),
    ("kees (dm): /gasten {n}", "geen tafelnummer"),
    ("kees (dm): /afzeggen {n} ik ben ziek", "geen tafelnummer"),
    ("kees (dm): /afmelden {n}", "geen tafelnummer"),
    ("anna (dm): /verberg #{n}", "geen nummer van een vraag"),
    ("kees (dm): /klaar {n}", "geen nummer van een vraag"),
    ("kees (dm): /annuleer #{n}", "geen nummer van een vraag"),
]


@pytest.mark.parametrize("number", [HUGE, "9223372036854775807", "2147483648"])
async def test_numbers_out_of_range_get_a_plain_answer(database_url: str, number: str) -> None:
    chat = await make_transcript(database_url)
    try:
        await chat.say("@organiser anna", "kees (dm): /aanbod boodschappen ma-vr middag")
        for line, answer in NUMBER_COMMANDS:
            said = "\n".join(await chat.say(line.format(n=number)))
            assert answer in said, (line, said)
            assert INTERNAL_NL not in said.lower(), (line, said)
    finally:
        await chat.runtime.close()


async def test_numbers_out_of_range_are_answered_in_english_too(chat: Transcript) -> None:
    await chat.say("kees (dm): /taal en")
    said = "\n".join(await chat.say(f"kees (dm): /report #{HUGE} odd"))
    assert "is not a request number" in said
    said = "\n".join(await chat.say(f"kees (dm): /guests {HUGE}"))
    assert "is not a table number" in said
    assert INTERNAL_EN not in said.lower()


async def test_a_real_number_still_works_after_the_check(chat: Transcript) -> None:
    await chat.say("fatima (dm): /vraag boodschappen morgen 14:00 melk en brood")
    said = "\n".join(await chat.say("kees (dm): /meld #1 dit klopt niet"))
    assert "geen nummer" not in said


# --- secrets at start -------------------------------------------------------------------
TOKEN = "123456:SECRETtokenNOBODYmaySEE"
PASSWORD = "hunter2secretPASSWORD"
# Older typer versions, which the project's range (typer>=0.12) allows, show local
# variables in their tracebacks unless told not to. The child below gets that old default,
# so the test shows what an operator on such a version would see.
OLD_TYPER_DEFAULT = """
import sys, typer
typer.Typer.__init__.__kwdefaults__["pretty_exceptions_show_locals"] = True
sys.argv = ["buurtbot", "run"]
from adapters.cli import main
main()
"""


@pytest.mark.parametrize("typer_default", ["installed", "old"])
def test_a_failure_at_start_prints_no_secret(tmp_path: Path, typer_default: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BUURTBOT_TELEGRAM_TOKEN": TOKEN,
        # nothing listens on port 1: the start fails while connecting to the database
        "BUURTBOT_DATABASE_URL": f"postgresql://buurtbot:{PASSWORD}@127.0.0.1:1/buurtbot",
        "COLUMNS": "200",
    }
    env.pop("BUURTBOT_CONFIG", None)
    command = (
        [sys.executable, "-m", "adapters.cli", "run"]
        if typer_default == "installed"
        else [sys.executable, "-c", OLD_TYPER_DEFAULT]
    )
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "127.0.0.1" in output or "Connect" in output  # it did fail where we meant it to
    assert TOKEN not in output
    assert TOKEN.partition(":")[2] not in output
    assert PASSWORD not in output


# --- Matrix: what members write mentions nobody -----------------------------------------
def test_member_written_ids_and_room_are_no_mentions_in_the_content() -> None:
    text = "Fatima vraagt: @kees:buurt.example en @room, kom allemaal! (@Room, @ROOM)"

    group = notice_content(text)
    private = notice_content(text, pills=True)

    for content in (group, private):
        assert content["m.mentions"] == {}
        for field in ("body", "formatted_body"):
            assert "@room" not in content[field].lower()
            assert f"@{WORD_JOINER}room" in content[field]
    assert "matrix.to" not in group["formatted_body"]  # no link to a person in a group
    assert "@kees:buurt.example" in group["body"]  # still readable as written


async def _highlights(server: SynapseServer, client: AsyncClient, event_id: str) -> list[bool]:
    """Whether the homeserver would alert ``client``'s user loudly for ``event_id``."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{server.base_url}/_matrix/client/v3/notifications",
            headers={"Authorization": f"Bearer {client.access_token}"},
        )
    answer.raise_for_status()
    return [
        any(
            isinstance(action, dict)
            and action.get("set_tweak") == "highlight"
            and action.get("value", True) is True
            for action in n["actions"]
        )
        for n in answer.json()["notifications"]
        if n["event"]["event_id"] == event_id
    ]


async def _notify_of_notices(server: SynapseServer, client: AsyncClient) -> None:
    """Switch off the default rule that keeps ``m.notice`` messages quiet, as someone who
    wants to hear the bot does: then only what the message says decides who is alerted."""
    async with httpx.AsyncClient() as http:
        answer = await http.put(
            f"{server.base_url}/_matrix/client/v3/pushrules/global/override/"
            ".m.rule.suppress_notices/enabled",
            headers={"Authorization": f"Bearer {client.access_token}"},
            json={"enabled": False},
        )
    answer.raise_for_status()


async def test_no_mention_reaches_anyone_through_synapse(
    synapse: SynapseServer, matrix: MatrixUsers, tmp_path: Path
) -> None:
    anna = await matrix.client("anna")
    kees = await matrix.client("kees")
    bot = await matrix.client("buurtbot", rate_limited=False)
    # The bot may redact here (it is an admin of the room), so it may also notify @room.
    created = await anna.room_create(
        name="Burenhulp",
        preset=RoomPreset.private_chat,
        invite=[kees.user_id, bot.user_id],
        power_level_override={"users": {bot.user_id: 100}},
    )
    assert isinstance(created, RoomCreateResponse), created
    room = created.room_id
    for resident in (anna, kees):
        await _notify_of_notices(synapse, resident)
    for member in (kees, bot):
        assert isinstance(await member.join(room), JoinResponse)
    runtime = await bootstrap(
        Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}"), clock=FakeClock(MONDAY)
    )
    try:
        channel = MatrixChannel(bot, DirectRooms(runtime.bot, bot))
        text = f"Een buur vraagt: {kees.user_id} {anna.user_id} @room kunnen jullie helpen?"
        result = await channel.send(Delivery(1, "matrix", room, ChatKind.GROUP, text))
    finally:
        await runtime.close()
    assert isinstance(result, Sent) and result.message_ref
    # What the same words do when a person writes them: the server does alert (a control).
    control = await matrix.send_text(anna, room, f"{kees.user_id} @room kijk even")

    deadline = time.monotonic() + 10
    while not await _highlights(synapse, kees, control) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert await _highlights(synapse, kees, control) == [True]
    assert True not in await _highlights(synapse, kees, result.message_ref)
    assert True not in await _highlights(synapse, anna, result.message_ref)


# --- asking in the group: the console -----------------------------------------------------
HINT = "Ik ga verder in een privégesprek, zodat niemand anders meeleest."
STILL_THERE = "Je bericht staat nog in de groep."


def removed(chat: Transcript) -> list[str]:
    return [
        line.removeprefix("buurtbot removed from group: ")
        for line in chat.lines
        if line.startswith("buurtbot removed from group: ")
    ]


@pytest.mark.parametrize(
    "typed",
    [
        "/vraag boodschappen morgen middag melk en brood",
        "/VRAAG boodschappen morgen middag insuline halen",
        "/ask@buurtbot shopping tomorrow afternoon milk",
        "!vraag vervoer za 10:00 naar het ziekenhuis",
        "/vraag",
        "/vraag boodschappen morgn melk",  # a mistake: the answer goes privately too
        "/meld #1 deze buurman valt me lastig",
        "/aanbod boodschappen ma-vr middag 3021",
    ],
)
async def test_an_ask_in_the_group_leaves_no_trace_of_the_asker(
    chat: Transcript, typed: str
) -> None:
    await chat.say("fatima (dm): /taal nl", f"fatima: {typed}")

    assert removed(chat) == [f"fatima: {typed}"]
    assert chat.to("group") == [HINT]
    group_text = "\n".join(chat.to("group")).lower()
    assert "fatima" not in group_text
    assert chat.to("fatima")[1:]  # she hears the rest privately


async def test_where_the_bot_may_not_delete_she_hears_so_privately(chat: Transcript) -> None:
    await chat.say("@may-delete no", "fatima: /vraag boodschappen morgen middag melk en brood")

    assert removed(chat) == []
    assert chat.to("group") == [HINT]
    [notice] = [text for text in chat.to("fatima") if text.startswith(STILL_THERE)]
    assert "privé" in notice  # and how to ask privately next time
    # her ask itself goes on privately all the same
    assert any(text.startswith("Dit is je vraag") for text in chat.to("fatima"))


async def test_the_notice_that_it_stayed_is_in_her_own_language(chat: Transcript) -> None:
    await chat.say("@may-delete no", "kees (dm): /taal en", "kees: /ask shopping tomorrow milk")

    assert any(text.startswith("Your message is still in the group") for text in chat.to("kees"))


async def test_help_and_start_stay_in_the_group(chat: Transcript) -> None:
    await chat.say("fatima: /hulp", "fatima: /start")

    assert removed(chat) == []
    assert chat.to("group")[0].startswith("Ik help buren elkaar te helpen")
    assert "haal ik je bericht daar weg" in chat.to("group")[0]  # /help says so


async def test_the_house_rules_say_so(tmp_path: Path) -> None:
    chat = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}", house_rules_required=True)
    try:
        await chat.say("fatima (dm): /huisregels")
        [rules] = chat.to("fatima")
        assert "Vraag je mij iets in de groep? Dan haal ik je bericht daar weg" in rules
    finally:
        await chat.runtime.close()


async def test_a_text_that_is_not_for_the_bot_stays(chat: Transcript) -> None:
    await chat.say("fatima: wie heeft er een ladder?", "fatima: /onbekend")

    assert removed(chat) == []


# --- asking in the group: the real python-telegram-bot against the local Bot API ----------
TELEGRAM_GROUP = -1001234567890
ASK = f"/vraag@{BOT_USERNAME} boodschappen morgen middag insuline en brood"
TELEGRAM_HINT = f"{HINT}\nZie je niets van mij? Open dan: {DEEP_LINK}"


@pytest.fixture
async def bot_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotApiServer]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22 warns on RetryAfter otherwise
    async with BotApiServer(time_scale=TIME_SCALE) as server:
        yield server


@pytest.mark.parametrize("admin", [True, False], ids=["admin", "no-admin"])
async def test_an_ask_in_a_telegram_group_names_nobody(
    bot_api: BotApiServer, tmp_path: Path, admin: bool
) -> None:
    server = bot_api
    fatima = server.user(1001, "Fatima", "fatima_r")
    kees = server.user(1002, "Kees", "kees_b")
    group = server.group(TELEGRAM_GROUP, "Buurt Middelland", bot_can_delete=admin)
    buurtbot = Buurtbot(server, settings_for(server, tmp_path))
    async with buurtbot.running() as runtime:
        server.send_text(kees, kees, "/aanbod boodschappen ma-vr middag")
        await press(runtime, server, kees, await nth(server, kees, 1), "Ik doe mee")
        await nth(server, kees, 2)

        asked = server.send_text(group, fatima, ASK)
        [hint] = await server.wait_sent(1, chat_id=group.id)
        rules = await nth(server, fatima, 1)
        assert rules.text is not None and rules.text.startswith("Welkom!")
        message = (group.id, server.message_id_of(asked))
        if admin:
            await server.wait_for(
                lambda: message in server.deleted_user_messages, what="the ask removed"
            )
        else:
            stayed = await nth(server, fatima, 2)
            assert stayed.text is not None and stayed.text.startswith(STILL_THERE)
            assert [call.status for call in server.calls("deleteMessage")] == [400]
            assert message not in server.deleted_user_messages
        await press(runtime, server, fatima, rules, "Ik doe mee")
        visibility = await nth(server, fatima, 3 if not admin else 2)
        await press(runtime, server, fatima, visibility, "Alleen helpers die gevraagd worden")
        # a health word: she first sees what the helpers asked will read (bot.details)
        preview = await nth(server, fatima, 4 if not admin else 3)
        await press(runtime, server, fatima, preview, "Zo plaatsen")
        proposal = await nth(server, kees, 3)
        assert proposal.text is not None and "[gezondheid] en brood" in proposal.text
        assert "insuline" not in proposal.text

    assert hint.text == TELEGRAM_HINT
    assert [sent.text for sent in server.sent_to(group)] == [TELEGRAM_HINT]


async def test_a_telegram_asker_who_never_opened_a_chat_is_not_named_either(
    bot_api: BotApiServer, tmp_path: Path
) -> None:
    server = bot_api
    fatima = server.user(1001, "Fatima", "fatima_r")
    group = server.group(TELEGRAM_GROUP, "Buurt Middelland")  # the bot may not delete here
    server.block_private(fatima)
    buurtbot = Buurtbot(server, settings_for(server, tmp_path))
    async with buurtbot.running():
        server.send_text(group, fatima, ASK)
        # Both private messages (the house rules, and that her message is still there)
        # wait for her; the group only has the hint with the link.
        await server.wait_for(
            lambda: [c.status for c in server.calls("sendMessage")].count(403) == 2,
            what="both private messages to be refused",
        )
        assert [c.status for c in server.calls("deleteMessage")] == [400]
        server.send_text(fatima, fatima, "/start hallo")  # she follows the link
        rules, stayed, hello = await server.wait_sent(3, chat_id=fatima.id)
        assert rules.text is not None and rules.text.startswith("Welkom!")
        assert stayed.text is not None and stayed.text.startswith(STILL_THERE)
        assert hello.text is not None and hello.text.startswith("Hoi Fatima!")

    assert [sent.text for sent in server.sent_to(group)] == [TELEGRAM_HINT]


# --- asking in the group: Matrix, against the real Synapse -------------------------------
@pytest.fixture
async def matrix_neighbourhood(
    synapse: SynapseServer, matrix: MatrixUsers, tmp_path: Path
) -> AsyncIterator[Neighbourhood]:
    """A new bot account (with the rate-limit override) and the bot running on it."""
    async with neighbourhood_of(synapse, matrix, tmp_path) as hood:
        yield hood


async def _content_now(reader: Resident, room_id: str, event_id: str) -> dict[str, object]:
    """The event as the homeserver serves it now: a redacted message has no content left."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{reader.client.homeserver}/_matrix/client/v3/rooms/{room_id}/event/{event_id}",
            headers={"Authorization": f"Bearer {reader.client.access_token}"},
        )
    answer.raise_for_status()
    content: dict[str, object] = answer.json()["content"]
    return content


@pytest.mark.parametrize("may_redact", [True, False], ids=["admin", "no-admin"])
async def test_an_ask_in_a_matrix_room_names_nobody(
    matrix_neighbourhood: Neighbourhood, may_redact: bool
) -> None:
    hood = matrix_neighbourhood
    anna = await hood.resident("Anna")
    fatima = await hood.resident("Fatima")
    create: dict[str, object] = (
        {"power_level_override": {"users": {hood.bot.user_id: 50}}} if may_redact else {}
    )
    room = await hood.room(anna, fatima, **create)
    await anna.expect(matrix_nl("general.welcome_group"), room=room)

    asked = await fatima.say(room, "!vraag boodschappen morgen middag insuline en brood")
    hint = await anna.expect(HINT, room=room)
    await fatima.accept_house_rules()
    if may_redact:
        deadline = time.monotonic() + 30
        while (content := await _content_now(anna, room, asked)) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert content == {}  # redacted: nobody can read her question any more
    else:
        await fatima.expect(STILL_THERE)
        assert "insuline" in str(await _content_now(anna, room, asked))

    link = f"https://matrix.to/#/{hood.bot.user_id}"  # opens a private room with the bot
    assert hint.body == f"{HINT}\nZie je niets van mij? Open dan: {link}"
    assert "Fatima" not in hint.body and fatima.user_id not in hint.body
    bodies = await anna.history(room)
    assert [body for body in bodies if "Fatima" in body or "insuline" in body] == []
