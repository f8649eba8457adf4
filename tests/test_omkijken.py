"""Omkijken in a circle: the weekly rota, check-ins, who is asked when nobody answers, and
gatherings. Time moves only with ``@wait``; what people see is read from the transcript,
what is recorded from the database (SQLite and PostgreSQL where it matters)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.config import CommunitySettings
from bot.context import Context
from bot.duework import DueWorkRunner
from bot.omkijken import choose_pairs, read_answer, week_pairs
from bot.omkijken_records import Answer, Checkin, LookAnswer, LookResult
from bot.store import Tx
from bot.types import ButtonPress, ChatKind, ChatRef, Sender
from bot.work import DueWork, Outcome, WorkKind
from tests.conftest import MONDAY_MORNING, Transcript, make_transcript

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOT_FOR_YOU = "Deze knop is niet voor jou bedoeld. Er is niets veranderd."
QUESTION = "Hoi! Gaat alles goed?"

# Els starts circle Kerklaan (she is its contact person); Kees and Piet join; Lies organises.
CIRCLE = (
    "@organiser lies",
    "lies (dm): /start",
    "els (dm): /cirkel nieuw Kerklaan",
    "kees (dm): /start",
    "piet (dm): /start",
    "els (dm): /cirkel uitnodigen @kees",
    "kees (dm): [Meedoen]",
    "kees (dm): [Overslaan]",
    "els (dm): /cirkel uitnodigen @piet",
    "piet (dm): [Meedoen]",
    "piet (dm): [Overslaan]",
)
ON = ("els (dm): /omkijken dagelijks 10:00", "els (dm): [Ja, zo is het goed]")


async def circle_chat(database_url: str) -> Transcript:
    chat = await make_transcript(database_url)
    await chat.say(*CIRCLE)
    return chat


async def ids(chat: Transcript) -> dict[str, int]:
    async with chat.runtime.store.transaction() as tx:
        found = {}
        for name in ("els", "kees", "piet", "lies"):
            identity = await tx.identity("console", name)
            if identity is not None:
                found[name] = identity.member_id
        return found


async def asks(chat: Transcript, checkin_id: int = 1) -> list[tuple[int, int, LookAnswer | None]]:
    async with chat.runtime.store.transaction() as tx:
        return [(a.member_id, a.step, a.answer) for a in await tx.checkin_asks(checkin_id)]


async def checkin_row(chat: Transcript, checkin_id: int = 1) -> Checkin:
    async with chat.runtime.store.transaction() as tx:
        found = await tx.checkin(checkin_id)
    assert found is not None
    return found


def private(name: str) -> ChatRef:
    return ChatRef("console", name, ChatKind.PRIVATE)


def sender(name: str) -> Sender:
    return Sender("console", name, name.capitalize(), handle=f"@{name}")


async def send(chat: Transcript, press: ButtonPress) -> list[str]:
    start = len(chat.lines)
    await chat.runtime.bot.handle(press)
    await chat.session.sender.drain()
    return chat.lines[start:]


# --- the rota ----------------------------------------------------------------------------------
def test_a_steady_circle_has_everyone_look_after_everyone_equally() -> None:
    members = [3, 5, 8, 13, 21]
    counts: Counter[tuple[int, int]] = Counter()
    for _ in range(3 * (len(members) - 1)):
        pairs = choose_pairs(members, dict(counts))
        assert sorted(pairs) == members  # everyone looked after
        assert sorted(pairs.values()) == members  # everyone looks after one
        assert all(member != buddy for member, buddy in pairs.items())
        counts.update(pairs.items())
    assert set(counts.values()) == {3}
    assert len(counts) == len(members) * (len(members) - 1)


def test_one_member_has_no_buddy_and_two_look_after_each_other() -> None:
    assert choose_pairs([7], {}) == {}
    assert choose_pairs([7, 9], {(7, 9): 4}) == {7: 9, 9: 7}


async def test_the_rota_is_fair_over_many_weeks_and_skips_who_pauses(database_url: str) -> None:
    chat = await circle_chat(database_url)
    try:
        await chat.say("anna (dm): /start", "els (dm): /cirkel uitnodigen @anna")
        await chat.say("anna (dm): [Meedoen]", "anna (dm): [Overslaan]")
        who = await ids(chat)
        async with chat.runtime.store.transaction() as tx:
            circle = await tx.circle_of_member(who["els"], (await tx.communities())[0].id)
        assert circle is not None
        seen: Counter[tuple[int, int]] = Counter()
        for week in range(9):
            now = MONDAY_MORNING + timedelta(weeks=week)
            async with chat.runtime.store.transaction() as tx:
                pairs = await week_pairs(tx, circle, now, AMSTERDAM)
                assert await week_pairs(tx, circle, now, AMSTERDAM) == pairs  # made once
            assert len(pairs) == 4 and sorted(pairs.values()) == sorted(pairs)
            seen.update(pairs.items())
        assert set(seen.values()) == {3}  # 4 members, 9 weeks: every pair three times
        # Piet pauses: from the next week he is left out, and the others still pair up
        chat.clock.set(MONDAY_MORNING + timedelta(weeks=9))
        await chat.say("piet (dm): /omkijken pauze")
        assert chat.to("piet")[-1].startswith("Je staat op pauze")
        async with chat.runtime.store.transaction() as tx:
            later = await week_pairs(tx, circle, MONDAY_MORNING + timedelta(weeks=10), AMSTERDAM)
        assert who["piet"] not in later and who["piet"] not in later.values()
        assert len(later) == 3
    finally:
        await chat.runtime.close()


async def test_two_at_once_make_one_rota_and_both_get_it(database_url: str) -> None:
    """Two processes need this week's pairs at the same moment (a check-in and a Monday
    notice, say): both get the same pairs, neither fails, and the week has one rota."""
    chat = await circle_chat(database_url)
    try:
        who = await ids(chat)
        async with chat.runtime.store.transaction() as tx:
            circle = await tx.circle_of_member(who["els"], (await tx.communities())[0].id)
        assert circle is not None
        store = chat.runtime.store
        # On PostgreSQL both transactions look before either makes the rota; SQLite lets
        # one writer in at a time, so there the second waits for the first.
        both_looked = asyncio.Barrier(2) if database_url.startswith("postgresql") else None

        class LooksThenWaits:
            """The real transaction; its first look at the rota waits for the other's."""

            def __init__(self, tx: Tx) -> None:
                self.tx, self.looked = tx, False

            def __getattr__(self, name: str) -> Any:
                return getattr(self.tx, name)

            async def rota(self, circle_id: int, week: str) -> dict[int, int]:
                found = await self.tx.rota(circle_id, week)
                if both_looked is not None and not self.looked:
                    self.looked = True
                    assert found == {}  # none yet, for either
                    await both_looked.wait()
                return found

        async def pairs() -> dict[int, int]:
            async with store.transaction() as tx:
                waiting = cast(Tx, LooksThenWaits(tx))
                return await week_pairs(waiting, circle, MONDAY_MORNING, AMSTERDAM)

        first, second = await asyncio.gather(pairs(), pairs())
        assert first == second and len(first) == 3
        async with store.transaction() as tx:
            assert await tx.rota(circle.id, "2026-11-23") == first
    finally:
        await chat.runtime.close()


