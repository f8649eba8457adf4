"""The dispatcher's promises: one answer per event, nothing half-written, races decided once."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from adapters.console import GROUP_ID
from bot.commands import Registry
from bot.context import Context
from bot.errors import StoreUnavailable, UserError
from bot.model import RequestStatus
from bot.types import ChatKind, ChatRef, Message, Sender
from tests.conftest import Transcript, make_transcript

KEES = Sender("console", "kees", "Kees", "@kees")
PIET = Sender("console", "piet", "Piet", "@piet")


def private(sender: Sender) -> ChatRef:
    return ChatRef("console", sender.user_id, ChatKind.PRIVATE)


async def test_two_simultaneous_accepts_give_exactly_one_match(database_url: str) -> None:
    chat = await make_transcript(database_url)
    try:
        await chat.say(
            "kees (dm): /aanbod klusje elke dag",
            "piet (dm): /aanbod klusje elke dag",
            "fatima (dm): /vraag klusje morgen lamp ophangen",
            "fatima (dm): [Alleen helpers die gevraagd worden]",
        )
        bot = chat.runtime.bot
        await asyncio.gather(
            bot.handle(chat.press("kees", "Ik help", "k-accept")),
            bot.handle(chat.press("piet", "Ik help", "p-accept")),
        )
        await chat.session.sender.drain()
        introductions = [line for line in chat.to("fatima") if line.startswith("Goed nieuws!")]
        assert len(introductions) == 1
        winner = "kees" if "Kees helpt je" in introductions[0] else "piet"
        loser = "piet" if winner == "kees" else "kees"
        assert chat.to(winner)[-1].startswith("Dank je wel! Je helpt Fatima")
        assert any("al opgepakt door een andere buur" in line for line in chat.to(loser)) or any(
            "Een andere buur helpt hier al" in line for line in chat.to(loser)
        )
        async with chat.runtime.store.transaction() as tx:
            request = await tx.request(1)
            assert request is not None and request.status is RequestStatus.MATCHED
    finally:
        await chat.runtime.close()


async def test_a_redelivered_event_is_answered_once(chat: Transcript) -> None:
    message = Message("same-id", private(KEES), KEES, "/help")
    await chat.runtime.bot.handle(message)
    await chat.runtime.bot.handle(message)
    await chat.session.sender.drain()
    assert len(chat.to("kees")) == 1


async def test_restart_keeps_state_and_sends_nothing_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    first = await make_transcript(url)
    await first.say(
        "kees (dm): /aanbod boodschappen ma-vr middag",
        "fatima: /vraag boodschappen morgen middag melk",
    )
    pending = first.session.channel.shown  # messages and buttons shown so far
    await first.runtime.close()

    second = await make_transcript(url)
    try:
        second.session.channel.shown.extend(pending)  # the platform still shows old messages
        await second.say("fatima (dm): [In de groep, zonder mijn naam]", "kees (dm): [Ik help]")
        assert second.to("fatima")[-1].startswith("Goed nieuws! Kees helpt je")
        # the first run's messages were all delivered then, and none again now
        assert not any("Dit is je vraag" in line for line in second.lines)
        await second.say("kees (dm): /mijn")
        assert "Jij helpt Fatima (vraag 1)" in second.to("kees")[-1]
    finally:
        await second.runtime.close()


async def test_an_internal_error_apologises_and_writes_nothing(
    chat: Transcript, caplog: pytest.LogCaptureFixture
) -> None:
    registry: Registry = chat.runtime.bot.registry

    @registry.command("kapot", help="help.help", listed=False)
    async def broken(ctx: Context, args: str) -> None:
        await ctx.tx.set_cursor("half-written", "yes")
        await ctx.reply("general.not_a_command")
        raise RuntimeError("geheime tekst van een buur")

    with caplog.at_level(logging.ERROR):
        await chat.say("kees (dm): /kapot")
    assert chat.to("kees") == [
        "Sorry, er ging bij mij iets mis. Er is niets opgeslagen. Probeer het straks nog een keer."
    ]
    assert await chat.runtime.bot.cursor("half-written") is None
    assert "handling event" in caplog.text


async def test_a_database_failure_is_not_answered_and_the_event_is_handled_when_it_comes_again(
    chat: Transcript,
) -> None:
    registry: Registry = chat.runtime.bot.registry
    database_away = [True]

    @registry.command("wankel", help="help.help", listed=False)
    async def shaky(ctx: Context, args: str) -> None:
        await ctx.tx.set_cursor("half-written", "yes")
        await ctx.reply("general.not_a_command")
        if database_away:  # what the storage layer raises when the connection is lost
            raise StoreUnavailable("connection lost")

    event = Message("w1", private(KEES), KEES, "/wankel")
    with pytest.raises(StoreUnavailable):
        await chat.runtime.bot.handle(event)
    await chat.session.sender.drain()
    assert chat.to("kees") == []  # no "something went wrong": it is not an answer
    assert await chat.runtime.bot.cursor("half-written") is None

    database_away.clear()
    await chat.runtime.bot.handle(event)  # the platform sends it again
    await chat.runtime.bot.handle(event)  # and once more: answered once all the same
    await chat.session.sender.drain()
    assert len(chat.to("kees")) == 1
    assert await chat.runtime.bot.cursor("half-written") == "yes"


async def test_tries_during_an_outage_do_not_count_towards_the_commands_a_minute(
    chat: Transcript,
) -> None:
    """A message tried again and again while the database is away is one message: once it
    is back, it is answered, not silenced as if she had sent too many."""
    registry: Registry = chat.runtime.bot.registry
    database_away = [True]

    @registry.command("traag", help="help.help", listed=False)
    async def slow(ctx: Context, args: str) -> None:
        await ctx.reply("general.not_a_command")
        if database_away:
            raise StoreUnavailable("connection lost")

    event = Message("t1", private(KEES), KEES, "/traag")
    for _ in range(chat.runtime.bot.config.commands_per_minute + 5):
        with pytest.raises(StoreUnavailable):
            await chat.runtime.bot.handle(event)  # the platform keeps sending it
    database_away.clear()
    await chat.runtime.bot.handle(event)
    await chat.session.sender.drain()
    assert len(chat.to("kees")) == 1
    assert chat.to("kees")[0] == chat.runtime.bot.catalog.text("nl", "general.not_a_command")


async def test_a_user_error_rolls_back_what_the_handler_wrote(chat: Transcript) -> None:
    registry: Registry = chat.runtime.bot.registry

    @registry.command("halfweg", help="help.help", listed=False)
    async def halfway(ctx: Context, args: str) -> None:
        await ctx.tx.set_cursor("half-written", "yes")
        raise UserError("request.gone")

    await chat.say("kees (dm): /halfweg")
    assert chat.to("kees") == ["Deze vraag bestaat niet meer."]
    assert await chat.runtime.bot.cursor("half-written") is None


async def test_commands_with_bot_suffix_and_control_characters(chat: Transcript) -> None:
    group = ChatRef("console", GROUP_ID, ChatKind.GROUP, "Buurt")
    await chat.runtime.bot.handle(Message("x1", group, KEES, "/help@buurtbot"))
    await chat.runtime.bot.handle(Message("x2", private(KEES), KEES, "/taal\u0000 en\u200b"))
    await chat.session.sender.drain()
    assert chat.to("group")[-1].startswith("Ik help buren elkaar te helpen.")
    assert chat.to("kees")[-1] == "Fine, from now on I will write to you in English."


async def test_plain_talk_in_the_group_is_left_alone(chat: Transcript) -> None:
    await chat.say("fatima: hoi allemaal, wie heeft er een ladder?")
    assert chat.to("group") == []


async def test_a_group_with_a_new_id_stays_the_same_neighbourhood(chat: Transcript) -> None:
    await chat.say(
        "fatima (dm): /vraag klusje morgen lamp", "fatima (dm): [In de groep, met mijn naam]"
    )
    bot = chat.runtime.bot
    await bot.move_group("console", GROUP_ID, "group-bigger")
    async with chat.runtime.store.transaction() as tx:
        moved = await tx.group_chat("console", "group-bigger")
        assert moved is not None and moved.community_id == 1
        assert await tx.group_chat("console", GROUP_ID) is None
    bigger = ChatRef("console", "group-bigger", ChatKind.GROUP, "Buurt")
    await bot.handle(Message("after-move", bigger, KEES, "/hulp"))
    async with chat.runtime.store.transaction() as tx:
        assert len(await tx.communities()) == 1
