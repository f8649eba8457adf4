"""Anonymous means anonymous: before someone says yes, nobody sees the asker's details.

Through the console on a real database: what the group, the neighbours asked privately and
the organisers read, what the asker is shown first, and what the helper gets after yes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.types import ButtonPress, ChatKind, ChatRef, Sender
from tests.conftest import Transcript, make_transcript
from tests.test_organisers import attachments

ASK = "/vraag boodschappen morgen 14:00 insuline ophalen, ik woon Kerklaan 12, bel 0612345678"
FULL = "insuline ophalen, ik woon Kerklaan 12, bel 0612345678"
MASKED = "[gezondheid] ophalen, ik woon [adres], bel [telefoon]"


@pytest.fixture
async def street(tmp_path: Path) -> AsyncIterator[Transcript]:
    chat = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}")
    await chat.say("@organiser anna")
    yield chat
    await chat.runtime.close()


async def stored(chat: Transcript, nr: int) -> tuple[str, str | None]:
    async with chat.runtime.store.transaction() as tx:
        request = await tx.request(nr)
        assert request is not None
        return request.description, request.group_text


async def test_the_group_reads_placeholders_and_the_helper_the_whole_text(
    street: Transcript,
) -> None:
    await street.say(f"fatima: {ASK}")
    await street.say("fatima (dm): [In de groep, zonder mijn naam]")
    preview = street.to("fatima")[-1]
    assert preview.startswith("Zo zien de buren die ik vraag je vraag")
    assert f"Een buur vraagt om hulp:\nBoodschappen, morgen (di 24 nov) om 14:00: {MASKED}" in (
        preview
    )
    assert "[Zo plaatsen] [Aanpassen]" in street.text()
    assert not any(FULL in post for post in street.to("group"))  # nothing posted yet

    await street.say("fatima (dm): [Zo plaatsen]")
    [post] = [p for p in street.to("group") if p.startswith("Een buur")]
    assert post == (
        "Een buur vraagt om hulp:\n"
        f"Boodschappen, morgen (di 24 nov) om 14:00: {MASKED}\n"
        "Kun jij helpen?\n[Ik help]"
    )
    assert await stored(street, 1) == (FULL, MASKED)

    await street.say("kees: [Ik help]")
    assert FULL in street.to("kees")[-1]
    assert street.to("kees")[-1].startswith("Dank je wel! Je helpt Fatima")
    assert all(FULL not in line for line in street.to("group"))


async def test_a_clean_text_needs_no_extra_step(street: Transcript) -> None:
    await street.say("fatima (dm): /vraag klusje morgen lamp ophangen om 14:00, € 2,50 voor koffie")
    await street.say("fatima (dm): [In de groep, zonder mijn naam]")
    assert street.to("fatima")[-2].startswith("Je vraag staat erin (nummer 1)")
    assert "lamp ophangen om 14:00, € 2,50 voor koffie" in street.to("group")[-1]
    assert await stored(street, 1) == (
        "lamp ophangen om 14:00, € 2,50 voor koffie",
        "lamp ophangen om 14:00, € 2,50 voor koffie",
    )


async def test_neighbours_asked_privately_see_the_group_text_until_they_say_yes(
    street: Transcript,
) -> None:
    await street.say("kees (dm): /aanbod boodschappen elke dag", f"fatima (dm): {ASK}")
    await street.say("fatima (dm): [Alleen helpers die gevraagd worden]")
    assert street.to("fatima")[-1].startswith("Zo zien de buren die ik vraag je vraag:")
    await street.say("fatima (dm): [Zo plaatsen]")
    proposal = street.to("kees")[-1]
    assert proposal.startswith("Kun jij helpen?")
    assert MASKED in proposal and "Kerklaan" not in proposal
    await street.say("kees (dm): [Ik help]")
    assert FULL in street.to("kees")[-1]
    assert street.to("group") == []


async def test_the_asker_writes_the_group_text_and_it_is_checked_again(
    street: Transcript,
) -> None:
    await street.say(f"fatima (dm): {ASK}")
    await street.say("fatima (dm): [In de groep, met mijn naam]", "fatima (dm): [Aanpassen]")
    assert street.to("fatima")[-1].startswith("Typ de tekst die anderen mogen zien")
    await street.say("fatima (dm): iets ophalen bij de apotheek, mail fatima@example.nl")
    again = street.to("fatima")[-1]
    assert "Fatima vraagt om hulp:" in again
    assert "iets ophalen bij de apotheek, mail [e-mail]" in again
    await street.say("fatima (dm): Aanpassen")  # typed, not pressed
    await street.say("fatima (dm): iets ophalen bij de apotheek")
    assert street.to("fatima")[-2].startswith("Je vraag staat erin (nummer 1)")
    assert street.to("group")[-1] == (
        "Fatima vraagt om hulp:\n"
        "Boodschappen, morgen (di 24 nov) om 14:00: iets ophalen bij de apotheek\n"
        "Kun jij helpen?\n[Ik help]"
    )
    assert await stored(street, 1) == (FULL, "iets ophalen bij de apotheek")


async def test_a_tired_asker_types_the_button_words(street: Transcript) -> None:
    await street.say(f"fatima (dm): {ASK}")
    await street.say("fatima (dm): [In de groep, zonder mijn naam]", "fatima (dm): zo plaatsen")
    assert street.to("fatima")[-2].startswith("Je vraag staat erin (nummer 1)")
    assert MASKED in street.to("group")[-1]


async def test_someone_else_cannot_post_the_askers_request(street: Transcript) -> None:
    await street.say(f"fatima (dm): {ASK}")
    await street.say("fatima (dm): [In de groep, zonder mijn naam]")
    kees = Sender("console", "kees", "Kees", "@kees")
    for action in ("ask:gt:post", "ask:gt:own"):
        await street.runtime.bot.handle(
            ButtonPress(
                f"forged-{action}", ChatRef("console", "kees", ChatKind.PRIVATE), kees, action
            )
        )
        await street.session.sender.drain()
        assert street.to("kees")[-1].startswith("Deze knop werkt niet meer. Er is niets veranderd.")
    assert street.to("group") == []
    async with street.runtime.store.transaction() as tx:
        assert await tx.request(1) is None
    await street.say("fatima (dm): [Zo plaatsen]")  # her own preview still works
    assert MASKED in street.to("group")[-1]


async def test_organisers_see_the_group_text_and_the_export_holds_it(street: Transcript) -> None:
    await street.say(
        "anna (dm): /namens mevrouw Jansen: boodschappen morgen 10:00 brood, "
        "ze woont op Kerkstraat 102, tel 010 123 4567"
    )
    assert (
        "Voordat iemand ja zegt, zien de buren en de groep dit: "
        "brood, ze woont op [adres], tel [telefoon]"
    ) in street.to("anna")
    assert "brood, ze woont op [adres], tel [telefoon]" in street.to("group")[-1]
    await street.say("anna (dm): /overzicht")
    overview = "\n".join(street.to("anna")[-2:])
    assert "brood, ze woont op [adres], tel [telefoon]" in overview
    assert "Kerkstraat 102" not in overview
    await street.say("anna (dm): /export")
    [document] = await attachments(street, "buurtbot-vragen")
    rows = list(csv.DictReader(io.StringIO(document.decode("utf-8"))))
    assert rows[0]["omschrijving"] == "brood, ze woont op [adres], tel [telefoon]"


async def test_a_table_menu_shows_no_names(street: Transcript) -> None:
    await street.say(
        "kees (dm): /tafel di 18:00 Wijkpaleis, 8 plaatsen, € 3, "
        "soep en brood van Henk, vegetarisch"
    )
    post = street.to("group")[-1]
    assert "soep en brood van [naam]" in post
    assert "Henk" not in post


async def test_english_community_gets_english_placeholders(tmp_path: Path) -> None:
    chat = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}", language="en")
    try:
        await chat.say(
            "fatima (dm): /ask chore tomorrow fix my lamp, I live at Kerklaan 12, call 0612345678"
        )
        await chat.say("fatima (dm): [In the group, without my name]")
        assert "fix my lamp, I live at [address], call [phone]" in chat.to("fatima")[-1]
        await chat.say("fatima (dm): [Post it like this]")
        assert "fix my lamp, I live at [address], call [phone]" in chat.to("group")[-1]
    finally:
        await chat.runtime.close()


async def test_a_house_number_typed_step_by_step_stays_out_of_the_group(
    street: Transcript,
) -> None:
    # the place is not a step of its own: the street is typed with the description
    await street.say(
        "henk (dm): /vraag",
        "henk (dm): [Gezelschap]",
        "henk (dm): donderdagmiddag",
        "henk (dm): even een kop koffie samen, Mathenesserlaan 301",
        "henk (dm): [In de groep, zonder mijn naam]",
    )
    preview = street.to("henk")[-1]
    assert "Gezelschap, donderdagmiddag 26 nov: even een kop koffie samen, [adres]" in preview
    assert "301" not in preview
    await street.say("henk (dm): [Zo plaatsen]")
    assert (
        "Gezelschap, donderdagmiddag 26 nov: even een kop koffie samen, [adres]"
        in (street.to("group")[-1])
    )
    await street.say("mo: [Ik help]")
    assert "Mathenesserlaan 301" in street.to("mo")[-1]


async def test_widening_hours_later_posts_the_group_text(street: Transcript) -> None:
    await street.say("kees (dm): /aanbod boodschappen elke dag", f"fatima (dm): {ASK}")
    await street.say("fatima (dm): [In de groep, zonder mijn naam]")
    await street.say("fatima (dm): [Zo plaatsen]")
    assert MASKED in street.to("kees")[-1]
    assert street.to("group") == []
    await street.say("@wait 5h")  # kees did not answer: the request goes to the group
    [post] = street.to("group")
    assert post.startswith("Een buur vraagt om hulp:") and MASKED in post
    assert "Kerklaan" not in post and "Kerklaan" not in street.to("kees")[0]


async def test_a_request_from_before_group_texts_is_screened_when_shown(
    street: Transcript,
) -> None:
    from sqlalchemy import update

    from storage.rows import request_t

    await street.say("kees (dm): /aanbod boodschappen elke dag", f"fatima (dm): {ASK}")
    await street.say("fatima (dm): [In de groep, zonder mijn naam]")
    await street.say("fatima (dm): [Zo plaatsen]")
    async with street.runtime.store.engine.begin() as conn:  # as if stored before 0012
        await conn.execute(update(request_t).values(group_text=None))
    assert await stored(street, 1) == (FULL, None)
    await street.say("@wait 5h")
    [post] = street.to("group")
    assert MASKED in post and "0612345678" not in post


async def test_a_group_text_too_long_is_refused_kindly(street: Transcript) -> None:
    await street.say(f"fatima (dm): {ASK}")
    await street.say("fatima (dm): [In de groep, zonder mijn naam]", "fatima (dm): [Aanpassen]")
    await street.say("fatima (dm): " + "heel lang " * 60)
    assert street.to("fatima")[-1].startswith("Je beschrijving is te lang.")
    await street.say("fatima (dm): iets ophalen")  # she can try again
    assert street.to("fatima")[-2].startswith("Je vraag staat erin (nummer 1)")


async def test_a_text_typed_at_the_preview_is_shown_before_it_is_posted(
    street: Transcript,
) -> None:
    await street.say(f"fatima (dm): {ASK}")
    await street.say("fatima (dm): [In de groep, zonder mijn naam]")
    await street.say("fatima (dm): iets ophalen bij de apotheek, ik woon Kerklaan 12")
    again = street.to("fatima")[-1]
    assert "om 14:00: iets ophalen bij de apotheek, ik woon [adres]\n" in again
    assert street.to("group") == []
    await street.say("fatima (dm): ja")
    assert street.to("fatima")[-2].startswith("Je vraag staat erin (nummer 1)")
    assert "om 14:00: iets ophalen bij de apotheek, ik woon [adres]\n" in street.to("group")[-1]


# --- edits of a masked post ---------------------------------------------------------------------
LEAKS = ("insuline", "Kerklaan", "0612345678", "345678")


async def sent_to(chat: Transcript, chat_id: str) -> list[tuple[int | None, str]]:
    """(what it edits, text) of every message for ``chat_id`` ("group" for the group), edits
    included: the console does not print edits, the outbox holds them."""
    from sqlalchemy import select

    from storage.rows import outbox_t

    async with chat.runtime.store.engine.connect() as conn:
        rows = (await conn.execute(select(outbox_t).order_by(outbox_t.c.id))).all()
    kind = "group" if chat_id == "group" else "private"
    return [
        (row.edit_of, row.text)
        for row in rows
        if row.kind == kind and (kind == "group" or row.chat_id == chat_id)
    ]


def leaked(texts: list[tuple[int | None, str]], words: tuple[str, ...] = LEAKS) -> list[str]:
    return [text for _, text in texts if any(word in text for word in words)]


async def test_a_pressed_and_settled_group_post_keeps_its_placeholders(
    street: Transcript,
) -> None:
    await street.say("kees (dm): /aanbod boodschappen elke dag", f"fatima (dm): {ASK}")
    await street.say("fatima (dm): [In de groep, zonder mijn naam]")
    await street.say("fatima (dm): [Zo plaatsen]", "@wait 5h")  # widened: posted in the group
    await street.say("mo: [Ik help]")
    assert FULL in street.to("mo")[-1]

    group = await sent_to(street, "group")
    edits = [text for edit_of, text in group if edit_of is not None]
    assert edits and all(MASKED in text and "Mo" in text for text in edits)  # "✔ Mo helpt"
    assert leaked(group) == []
    kees = await sent_to(street, "kees")  # asked, never said yes: his proposal was edited too
    assert any(edit_of is not None for edit_of, _ in kees)
    assert leaked(kees) == []


async def test_a_cancelled_request_keeps_its_placeholders_in_the_group(
    street: Transcript,
) -> None:
    await street.say(f"fatima (dm): {ASK}")
    await street.say("fatima (dm): [In de groep, zonder mijn naam]", "fatima (dm): [Zo plaatsen]")
    await street.say("fatima (dm): /annuleer 1")
    assert street.to("fatima")[-1] == "Je vraag 1 is ingetrokken."

    group = await sent_to(street, "group")
    [(_, edited)] = [(e, text) for e, text in group if e is not None]
    assert edited.startswith(
        f"Een buur vraagt om hulp:\nBoodschappen, morgen (di 24 nov) om 14:00: {MASKED}"
    )
    assert leaked(group) == []


async def test_edits_of_a_table_announcement_keep_the_menu_screened(street: Transcript) -> None:
    await street.say(
        "kees (dm): /tafel di 18:00 Wijkpaleis, 2 plaatsen, € 3, soep en brood van Henk"
    )
    await street.say("fatima: [Schuif aan]", "fatima (dm): geen")
    await street.say("kees (dm): /afzeggen 1 Henk is ziek")

    group = await sent_to(street, "group")
    edits = [text for edit_of, text in group if edit_of is not None]
    assert len(edits) >= 2  # a seat taken, then called off
    assert all("soep en brood van [naam]" in text for text in edits)
    assert leaked(group, ("Henk",)) == []