async def test_monday_each_buddy_hears_whom_they_look_after(chat: Transcript) -> None:
    await chat.say(*CIRCLE, "kees (dm): /stil 22:00-10:00")
    await chat.say("@wait 7d")  # Monday 09:00: Kees's quiet hours hold this message back
    told = [line for who in ("els", "piet") for line in chat.to(who)]
    assert sum(line.startswith("Deze week kijk jij om naar") for line in told) == 2
    assert not any(line.startswith("Deze week kijk jij om naar") for line in chat.to("kees"))
    await chat.say("@wait 1h")
    assert chat.to("kees")[-1].startswith("Deze week kijk jij om naar")
    await chat.say("kees (dm): /omkijken")
    assert chat.to("kees")[-1].startswith("Omkijken in Kerklaan:")


# --- turning it on ---------------------------------------------------------------------------
async def test_turning_it_on_says_who_is_asked_and_when_and_waits_for_a_yes(
    chat: Transcript,
) -> None:
    await chat.say(*CIRCLE, "els (dm): /omkijken ma wo vr 09:30")
    explained = chat.to("els")[-1]
    assert "ma, wo en vr om 09:30 vraag ik je: gaat alles goed?" in explained
    assert "binnen 2 uur" in explained and "maatje van deze week" in explained
    assert "de kartrekkers" in explained and "ook 's avonds en 's nachts" in explained
    assert explained.endswith("[Ja, zo is het goed] [Nee, liever niet]")
    await chat.say("@wait 2d")  # Wednesday 09:30 went by: no yes, no question
    assert QUESTION not in chat.to("els")
    await chat.say("els (dm): [Ja, zo is het goed]")
    assert chat.to("els")[-1].startswith("Het staat aan: ma, wo en vr om 09:30")
    await chat.say("@wait 2d")  # Friday
    assert chat.to("els")[-1].startswith(QUESTION)
    await chat.say("els (dm): /omkijken uit", "@wait 7d")
    assert (
        chat.to("els").count(
            QUESTION + "\n[Alles goed]\n[Ik kan wel wat hulp gebruiken]\n[Bel me even]"
        )
        == 1
    )


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("els (dm): /omkijken dagelijks", "Hoe laat wil je de vraag krijgen?"),
        ("els (dm): /omkijken ma wo vx 09:30", "Ik begrijp 'vx' niet als dag."),
        ("els (dm): /omkijken elke ochtend 09:30", "niet als dag"),
        ("els (dm): /omkijken dagelijks 25:00", "Ik begrijp '25:00' niet als tijd."),
        ("anna (dm): /omkijken dagelijks 10:00", "je zit nog niet in een cirkel"),
        ("els (dm): /omkijken uit", "Er stond geen vraag aan."),
        ("els (dm): /checkin daily", "Hoe laat wil je de vraag krijgen?"),
    ],
)
async def test_a_check_in_said_wrong_gets_a_clear_answer(
    chat: Transcript, line: str, answer: str
) -> None:
    await chat.say(*CIRCLE, "anna (dm): /start")
    who = line.split(" ", 1)[0]
    await chat.say(line)
    assert answer in chat.to(who)[-1]


