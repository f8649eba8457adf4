"""Asking, offering and matching, as residents see it in the console transcript."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.model import RequestStatus
from tests.conftest import Transcript


async def offer_and_ask(chat: Transcript, offer: str, ask: str) -> None:
    await chat.say(f"kees (dm): {offer}", f"fatima: {ask}")


@pytest.mark.parametrize(
    ("line", "summary"),
    [
        (
            "/vraag boodschappen morgen 14:00 melk en brood",
            "Boodschappen, morgen (di 24 nov) om 14:00: melk en brood",
        ),
        (
            "/vraag gezelschap donderdagmiddag 3021 even een kop koffie samen",
            "Gezelschap, donderdagmiddag 26 nov, 3021: even een kop koffie samen",
        ),
        (
            "/vraag vervoer za 10:00 naar het ziekenhuis",
            "Vervoer, zaterdag 28 nov om 10:00: naar het ziekenhuis",
        ),
    ],
)
async def test_one_line_requests_from_the_design(chat: Transcript, line: str, summary: str) -> None:
    await chat.say(f"fatima (dm): {line}")
    asked = chat.to("fatima")[-1]
    assert summary in asked
    # only the visibility is still open, asked with buttons
    assert "mag ik je vraag dan in de groep zetten?" in asked


@pytest.mark.parametrize(
    ("line", "summary"),
    [
        ("/aanbod boodschappen ma-vr middag", "Boodschappen, ma–vr, middag"),
        (
            "/aanbod gezelschap vervoer za zo ochtend 3021",
            "Gezelschap, Vervoer, za en zo, ochtend, rond 3021",
        ),
        ("/offer shopping mon-fri afternoon max 2 per week", "Boodschappen, ma–vr, middag"),
    ],
)
async def test_one_line_offers_from_the_design(chat: Transcript, line: str, summary: str) -> None:
    await chat.say(f"kees (dm): {line}")
    assert summary in chat.to("kees")[-1]


async def test_the_whole_story_reaches_both_sides(chat: Transcript) -> None:
    await offer_and_ask(
        chat, "/aanbod boodschappen ma-vr middag", "/vraag boodschappen morgen middag melk"
    )
    await chat.say("fatima (dm): [Alleen helpers die gevraagd worden]")
    proposal = chat.to("kees")[-1]
    assert proposal.startswith("Kun jij helpen? Een buur vraagt:")
    assert "Fatima" not in proposal  # names only after the match
    await chat.say("kees (dm): [Ik help]")
    assert chat.to("fatima")[-1].startswith("Goed nieuws! Kees helpt je")
    assert "@kees" in chat.to("fatima")[-1]
    assert "Je helpt Fatima" in chat.to("kees")[-1]
    assert not any("melk" in line for line in chat.to("group"))  # nothing about it in the group


async def test_guided_request_with_buttons(chat: Transcript) -> None:
    await chat.say("fatima (dm): /vraag")
    assert chat.to("fatima")[-1].startswith("Waar heb je hulp bij nodig?")
    await chat.say("fatima (dm): [Klusje]")
    assert chat.to("fatima")[-1].startswith("Wanneer heb je de hulp nodig?")
    await chat.say("fatima (dm): [Morgen]")
    assert chat.to("fatima")[-1].startswith("Hoe laat ongeveer, morgen (di 24 nov)?")
    await chat.say("fatima (dm): [Hele dag]")
    assert chat.to("fatima")[-1].startswith("Wil je er iets over zeggen?")
    await chat.say("fatima (dm): lamp ophangen in de gang")
    assert "Klusje, morgen (di 24 nov): lamp ophangen in de gang" in chat.to("fatima")[-1]
    await chat.say("fatima (dm): [In de groep, met mijn naam]")
    # nobody offers small jobs: it goes to the group, with her name as she chose
    assert chat.to("group")[-1].startswith("Fatima vraagt om hulp:")


async def test_anonymous_request_in_the_group_has_no_name(chat: Transcript) -> None:
    await chat.say(
        "fatima (dm): /vraag klusje morgen lamp ophangen",
        "fatima (dm): [In de groep, zonder mijn naam]",
    )
    post = chat.to("group")[-1]
    assert post.startswith("Een buur vraagt om hulp:")
    assert "Fatima" not in post and "fatima" not in post


async def test_helpers_only_request_never_reaches_the_group(chat: Transcript) -> None:
    await chat.say(
        "fatima (dm): /vraag klusje morgen lamp ophangen",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    assert chat.to("group") == []
    assert "Ik blijf zoeken" in chat.to("fatima")[-1]


async def test_declines_move_on_to_the_next_helper_then_the_group(chat: Transcript) -> None:
    await chat.say(
        "anna (dm): /aanbod vervoer weekend",
        "piet (dm): /aanbod vervoer weekend",
        "henk (dm): /vraag vervoer za 10:00 naar het station",
        "henk (dm): [In de groep, met mijn naam]",
    )
    assert chat.to("anna")[-1].startswith("Kun jij helpen?")
    assert chat.to("piet")[-1].startswith("Kun jij helpen?")
    await chat.say("anna (dm): [Nu niet]")
    assert chat.to("group") == []  # piet has not answered yet
    await chat.say("piet (dm): [Nu niet]")
    assert chat.to("group")[-1].startswith("Henk vraagt om hulp:")
    await chat.say("mo: [Ik help]")
    assert chat.to("henk")[-1].startswith("Goed nieuws! Mo helpt je")


async def test_the_neighbour_who_helped_before_is_asked_first(chat: Transcript) -> None:
    helpers = ("anna", "piet", "mo", "joke")
    for name in helpers:
        await chat.say(f"{name} (dm): /aanbod boodschappen elke dag")
    # piet helps henk, mo helps fatima: both have helped once this month
    for requester, helper in (("henk", "piet"), ("fatima", "mo")):
        await chat.say(
            f"{requester} (dm): /vraag boodschappen morgen brood",
            f"{requester} (dm): [Alleen helpers die gevraagd worden]",
            f"{helper} (dm): [Ik help]",
            f"{helper} (dm): /klaar",
        )
    await chat.say(
        "fatima (dm): /vraag boodschappen overmorgen melk",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    asked = [
        line.split(" (dm)")[0].removeprefix("buurtbot -> ")
        for line in chat.lines
        if line.startswith("buurtbot -> ") and "Kun jij helpen?" in line
    ][-3:]
    # mo helped fatima before and it went well: asked first; then those with fewer helps
    assert asked == ["mo", "anna", "joke"]


async def test_weekly_maximum_is_respected(chat: Transcript) -> None:
    await chat.say("kees (dm): /aanbod klusje elke dag max 1 per week")
    for number, when in enumerate(("morgen", "overmorgen"), start=1):
        await chat.say(
            f"fatima (dm): /vraag klusje {when} klus {number}",
            "fatima (dm): [Alleen helpers die gevraagd worden]",
        )
        if number == 1:
            await chat.say("kees (dm): [Ik help]")
    assert not any("klus 2" in line for line in chat.to("kees"))


async def test_a_paused_offer_is_not_asked(chat: Transcript) -> None:
    await chat.say("kees (dm): /aanbod klusje elke dag", "kees (dm): /pauze")
    await chat.say(
        "fatima (dm): /vraag klusje morgen lamp",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    assert not any("lamp" in line for line in chat.to("kees"))
    await chat.say(
        "kees (dm): /hervat",
        "henk (dm): /vraag klusje morgen kast",
        "henk (dm): [Alleen helpers die gevraagd worden]",
    )
    assert "kast" in chat.to("kees")[-1]


async def test_a_new_offer_is_asked_about_waiting_requests(chat: Transcript) -> None:
    await chat.say(
        "fatima (dm): /vraag klusje morgen lamp ophangen",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    await chat.say("kees (dm): /aanbod klusje elke dag")
    assert "lamp ophangen" in chat.to("kees")[-1]


async def test_cancel_tells_the_helper(chat: Transcript) -> None:
    await offer_and_ask(chat, "/aanbod klusje elke dag", "/vraag klusje morgen lamp")
    await chat.say(
        "fatima (dm): [In de groep, met mijn naam]",
        "kees (dm): [Ik help]",
        "fatima (dm): /annuleer",
    )
    assert chat.to("fatima")[-1] == "Je vraag 1 is ingetrokken."
    assert chat.to("kees")[-1].startswith("Fatima heeft vraag 1 ingetrokken.")


async def test_cancel_withdraws_pending_proposals(chat: Transcript) -> None:
    await offer_and_ask(chat, "/aanbod klusje elke dag", "/vraag klusje morgen lamp")
    await chat.say("fatima (dm): [In de groep, met mijn naam]", "fatima (dm): /annuleer 1")
    assert chat.to("kees")[-1] == "Vraag 1 is niet meer nodig. Dank je wel dat je wilde kijken!"
    await chat.say("kees (dm): [Ik help]")  # the proposal lost its buttons
    assert chat.lines[-1].startswith("! Er is geen knop")


async def test_mijn_lists_requests_offers_and_money(chat: Transcript) -> None:
    await offer_and_ask(chat, "/aanbod boodschappen elke dag", "/vraag boodschappen morgen brood")
    await chat.say(
        "fatima (dm): [Ja, ik betaal het terug]",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    await chat.say("kees (dm): [Ik help]", "kees (dm): /voorgeschoten 7,95")
    await chat.say("fatima (dm): /mijn", "kees (dm): /mijn")
    mine = chat.to("fatima")[-1]
    assert "Jouw vraag 1: Boodschappen" in mine and "(Kees helpt)" in mine
    assert "Nog terug te betalen aan Kees: € 7,95 (vraag 1)" in mine
    assert "[€ 7,95 terugbetaald]" in mine
    kees = chat.to("kees")[-1]
    assert "Jij helpt Fatima (vraag 1)" in kees
    assert "Fatima betaalt je nog € 7,95 terug" in kees
    assert "Jouw aanbod: Boodschappen, elke dag" in kees


async def test_language_switch_changes_every_text(chat: Transcript) -> None:
    await chat.say("fatima (dm): /taal en")
    assert chat.to("fatima")[-1] == "Fine, from now on I will write to you in English."
    await chat.say("fatima (dm): /ask chore tomorrow fix the lamp")
    assert "Small job, tomorrow (Tue 24 Nov): fix the lamp" in chat.to("fatima")[-1]
    await chat.say("fatima (dm): /taal")
    assert "[Nederlands] [English]" in chat.text()
    await chat.say("fatima (dm): [Nederlands]")
    assert chat.to("fatima")[-1] == "Goed, ik schrijf je voortaan in het Nederlands."


async def test_help_lists_commands_in_plain_words(chat: Transcript) -> None:
    await chat.say("fatima (dm): /help")
    short = chat.to("fatima")[-1]
    assert len(short.splitlines()) <= 9  # a few lines, with the way to the rest
    for command in ("/vraag", "/aanbod", "/mijn", "/hulp alles"):
        assert command in short
    assert "/annuleer" not in short
    await chat.say("fatima (dm): /hulp alles")
    help_text = chat.to("fatima")[-1]
    for command in ("/vraag", "/aanbod", "/mijn", "/klaar", "/annuleer", "/taal"):
        assert command in help_text
    await chat.say("fatima (dm): /help meer")
    assert chat.to("fatima")[-1] == help_text


async def test_start_in_private_offers_the_kinds_of_help(chat: Transcript) -> None:
    await chat.say("fatima (dm): /start")
    assert "[Boodschappen] [Maaltijd] [Gezelschap]" in chat.text()
    assert "[Ik wil helpen]" in chat.text()
    await chat.say("fatima (dm): [Ik wil helpen]")
    assert chat.to("fatima")[-1].startswith("Fijn dat je wilt helpen!")


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/bestaatniet", "Die opdracht ken ik niet: /bestaatniet."),
        (
            "/vraag boodschappen morgn 14:00 melk",
            "Ik begrijp 'morgn' niet als dag of tijd. Bedoel je morgen?",
        ),
        ("/vraag boodschappen vandaag 08:00 melk", "is al voorbij"),
        ("/vraag boodschappen 25:00 melk", "Ik begrijp '25:00' niet als tijd."),
        ("/vraag boodschapen morgen melk", "Bedoel je boodschappen?"),
        ("/aanbod boodschappen max 50", "Kies een aantal keer per week tussen 1 en 21."),
        ("/voorgeschoten € 9000", "Dat bedrag kan niet kloppen."),
        ("/klaar", "Je hebt nu geen hulp lopen"),
        ("/klaar 7", "Vraag 7 staat niet bij jouw open vragen."),
        ("/annuleer", "Je hebt geen open vragen"),
        ("/annuleer abc", "'abc' is geen nummer van een vraag."),
        ("/taal fr", "Die taal ken ik niet: 'fr'."),
        ("gewoon een zin", "Dat begrijp ik niet goed. Wat wil je doen?"),
    ],
)
async def test_bad_input_gets_a_clear_answer(chat: Transcript, line: str, answer: str) -> None:
    await chat.say(f"fatima (dm): {line}")
    assert answer in chat.to("fatima")[-1]


async def test_english_member_gets_errors_in_english(chat: Transcript) -> None:
    await chat.say("fatima (dm): /taal en", "fatima (dm): /ask shopping tomorow milk")
    assert chat.to("fatima")[
        -1
    ] == "I don't understand 'tomorow' as a day. Do you mean morgen?" or (
        "I don't understand 'tomorow'" in chat.to("fatima")[-1]
    )


async def test_very_long_texts_are_refused_without_saving(chat: Transcript) -> None:
    await chat.say("fatima (dm): /vraag klusje morgen " + "a" * 5000)
    assert "Je bericht is te lang" in chat.to("fatima")[-1]
    await chat.say("fatima (dm): /vraag klusje morgen " + "a" * 600)
    assert "Je beschrijving is te lang" in chat.to("fatima")[-1]
    async with chat.runtime.store.transaction() as tx:
        member = await tx.identity("console", "fatima")
        assert member is not None
        assert await tx.draft(member.member_id) is None


async def test_empty_request_starts_the_guided_form(chat: Transcript) -> None:
    await chat.say("fatima (dm): /vraag   ")
    assert chat.to("fatima")[-1].startswith("Waar heb je hulp bij nodig?")


async def test_own_request_cannot_be_taken(chat: Transcript) -> None:
    await chat.say(
        "fatima (dm): /vraag klusje morgen lamp", "fatima (dm): [In de groep, met mijn naam]"
    )
    await chat.say("fatima: [Ik help]")
    assert chat.to("group")[-1].startswith("Dit is je eigen vraag.")


async def test_a_member_who_left_cannot_take_a_request(chat: Transcript) -> None:
    from bot.types import ChatKind, ChatRef, MemberLeft, Sender

    await offer_and_ask(chat, "/aanbod klusje elke dag", "/vraag klusje morgen lamp")
    await chat.say("fatima (dm): [Alleen helpers die gevraagd worden]")
    group = ChatRef("console", "group", ChatKind.GROUP, "Buurt")
    await chat.runtime.bot.handle(MemberLeft("left-1", group, Sender("console", "kees", "Kees")))
    await chat.say("kees (dm): [Ik help]")
    assert chat.to("kees")[-1].startswith("Je bent geen lid meer van de buurtgroep.")
    async with chat.runtime.store.transaction() as tx:
        request = await tx.request(1)
        assert request is not None and request.status is RequestStatus.OPEN


async def test_a_button_pressed_twice_gives_one_match(chat: Transcript) -> None:

    await offer_and_ask(chat, "/aanbod klusje elke dag", "/vraag klusje morgen lamp")
    await chat.say("fatima (dm): [Alleen helpers die gevraagd worden]")
    first = chat.press("kees", "Ik help", "press-1")
    for event_id in ("press-1", "press-2"):
        await chat.runtime.bot.handle(replace(first, event_id=event_id))
        await chat.session.sender.drain()
    assert chat.to("kees")[-1].startswith("Deze knop werkt niet meer. Er is niets veranderd.")
    assert sum(line.startswith("Goed nieuws!") for line in chat.to("fatima")) == 1


async def test_a_button_on_a_closed_request(chat: Transcript) -> None:

    await offer_and_ask(chat, "/aanbod klusje elke dag", "/vraag klusje morgen lamp")
    await chat.say("fatima (dm): [Alleen helpers die gevraagd worden]")
    late = chat.press("kees", "Ik help", "late")
    await chat.say("fatima (dm): /annuleer")
    await chat.runtime.bot.handle(late)
    await chat.session.sender.drain()
    assert chat.to("kees")[-1].startswith("Deze knop werkt niet meer. Er is niets veranderd.")
    async with chat.runtime.store.transaction() as tx:
        request = await tx.request(1)
    assert request is not None and request.status is RequestStatus.CANCELLED


async def test_an_unknown_button_is_answered(chat: Transcript) -> None:
    from bot.types import ButtonPress, ChatKind, ChatRef, Sender

    private = ChatRef("console", "kees", ChatKind.PRIVATE)
    await chat.runtime.bot.handle(
        ButtonPress("odd", private, Sender("console", "kees", "Kees"), "zzz:1")
    )
    await chat.session.sender.drain()
    assert chat.to("kees")[-1].startswith("Deze knop werkt niet meer.")


async def test_group_post_loses_its_button_once_someone_helps(chat: Transcript) -> None:
    await chat.say(
        "fatima (dm): /vraag klusje morgen lamp", "fatima (dm): [In de groep, met mijn naam]"
    )
    assert "[Ik help]" in chat.to("group")[-1]
    await chat.say("kees (dm): /aanbod klusje elke dag", "kees (dm): [Ik help]")
    assert chat.to("fatima")[-1].startswith("Goed nieuws! Kees helpt je")
    await chat.say("mo: [Ik help]")
    assert chat.lines[-1] == "! Er is geen knop [Ik help] om op te drukken."


async def test_group_post_loses_its_button_when_cancelled(chat: Transcript) -> None:
    await chat.say(
        "fatima (dm): /vraag klusje morgen lamp", "fatima (dm): [In de groep, met mijn naam]"
    )
    await chat.say("fatima (dm): /annuleer", "mo: [Ik help]")
    assert chat.lines[-1] == "! Er is geen knop [Ik help] om op te drukken."


async def test_help_in_english_shows_english_names(chat: Transcript) -> None:
    await chat.say("fatima (dm): /taal en", "fatima (dm): /help all")
    help_text = chat.to("fatima")[-1]
    for command in ("/ask", "/offer", "/mine", "/done", "/cancel", "/language", "/help"):
        assert command in help_text
    assert "/vraag" not in help_text


async def test_a_new_helper_is_asked_about_requests_nobody_could_take(chat: Transcript) -> None:
    await chat.say(
        "fatima (dm): /vraag klusje morgen lamp ophangen",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
        "fatima (dm): /aanbod klusje elke dag",  # her own request is not put to her
        "ali (dm): /aanbod boodschappen elke dag",  # another kind of help
        "kees (dm): /aanbod klusje za",  # another day
    )
    for name in ("fatima", "ali", "kees"):
        assert not any("Kun jij helpen?" in line for line in chat.to(name)), name
    await chat.say("piet (dm): /aanbod klusje elke dag")
    assert any("lamp ophangen" in line for line in chat.to("piet"))
    # while piet is thinking about it, the next new helper is not asked as well
    await chat.say("joke (dm): /aanbod klusje elke dag")
    assert not any("Kun jij helpen?" in line for line in chat.to("joke"))
