"""Where the pieces meet: typed answers, plain sentences, group noticing and erasure.

Each test plays a resident who types her own way, or someone who tries what a press could
not do, through the console.
"""

from __future__ import annotations

import pytest

from tests.conftest import Transcript


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