async def test_english_check_in(chat: Transcript) -> None:
    await chat.say(*CIRCLE, "piet (dm): /taal en", "piet (dm): /checkin mon wed fri 09:30")
    assert "Mon, Wed and Fri at 09:30 I ask you: is all well?" in chat.to("piet")[-1]
    await chat.say("piet (dm): [Yes, that's fine]", "@wait 2d")
    assert chat.to("piet")[-1].startswith("Hi! Is all well?")


# --- answering ---------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["ja hoor alles goed", "goed", "Prima!", "ja", "[Alles goed]"])
async def test_all_is_well_however_it_is_said(chat: Transcript, typed: str) -> None:
    await chat.say(*CIRCLE, *ON, "@wait 1h", f"els (dm): {typed}", "@wait 4h")
    assert chat.to("els")[-1] == "Fijn om te horen! Een fijne dag."
    assert (await checkin_row(chat)).answer is Answer.GOOD
    assert not any("niet laten weten" in line for line in chat.to("kees"))


def test_what_a_typed_answer_is_read_as() -> None:
    assert read_answer("ja hoor, alles goed!") is Answer.GOOD
    assert read_answer("kun je me even bellen") is Answer.CALL
    assert read_answer("ik kan wel wat hulp gebruiken") is Answer.HELP
    assert read_answer("niet zo goed") is None  # never read as well
    assert read_answer("wie heeft er een ladder") is None
    assert read_answer("ja") is None  # a yes to something else
    assert read_answer("Ja!", just_asked=True) is Answer.GOOD


async def test_a_yes_to_another_question_is_not_taken_for_all_well(chat: Transcript) -> None:
    await chat.say(*CIRCLE, *ON, "@wait 1h", "els (dm): /vraag")
    await chat.say("els (dm): ja")
    assert (await checkin_row(chat)).answer is None


async def test_not_so_well_is_not_taken_for_all_well(chat: Transcript) -> None:
    await chat.say(*CIRCLE, *ON, "@wait 1h", "els (dm): niet zo goed")
    assert (await checkin_row(chat)).answer is None
    await chat.say("@wait 2h")
    assert "Els heeft niet laten weten hoe het gaat" in chat.to("kees")[-1]


async def test_call_me_asks_the_buddy_to_call(chat: Transcript) -> None:
    await chat.say(*CIRCLE, *ON, "@wait 1h", "els (dm): [Bel me even]")
    assert chat.to("kees")[-1] == "Els vraagt of je even belt. Contact: @els"
    assert chat.to("els")[-1] == "Ik heb Kees gevraagd je even te bellen."
    assert (await checkin_row(chat)).answer is Answer.CALL


