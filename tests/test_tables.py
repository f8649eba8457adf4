"""Aanschuiven: meal tables with seats, dietary needs, a waiting list and reminders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.model import SeatStatus, TableStatus
from tests.conftest import Transcript, make_transcript

TUESDAY = "/tafel di 18:00 Wijkpaleis, 8 plaatsen, € 3, stamppot, vegetarisch halal"
WEEKLY = (
    "/tafel elke do 17:30 Buurttuin Middelland, 12 plaatsen, vrije gift, soep en brood, "
    "veganistisch"
)


@pytest.fixture
async def street(tmp_path: Path) -> AsyncIterator[Transcript]:
    chat = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}", organisers="console:anna")
    await chat.say("anna (dm): /start")
    yield chat
    await chat.runtime.close()


async def announcements(chat: Transcript) -> list[str]:
    """The current text of every table announcement in the group, edits included."""
    from storage.rows import outbox_t

    async with chat.runtime.store.engine.connect() as conn:
        rows = (await conn.execute(select(outbox_t).order_by(outbox_t.c.id))).all()
    latest: dict[int, str] = {}
    for row in rows:
        if row.kind == "group" and "Aanschuiven bij" in row.text:
            latest[row.edit_of or row.id] = row.text
    return list(latest.values())


async def test_the_design_examples_work_as_written(street: Transcript) -> None:
    await street.say(f"rosa (dm): {TUESDAY}")
    post = street.to("group")[-1]
    assert post.startswith("🍽 Aanschuiven bij Rosa: Wijkpaleis\nmorgen (di 24 nov) om 18:00")
    assert "Menu: stamppot (halal, vegetarisch)" in post
    assert "Bijdrage: € 3,00" in post
    assert "Nog 8 van de 8 plaatsen vrij." in post
    assert post.endswith("[Schuif aan]")
    await street.say(f"piet (dm): {WEEKLY}")
    post = street.to("group")[-1]
    assert "Buurttuin Middelland\ndonderdag 26 nov om 17:30" in post
    assert "Bijdrage: Vrije gift" in post and "Deze tafel is er elke week." in post
    await street.say("fatima (dm): /aanschuiven halal")
    listed = street.to("fatima")[-1]
    assert "Tafel 1: Wijkpaleis" in listed and "Buurttuin" not in listed
    await street.say("fatima (dm): /tables")
    assert "Tafel 2: Buurttuin Middelland" in street.to("fatima")[-1]


async def test_guided_table(street: Transcript) -> None:
    await street.say("rosa (dm): /tafel")
    assert street.to("rosa")[-1].startswith("Wanneer is de maaltijd?")
    await street.say("rosa (dm): vr 18:30")
    await street.say("rosa (dm): Huiskamer Rosa, Kerkstraat 4")
    await street.say("rosa (dm): [6]", "rosa (dm): [Gratis]")
    await street.say("rosa (dm): pannenkoeken", "rosa (dm): vegetarisch")
    preview = street.to("rosa")[-1]
    assert preview.startswith("Zo komt je tafel in de groep:")
    assert "Huiskamer Rosa, Kerkstraat 4" in preview and "Bijdrage: Gratis" in preview
    assert street.to("group") == []
    await street.say("rosa (dm): [Aankondigen]")
    assert "pannenkoeken (vegetarisch)" in street.to("group")[-1]


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/tafel vandaag 08:00 Wijkpaleis, 8 plaatsen, gratis, soep", "al voorbij"),
        ("/tafel di 18:00 Wijkpaleis, 0 plaatsen, gratis, soep", "Kies tussen 1 en 100 plaatsen."),
        (
            "/tafel di 18:00 Wijkpaleis, 500 plaatsen, gratis, soep",
            "Kies tussen 1 en 100 plaatsen.",
        ),
        (
            "/tafel di 18:00 Wijkpaleis, 8 plaatsen, gratis, soep, aanmelden tot wo 12:00",
            "Het aanmelden moet sluiten voordat de maaltijd begint.",
        ),
        ("/tafel di Wijkpaleis, 8 plaatsen", "Zet er een tijd bij"),
        ("/tafel dinsdg 18:00 Wijkpaleis", "Bedoel je dinsdag?"),
        (
            "/tafel di 18:00 Wijkpaleis, 8 plaatsen, gratis, soep, vegetrisch",
            "Ik begrijp 'vegetrisch' niet. Bedoel je vegetarisch?",
        ),
        ("/tafel di 18:00 A, 8 plaatsen, gratis, soep, B, C", "Ik weet niet wat ik met 'B' moet."),
    ],
)
async def test_bad_tables_are_refused_clearly(street: Transcript, line: str, answer: str) -> None:
    await street.say(f"rosa (dm): {line}")
    assert answer in street.to("rosa")[-1]
    assert street.to("group") == []


async def test_taking_a_seat_with_company_and_food(street: Transcript) -> None:
    await street.say(f"rosa (dm): {TUESDAY}", "kees: [Schuif aan]")
    assert street.to("kees")[-1].startswith("Je schuift aan bij Rosa: Wijkpaleis")
    await street.say("kees (dm): [+1]", "kees (dm): notenallergie")
    await street.say("fatima: [Schuif aan]", "fatima (dm): vegetarisch")
    await street.say("mo: [Schuif aan]", "mo (dm): vegetarisch en notenallergie")
    await street.say("rosa (dm): /gasten")
    guests = street.to("rosa")[-1]
    assert "• Kees +1 (notenallergie)" in guests
    assert "4 van de 8 plaatsen bezet." in guests
    assert (
        "Wat je gasten niet eten of willen: notenallergie (2 gasten), vegetarisch (2 gasten)."
        in guests
    )
    assert "wachtlijst" not in guests  # nobody waits: nothing said about it
    [post] = await announcements(street)
    assert "Nog 4 van de 8 plaatsen vrij." in post
    await street.say("kees: [Schuif aan]")
    assert street.to("group")[-1] == "Je schuift al aan bij Wijkpaleis. Tot dan!"
    await street.say("rosa: [Schuif aan]")
    assert street.to("group")[-1].startswith("Dit is je eigen tafel.")


async def test_full_table_waiting_list_moves_up(street: Transcript) -> None:
    await street.say("rosa (dm): /tafel di 18:00 Wijkpaleis, 2 plaatsen, gratis, soep")
    await street.say("kees: [Schuif aan]", "fatima: [Schuif aan]")
    [post] = await announcements(street)
    assert "Vol: geen plaats meer. Je kunt wel op de wachtlijst." in post
    assert "Nog 0" not in post
    await street.say("mo: [Schuif aan]", "henk: [Schuif aan]")
    assert "wachtlijst, plaats 1" in street.to("mo")[-1]
    assert "wachtlijst, plaats 2" in street.to("henk")[-1]
    await street.say("kees (dm): /afmelden")
    assert street.to("kees")[-1].startswith("Je bent afgemeld voor Wijkpaleis.")
    assert street.to("rosa")[-1] == "Kees komt toch niet eten (tafel 1)."
    assert street.to("mo")[-1].startswith("Er is een plek vrijgekomen bij Wijkpaleis")
    # mo does not answer in time: the seat goes to henk
    await street.say("@wait 3h")
    assert street.to("mo")[-1].startswith("De vrije plek is naar de volgende")
    assert street.to("henk")[-1].startswith("Er is een plek vrijgekomen")
    await street.say("henk (dm): [Ja, ik kom]")
    assert street.to("henk")[-1].startswith("Je schuift aan bij Rosa")
    assert street.to("rosa")[-1] == "Henk schuift ook aan (tafel 1), van de wachtlijst."
    async with street.runtime.store.transaction() as tx:
        seated = await tx.seats(1, [SeatStatus.SEATED])
    assert sorted(s.member_id for s in seated) == [4, 6]  # fatima, henk


async def test_host_calls_off_and_every_guest_is_told(street: Transcript) -> None:
    await street.say("rosa (dm): /tafel di 18:00 Wijkpaleis, 1 plaatsen, gratis, soep")
    await street.say("kees: [Schuif aan]", "mo: [Schuif aan]")
    await street.say("rosa (dm): /afzeggen 1 Ik ben ziek, sorry!")
    assert street.to("rosa")[-1].startswith("Tafel 1 is afgezegd.")
    for guest in ("kees", "mo"):
        assert street.to(guest)[-1].endswith("afgezegd: Ik ben ziek, sorry!")
    [post] = await announcements(street)
    assert post.endswith("✖ Deze maaltijd gaat niet door.")
    await street.say("fatima (dm): /aanschuiven")
    assert street.to("fatima")[-1].startswith("Er zijn de komende week geen maaltijden")
    await street.say("kees (dm): /afzeggen 1")
    assert street.to("kees")[-1] == "Dit is niet jouw tafel."


async def test_closed_and_cancelled_tables_cannot_be_joined(street: Transcript) -> None:
    await street.say("rosa (dm): /tafel di 18:00 Wijkpaleis, 8 plaatsen, gratis, soep")
    press = street.press("mo", "Schuif aan", "late", in_group=True)
    street.clock.advance(timedelta(days=1, hours=7))  # past the sign-up deadline (16:00)
    await street.runtime.bot.handle(press)
    await street.session.sender.drain()
    assert street.to("group")[-1] == "Aanmelden voor deze maaltijd is gesloten."
    await street.say("rosa (dm): /afzeggen 1")
    await street.runtime.bot.handle(replace(press, event_id="later"))
    await street.session.sender.drain()
    assert street.to("group")[-1].startswith("Deze knop werkt niet meer. Er is niets veranderd.")
    async with street.runtime.store.transaction() as tx:
        mo = await tx.identity("console", "mo")
        assert mo is not None and await tx.seat(1, mo.member_id) is None


async def test_reminders_and_how_it_went(street: Transcript) -> None:
    await street.say(f"rosa (dm): {TUESDAY}", "kees: [Schuif aan]", "kees (dm): [Alleen ik]")
    await street.say("@wait 10h")  # Monday 19:00
    assert street.to("kees")[-1].startswith("Denk je eraan? Je schuift aan bij Rosa")
    host = street.to("rosa")[-1]
    assert host.startswith("Je kookt bij Wijkpaleis, morgen (di 24 nov) om 18:00.")
    assert "• Kees" in host
    await street.say("@wait 21h")  # Tuesday 16:00
    assert street.to("kees")[-1].startswith("Over twee uur schuif je aan bij Rosa")
    await street.say("@wait 6h")  # after the meal
    assert street.to("rosa")[-1].startswith("Dank je wel voor het koken bij Wijkpaleis!")
    await street.say("rosa (dm): [Het was gezellig]")
    async with street.runtime.store.transaction() as tx:
        table = await tx.meal_table(1)
    assert table is not None and table.status is TableStatus.DONE and table.outcome == "good"


async def test_organisers_hear_of_a_half_empty_table(street: Transcript) -> None:
    await street.say("rosa (dm): /tafel do 18:00 Wijkpaleis, 9 plaatsen, gratis, soep")
    await street.say("kees: [Schuif aan]", "kees (dm): [+1]")
    await street.say("@wait 1d")  # Tuesday 09:00: nothing yet
    assert not any("plaatsen bezet" in line for line in street.to("anna"))
    await street.say("@wait 10h")  # Tuesday 19:00, two days before
    assert "nog maar 2 van de 9 plaatsen bezet" in street.to("anna")[-1]


async def test_a_weekly_table_makes_its_next_occurrence(street: Transcript) -> None:
    await street.say(
        "piet (dm): /tafel elke do 17:30 Buurttuin, 12 plaatsen, gratis, soep, tot 10-12"
    )
    await street.say("@wait 4d")  # past Thursday's meal
    posts = [p for p in street.to("group") if p.startswith("🍽")]
    assert len(posts) == 2
    assert "donderdag 3 dec om 17:30" in posts[-1]
    await street.say("@wait 7d")  # past 3 December: 10 December is still in the series
    await street.say("@wait 7d")  # past 10 December: the series has ended
    posts = [p for p in street.to("group") if p.startswith("🍽")]
    assert [p.split("\n")[1] for p in posts] == [
        "donderdag 26 nov om 17:30",
        "donderdag 3 dec om 17:30",
        "donderdag 10 dec om 17:30",
    ]


async def race_for_the_last_seat(url: str) -> None:
    chat = await make_transcript(url)
    try:
        await chat.say("rosa (dm): /tafel di 18:00 Wijkpaleis, 3 plaatsen, gratis, soep")
        await chat.say("a: [Schuif aan]", "b: [Schuif aan]")  # one seat left
        names = [f"guest{n}" for n in range(10)]
        for name in names:  # each known to the bot already
            await chat.say(f"{name} (dm): /start")
        presses = [
            chat.runtime.bot.handle(chat.press(name, "Schuif aan", f"race-{name}", in_group=True))
            for name in names
        ]
        await asyncio.gather(*presses)
        await chat.session.sender.drain()
        async with chat.runtime.store.transaction() as tx:
            seated = await tx.seats(1, [SeatStatus.SEATED])
            waiting = await tx.seats(1, [SeatStatus.WAITING])
        assert len(seated) == 3
        assert len(waiting) == 9
        winners = [n for n in names if chat.to(n)[-1].startswith("Je schuift aan")]
        assert len(winners) == 1
        places = sorted(
            int(chat.to(n)[-1].split("plaats ")[1].split(".")[0]) for n in names if n not in winners
        )
        assert places == list(range(1, 10))
    finally:
        await chat.runtime.close()


async def test_ten_people_press_for_the_last_seat(database_url: str) -> None:
    await race_for_the_last_seat(database_url)


async def test_tables_count_in_the_weekly_digest(street: Transcript) -> None:
    await street.say(f"rosa (dm): {TUESDAY}", "kees: [Schuif aan]", "kees (dm): [+1]")
    await street.say("@wait 2d", "rosa (dm): [Het was gezellig]")
    await street.say("@wait 5d")  # Monday 30 November, 09:00: the digest
    digest = street.to("anna")[-1]
    assert (
        "Aanschuiven: maaltijden 1 · plaatsen bezet 2 van 8 · gezellig volgens de kok: 1" in digest
    )
