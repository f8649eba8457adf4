"""Limits that hold: how often a member may ask, announce a table or report, and how often
a helper is asked, counted in the database so that a restart does not reset them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from adapters.settings import ConfigError, Settings, load_settings
from bot.config import CommunitySettings
from bot.model import RequestStatus
from bot.types import ChatKind, ChatRef, Message, Sender
from tests.conftest import Transcript, make_transcript

ASK = "/vraag klusje morgen lamp ophangen"
HELPERS_ONLY = "[Alleen helpers die gevraagd worden]"
TABLE = "/tafel di 18:00 Wijkpaleis, 8 plaatsen, € 3, stamppot"
REACHED = "Dat is het maximum in deze buurt."


@pytest.fixture
async def street(database_url: str) -> AsyncIterator[Transcript]:
    chat = await make_transcript(database_url, organisers="console:anna")
    yield chat
    await chat.runtime.close()


async def restart(chat: Transcript, database_url: str, **settings: object) -> Transcript:
    """Stop the bot and start it again on the same database, at the same moment."""
    now = chat.clock.now()
    await chat.runtime.close()
    return await make_transcript(database_url, start=now, organisers="console:anna", **settings)


async def ask_and_cancel(chat: Transcript, who: str) -> None:
    await chat.say(f"{who} (dm): {ASK}", f"{who} (dm): {HELPERS_ONLY}", f"{who} (dm): /annuleer")


def notices(chat: Transcript, who: str) -> list[str]:
    return [line for line in chat.to(who) if REACHED in line or "neighbourhood's limit" in line]


def proposals(chat: Transcript, who: str) -> int:
    return sum(line.startswith("Kun jij helpen?") for line in chat.to(who))


def tables_in_group(chat: Transcript) -> int:
    return sum(line.startswith("🍽 Aanschuiven bij Piet") for line in chat.to("group"))


async def requests_of(chat: Transcript, name: str) -> int:
    from storage.rows import identity_t, request_t

    async with chat.runtime.store.engine.connect() as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(request_t)
            .join(identity_t, identity_t.c.member_id == request_t.c.requester_id)
            .where(identity_t.c.user_id == name)
        )
    return int(count or 0)


# --- members: asks, tables, reports -------------------------------------------------------------


async def test_a_flood_of_tables_is_stopped_with_one_notice(street: Transcript) -> None:
    for _ in range(10):
        await street.say(f"piet (dm): {TABLE}")
    assert tables_in_group(street) == 2  # two a day
    told = notices(street, "piet")
    assert len(told) == 1
    assert told[0] == (
        "Je hebt in de afgelopen 24 uur al 2 keer een tafel aangekondigd. Dat is het maximum in"
        " deze buurt. Vanaf morgen (di 24 nov) om 09:00 kun je weer een tafel aankondigen. Je"
        " tafels die al in de groep staan, blijven staan."
    )
    # two confirmations and the one notice; the other seven attempts got no answer at all
    assert len(street.to("piet")) == 3
    # someone else can still announce a table
    await street.say(f"mo (dm): {TABLE}")
    assert sum(line.startswith("🍽 Aanschuiven bij Mo") for line in street.to("group")) == 1


async def test_two_tables_at_once_cannot_both_slip_under_the_limit(street: Transcript) -> None:
    await street.say(f"piet (dm): {TABLE}")
    piet = Sender("console", "piet", "Piet", "@piet")
    chat = ChatRef("console", "piet", ChatKind.PRIVATE)
    await asyncio.gather(
        *(street.runtime.bot.handle(Message(f"at-once-{n}", chat, piet, TABLE)) for n in range(4))
    )
    await street.session.sender.drain()
    assert tables_in_group(street) == 2
    assert len(notices(street, "piet")) == 1
    assert not any("ging bij mij iets mis" in line for line in street.to("piet"))


async def test_the_window_passes_day_by_day_until_the_week_is_full(street: Transcript) -> None:
    await street.say(*[f"piet (dm): {TABLE}"] * 3)
    assert tables_in_group(street) == 2
    await street.say("@wait 1d", *[f"piet (dm): {TABLE}"] * 3)
    assert tables_in_group(street) == 4
    assert len(notices(street, "piet")) == 2  # once on each day the limit was reached
    await street.say("@wait 1d", *[f"piet (dm): {TABLE}"] * 3)
    assert tables_in_group(street) == 5  # five a week
    week = notices(street, "piet")[-1]
    assert "in de afgelopen 7 dagen al 5 keer een tafel" in week
    assert "Vanaf maandag 30 nov om 09:00" in week
    await street.say("@wait 4d", f"piet (dm): {TABLE}")  # Sunday
    assert tables_in_group(street) == 5
    assert len(notices(street, "piet")) == 3  # the week is not over: no second notice
    await street.say("@wait 1d", f"piet (dm): {TABLE}")
    assert tables_in_group(street) == 6


async def test_asking_and_cancelling_over_and_over_is_stopped(street: Transcript) -> None:
    for _ in range(9):
        await ask_and_cancel(street, "fatima")
    assert await requests_of(street, "fatima") == 6  # six a day
    told = notices(street, "fatima")
    assert len(told) == 1
    assert told[0].startswith("Je hebt in de afgelopen 24 uur al 6 keer om hulp gevraagd.")
    assert "Vanaf morgen (di 24 nov) om 09:00 kun je weer een vraag stellen." in told[0]
    await street.say("mo (dm): /vraag klusje morgen fiets plakken", f"mo (dm): {HELPERS_ONLY}")
    assert await requests_of(street, "mo") == 1  # a limit is per member
    await street.say("@wait 1d")
    await ask_and_cancel(street, "fatima")
    assert await requests_of(street, "fatima") == 7


async def test_the_guided_way_and_other_spellings_count_too(street: Transcript) -> None:
    for line in (ASK, "/ASK klusje morgen lamp", "/ask@buurtbot klusje morgen lamp", ASK, ASK):
        await street.say(f"fatima (dm): {line}", f"fatima (dm): {HELPERS_ONLY}")
    await street.say(
        "fatima (dm): /annuleer 1",  # five open at once is the most anyway
        "fatima (dm): /vraag",
        "fatima (dm): [Klusje]",
        "fatima (dm): [Morgen]",
        "fatima (dm): [Middag]",
        "fatima (dm): lamp ophangen",
        f"fatima (dm): {HELPERS_ONLY}",
    )
    assert await requests_of(street, "fatima") == 6
    await street.say("fatima (dm): /annuleer 6", "fatima (dm): /start")
    await street.say("fatima (dm): [Klusje]")
    assert REACHED in street.to("fatima")[-1]  # not "Waar heb je hulp bij nodig?"
    await street.say("fatima: /vraag klusje morgen lamp")  # in the group: nothing more now
    assert len(notices(street, "fatima")) == 1
    assert await requests_of(street, "fatima") == 6


async def test_a_limit_lowered_during_a_conversation_holds_at_the_end(street: Transcript) -> None:
    await ask_and_cancel(street, "fatima")
    await street.say(f"fatima (dm): {ASK}")  # the last question: who may see it
    async with street.runtime.store.transaction() as tx:
        community = (await tx.communities())[0]
        await tx.update_community_settings(community.id, {"asks_per_day": 1})
    await street.say(f"fatima (dm): {HELPERS_ONLY}")
    assert await requests_of(street, "fatima") == 1
    assert REACHED in street.to("fatima")[-1]
    await street.say("@wait 1d", f"fatima (dm): {HELPERS_ONLY}")  # the question is kept
    assert await requests_of(street, "fatima") == 2


async def test_reports_do_not_flood_the_organisers(street: Transcript) -> None:
    await street.say(
        "anna (dm): /start",
        "henk (dm): /vraag klusje morgen iets raars",
        "henk (dm): [In de groep, met mijn naam]",
    )
    before = len(street.to("anna"))
    for _ in range(6):
        await street.say("fatima (dm): /meld #1 dit klopt niet")
    reports = [line for line in street.to("anna")[before:] if line.startswith("Melding")]
    assert len(reports) == 3  # three a day
    told = notices(street, "fatima")
    assert len(told) == 1 and "al 3 keer iets gemeld" in told[0]
    assert len(street.to("fatima")) == 4  # three thanks, one notice


async def test_the_notice_is_in_the_members_language(street: Transcript) -> None:
    await street.say("mo (dm): /taal en", *[f"mo (dm): {TABLE}"] * 3)
    assert notices(street, "mo")[-1] == (
        "You have reached this neighbourhood's limit for announcing tables: 2 in the last 24"
        " hours. From tomorrow (Tue 24 Nov) at 09:00 you can announce a table again. Your"
        " tables already in the group stay there."
    )


async def test_limits_hold_across_a_restart(database_url: str) -> None:
    chat = await make_transcript(database_url, organisers="console:anna")
    try:
        for _ in range(6):
            await ask_and_cancel(chat, "fatima")
        await chat.say(*[f"piet (dm): {TABLE}"] * 2)
        chat = await restart(chat, database_url)
        await ask_and_cancel(chat, "fatima")
        await chat.say(f"piet (dm): {TABLE}")
        assert await requests_of(chat, "fatima") == 6
        assert tables_in_group(chat) == 0  # none in this run
        assert len(notices(chat, "fatima")) == 1
        assert len(notices(chat, "piet")) == 1
        # told once: after another restart, still nothing more until the window passes
        chat = await restart(chat, database_url)
        await chat.say(f"fatima (dm): {ASK}", "fatima (dm): /vraag")
        assert chat.to("fatima") == []
        await chat.say("@wait 1d")
        await ask_and_cancel(chat, "fatima")
        assert await requests_of(chat, "fatima") == 7
    finally:
        await chat.runtime.close()


# --- helpers: every "Kun jij helpen?" counts ----------------------------------------------------


async def test_a_helper_is_never_asked_more_than_they_allowed(street: Transcript) -> None:
    await street.say("kees (dm): /aanbod klusje elke dag max 3 per week")
    for who in ("fatima", "mo", "henk") * 4:
        await ask_and_cancel(street, who)
    assert proposals(street, "kees") == 3  # not 12


async def test_a_helpers_day_and_week_hold_across_a_restart(database_url: str) -> None:
    chat = await make_transcript(database_url)
    try:
        await chat.say("kees (dm): /aanbod klusje elke dag max 4 per week")
        for who in ("fatima", "mo", "henk") * 2:
            await ask_and_cancel(chat, who)
        assert proposals(chat, "kees") == 3  # at most three times a day
        chat = await restart(chat, database_url)
        await chat.say("@wait 1d")
        for who in ("fatima", "mo", "henk") * 2:
            await ask_and_cancel(chat, who)
        assert proposals(chat, "kees") == 1  # the fourth of the week, in this run
        await chat.say("@wait 1d")
        for who in ("fatima", "mo"):
            await ask_and_cancel(chat, who)
        assert proposals(chat, "kees") == 1  # still four in the past seven days
        await chat.say("@wait 5d")
        await ask_and_cancel(chat, "henk")
        assert proposals(chat, "kees") == 2  # a week after the first ones
    finally:
        await chat.runtime.close()


async def test_a_helper_at_the_limit_leaves_room_for_others(street: Transcript) -> None:
    await street.say(
        "kees (dm): /aanbod klusje elke dag max 1 per week",
        "piet (dm): /aanbod klusje elke dag",
    )
    await ask_and_cancel(street, "fatima")
    assert proposals(street, "kees") == 1 and proposals(street, "piet") == 1
    await street.say("mo (dm): /vraag klusje morgen fiets", f"mo (dm): {HELPERS_ONLY}")
    assert proposals(street, "kees") == 1 and proposals(street, "piet") == 2
    # a new offer is not a way around it either: requests waiting are not sent to kees
    await street.say("kees (dm): /aanbod klusje elke dag max 1 per week")
    assert proposals(street, "kees") == 1
    async with street.runtime.store.transaction() as tx:
        request = await tx.request(2)
        assert request is not None and request.status is RequestStatus.OPEN


async def test_still_needed_does_not_ask_a_helper_beyond_their_week(street: Transcript) -> None:
    await street.say(
        "kees (dm): /aanbod boodschappen elke dag max 1 per week",
        "fatima (dm): /vraag boodschappen morgen 14:00 melk en brood",
        f"fatima (dm): {HELPERS_ONLY}",
        "kees (dm): [Ik help]",
        "@wait 31h",
        "fatima (dm): [Nog nodig]",
    )
    assert proposals(street, "kees") == 1  # said yes once; not asked a second time this week
    assert street.to("fatima")[-1].startswith("Ik heb nog niemand gevonden")


# --- the numbers are the community's ------------------------------------------------------------


async def test_a_community_changes_its_numbers(street: Transcript) -> None:
    await street.say(f"piet (dm): {TABLE}")
    async with street.runtime.store.transaction() as tx:
        community = (await tx.communities())[0]
        await tx.update_community_settings(community.id, {"tables_per_day": 3})
    await street.say(*[f"piet (dm): {TABLE}"] * 4)
    assert tables_in_group(street) == 3


async def test_the_operator_sets_the_defaults(database_url: str) -> None:
    chat = await make_transcript(database_url, asks_per_day=1, helper_asks_per_day=1)
    await chat.say("kees (dm): /aanbod klusje elke dag max 9 per week")
    try:
        await ask_and_cancel(chat, "fatima")
        await ask_and_cancel(chat, "fatima")
        assert await requests_of(chat, "fatima") == 1
        assert "al 1 keer om hulp gevraagd" in notices(chat, "fatima")[0]
        await ask_and_cancel(chat, "mo")
        assert proposals(chat, "kees") == 1  # once a day
    finally:
        await chat.runtime.close()


def test_numbers_are_checked() -> None:
    with pytest.raises(ValidationError):
        Settings(asks_per_day=0)
    with pytest.raises(ValidationError):
        Settings(tables_per_day=9, tables_per_week=4)
    with pytest.raises(ValueError, match="reports_per_day"):
        CommunitySettings().checked({"reports_per_day": -1})
    with pytest.raises(ValueError, match="asks_per_week"):
        CommunitySettings().checked({"asks_per_week": "veel"})
    with pytest.raises(ValueError, match="asks_per_day"):
        CommunitySettings().checked({"asks_per_day": 20, "asks_per_week": 10})
    assert CommunitySettings().checked({"asks_per_day": "4"}).asks_per_day == 4


def test_a_wrong_number_in_the_file_is_explained(tmp_path: Path) -> None:
    config = tmp_path / "buurtbot.toml"
    config.write_text("tables_per_day = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tables_per_day.*greater than or equal to 1"):
        load_settings(config)


# --- what is stored, and for how long -----------------------------------------------------------


async def test_counts_are_kept_a_week_and_no_longer(street: Transcript) -> None:
    from storage.rows import limit_use_t

    await street.say(f"piet (dm): {TABLE}")
    await street.say("@wait 9d")  # the nightly work runs on the way
    async with street.runtime.store.engine.connect() as conn:
        left = (await conn.execute(select(limit_use_t))).all()
    assert left == []


async def test_a_member_sees_their_counts_and_erasure_removes_them(street: Transcript) -> None:
    from storage.rows import limit_notice_t, limit_use_t

    await street.say(*[f"piet (dm): {TABLE}"] * 3, "kees (dm): /aanbod klusje elke dag")
    await street.say(f"fatima (dm): {ASK}", f"fatima (dm): {HELPERS_ONLY}")
    async with street.runtime.store.transaction() as tx:
        piet = await tx.identity("console", "piet")
        assert piet is not None
        records = await tx.member_records(piet.member_id)
        assert [row["kind"] for row in records["limits"]] == ["table", "table"]
        await tx.erase_member(piet.member_id, street.clock.now())
    async with street.runtime.store.engine.connect() as conn:
        uses = (await conn.execute(select(limit_use_t.c.member_id, limit_use_t.c.kind))).all()
        told = (await conn.execute(select(limit_notice_t))).all()
    assert told == []  # piet's notice went with him
    assert sorted(kind for _, kind in uses) == ["ask", "proposal"]  # fatima's and kees's stay
    assert piet.member_id not in {member_id for member_id, _ in uses}
