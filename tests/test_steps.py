"""How few steps it takes to ask, counted as a resident would: from /start to a placed request.

How we count: every line a resident types is a typed message, every button pressed is a tap.
The house rules are counted on their own: on a fresh database the neighbourhood asks each
member once to accept them. On the buttons-only path they are shown on the welcome itself,
and the first tap there accepts them, so they cost no tap of their own; after a typed first
message they are shown with [Ik doe mee] (typing "ja" does the same), one tap counted apart.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.model import Category, HelpRequest, RequestStatus, Visibility
from bot.types import ButtonPress, ChatKind, ChatRef, Sender
from tests.conftest import AMSTERDAM, Transcript, make_transcript

ROOT = Path(__file__).parent.parent
RULES_BUTTON = "[Ik doe mee]"
NOT_FOR_YOU = "Deze knop is niet voor jou bedoeld. Er is niets veranderd."
NO_LONGER = (
    "Deze knop werkt niet meer. Er is niets veranderd. Typ /mijn om te zien wat er open staat."
)


@pytest.fixture
async def fresh(tmp_path: Path) -> AsyncIterator[Transcript]:
    """A fresh database where, as out of the box, the house rules must be accepted."""
    transcript = await make_transcript(
        f"sqlite:///{tmp_path / 'bot.db'}", house_rules_required=True
    )
    yield transcript
    await transcript.runtime.close()


async def requests(chat: Transcript) -> list[HelpRequest]:
    found = []
    async with chat.runtime.store.transaction() as tx:
        for number in range(1, 10):
            request = await tx.request(number)
            if request is not None:
                found.append(request)
    return found


async def play(chat: Transcript, lines: list[str]) -> dict[str, int]:
    """Feed the lines one by one; count typed messages, taps and house-rules taps.

    Every press must find its button and nothing may be refused on the way."""
    counts = {"typed": 0, "taps": 0, "rules_taps": 0}
    for line in lines:
        said = await chat.say(line)
        assert not any(out.startswith("!") for out in said), (line, said)
        what = line.split(": ", 1)[1]
        if what == RULES_BUTTON:
            counts["rules_taps"] += 1
        elif what.startswith("["):
            counts["taps"] += 1
        else:
            counts["typed"] += 1
    return counts


# --- counted -------------------------------------------------------------------------------


async def test_buttons_only_from_start_takes_five_taps(fresh: Transcript) -> None:
    counts = await play(
        fresh,
        [
            "fatima (dm): /start",
            "fatima (dm): [Boodschappen]",  # accepts the house rules shown on the welcome
            "fatima (dm): [Morgen]",
            "fatima (dm): [Middag]",
            "fatima (dm): [Boodschappen doen]",
            "fatima (dm): [In de groep, zonder mijn naam]",
        ],
    )
    # /start itself is where we count from (Telegram sends it when one opens the bot)
    assert counts == {"typed": 1, "taps": 5, "rules_taps": 0}
    [request] = await requests(fresh)
    assert request.category is Category.SHOPPING
    assert request.description == "Boodschappen doen"
    assert request.visibility is Visibility.ANONYMOUS
    assert request.status is RequestStatus.OPEN
    assert "Je vraag staat erin (nummer 1)" in fresh.to("fatima")[-2]


async def test_one_line_from_start_takes_one_message(fresh: Transcript) -> None:
    counts = await play(
        fresh,
        [
            "fatima (dm): /vraag boodschappen morgen middag melk en brood",
            "fatima (dm): [Ik doe mee]",  # the house rules, once
            "fatima (dm): [In de groep, zonder mijn naam]",  # who may see it: always her choice
        ],
    )
    assert counts == {"typed": 1, "taps": 1, "rules_taps": 1}
    [request] = await requests(fresh)
    assert request.description == "melk en brood"
    assert "Boodschappen, morgenmiddag (di 24 nov): melk en brood" in "\n".join(fresh.to("fatima"))


async def test_skipping_the_description_and_no_empty_colon(fresh: Transcript) -> None:
    await play(
        fresh,
        [
            "fatima (dm): /start",
            "fatima (dm): [Klusje]",
            "fatima (dm): [Deze week]",
            "fatima (dm): [Overslaan]",
        ],
    )
    asked = fresh.to("fatima")[-1]
    assert "Klusje, deze week" in asked and ":\n" not in asked.split("\n", 1)[1]
    await fresh.say("fatima (dm): [In de groep, met mijn naam]")
    [request] = await requests(fresh)
    assert request.description == ""
    post = fresh.to("group")[-1]
    assert post.startswith("Fatima vraagt om hulp:\nKlusje, deze week")
    assert ": \n" not in post


# --- the README ----------------------------------------------------------------------------


def readme_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"Type lines like these.*?```\n(.*?)```", text, re.DOTALL)
    assert found is not None, "the try-it lines are gone from the README"
    return [line for line in found[1].splitlines() if line.strip()]


async def test_the_readme_try_it_lines_work_on_a_fresh_database(fresh: Transcript) -> None:
    await play(fresh, readme_lines())
    [request] = await requests(fresh)
    assert request.status is RequestStatus.MATCHED  # placed, and Kees said yes
    proposals = [line for line in fresh.to("kees") if line.startswith("Kun jij helpen?")]
    assert len(proposals) == 1 and "melk en brood" in proposals[0]
    assert fresh.to("fatima")[-1].startswith("Goed nieuws! Kees helpt je")


# --- the house rules, once -----------------------------------------------------------------


async def test_house_rules_accepted_by_typing_ja(fresh: Transcript) -> None:
    await fresh.say("fatima (dm): /vraag klusje morgen lamp ophangen")
    assert fresh.to("fatima")[-1].startswith("Welkom! Dit zijn de huisregels")
    await fresh.say("fatima (dm): misschien")
    assert fresh.to("fatima")[-1].startswith("Doe je mee met de huisregels? Typ ja")
    await fresh.say("fatima (dm): Ja!")
    assert fresh.to("fatima")[-1].startswith("Dit is je vraag:\nKlusje, morgen")
    # shown once: the next request goes straight on
    await fresh.say("fatima (dm): [Stoppen]", "fatima (dm): /vraag klusje morgen lamp")
    assert fresh.to("fatima")[-1].startswith("Dit is je vraag:")


async def test_house_rules_refused_by_typing_nee(fresh: Transcript) -> None:
    await fresh.say("fatima (dm): /vraag klusje morgen lamp ophangen", "fatima (dm): nee")
    assert "Zonder de huisregels kan ik je vraag niet doorzetten" in fresh.to("fatima")[-1]
    assert await requests(fresh) == []
    await fresh.say("fatima (dm): ja")  # nothing pending any more: not taken as a yes
    assert await requests(fresh) == []


async def test_welcome_without_rules_once_accepted(fresh: Transcript) -> None:
    await fresh.say("fatima (dm): /vraag klusje morgen lamp", "fatima (dm): ja")
    await fresh.say("fatima (dm): /start")
    assert "huisregels" not in fresh.to("fatima")[-1]
    await fresh.say("fatima (dm): [Maaltijd]")
    assert fresh.to("fatima")[-1].startswith("Wanneer heb je de hulp nodig?")


# --- parts of the day, typed answers --------------------------------------------------------


async def test_morgen_typed_is_narrowed_with_one_tap(chat: Transcript) -> None:
    await chat.say("fatima (dm): /vraag vervoer", "fatima (dm): morgen")
    assert chat.to("fatima")[-1].startswith("Hoe laat ongeveer, morgen (di 24 nov)?")
    await chat.say("fatima (dm): [Ochtend]", "fatima (dm): /vraag vervoer naar de huisarts")
    await chat.say("fatima (dm): morgen", "fatima (dm): hallo?")  # not a time: asked again
    assert chat.to("fatima")[-1].startswith("Hoe laat ongeveer, morgen (di 24 nov)? Kies Ochtend")
    await chat.say("fatima (dm): 's avonds")
    assert "Vervoer, morgenavond (di 24 nov): naar de huisarts" in chat.to("fatima")[-1]
    await chat.say("fatima (dm): [Stoppen]", "fatima (dm): /vraag vervoer", "fatima (dm): morgen")
    await chat.say("fatima (dm): [Avond]", "fatima (dm): naar de huisarts")
    assert "Vervoer, morgenavond (di 24 nov): naar de huisarts" in chat.to("fatima")[-1]


async def test_a_time_typed_after_the_day_keeps_the_day(chat: Transcript) -> None:
    await chat.say(
        "fatima (dm): /start",
        "fatima (dm): [Klusje]",
        "fatima (dm): [Andere dag…]",
        "fatima (dm): [vr 27 nov]",
        "fatima (dm): om 3 uur",
        "fatima (dm): lamp in de gang",
    )
    assert "Klusje, vrijdag 27 nov om 15:00: lamp in de gang" in chat.to("fatima")[-1]


async def test_in_the_evening_only_what_is_left_of_today(tmp_path: Path) -> None:
    chat = await make_transcript(
        f"sqlite:///{tmp_path / 'bot.db'}", start=datetime(2026, 11, 23, 18, 30, tzinfo=AMSTERDAM)
    )
    try:
        await chat.say("fatima (dm): /vraag gezelschap", "fatima (dm): [Vandaag]")
        assert chat.text().splitlines()[-2:] == ["  [Avond]", "  [Hele dag]"]
        chat.clock.advance(timedelta(hours=3))  # 21:30: nothing is left of today
        await chat.say("fatima (dm): /vraag gezelschap")
        assert chat.to("fatima")[-1].startswith("Wanneer heb je de hulp nodig?")
        assert "[Vandaag]" not in chat.to("fatima")[-1]
        assert "[Morgen]" in chat.to("fatima")[-1]
    finally:
        await chat.runtime.close()


async def test_the_last_visibility_is_offered_first(chat: Transcript) -> None:
    await chat.say("fatima (dm): /vraag klusje morgen lamp")
    assert chat.text().splitlines()[-4] == "  [In de groep, met mijn naam]"
    await chat.say("fatima (dm): [Alleen helpers die gevraagd worden]")
    await chat.say("fatima (dm): /vraag gezelschap morgen koffie")
    shown = chat.text().splitlines()
    first = shown.index("  [Alleen helpers die gevraagd worden]", len(shown) - 6)
    assert shown[first - 1].startswith("  Ik vraag eerst een paar buren privé")


async def test_advancing_money_is_one_optional_tap(chat: Transcript) -> None:
    await chat.say("fatima (dm): /vraag boodschappen morgen melk")
    assert "[De helper schiet het geld voor]" in chat.text()
    await chat.say("fatima (dm): [De helper schiet het geld voor]")
    assert "De helper schiet het geld voor; jij betaalt het terug." in chat.to("fatima")[-1]
    await chat.say("fatima (dm): [Alleen helpers die gevraagd worden]")
    [request] = await requests(chat)
    assert request.advance


# --- someone else's buttons, old buttons, typing instead -----------------------------------


def sender(name: str) -> Sender:
    return Sender("console", name, name.capitalize(), handle=f"@{name}")


def private(name: str) -> ChatRef:
    return ChatRef("console", name, ChatKind.PRIVATE)


async def send(chat: Transcript, press: ButtonPress) -> list[str]:
    start = len(chat.lines)
    await chat.runtime.bot.handle(press)
    await chat.session.sender.drain()
    return chat.lines[start:]


@pytest.mark.parametrize("label", ["Boodschappen doen", "Overslaan"])
async def test_another_members_suggestion_or_skip_changes_nothing(
    chat: Transcript, label: str
) -> None:
    await chat.say("fatima (dm): /start", "fatima (dm): [Boodschappen]", "fatima (dm): [Morgen]")
    await chat.say("fatima (dm): [Ochtend]")
    hers = chat.press("fatima", label, "hers")
    await chat.say("mallory (dm): /start")
    # on Fatima's message, from Mallory's own chat
    forged = ButtonPress(
        "forged-1", private("mallory"), sender("mallory"), hers.action, hers.message_ref
    )
    assert await send(chat, forged) == [f"buurtbot -> mallory (dm): {NOT_FOR_YOU}"]
    # in Fatima's chat, as if Mallory were there: not even an answer
    assert await send(chat, replace(hers, event_id="forged-2", sender=sender("mallory"))) == []
    assert not any("Dit is je vraag" in line for line in chat.to("mallory"))
    assert chat.to("fatima")[-1].startswith("Wil je er iets over zeggen?")  # still her step
    async with chat.runtime.store.transaction() as tx:
        mallory = await tx.identity("console", "mallory")
        assert mallory is not None
        assert await tx.draft(mallory.member_id) is None
    await send(chat, hers)  # her own press still works
    assert chat.to("fatima")[-1].startswith("Dit is je vraag:\nBoodschappen, morgenochtend")


async def test_typing_the_description_instead_of_a_suggestion(chat: Transcript) -> None:
    await chat.say(
        "fatima (dm): /start",
        "fatima (dm): [Gezelschap]",
        "fatima (dm): [Deze week]",
        "fatima (dm): een wandelingetje in het park",
        "fatima (dm): [In de groep, met mijn naam]",
    )
    [request] = await requests(chat)
    assert request.description == "een wandelingetje in het park"
    # the suggestion left behind does nothing now
    await chat.say("fatima (dm): [Even een kop koffie]")
    assert chat.to("fatima")[-1] == (
        "Deze vraag is al geplaatst of gestopt. Typ /vraag voor een nieuwe vraag."
    )
    assert [r.description for r in await requests(chat)] == ["een wandelingetje in het park"]


async def test_an_old_kind_button_after_the_request_was_placed_changes_nothing(
    chat: Transcript,
) -> None:
    await chat.say("fatima (dm): /start")
    welcome = chat.press("fatima", "Boodschappen", "welcome")
    await send(chat, welcome)
    await chat.say("fatima (dm): [Deze week]", "fatima (dm): [Overslaan]")
    await chat.say("fatima (dm): [In de groep, met mijn naam]")
    # the welcome's kinds went with the first press
    assert chat.session.channel.find_button("fatima", "Boodschappen") is None
    said = await send(chat, replace(welcome, event_id="again"))
    assert said == [f"buurtbot -> fatima (dm): {NO_LONGER}"]
    # a kind button of a step-by-step request, pressed after that request was placed
    await chat.say("fatima (dm): /vraag", "fatima (dm): [Klusje]", "fatima (dm): [Deze week]")
    await chat.say("fatima (dm): [Overslaan]", "fatima (dm): [In de groep, met mijn naam]")
    await chat.say("fatima (dm): [Vervoer]")
    assert chat.to("fatima")[-1] == (
        "Deze vraag is al geplaatst of gestopt. Typ /vraag voor een nieuwe vraag."
    )
    placed = await requests(chat)
    assert [r.category for r in placed] == [Category.SHOPPING, Category.CHORE]
    async with chat.runtime.store.transaction() as tx:
        assert await tx.draft(placed[0].requester_id) is None


# --- texts ---------------------------------------------------------------------------------


async def test_guest_list_without_food_wishes_says_nothing_about_food(chat: Transcript) -> None:
    await chat.say(
        "rosa (dm): /tafel di 18:00 Wijkpaleis, 2 plaatsen, gratis, soep",
        "kees: [Schuif aan]",
        "fatima: [Schuif aan]",
        "rosa (dm): /gasten",
    )
    guests = chat.to("rosa")[-1]
    assert "Vol: alle 2 plaatsen bezet." in guests
    assert "Eten" not in guests and "-" not in guests.split("\n")[-1]
    await chat.say("mo: [Schuif aan]", "mo (dm): /aanschuiven")
    assert "Vol: geen plaats meer. Je kunt wel op de wachtlijst." in chat.to("mo")[-1]
    assert "Nog 0" not in chat.text()