async def test_some_help_starts_a_request(chat: Transcript) -> None:
    await chat.say(*CIRCLE, *ON, "@wait 1h", "els (dm): [Ik kan wel wat hulp gebruiken]")
    said = chat.to("els")
    assert "Je vraag gaat eerst naar je cirkel." in said[-2]
    assert "[Boodschappen]" in said[-1]  # the request's first question
    assert (await checkin_row(chat)).answer is Answer.HELP


# --- nobody answers ------------------------------------------------------------------------------
async def test_the_buddy_then_the_next_member_then_contact_and_organisers(
    database_url: str,
) -> None:
    chat = await circle_chat(database_url)
    try:
        who = await ids(chat)
        await chat.say("kees (dm): /omkijken dagelijks 10:00", "kees (dm): [Ja, zo is het goed]")
        await chat.say("@wait 1h")  # 10:00
        assert chat.to("kees")[-1].startswith(QUESTION)
        await chat.say("@wait 119m")
        assert await asks(chat) == []
        await chat.say("@wait 1m")  # 12:00: this week's buddy
        pairs = await this_week(chat)
        buddy = pairs[who["kees"]]
        assert await asks(chat) == [(buddy, 1, None)]
        buddy_name = next(n for n, i in who.items() if i == buddy)
        assert chat.to(buddy_name)[-1].startswith("Kees heeft niet laten weten hoe het gaat")
        await chat.say("@wait 59m")
        assert len(await asks(chat)) == 1
        await chat.say("@wait 1m")  # 13:00: the next member
        other = who["els"] if buddy == who["piet"] else who["piet"]
        assert (await asks(chat))[1] == (other, 2, None)
        await chat.say("@wait 1h")  # 14:00: the contact person (Els) and the organiser
        third = {m for m, step, _ in await asks(chat) if step == 3}
        assert third == ({who["els"], who["lies"]} - {other})
        assert "Niemand uit de cirkel kon tot nu toe gaan kijken" in chat.to("lies")[-1]
        await chat.say("@wait 5h")
        assert len(await asks(chat)) == 2 + len(third)  # nothing after the last step
        row = await checkin_row(chat)
        assert row.missed_at is not None and row.step == 3
    finally:
        await chat.runtime.close()


async def this_week(chat: Transcript) -> dict[int, int]:
    async with chat.runtime.store.transaction() as tx:
        community = (await tx.communities())[0]
        els = await tx.identity("console", "els")
        assert els is not None
        circle = await tx.circle_of_member(els.member_id, community.id)
        assert circle is not None
        return await week_pairs(tx, circle, chat.clock.now(), AMSTERDAM)


