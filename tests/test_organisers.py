"""Onboarding, organisers' tools, moderation, privacy and abuse resistance."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from bot.model import MemberStatus, RequestStatus
from bot.types import ChatKind, ChatRef, Message, Sender
from tests.conftest import Transcript, make_transcript


@pytest.fixture
async def street(tmp_path: Path) -> AsyncIterator[Transcript]:
    """A neighbourhood with an organiser (anna), a helper (kees) and a resident (fatima)."""
    chat = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}")
    await chat.say(
        "@organiser anna",
        "kees (dm): /aanbod klusje boodschappen elke dag",
        "fatima: /start",
    )
    yield chat
    await chat.runtime.close()


async def attachments(chat: Transcript, name_part: str) -> list[bytes]:
    """The files the bot sent whose name contains ``name_part``, read from the outbox."""
    from storage.rows import outbox_t

    async with chat.runtime.store.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox_t.c.attachment_name, outbox_t.c.attachment).where(
                outbox_t.c.attachment_name.contains(name_part)
            )
        )
        return [bytes(r.attachment) for r in rows]


# --- house rules -----------------------------------------------------------------------------


async def test_house_rules_first_then_the_request_goes_on(tmp_path: Path) -> None:
    chat = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}", house_rules_required=True)
    try:
        await chat.say("fatima (dm): /vraag klusje morgen lamp ophangen")
        rules = chat.to("fatima")[-1]
        assert rules.startswith("Welkom! Dit zijn de huisregels van onze buurt:")
        assert rules.endswith("[Ik doe mee]")
        async with chat.runtime.store.transaction() as tx:
            assert await tx.community_requests(1) == []  # nothing asked before accepting
        await chat.say("fatima (dm): [Ik doe mee]")
        assert "Klusje, morgen (di 24 nov): lamp ophangen" in chat.to("fatima")[-1]
        await chat.say("fatima (dm): /aanbod boodschappen weekend")
        assert chat.to("fatima")[-1].startswith("Dank je wel! Je biedt aan:")  # asked once only
    finally:
        await chat.runtime.close()


async def test_house_rules_before_helping(tmp_path: Path) -> None:
    chat = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}", house_rules_required=True)
    try:
        await chat.say(
            "fatima (dm): /huisregels",
            "fatima (dm): [Ik doe mee]",
            "fatima (dm): /vraag klusje morgen lamp",
            "fatima (dm): [In de groep, met mijn naam]",
            "mo: [Ik help]",
        )
        assert chat.to("mo")[-1].startswith("Welkom! Dit zijn de huisregels")
        await chat.say("mo (dm): [Ik doe mee]")
        assert chat.to("fatima")[-1].startswith("Goed nieuws! Mo helpt je")
    finally:
        await chat.runtime.close()


# --- who may do what ----------------------------------------------------------------------------

ORGANISER_COMMANDS = [
    "/overzicht",
    "/namens meneer Bakker: klusje morgen lamp ophangen",
    "/statistiek",
    "/export",
    "/logboek",
    "/verberg #1",
    "/pauzeer @fatima",
    "/blokkeer @fatima",
    "/deblokkeer @fatima",
    "/organisator @fatima",
]
DENIED = "Dat kunnen alleen de organisatoren van de buurt doen."


async def roles_setup(chat: Transcript) -> None:
    """Community 1: anna organises, kees helps, fatima and henk live there; community 2
    (another group) is organised by olga."""
    await chat.say(
        "fatima (dm): /vraag klusje morgen lamp", "fatima (dm): [In de groep, met mijn naam]"
    )
    other_group = ChatRef("console", "group-2", ChatKind.GROUP, "Andere buurt")
    olga = Sender("console", "olga", "Olga", "@olga")
    await chat.runtime.bot.appoint_organiser(other_group, olga)
    await chat.runtime.bot.handle(Message("o-1", other_group, olga, "/start"))
    await chat.session.sender.drain()


@pytest.mark.parametrize("command", ORGANISER_COMMANDS)
@pytest.mark.parametrize("who", ["henk", "kees", "olga", "anna"])
async def test_who_may_do_what(street: Transcript, command: str, who: str) -> None:
    await roles_setup(street)
    await street.say("henk: /start", f"{who} (dm): {command}")
    answers = street.to(who)
    answer = answers[-1] if answers else ""
    if who in ("henk", "kees"):  # a resident, a helper
        assert answer == DENIED
        return
    assert answer != DENIED
    if who == "olga":  # an organiser of another neighbourhood sees nothing of this one
        for secret in ("Fatima", "lamp"):
            assert secret not in answer
        async with street.runtime.store.transaction() as tx:
            membership = await tx.membership(2, 1)  # fatima in her own community
            request = await tx.request(1)
        assert membership is not None and membership.status is MemberStatus.ACTIVE
        assert membership.role.value == "resident"
        assert request is not None and request.status is RequestStatus.OPEN


async def test_organisers_from_configuration(tmp_path: Path) -> None:
    chat = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}", organisers="console:joke")
    try:
        await chat.say("joke (dm): /overzicht")
        assert chat.to("joke")[-1] == "Er staan geen vragen open. Mooi!"
    finally:
        await chat.runtime.close()


async def test_an_organiser_appoints_another(street: Transcript) -> None:
    await street.say("anna (dm): /organisator @fatima")
    assert street.to("anna")[-1] == "Fatima is nu organisator."
    assert street.to("fatima")[-1].startswith("Anna heeft je organisator gemaakt.")
    await street.say("fatima (dm): /overzicht")
    assert street.to("fatima")[-1] == "Er staan geen vragen open. Mooi!"
    await street.say("anna (dm): /organisator @niemand")
    assert street.to("anna")[-1] == "Ik vind niemand in de buurt die '@niemand' heet."


# --- the overview, picking up, assigning -------------------------------------------------------


async def test_overview_lists_the_longest_waiting_first(street: Transcript) -> None:
    await street.say(
        "henk (dm): /vraag vervoer morgen 10:00 naar de markt",
        "henk (dm): [Alleen helpers die gevraagd worden]",
    )
    street.clock.advance(__import__("datetime").timedelta(hours=3))
    await street.say(
        "fatima (dm): /vraag klusje morgen lamp",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    await street.say("anna (dm): /overzicht")
    overview = street.to("anna")[-1]
    assert overview.startswith("Open vragen, de oudste eerst:")
    henk_line = overview.index("#1 Henk: Vervoer")
    fatima_line = overview.index("#2 Fatima: Klusje")
    assert henk_line < fatima_line
    assert "3 uur open, nog niemand, 0 gevraagd" in overview
    assert "net gevraagd, nog niemand, 1 gevraagd" in overview
    assert "[Ik pak #1 op] [Helper kiezen voor #1]" in overview


async def test_organiser_assigns_a_helper(street: Transcript) -> None:
    await street.say(
        "fatima (dm): /vraag klusje morgen lamp",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    await street.say("anna (dm): /overzicht", "anna (dm): [Helper kiezen voor #1]")
    assert street.to("anna")[-1].startswith("Wie wil je vragen voor #1?")
    await street.say("anna (dm): [Kees]")
    assert street.to("fatima")[-1].startswith("Goed nieuws! Kees helpt je")
    assert street.to("kees")[-1].startswith("Anna (organisator) heeft jou gevraagd voor vraag 1.")
    await street.say("anna (dm): /logboek")
    assert "helper gekoppeld (request:1 member:" in street.to("anna")[-1]


# --- on behalf of a neighbour without a phone ------------------------------------------------


async def test_on_behalf_request_is_matched_through_the_organiser(street: Transcript) -> None:
    await street.say("anna (dm): /namens mevrouw Jansen: boodschappen morgen 10:00 brood en melk")
    assert street.to("anna")[-1].startswith("De vraag voor mevrouw Jansen staat erin (nummer 1).")
    assert "brood en melk" in street.to("kees")[-1]
    await street.say("kees (dm): [Ik help]")
    relayed = street.to("anna")[-1]
    assert relayed.startswith("Voor mevrouw Jansen (via jou):\nGoed nieuws! Kees helpt je")
    assert "@kees" in relayed
    assert "Je helpt mevrouw Jansen" in street.to("kees")[-1]
    assert "@anna" in street.to("kees")[-1]  # the organiser is how to reach her


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/namens", "Schrijf het zo: /namens mevrouw Jansen:"),
        ("/namens mevrouw Jansen boodschappen", "Schrijf het zo: /namens mevrouw Jansen:"),
        ("/namens mevrouw Jansen: morgen", "Ik mis de soort hulp of wat er nodig is."),
        ("/namens mevrouw Jansen: klusje morgn lamp", "Ik begrijp 'morgn' niet als dag."),
    ],
)
async def test_on_behalf_bad_input(street: Transcript, line: str, answer: str) -> None:
    await street.say(f"anna (dm): {line}")
    assert answer in street.to("anna")[-1]


# --- figures and export -------------------------------------------------------------------------


async def test_statistics_and_export(street: Transcript) -> None:
    await street.say(
        "fatima (dm): /vraag klusje morgen lamp ophangen",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
        "kees (dm): [Ik help]",
        "kees (dm): /klaar",
        "henk (dm): /vraag vervoer morgen 10:00 naar de markt",
        "henk (dm): [Alleen helpers die gevraagd worden]",
    )
    await street.say("anna (dm): /statistiek 7")
    report = street.to("anna")[-1]
    assert report.startswith("De laatste 7 dagen:")
    assert "Vragen: 2 · gekoppeld: 1 · gelukt: 1" in report
    assert "Nog open: 1" in report
    await street.say("anna (dm): /statistiek veel")
    assert street.to("anna")[-1].startswith("Geef het aantal dagen als getal")
    await street.say("anna (dm): /export")
    assert street.to("anna")[-1].startswith("Hier zijn alle vragen van de buurt (2)")
    [document] = await attachments(street, "buurtbot-vragen")
    rows = list(csv.DictReader(io.StringIO(document.decode("utf-8"))))
    assert [(r["nummer"], r["status"], r["vrager"], r["helper"]) for r in rows] == [
        ("1", "done", "Fatima", "Kees"),
        ("2", "open", "Henk", ""),
    ]
    assert rows[0]["omschrijving"] == "lamp ophangen"


# --- reports and moderation ---------------------------------------------------------------------


async def test_report_reaches_organisers_only(street: Transcript) -> None:
    await street.say(
        "henk (dm): /vraag klusje morgen iets raars", "henk (dm): [In de groep, met mijn naam]"
    )
    await street.say("fatima (dm): /meld #1 dit klopt niet")
    assert street.to("fatima")[-1].startswith("Dank je wel voor je melding.")
    to_anna = street.to("anna")[-1]
    assert to_anna.startswith("Melding 1 van Fatima over vraag #1:\ndit klopt niet")
    assert not any("dit klopt niet" in line for line in street.to("group"))
    assert not any("dit klopt niet" in line for line in street.to("henk"))
    await street.say("anna (dm): [Vraag weghalen]")
    assert street.to("henk")[-1].startswith("Een organisator heeft je vraag 1 weggehaald.")
    await street.say("mo: [Ik help]")  # the group post lost its button
    assert street.lines[-1] == "! Er is geen knop [Ik help] om op te drukken."
    async with street.runtime.store.transaction() as tx:
        request = await tx.request(1)
        assert request is not None and request.status is RequestStatus.HIDDEN


async def test_block_closes_requests_and_stops_the_member(street: Transcript) -> None:
    await street.say(
        "fatima (dm): /vraag klusje morgen lamp",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    await street.say("anna (dm): /blokkeer @fatima")
    assert street.to("anna")[-1].startswith("Fatima is geblokkeerd.")
    assert street.to("fatima")[-1].startswith("Een organisator heeft besloten dat je de bot")
    assert street.to("kees")[-1] == "Vraag 1 is niet meer nodig. Dank je wel dat je wilde kijken!"
    await street.say("fatima (dm): /vraag klusje morgen lamp")
    assert street.to("fatima")[-1].startswith("Je kunt de bot op dit moment niet gebruiken.")
    await street.say("anna (dm): /deblokkeer fatima")
    assert street.to("fatima")[-1] == "Je kunt weer meedoen in de buurt. Welkom terug!"
    await street.say("anna (dm): /logboek")
    log = street.to("anna")[-1]
    assert "lid geblokkeerd" in log and "pauze of blokkade opgeheven" in log


async def test_paused_member_cannot_ask_or_offer_and_is_not_asked(street: Transcript) -> None:
    await street.say("anna (dm): /pauzeer @kees")
    await street.say("kees (dm): /aanbod vervoer weekend")
    assert street.to("kees")[-1].startswith("Je staat even op pauze.")
    await street.say(
        "fatima (dm): /vraag klusje morgen lamp",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    assert not any("lamp" in line for line in street.to("kees"))


# --- helpers: approval and vouching ----------------------------------------------------------


async def test_new_helpers_need_approval_where_the_community_wants(street: Transcript) -> None:
    async with street.runtime.store.transaction() as tx:
        from sqlalchemy import update

        from storage.rows import community_t

        await tx.conn.execute(  # type: ignore[attr-defined]
            update(community_t).values(settings={"approve_helpers": True})
        )
    await street.say("mo (dm): /aanbod klusje elke dag")
    assert any("kijkt een organisator eerst even" in line for line in street.to("mo"))
    assert street.to("anna")[-1].startswith("Mo wil graag helpen. Is dat goed?")
    await street.say(
        "fatima (dm): /vraag klusje morgen lamp",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    assert not any("lamp" in line for line in street.to("mo"))
    await street.say("anna (dm): [Ja, goedkeuren]")
    assert street.to("mo")[-1].startswith("Goed nieuws: je kunt nu helpen")


async def test_vouched_categories_need_a_vouch(street: Transcript) -> None:
    async with street.runtime.store.transaction() as tx:
        from sqlalchemy import update

        from storage.rows import community_t

        await tx.conn.execute(  # type: ignore[attr-defined]
            update(community_t).values(settings={"vouched_categories": ["company"]})
        )
    await street.say(
        "mo (dm): /aanbod gezelschap elke dag",
        "fatima (dm): /vraag gezelschap morgen koffie",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    assert not any("koffie" in line for line in street.to("mo"))
    await street.say("kees (dm): /borg @mo")
    assert "nog één helper of een organisator nodig" in street.to("kees")[-1]
    await street.say("anna (dm): /borg @mo")
    assert street.to("mo")[-1].startswith("Buren staan voor je in.")
    await street.say(
        "henk (dm): /vraag gezelschap overmorgen wandelen",
        "henk (dm): [Alleen helpers die gevraagd worden]",
    )
    assert "wandelen" in street.to("mo")[-1]
    await street.say("henk (dm): /borg @mo")
    assert street.to("henk")[-1] == "Alleen helpers en organisatoren kunnen voor iemand instaan."


# --- privacy -----------------------------------------------------------------------------------


async def test_my_data_gives_text_and_a_json_file(street: Transcript) -> None:
    await street.say(
        "fatima (dm): /vraag klusje morgen lamp ophangen",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
        "fatima (dm): /mijngegevens",
    )
    text = street.to("fatima")[-1]
    assert text.startswith("Dit bewaar ik over jou, Fatima:")
    assert "console: @fatima" in text and "Vragen van jou: 1" in text
    [document] = await attachments(street, "mijn-gegevens")
    data = json.loads(document)
    assert data["member"][0]["display_name"] == "Fatima"
    assert data["requests"][0]["description"] == "lamp ophangen"


async def every_value(chat: Transcript) -> str:
    """Every value in every table of the database, as one text."""
    found = []
    async with chat.runtime.store.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                found.extend(repr(value) for value in row)
    return "\n".join(found)


async def test_forget_me_leaves_no_trace(street: Transcript) -> None:
    await street.say(
        "kees (dm): /voorgeschoten 5",  # nothing yet: refused
        "fatima (dm): /vraag boodschappen morgen brood van Fatima",
        "fatima (dm): [Ja, ik betaal het terug]",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
        "fatima (dm): [Zo plaatsen]",  # her name is left out of what helpers read first
        "kees (dm): [Ik help]",
        "kees (dm): /voorgeschoten 4,20",
        "fatima (dm): [Terugbetaald]",
        "fatima (dm): /meld @kees was heel aardig",
        "fatima (dm): /stil 22:00-08:00",
        "fatima (dm): /aanbod vervoer weekend 3021",
    )
    before = await every_value(street)
    assert "Fatima" in before and "fatima" in before
    await street.say("fatima (dm): /vergeetmij")
    assert street.to("fatima")[-1].startswith("Weet je het zeker?")
    await street.say("fatima (dm): [Ja, wis alles]")
    assert street.to("fatima")[-1].startswith("Klaar. Ik heb alles over je gewist.")
    assert street.to("kees")[-1].startswith("Vraag 1 is niet meer nodig.")
    after = await every_value(street)
    for trace in ("Fatima", "fatima", "@fatima", "brood", "3021", "was heel aardig"):
        assert trace not in after, trace
    async with street.runtime.store.transaction() as tx:
        figures = await tx.community_requests(1)
    assert len(figures) == 1 and figures[0].status is RequestStatus.CANCELLED  # counts remain
    # a forgotten person who writes again is simply new
    await street.say("fatima (dm): /mijngegevens")
    assert "Vragen van jou: 0" in street.to("fatima")[-1]


async def test_forget_me_can_be_called_off(street: Transcript) -> None:
    await street.say("fatima (dm): /vergeetmij", "fatima (dm): [Nee, toch niet]")
    assert street.to("fatima")[-1] == "Goed, ik heb niets gewist."


async def test_retention_removes_texts_of_old_closed_requests(street: Transcript) -> None:
    from datetime import timedelta

    await street.say(
        "fatima (dm): /vraag klusje morgen lamp ophangen",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
        "fatima (dm): /annuleer",
        "henk (dm): /vraag klusje morgen kast",
        "henk (dm): [Alleen helpers die gevraagd worden]",
    )
    async with street.runtime.store.transaction() as tx:
        assert await tx.purge_closed_texts(1, street.clock.now() - timedelta(days=90)) == 0
        assert await tx.purge_closed_texts(1, street.clock.now() + timedelta(seconds=1)) == 1
        old, still_open = await tx.community_requests(1)
    assert old.description == "" and old.status is RequestStatus.CANCELLED
    assert still_open.description == "kast"


# --- abuse resistance -----------------------------------------------------------------------


async def test_too_many_commands_get_one_notice_then_silence(street: Transcript) -> None:
    for _ in range(25):
        await street.say("henk (dm): /help")
    answers = street.to("henk")
    assert len(answers) == 21
    assert answers[-1].startswith("Je stuurt veel berichten achter elkaar.")
    street.clock.advance(__import__("datetime").timedelta(minutes=2))
    await street.say("henk (dm): /help")
    assert street.to("henk")[-1].startswith("Ik help buren elkaar te helpen.")


async def test_open_requests_are_limited(street: Transcript) -> None:
    for number in range(6):
        await street.say(
            f"henk (dm): /vraag klusje morgen klus {number}",
            "henk (dm): [Alleen helpers die gevraagd worden]",
        )
    assert street.to("henk")[-1].startswith("Je hebt al 5 vragen open.")


async def test_the_nightly_job_removes_old_texts(street: Transcript) -> None:
    await street.say(
        "fatima (dm): /vraag klusje morgen lamp ophangen",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
        "kees (dm): [Ik help]",
        "kees (dm): /klaar",
        "@wait 89d",
    )
    async with street.runtime.store.transaction() as tx:
        request = await tx.request(1)
    assert request is not None and request.description == "lamp ophangen"
    await street.say("@wait 2d")
    async with street.runtime.store.transaction() as tx:
        request = await tx.request(1)
    assert request is not None and request.description == ""
    assert request.status is RequestStatus.DONE  # the count stays


async def test_picking_a_request_up_in_the_chat_is_in_the_audit_log(street: Transcript) -> None:
    await street.say(
        "fatima (dm): /vraag klusje morgen lamp",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    await street.say("anna (dm): /overzicht", "anna (dm): [Ik pak #1 op]")
    assert street.to("fatima")[-1].startswith("Goed nieuws! Anna helpt je")
    await street.say("anna (dm): /logboek")
    assert "opgepakt (request:1 member:" in street.to("anna")[-1]
