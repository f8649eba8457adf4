"""Plain sentences, typed answers and the fallback, through the console as residents type."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.types import ChatKind, ChatRef, Sender
from tests.conftest import Transcript, make_transcript


async def open_requests(chat: Transcript) -> list[str]:
    async with chat.runtime.store.transaction() as tx:
        community = (await tx.communities())[0]
        return [r.description for r in await tx.open_requests(community.id)]


async def test_a_plain_sentence_in_a_private_chat_becomes_a_request(chat: Transcript) -> None:
    await chat.say("fatima (dm): Wie kan mij morgen helpen met boodschappen?")
    said = chat.to("fatima")[-1]
    assert said.startswith("Ik heb het zo begrepen:")
    assert "Soort: Boodschappen" in said and "Wanneer: morgen (di 24 nov)" in said
    assert "  Klopt dat?\n  [Klopt] [Aanpassen]" in chat.text()
    await chat.say("fatima (dm): [Klopt]")
    assert chat.to("fatima")[-1].startswith("Wil je er iets over zeggen?")
    await chat.say("fatima (dm): melk en brood")
    await chat.say("fatima (dm): [Alleen helpers die gevraagd worden]")
    assert await open_requests(chat) == ["melk en brood"]


async def test_typing_ja_is_the_same_as_pressing(chat: Transcript) -> None:
    await chat.say("fatima (dm): Kan iemand zaterdag met me naar de markt?")
    await chat.say("fatima (dm): ja")
    assert "mag ik je vraag dan in de groep zetten?" in chat.to("fatima")[-1]


async def test_typing_ja_instead_of_i_help(chat: Transcript) -> None:
    await chat.say("kees (dm): /aanbod boodschappen ma-vr middag")
    await chat.say(
        "fatima (dm): /vraag boodschappen morgen middag melk",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    assert chat.to("kees")[-1].startswith("Kun jij helpen?")
    await chat.say("kees (dm): ja")
    assert chat.to("fatima")[-1].startswith("Goed nieuws! Kees helpt je")


async def test_morgen_typed_after_bedoel_je_morgen(chat: Transcript) -> None:
    await chat.say("fatima (dm): Wie kan mij morgn helpen met boodschappen?")
    await chat.say("fatima (dm): ja")  # that's right
    assert "Bedoel je morgen?" in chat.to("fatima")[-1]
    await chat.say("fatima (dm): morgen")
    assert chat.to("fatima")[-1].startswith("Dit is je vraag:\nBoodschappen, morgen")


async def test_an_offer_in_a_plain_sentence(chat: Transcript) -> None:
    await chat.say("kees (dm): Ik wil wel eens koken voor iemand")
    assert "Waarmee: Maaltijd" in chat.to("kees")[-1]
    await chat.say("kees (dm): [Klopt]")
    assert chat.to("kees")[-1].startswith("Op welke dagen")


async def test_changing_what_was_understood(chat: Transcript) -> None:
    await chat.say("anna (dm): Kan iemand zaterdag met me naar de markt?")
    await chat.say("anna (dm): [Aanpassen]", "anna (dm): [Wanneer]")
    assert chat.to("anna")[-1].startswith("Wanneer")
    await chat.say("anna (dm): morgen")  # which part of it, with one tap
    assert chat.to("anna")[-1].startswith("Hoe laat ongeveer, morgen (di 24 nov)?")


async def test_the_fallback_says_what_it_understood_and_offers_buttons(chat: Transcript) -> None:
    await chat.say("kees (dm): morgen")
    said = chat.lines[-3:]
    assert "Een tijd: morgen (di 24 nov)" in chat.to("kees")[-1]
    assert "[Ik heb hulp nodig] [Ik wil helpen]" in "\n".join(said)
    assert "/vraag" not in chat.to("kees")[-1]
    await chat.say("kees (dm): [Ik heb hulp nodig]")
    assert chat.to("kees")[-1].startswith("Waar heb je hulp bij nodig?")


async def test_a_question_in_the_group_is_asked_about_privately(chat: Transcript) -> None:
    await chat.say("anna: Goedemorgen allemaal!", "kees: Wat een mooi weer vandaag")
    assert chat.to("anna") == [] and chat.to("kees") == []
    posted = len(chat.to("group"))
    await chat.say("fatima: Wie kan mij morgen helpen met boodschappen?")
    assert len(chat.to("group")) == posted  # nothing is said in the group
    asked = chat.to("fatima")[-1]
    assert asked.startswith("Je schreef in de groep:")
    assert "Alleen jij ziet dit bericht." in asked
    await chat.say("fatima (dm): [Ja, graag]", "fatima (dm): melk")
    assert chat.to("fatima")[-1].startswith("Dit is je vraag")
    await chat.say("fatima (dm): [Alleen helpers die gevraagd worden]")
    assert await open_requests(chat) == ["melk"]
    assert len(chat.to("group")) == posted


async def test_nee_to_the_group_question_leaves_it(chat: Transcript) -> None:
    await chat.say("fatima: Kan iemand mij helpen met mijn computer?")
    await chat.say("fatima (dm): [Nee]")
    assert chat.to("fatima")[-1] == "Goed, ik doe er niets mee."
    assert await open_requests(chat) == []


async def test_nobody_can_press_someone_elses_klopt(chat: Transcript) -> None:
    await chat.say("fatima: Wie kan mij morgen helpen met boodschappen?")
    await chat.say("kees (dm): hallo")
    press = chat.press("fatima", "Ja, graag", "forged-1")
    kees = Sender(press.sender.platform, "kees", "Kees", handle="@kees")
    # from kees's own chat, naming fatima's message; and from fatima's chat, as kees
    for forged in (
        replace(press, sender=kees, chat=ChatRef(press.chat.platform, "kees", ChatKind.PRIVATE)),
        replace(press, event_id="forged-2", sender=kees),
    ):
        await chat.runtime.bot.handle(forged)
    assert await open_requests(chat) == []
    assert not any("Wil je er iets over zeggen?" in said for said in chat.to("kees"))
    async with chat.runtime.store.transaction() as tx:
        identity = await tx.identity(press.sender.platform, "fatima")
        assert identity is not None
        draft = await tx.draft(identity.member_id)
    assert draft is not None and draft.kind == "understand"
    await chat.say("fatima (dm): [Ja, graag]")  # hers still works
    assert chat.to("fatima")[-1].startswith("Wil je er iets over zeggen?")


async def test_english_from_the_start(chat: Transcript) -> None:
    await chat.say("sam (dm): /taal en")
    await chat.say("sam (dm): Can someone help me with my groceries on Saturday?")
    said = chat.to("sam")[-1]
    assert said.startswith("This is what I understood:") and "Kind: Shopping" in said


async def test_ja_accepts_the_house_rules(tmp_path: Path) -> None:
    chat = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}", house_rules_required=True)
    try:
        await chat.say("fatima (dm): /vraag boodschappen morgen melk")
        assert "[Ik doe mee]" in chat.text()
        await chat.say("fatima (dm): ja")
        assert chat.to("fatima")[-1].startswith("Dit is je vraag")
    finally:
        await chat.runtime.close()


async def test_a_typed_ja_never_erases(chat: Transcript) -> None:
    await chat.say("fatima (dm): /vergeetmij")
    asked = chat.to("fatima")[-1]
    await chat.say("fatima (dm): ja")
    assert chat.to("fatima")[-1] != asked
    async with chat.runtime.store.transaction() as tx:
        assert await tx.identity("console", "fatima") is not None


async def test_a_typed_answer_finds_the_newest_question_on_both_databases(
    database_url: str,
) -> None:
    chat = await make_transcript(database_url)
    try:
        await chat.say("fatima (dm): Kan iemand zaterdag met me naar de markt?")
        await chat.say("kees (dm): Ik wil wel eens koken voor iemand")
        await chat.say("fatima (dm): klopt", "kees (dm): nee")
        assert chat.to("fatima")[-1].startswith("Dit is je vraag")
        assert chat.to("kees")[-1].startswith("Fijn dat je wilt helpen!")  # Aanpassen: anew
    finally:
        await chat.runtime.close()