async def test_a_restart_during_the_asking_neither_loses_nor_repeats_a_step(
    database_url: str,
) -> None:
    chat = await circle_chat(database_url)
    who = await ids(chat)
    await chat.say(*ON, "@wait 3h")  # 12:00: the buddy was asked
    assert [step for _, step, _ in await asks(chat)] == [1]
    moment = chat.clock.now()
    await chat.runtime.close()

    # The process comes back. The step to the next member is due at 13:00; the first
    # attempt breaks off half-way (after its message was written): nothing of it stays.
    again = await make_transcript(database_url, start=moment)
    try:
        runner = DueWorkRunner(again.runtime.bot, worker="second")
        real = again.runtime.bot.work.jobs[WorkKind.CHECKIN_STEP]

        async def breaks_off(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome:
            await real(ctx, work, settings)
            raise ConnectionError("the database went away")

        again.runtime.bot.work.jobs[WorkKind.CHECKIN_STEP] = breaks_off
        assert isinstance(again.clock, FakeClock)
        again.clock.set(moment + timedelta(hours=1))
        await runner.run_due()
        assert [step for _, step, _ in await asks(again)] == [1]
        again.runtime.bot.work.jobs[WorkKind.CHECKIN_STEP] = real
        await again.say("@wait 10m")  # tried again: done once
        await again.say("@wait 3h")
        steps = Counter(step for _, step, _ in await asks(again))
        assert steps[1] == 1 and steps[2] == 1 and steps[3] >= 1
        sent = [
            line
            for name in ("kees", "piet", "lies")
            for line in again.to(name)
            if "heeft niet laten weten hoe het gaat" in line
        ]
        assert len(sent) == len(await asks(again)) - 1  # the buddy was told before the restart
        assert who["els"] not in [m for m, _, _ in await asks(again)]
    finally:
        await again.runtime.close()


async def test_going_to_look_stops_the_asking_and_asks_afterwards_how_it_was(
    chat: Transcript,
) -> None:
    await chat.say(*CIRCLE, *ON, "@wait 3h")  # the buddy (Kees) is asked at 12:00
    assert chat.to("kees")[-1].startswith("Els heeft niet laten weten")
    await chat.say("kees (dm): [Ik kan nu niet]")  # the next one at once, not at 13:00
    assert chat.to("kees")[-1] == "Geen probleem, ik vraag iemand anders."
    await chat.say("@wait 1m")
    assert chat.to("piet")[-1].startswith("Els uit Kerklaan heeft niet laten weten")
    await chat.say("piet (dm): [Ik ga even kijken]")
    assert chat.to("els")[-1] == "Piet komt even bij je kijken of belt je."
    await chat.say("@wait 3h")
    assert not any("Niemand uit de cirkel" in line for line in chat.to("lies"))
    assert chat.to("piet")[-1].startswith("Je ging bij Els kijken. Hoe was het?")
    await chat.say("piet (dm): [Alles was goed]")
    row = await checkin_row(chat)
    assert row.look_result is LookResult.GOOD and row.looker_id is not None
    await chat.say("piet (dm): [Alles was goed]")  # the button went with the first press
    assert chat.to("piet").count("Fijn dat alles goed was met Els. Dank je wel!") == 1


async def test_in_the_night_the_asking_goes_on_but_how_was_it_waits_for_morning(
    chat: Transcript,
) -> None:
    await chat.say(*CIRCLE, "els (dm): /omkijken dagelijks 22:00", "els (dm): [Ja, zo is het goed]")
    await chat.say("@wait 13h")  # 22:00
    assert chat.to("els")[-1].startswith(QUESTION)
    await chat.say("@wait 2h")  # midnight, in the quiet hours: the buddy is asked anyway
    assert chat.to("kees")[-1].startswith("Els heeft niet laten weten")
    await chat.say("kees (dm): [Ik ga even kijken]", "@wait 2h")
    assert chat.to("kees")[-1].startswith("Dank je!")  # no question at two in the night
    await chat.say("@wait 7h")
    assert chat.to("kees")[-1].startswith("Je ging bij Els kijken. Hoe was het?")


async def test_a_late_answer_tells_those_asked_they_need_not_go(chat: Transcript) -> None:
    await chat.say(*CIRCLE, *ON, "@wait 3h", "els (dm): [Alles goed]")
    assert chat.to("kees")[-1].startswith("Els heeft nu zelf laten weten hoe het gaat.")
    await chat.say("kees (dm): [Ik ga even kijken]")
    assert chat.to("kees")[-1].startswith("Els heeft zelf laten weten hoe het gaat.")
    await chat.say("@wait 4h")
    assert await asks(chat) == [((await ids(chat))["kees"], 1, None)]


async def test_a_look_in_button_sent_to_another_member_changes_nothing(chat: Transcript) -> None:
    await chat.say(*CIRCLE, *ON, "@wait 3h")  # Kees is asked
    his = chat.press("kees", "Ik ga even kijken", "his")
    forged = ButtonPress("forged-1", private("piet"), sender("piet"), his.action, his.message_ref)
    assert await send(chat, forged) == [f"buurtbot -> piet (dm): {NOT_FOR_YOU}"]
    hers = chat.press("els", "Alles goed", "hers")
    forged = ButtonPress("forged-2", private("kees"), sender("kees"), hers.action, hers.message_ref)
    assert await send(chat, forged) == [f"buurtbot -> kees (dm): {NOT_FOR_YOU}"]
    row = await checkin_row(chat)
    assert row.looker_id is None and row.answer is None
    assert [answer for _, _, answer in await asks(chat)] == [None]


# --- leaving ------------------------------------------------------------------------------------
async def test_leaving_while_someones_buddy_this_week_finds_them_another(chat: Transcript) -> None:
    await chat.say(*CIRCLE, "els (dm): /omkijken")
    who = await ids(chat)
    pairs = await this_week(chat)
    looked_after = next(m for m, b in pairs.items() if b == who["piet"])
    name = next(n for n, i in who.items() if i == looked_after)
    await chat.say("piet (dm): /cirkel verlaten")
    assert chat.to("piet")[-1].startswith(f"Je keek deze week om naar {name.capitalize()}.")
    assert chat.to(name)[-1].startswith("Je maatje van deze week doet niet meer mee.")
    after = await this_week(chat)
    assert who["piet"] not in after and who["piet"] not in after.values()
    assert after[looked_after] != who["piet"]


# --- gatherings ---------------------------------------------------------------------------------
async def test_a_gathering_who_comes_and_the_reminder_the_day_before(chat: Transcript) -> None:
    await chat.say(
        *CIRCLE, "anna (dm): /start", "kees (dm): /cirkel afspraak za 10:00 koffie bij Els"
    )
    assert chat.to("kees")[-1].startswith("Ik heb het aan je cirkel laten weten")
    invite = chat.to("piet")[-1]
    assert "Kees stelt voor in Kerklaan" in invite and "koffie bij Els" in invite
    assert invite.endswith("[Ik kom] [Ik kan niet]")
    piets = chat.press("piet", "Ik kan niet", "p")
    await chat.say("piet (dm): [Ik kom]", "els (dm): [Ik kan niet]")
    # someone outside the circle cannot answer it
    forged = ButtonPress(
        "forged-3", private("anna"), sender("anna"), piets.action, piets.message_ref
    )
    assert await send(chat, forged) == [f"buurtbot -> anna (dm): {NOT_FOR_YOU}"]
    # the contact person (Els) sees who comes; Piet sees how many
    await chat.say("els (dm): /cirkel afspraak", "piet (dm): /circle meeting")
    assert "Komen: Kees, Piet" in chat.to("els")[-1]
    assert "Er komen 2." in chat.to("piet")[-1]
    await chat.say("@wait 4d", "@wait 11h")  # Friday 19:00 has passed
    assert chat.to("piet")[-1].startswith("Een herinnering aan de afspraak van je cirkel")
    assert chat.to("els")[-1].endswith("Komen: Kees, Piet")
    assert not any(line.startswith("Een herinnering aan de afspraak") for line in chat.to("anna"))


async def test_a_gathering_planned_in_the_group_is_answered_privately(chat: Transcript) -> None:
    await chat.say(*CIRCLE, "els: /cirkel afspraak za 10:00 koffie in de tuin")
    assert not any("koffie in de tuin" in line for line in chat.to("group"))
    assert chat.to("els")[-1].startswith("Ik heb het aan je cirkel laten weten")
    assert "koffie in de tuin" in chat.to("kees")[-1]


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/cirkel afspraak gisteren 10:00 koffie", "is al voorbij"),
        ("/cirkel afspraak vandaag 08:00 koffie", "is al voorbij"),
        ("/cirkel afspraak za koffie bij Els", "Hoe laat?"),
        ("/cirkel afspraak za 10:00", "Wat gaan jullie doen"),
        ("/cirkel afspraak koffie bij Els", "niet als dag"),
    ],
)
async def test_a_gathering_said_wrong_gets_a_clear_answer(
    chat: Transcript, line: str, answer: str
) -> None:
    await chat.say(*CIRCLE, f"els (dm): {line}")
    assert answer in chat.to("els")[-1]
    async with chat.runtime.store.transaction() as tx:
        assert await tx.gathering(1) is None


# --- privacy --------------------------------------------------------------------------------
async def test_organisers_see_figures_of_check_ins_never_answers(chat: Transcript) -> None:
    await chat.say(*CIRCLE, *ON, "@wait 1h", "els (dm): [Bel me even]", "@wait 1d", "@wait 7d")
    digest = [line for line in chat.to("lies") if line.startswith("Weekoverzicht")]
    assert digest and "Omkijken: " in digest[-1]
    assert not any("Bel me" in line or "bellen" in line for line in chat.to("lies"))


async def test_my_data_shows_check_ins_and_they_go_after_thirty_days(chat: Transcript) -> None:
    await chat.say(*CIRCLE, *ON, "@wait 1h", "els (dm): goed", "els (dm): /mijngegevens")
    async with chat.runtime.store.transaction() as tx:
        els = await tx.identity("console", "els")
        assert els is not None
        records = await tx.member_records(els.member_id)
    assert [c["answer"] for c in records["checkins"]] == ["good"]
    assert records["omkijken"][0]["days"] == "0123456"
    await chat.say("els (dm): /omkijken uit", "@wait 31d")
    async with chat.runtime.store.transaction() as tx:
        assert await tx.checkin(1) is None
