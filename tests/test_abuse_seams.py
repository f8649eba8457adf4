"""Where the pieces meet: typed answers, plain sentences, group noticing and erasure.

Each test plays a resident who types her own way, or someone who tries what a press could
not do, through the console.
"""

from __future__ import annotations

import pytest

from bot.types import ButtonPress
from tests.conftest import Transcript

NO_LONGER = (
    "Deze knop werkt niet meer. Er is niets veranderd. Typ /mijn om te zien wat er open staat."
)


async def offers_of(chat: Transcript, name: str) -> list[tuple[int, bool]]:
    async with chat.runtime.store.transaction() as tx:
        identity = await tx.identity("console", name)
        assert identity is not None
        return [(o.id, o.paused) for o in await tx.offers_of(identity.member_id)]


# --- typed answers ------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["nee", "2", "ja", "1", "Verwijder aanbod 1"])
async def test_a_typed_answer_to_the_overview_leaves_her_offers_alone(
    chat: Transcript, typed: str
) -> None:
    """/mijn shows an offer with [Pauzeer aanbod 1] [Verwijder aanbod 1]; a "nee" or a
    number typed after it (meant for something else, or by a tired hand) must not delete
    or pause it: that takes a real press."""
    await chat.say("kees (dm): /aanbod klusje elke dag", "kees (dm): /mijn")
    assert "[Pauzeer aanbod 1] [Verwijder aanbod 1]" in chat.text()
    await chat.say(f"kees (dm): {typed}")
    assert await offers_of(chat, "kees") == [(1, False)]
    await chat.say("kees (dm): [Verwijder aanbod 1]")  # the real press still works
    assert await offers_of(chat, "kees") == []


# --- plain sentences and the group --------------------------------------------------------


async def open_requests(chat: Transcript) -> list[str]:
    async with chat.runtime.store.transaction() as tx:
        community = (await tx.communities())[0]
        return [r.description for r in await tx.open_requests(community.id)]


async def handled(chat: Transcript, event: ButtonPress) -> list[str]:
    start = len(chat.lines)
    await chat.runtime.bot.handle(event)
    await chat.session.sender.drain()
    return chat.lines[start:]


async def test_questions_in_the_group_bring_one_private_message_until_she_answers(
    chat: Transcript,
) -> None:
    """Every noticed group message used to bring its writer a private message: twenty
    questions in the group, twenty messages; the bot floods its own platform limits."""
    for _ in range(6):
        await chat.say("fatima: Wie kan mij helpen met boodschappen, morgen?")
    assert len(chat.to("fatima")) == 1
    assert chat.to("group") == []
    await chat.say("fatima (dm): [Nee]")
    await chat.say("fatima: Kan iemand mij helpen met mijn computer?")
    assert len(chat.to("fatima")) == 3  # answered, so a new question is noticed again


async def test_an_earlier_klopt_does_not_confirm_a_later_sentence(chat: Transcript) -> None:
    """[Klopt] under the first sentence must not place what the second one said."""
    await chat.say("fatima (dm): Wie kan mij morgen helpen met boodschappen?")
    first = chat.press("fatima", "Klopt", "old-klopt")
    await chat.say("fatima (dm): Ik wil wel eens koken voor iemand")
    assert "Je wilt graag helpen." in chat.to("fatima")[-1]
    said = await handled(chat, first)
    assert said == [f"buurtbot -> fatima (dm): {NO_LONGER}"]
    assert await offers_of(chat, "fatima") == []
    await chat.say("fatima (dm): [Klopt]")  # the newest one still works
