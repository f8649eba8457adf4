"""Closing the loop: reminders, follow-ups, escalation, digest, quiet hours and the timer.

Time moves only with ``@wait`` (a virtual clock); what people see is read from the console
transcript, what is recorded from the database.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from bot.clock import FakeClock
from bot.duework import DueWorkRunner, next_day_start, parse_hours, quiet_until
from bot.i18n import Catalog
from bot.model import Category, NewRequest, ProposalStatus, RequestStatus, Role, Visibility
from bot.work import DueWork, NewWork, Outcome, WorkKind
from scheduler.timer import DueTimer
from storage.sql import SqlStore, due_t
from tests.conftest import AMSTERDAM, MONDAY_MORNING, Transcript, make_transcript

FOLLOWUP_BUTTONS = "[Gelukt] [Niet gelukt] [Nog nodig]"


# --- helpers -----------------------------------------------------------------------------------
async def matched(chat: Transcript, when: str = "morgen 14:00") -> None:
    """Kees helps Fatima with shopping (tomorrow 14:00 unless said otherwise)."""
    await chat.say(
        "kees (dm): /aanbod boodschappen elke dag",
        f"fatima: /vraag boodschappen {when} melk en brood",
        "fatima (dm): [In de groep, zonder mijn naam]",
        "kees (dm): [Ik help]",
    )
    assert chat.to("fatima")[-1].startswith("Goed nieuws! Kees helpt je")


async def new_lines(chat: Transcript, *lines: str) -> list[str]:
    """What the bot said in answer to these lines, as messages (continuations joined)."""
    start = len(chat.lines)
    await chat.say(*lines)
    messages: list[str] = []
    for line in chat.lines[start:]:
        if line.startswith("buurtbot -> "):
            messages.append(line[len("buurtbot -> ") :])
        elif line.startswith("  ") and messages:
            messages[-1] += "\n" + line.strip()
    return messages


async def request_row(chat: Transcript, request_id: int = 1) -> Any:
    async with chat.runtime.store.transaction() as tx:
        return await tx.request(request_id)


async def work_about(chat: Transcript, request_id: int = 1) -> list[DueWork]:
    async with chat.runtime.store.transaction() as tx:
        return await tx.work_about(request_id)


async def set_community(chat: Transcript, **changes: object) -> None:
    async with chat.runtime.store.transaction() as tx:
        community = (await tx.communities())[0]
        await tx.update_community_settings(community.id, dict(changes))


# --- pure rules ----------------------------------------------------------------------------------
def test_quiet_hours_across_midnight() -> None:
    hours = parse_hours("21:30-08:30")
    assert hours == (time(21, 30), time(8, 30))
    evening = datetime(2026, 11, 23, 22, 0, tzinfo=AMSTERDAM)
    assert quiet_until(evening, hours) == datetime(2026, 11, 24, 8, 30, tzinfo=AMSTERDAM)
    early = datetime(2026, 11, 24, 6, 0, tzinfo=AMSTERDAM)
    assert quiet_until(early, hours) == datetime(2026, 11, 24, 8, 30, tzinfo=AMSTERDAM)
    assert quiet_until(datetime(2026, 11, 24, 12, 0, tzinfo=AMSTERDAM), hours) is None
    assert next_day_start(evening, hours) == datetime(2026, 11, 24, 8, 30, tzinfo=AMSTERDAM)
    assert parse_hours("off") is None
    assert parse_hours("13:00-14:00") == (time(13), time(14))


# --- reminders for helpers ------------------------------------------------------------------
async def test_helper_is_reminded_the_evening_before_and_an_hour_before(chat: Transcript) -> None:
    await matched(chat)
    assert await new_lines(chat, "@wait 9h") == []  # Monday 18:00
    evening = await new_lines(chat, "@wait 1h")  # Monday 19:00
    assert len(evening) == 1
    assert evening[0].startswith("kees (dm): Even een herinnering: je helpt Fatima.")
    assert "morgen (di 24 nov) om 14:00" in evening[0]
    assert "Zo bereik je Fatima: @fatima" in evening[0]
    assert await new_lines(chat, "@wait 17h") == []  # Tuesday 12:00
    soon = await new_lines(chat, "@wait 1h")  # Tuesday 13:00
    assert len(soon) == 1
    assert soon[0].startswith("kees (dm): Het is bijna zover: je helpt Fatima.")
    assert not any("herinnering" in m or "bijna" in m for m in chat.to("fatima"))


# --- follow-ups -----------------------------------------------------------------------------
async def test_both_sides_are_asked_after_the_agreed_time(chat: Transcript) -> None:
    await matched(chat)
    await chat.say("@wait 1d", "@wait 5h")  # Tuesday 14:00; the exact time ends at 15:00
    assert not any("Hoe ging het" in m for m in chat.to("fatima") + chat.to("kees"))
    asked = await new_lines(chat, "@wait 2h")  # Tuesday 16:00, an hour after the time
    assert [m.split(":")[0] for m in asked] == ["fatima (dm)", "kees (dm)"]
    assert asked[0].startswith("fatima (dm): Hoe ging het? Kees zou je helpen:")
    assert asked[1].startswith("kees (dm): Hoe ging het bij Fatima?")
    assert all(m.endswith(FOLLOWUP_BUTTONS) for m in asked)


async def test_done_closes_the_request_and_stops_asking(chat: Transcript) -> None:
    await matched(chat)
    await chat.say("@wait 31h")
    answer = await new_lines(chat, "kees (dm): [Gelukt]")
    assert answer == [
        "kees (dm): Fijn dat het gelukt is! Vraag 1 is afgerond.",
        "fatima (dm): Kees laat weten dat vraag 1 gelukt is. Dank je wel!",
    ]
    assert (await request_row(chat)).status is RequestStatus.DONE
    assert await new_lines(chat, "@wait 5d") == []  # no nudge, no closing note
    pending = [w for w in await work_about(chat) if w.pending]
    assert pending == []


async def test_still_needed_reopens_and_asks_someone_else_first(chat: Transcript) -> None:
    await chat.say("piet (dm): /aanbod boodschappen za zo ochtend")
    await matched(chat)
    await chat.say("@wait 31h")
    answer = await new_lines(chat, "fatima (dm): [Nog nodig]")
    assert answer[0].startswith("fatima (dm): Jammer dat het nog niet gelukt is.")
    assert answer[1].startswith("kees (dm): Fatima laat weten dat vraag 1 nog niet gelukt is.")
    # the agreed time is over, so any time now; Piet fits and is asked, Kees is not again
    assert answer[2] == (
        "piet (dm): Kun jij helpen? Een buur vraagt:\n"
        "Boodschappen: melk en brood\n"
        "[Ik help] [Nu niet]"
    )
    assert len(answer) == 3
    request = await request_row(chat)
    assert request.status is RequestStatus.OPEN
    assert request.helper_id is None and request.starts_at is None
    async with chat.runtime.store.transaction() as tx:
        proposals = {p.helper_id: p.status for p in await tx.proposals(1)}
    assert sorted(proposals.values()) == [ProposalStatus.ACCEPTED, ProposalStatus.PENDING]
    # Kees's question is settled: its buttons are gone
    await chat.say("kees (dm): [Gelukt]")
    assert chat.lines[-1] == "! Er is geen knop [Gelukt] om op te drukken."
    assert (await request_row(chat)).status is RequestStatus.OPEN


async def test_did_not_work_out_asks_the_same_helper_when_nobody_else_fits(
    chat: Transcript,
) -> None:
    await matched(chat)
    await chat.say("@wait 31h")
    answer = await new_lines(chat, "kees (dm): [Niet gelukt]")
    assert (
        answer[0]
        == "kees (dm): Dank je wel dat je het laat weten. Ik zoek opnieuw een buur voor vraag 1."
    )
    assert answer[1].startswith(
        "fatima (dm): Kees laat weten dat het bij vraag 1 nog niet gelukt is."
    )
    assert answer[2].startswith("kees (dm): Kun jij helpen? Een buur vraagt:")
    # and Kees can say yes again: a new match, with a new follow-up later
    await chat.say("kees (dm): [Ik help]")
    assert chat.to("fatima")[-1].startswith("Goed nieuws! Kees helpt je")
    assert (await request_row(chat)).status is RequestStatus.MATCHED
    asked = await new_lines(chat, "@wait 2d")
    assert any(m.startswith("fatima (dm): Hoe ging het?") for m in asked)


async def test_no_answer_one_gentle_reminder_then_closed_as_unknown(chat: Transcript) -> None:
    await matched(chat)
    await chat.say("@wait 31h")  # Tuesday 16:00: asked
    assert await new_lines(chat, "@wait 23h") == []
    nudged = await new_lines(chat, "@wait 1h")  # Wednesday 16:00
    assert [m.split(":")[0] for m in nudged] == ["fatima (dm)", "kees (dm)"]
    assert nudged[0].startswith("fatima (dm): Ik hoorde nog niet hoe het ging met vraag 1:")
    assert nudged[1].endswith(FOLLOWUP_BUTTONS)
    closed = await new_lines(chat, "@wait 1d")  # Thursday 16:00: two days without answer
    assert closed == [
        "fatima (dm): Ik heb niets meer gehoord over vraag 1, dus ik heb die afgesloten:\n"
        "Boodschappen, dinsdag 24 nov om 14:00: melk en brood\n"
        "Is er toch nog hulp nodig? Typ dan /vraag.",
        "kees (dm): Ik heb niets meer gehoord over vraag 1, dus ik heb die afgesloten:\n"
        "Boodschappen, dinsdag 24 nov om 14:00: melk en brood\n"
        "Is er toch nog hulp nodig? Typ dan /vraag.",
    ]
    assert (await request_row(chat)).status is RequestStatus.UNKNOWN
    assert await new_lines(chat, "@wait 5d") == []
    async with chat.runtime.store.transaction() as tx:
        figures = await tx.request_figures(1, MONDAY_MORNING)
    assert figures["unknown"] == 1 and figures["done"] == 0


async def test_without_a_time_the_community_delay_decides(chat: Transcript) -> None:
    await set_community(chat, followup_without_time_hours=24)
    await chat.say(
        "kees (dm): /aanbod boodschappen elke dag",
        "fatima (dm): /vraag boodschappen",
        "fatima (dm): [Maakt niet uit]",
        "fatima (dm): melk en brood",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
        "kees (dm): [Ik help]",
    )
    assert (await request_row(chat)).starts_at is None
    assert await new_lines(chat, "@wait 23h") == []
    asked = await new_lines(chat, "@wait 1h")
    assert [m.split(":")[0] for m in asked] == ["fatima (dm)", "kees (dm)"]


async def test_follow_up_in_english(chat: Transcript) -> None:
    await chat.say(
        "kees (dm): /taal en",
        "kees (dm): /offer shopping every day",
        "fatima: /vraag boodschappen morgen 14:00 melk en brood",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
        "kees (dm): [I'll help]",
    )
    said = await new_lines(chat, "@wait 31h")
    assert said[0].startswith("kees (dm): A quick reminder: you are helping Fatima.")
    asked = [m for m in said if "Hoe ging het" in m or "How did it go" in m]
    assert asked[0].startswith("fatima (dm): Hoe ging het? Kees zou je helpen:")
    assert asked[1].startswith("kees (dm): How did it go with Fatima?")
    assert asked[1].endswith("[Done] [Did not work out] [Still needed]")
    done = await new_lines(chat, "kees (dm): [Done]")
    assert done[0] == "kees (dm): Glad it worked out! Request 1 is finished."
    assert (await request_row(chat)).status is RequestStatus.DONE


# --- the escalation ladder -----------------------------------------------------------------------
async def unanswered(chat: Transcript) -> None:
    """Kees is asked privately but does not answer."""
    await chat.say(
        "@organiser anna",
        "kees (dm): /aanbod boodschappen elke dag",
        "fatima: /vraag boodschappen morgen middag melk en brood",
        "fatima (dm): [In de groep, zonder mijn naam]",
    )
    assert chat.to("kees")[-1].startswith("Kun jij helpen?")


async def test_unanswered_request_goes_to_the_group_then_to_organisers(chat: Transcript) -> None:
    await unanswered(chat)
    assert await new_lines(chat, "@wait 3h") == []
    widened = await new_lines(chat, "@wait 1h")  # four hours without a helper
    assert widened == [
        "group: Een buur vraagt om hulp:\n"
        "Boodschappen, morgenmiddag (di 24 nov): melk en brood\n"
        "Kun jij helpen?\n[Ik help]",
        "fatima (dm): Ik heb nog niemand gevonden die kan. "
        "Daarom staat je vraag nu in de groep, zoals je wilde.",
    ]
    assert await new_lines(chat, "@wait 19h") == []
    alerted = await new_lines(chat, "@wait 1h")  # a day without a helper
    assert len(alerted) == 1
    assert alerted[0].startswith("anna (dm): Vraag 1 van Fatima wacht al 24 uur op een helper:")
    assert alerted[0].endswith("[Ik pak het op] [Doorverwijzen]")


async def test_organiser_picks_it_up(chat: Transcript) -> None:
    await unanswered(chat)
    await chat.say("@wait 1d")
    answer = await new_lines(chat, "anna (dm): [Ik pak het op]")
    assert answer[0].startswith("fatima (dm): Goed nieuws! Anna helpt je:")
    assert answer[1].startswith("anna (dm): Dank je wel! Je helpt Fatima:")
    assert answer[2] == (
        "kees (dm): Vraag 1 is al opgepakt door een andere buur. Dank je wel dat je wilde kijken!"
    )
    request = await request_row(chat)
    assert request.status is RequestStatus.MATCHED
    async with chat.runtime.store.transaction() as tx:
        anna = await tx.identity("console", "anna")
    assert anna is not None and request.helper_id == anna.member_id
    # Anna is a helper now like any other: she is reminded and asked afterwards
    later = await new_lines(chat, "@wait 2d")
    assert any(m.startswith("anna (dm): Hoe ging het bij Fatima?") for m in later)


async def test_referral_waits_for_consent_and_no_means_no(chat: Transcript) -> None:
    await unanswered(chat)
    await chat.say("@wait 1d")
    asked = await new_lines(chat, "anna (dm): [Doorverwijzen]")
    assert asked[0].startswith("fatima (dm): Je vraag 1 wacht nog op hulp:")
    assert asked[0].endswith("[Ja, dat mag] [Liever niet]")
    assert asked[1] == "anna (dm): Ik vraag Fatima eerst of dat goed is. Je hoort het van mij."
    assert (await request_row(chat)).status is RequestStatus.OPEN  # nothing passed on yet
    no = await new_lines(chat, "fatima (dm): [Liever niet]")
    assert no == [
        "fatima (dm): Dat is goed. Je vraag 1 blijft open voor buren.",
        "anna (dm): Fatima wil vraag 1 liever niet doorgeven aan een hulpverlener. "
        "De vraag blijft open voor buren.\n[Ik pak het op]",
    ]
    assert (await request_row(chat)).status is RequestStatus.OPEN
    async with chat.runtime.store.transaction() as tx:
        referral = await tx.referral(1)
    assert referral is not None and referral.consent is False
    # Anna can still pick it up herself
    took = await new_lines(chat, "anna (dm): [Ik pak het op]")
    assert took[0].startswith("fatima (dm): Goed nieuws! Anna helpt je:")


async def test_referral_with_consent(chat: Transcript) -> None:
    await chat.say("@organiser anna")
    set_contact = await new_lines(chat, "anna (dm): /rugdekking Wijkteam Delfshaven, 010 1234567")
    assert set_contact == [
        "anna (dm): Genoteerd. Contact voor rugdekking: Wijkteam Delfshaven, 010 1234567"
    ]
    await unanswered(chat)
    await chat.say("@wait 1d", "anna (dm): [Doorverwijzen]")
    yes = await new_lines(chat, "fatima (dm): [Ja, dat mag]")
    assert yes[0] == "kees (dm): Vraag 1 is niet meer nodig. Dank je wel dat je wilde kijken!"
    assert yes[1] == (
        "fatima (dm): Dank je wel. Anna geeft je vraag 1 door aan een hulpverlener. "
        "Je hoort van hen."
    )
    assert yes[2] == (
        "anna (dm): Fatima vindt het goed dat je vraag 1 doorgeeft aan een hulpverlener:\n"
        "Boodschappen, vanmiddag (di 24 nov): melk en brood\n"
        "Zo bereik je Fatima: @fatima\n"
        "Contact voor rugdekking: Wijkteam Delfshaven, 010 1234567"
    )
    assert (await request_row(chat)).status is RequestStatus.REFERRED
    async with chat.runtime.store.transaction() as tx:
        referral = await tx.referral(1)
    assert referral is not None and referral.consent is True
    assert [w for w in await work_about(chat) if w.pending] == []
    # the group post lost its button: nobody can take a referred request
    await chat.say("piet: [Ik help]")
    assert chat.lines[-1] == "! Er is geen knop [Ik help] om op te drukken."


async def test_an_alert_is_moot_once_a_neighbour_helps(chat: Transcript) -> None:
    await unanswered(chat)
    await chat.say("@wait 1d")
    answer = await new_lines(chat, "kees (dm): [Ik help]")
    assert answer[0].startswith("fatima (dm): Goed nieuws! Kees helpt je")
    # Anna's alert now says that Kees helps, and its buttons are gone
    await chat.say("anna (dm): [Ik pak het op]")
    assert chat.lines[-1] == "! Er is geen knop [Ik pak het op] om op te drukken."


# --- cancelling ----------------------------------------------------------------------------------
async def test_cancelling_a_request_cancels_its_pending_work(chat: Transcript) -> None:
    await matched(chat)
    await chat.say("fatima (dm): /annuleer 1")
    work = await work_about(chat)
    assert work and all(w.cancelled_at is not None for w in work)
    assert await new_lines(chat, "@wait 5d") == []


# --- quiet hours and the daily limit -------------------------------------------------------------
async def test_a_members_quiet_hours_hold_back_what_can_wait(chat: Transcript) -> None:
    said = await new_lines(chat, "kees (dm): /stil 18:00-08:00")
    assert said == [
        "kees (dm): Goed. In je rustige uren (18:00-08:00) stuur ik je niets dat kan wachten."
    ]
    await matched(chat, "morgen 10:00")
    # the evening reminder (19:00) waits until Kees's quiet hours end at 08:00
    assert await new_lines(chat, "@wait 22h") == []  # Tuesday 07:00
    morning = await new_lines(chat, "@wait 1h")  # Tuesday 08:00
    assert len(morning) == 1 and morning[0].startswith("kees (dm): Even een herinnering")
    # the reminder shortly before an exact time is urgent: it comes at 09:00 as planned
    soon = await new_lines(chat, "@wait 1h")
    assert len(soon) == 1 and soon[0].startswith("kees (dm): Het is bijna zover")
    async with chat.runtime.store.transaction() as tx:
        kinds = {w.kind: w for w in await tx.work_about(1)}
    evening = kinds[WorkKind.REMIND_EVENING]
    assert evening.done_at is not None
    assert evening.done_at.astimezone(AMSTERDAM) == datetime(2026, 11, 24, 8, 0, tzinfo=AMSTERDAM)


async def test_urgent_reminder_ignores_quiet_hours(chat: Transcript) -> None:
    await matched(chat, "morgen 08:00")
    await chat.say("@wait 21h")  # Tuesday 06:00
    soon = await new_lines(chat, "@wait 1h")  # 07:00, inside the community's quiet hours
    assert len(soon) == 1 and soon[0].startswith("kees (dm): Het is bijna zover")


async def test_group_is_not_woken_at_night(chat: Transcript) -> None:
    await chat.say("@wait 11h")  # Monday 20:00
    await unanswered(chat)
    assert await new_lines(chat, "@wait 4h") == []  # midnight: quiet
    morning = await new_lines(chat, "@wait 8h")  # Tuesday 08:00: still quiet
    assert morning == []
    widened = await new_lines(chat, "@wait 30m")  # 08:30
    assert widened[0].startswith("group: Een buur vraagt om hulp")


async def test_more_than_the_daily_limit_is_bundled(chat: Transcript) -> None:
    await set_community(chat, max_scheduled_per_day=2)
    await chat.say("kees (dm): /aanbod boodschappen klusje vervoer elke dag max 5")
    for line in (
        "/vraag klusje morgen middag lamp ophangen",
        "/vraag vervoer morgen middag naar de huisarts",
        "/vraag boodschappen morgen middag brood",
    ):
        await chat.say(f"fatima: {line}")
        await chat.say("fatima (dm): [Alleen helpers die gevraagd worden]", "kees (dm): [Ik help]")
    assert len([m for m in chat.to("fatima") if m.startswith("Goed nieuws")]) == 3
    asked = await new_lines(chat, "@wait 34h")  # Tuesday 19:00: the afternoon has ended
    to_fatima = [m for m in asked if m.startswith("fatima (dm)")]
    assert len(to_fatima) == 2  # one on its own, two bundled in one message
    assert to_fatima[0].startswith("fatima (dm): Hoe ging het? Kees zou je helpen:")
    assert to_fatima[1].startswith("fatima (dm): Een paar dingen op een rij:")
    assert "[Gelukt #2] [Niet gelukt #2] [Nog nodig #2]" in to_fatima[1]
    assert "[Gelukt #3] [Niet gelukt #3] [Nog nodig #3]" in to_fatima[1]
    answer = await new_lines(chat, "fatima (dm): [Gelukt #3]")
    assert answer[0] == "fatima (dm): Fijn dat het gelukt is! Vraag 3 is afgerond."
    assert (await request_row(chat, 3)).status is RequestStatus.DONE
    assert (await request_row(chat, 2)).status is RequestStatus.MATCHED
    followups = [w for r in (1, 2, 3) for w in await work_about(chat, r)]
    outcomes = [w.outcome for w in followups if w.kind is WorkKind.FOLLOWUP]
    assert sorted(o or "" for o in outcomes) == ["bundled"] * 4 + ["sent"] * 2


async def test_over_the_limit_waits_for_the_next_day(chat: Transcript) -> None:
    await set_community(chat, max_scheduled_per_day=1)
    await matched(chat, "vandaag 13:00")
    await chat.say("@wait 3h")  # 12:00: the reminder shortly before, Kees's one for today
    assert chat.to("kees")[-1].startswith("Het is bijna zover")
    after = await new_lines(chat, "@wait 3h")  # 15:00: Fatima is asked, Kees waits
    assert [m.split(":")[0] for m in after] == ["fatima (dm)"]
    assert await new_lines(chat, "@wait 17h") == []  # Tuesday 08:00: quiet hours
    morning = await new_lines(chat, "@wait 30m")  # 08:30
    assert morning[0].startswith("kees (dm): Hoe ging het bij Fatima?")


# --- the weekly digest ----------------------------------------------------------------------------
async def test_weekly_digest_for_organisers(chat: Transcript) -> None:
    await chat.say("@organiser anna", "piet (dm): /aanbod vervoer elke dag")
    await matched(chat)
    await chat.say("@wait 31h", "kees (dm): [Gelukt]")
    await chat.say("fatima (dm): /vraag klusje deze week lamp ophangen")
    await chat.say("fatima (dm): [Alleen helpers die gevraagd worden]")
    digest = await new_lines(chat, "@wait 6d")  # Monday 30 November, after 09:00
    to_anna = [m for m in digest if m.startswith("anna (dm): Weekoverzicht")]
    assert len(to_anna) == 1
    text = to_anna[0]
    assert "gevraagd: 2 · helper gevonden: 1 · gelukt: 1 · zonder antwoord: 0" in text
    assert "Wacht het langst op een helper:\n• vraag 2, Klusje:" in text
    assert "Actieve helpers (1): Kees" in text
    assert "Al een maand niet gevraagd" not in text  # nobody has offered help that long
    assert not any(m.startswith("kees (dm): Weekoverzicht") for m in digest)
    # five weeks on, Piet has offered help for over a month and was never asked
    later = await new_lines(chat, "@wait 28d")
    last = [m for m in later if m.startswith("anna (dm): Weekoverzicht")][-1]
    assert "Al een maand niet gevraagd: Piet, Kees." in last
    assert len([m for m in later if m.startswith("anna (dm): Weekoverzicht")]) == 4


async def test_digest_day_and_hour_are_a_community_setting(chat: Transcript) -> None:
    await set_community(chat, digest_weekday=2, digest_time="17:00")
    await chat.say("@organiser anna")
    assert await new_lines(chat, "@wait 2d") == []  # Wednesday 09:00
    digest = await new_lines(chat, "@wait 8h")  # Wednesday 17:00
    assert len(digest) == 1 and digest[0].startswith("anna (dm): Weekoverzicht van")


# --- restart and concurrency ---------------------------------------------------------------------
async def test_after_a_restart_overdue_work_runs_once_in_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    first = await make_transcript(url)
    await first.say("@organiser anna", "piet (dm): /aanbod vervoer elke dag")
    await matched(first)  # request 1: Kees helps Fatima tomorrow at 14:00
    await first.say(  # request 2: cancelled again
        "fatima: /vraag boodschappen morgen 16:00 koffie",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
        "kees (dm): [Ik help]",
        "fatima (dm): /annuleer 2",
        # request 3: Piet is asked, but does not answer
        "fatima (dm): /vraag vervoer morgen middag naar de markt",
        "fatima (dm): [In de groep, met mijn naam]",
    )
    assert first.to("piet")[-1].startswith("Kun jij helpen?")
    await first.runtime.close()  # the bot stops on Monday at 09:00 ...

    # ... and starts again on Tuesday at 13:30, with the real timer
    second = await make_transcript(
        url, start=MONDAY_MORNING + timedelta(days=1, hours=4, minutes=30)
    )
    ran = asyncio.Event()
    second.runtime.bot.listeners.append(ran.set)
    timer = DueTimer(DueWorkRunner(second.runtime.bot, worker="second"), poll_seconds=3600)
    timer.start()
    try:
        await asyncio.wait_for(ran.wait(), timeout=30)
    finally:
        await timer.stop()
    await second.session.sender.drain()
    printed = [line for line in second.lines if line.startswith("buurtbot -> ")]
    assert [line.split(":")[0] for line in printed] == [
        "buurtbot -> group",  # request 3 goes to the group (due Monday 13:00)
        "buurtbot -> fatima (dm)",  # ... and Fatima hears so
        "buurtbot -> kees (dm)",  # the evening reminder (Monday 19:00)
        "buurtbot -> kees (dm)",  # the reminder before 14:00 (Tuesday 13:00)
        "buurtbot -> anna (dm)",  # request 3 waited a day (Tuesday 09:00)
    ], second.text()
    assert "Fatima vraagt om hulp" in printed[0]
    assert printed[2].startswith("buurtbot -> kees (dm): Even een herinnering")
    assert printed[3].startswith("buurtbot -> kees (dm): Het is bijna zover")
    assert printed[4].startswith("buurtbot -> anna (dm): Vraag 3 van Fatima wacht al 28 uur")
    assert "koffie" not in second.text()  # request 2 was cancelled: nothing of it ran
    # running again does nothing more: every overdue item ran exactly once
    assert await DueWorkRunner(second.runtime.bot).run_due() == 0
    done = [w for r in (1, 3) for w in await work_about(second, r) if w.done_at is not None]
    assert sorted(w.kind.value for w in done) == [
        "escalate",
        "organiser_alert",
        "remind_evening",
        "remind_hour",
        "widen",
    ]
    assert all(w.attempts == 0 for w in done)
    rows = await _all_work(second.runtime)
    assert {w["claimed_by"] for w in rows if w["done_at"] is not None} == {"second"}
    assert all(w.cancelled_at is not None for w in await work_about(second, 2))
    await second.runtime.close()


async def test_two_schedulers_on_one_database_never_do_anything_twice(database_url: str) -> None:
    clock = FakeClock(MONDAY_MORNING.replace(hour=12))
    settings = Settings(database_url=database_url)
    one = await bootstrap(settings, clock=clock)
    two = await bootstrap(settings, clock=clock)
    members = 60
    try:
        async with one.store.transaction() as tx:
            community = await tx.create_community("Buurt", "nl", "Europe/Amsterdam", {})
            for n in range(members):
                member = await tx.create_member(f"Lid {n}", None, clock.now())
                await tx.add_identity(member.id, "console", f"lid{n}", None, clock.now())
                await tx.join(member.id, community.id, Role.ORGANISER, clock.now())
                request = await tx.add_request(
                    NewRequest(
                        community_id=community.id,
                        requester_id=member.id,
                        category=Category.SHOPPING,
                        starts_at=None,
                        ends_at=None,
                        exact=False,
                        place=None,
                        description="brood",
                        visibility=Visibility.NAMED,
                        advance=False,
                    ),
                    clock.now(),
                )
                await tx.schedule_work(
                    NewWork(
                        WorkKind.DIGEST_NOTICE,
                        community.id,
                        clock.now() - timedelta(minutes=n),
                        member_id=member.id,
                    ),
                    clock.now(),
                )
                await tx.schedule_work(
                    NewWork(WorkKind.WIDEN, community.id, clock.now(), subject_id=request.id),
                    clock.now(),
                )
        runners = [DueWorkRunner(one.bot, worker="one"), DueWorkRunner(two.bot, worker="two")]
        handled = await asyncio.gather(*(r.run_due() for r in runners))
        assert sum(handled) >= 2 * members
        async with one.store.transaction() as tx:
            sent: dict[int, int] = {}
            for n in range(members):
                identity = await tx.identity("console", f"lid{n}")
                assert identity is not None
                sent[identity.member_id] = await tx.scheduled_messages_since(
                    identity.member_id, MONDAY_MORNING
                )
        assert set(sent.values()) == {1}
        rows = await _all_work(one)
        # what was due is done (recurring work planned for later, like the digest, waits)
        due = clock.now().replace(tzinfo=None)  # the column holds UTC without a zone
        rows = [w for w in rows if w["due_at"].replace(tzinfo=None) <= due]
        assert all(w["done_at"] is not None and w["cancelled_at"] is None for w in rows)
        assert len([w for w in rows if w["kind"] == "digest_notice"]) == members
        outbox = await _outbox_count(one)
        # one digest per member; each request is widened once (there is no group chat,
        # so each requester is told privately that nobody was found yet)
        assert outbox == 2 * members
        workers = {w["claimed_by"] for w in rows}
        if database_url.startswith("postgresql"):
            # they work side by side, each skipping rows the other has locked
            assert workers == {"one", "two"}
        else:
            # SQLite lets one writer in at a time; either may take every turn
            assert workers <= {"one", "two"}
    finally:
        await one.close()
        await two.close()


async def _all_work(runtime: Any) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from storage.sql import due_t

    async with runtime.store.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(due_t))]


async def _outbox_count(runtime: Any) -> int:
    from sqlalchemy import func, select

    from storage.sql import outbox_t

    async with runtime.store.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(outbox_t))).scalar_one())


# --- the timer ----------------------------------------------------------------------------------
async def test_timer_wakes_the_claim_loop_for_work_due_soon(tmp_path: Path) -> None:
    """The real AsyncIOScheduler, the real clock: work due in a moment gets done."""
    runtime = await bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'timer.db'}"))
    try:
        now = runtime.clock.now()
        async with runtime.store.transaction() as tx:
            community = await tx.create_community("Buurt", "nl", "Europe/Amsterdam", {})
            anna = await tx.create_member("Anna", None, now)
            await tx.add_identity(anna.id, "console", "anna", None, now)
            await tx.join(anna.id, community.id, Role.ORGANISER, now)
            await tx.update_community_settings(community.id, {"quiet_hours": "off"})
            work_id = await tx.schedule_work(
                NewWork(
                    WorkKind.DIGEST_NOTICE,
                    community.id,
                    now + timedelta(seconds=1),
                    member_id=anna.id,
                ),
                now,
            )
        did_work = asyncio.Event()
        runtime.bot.listeners.append(did_work.set)
        timer = DueTimer(DueWorkRunner(runtime.bot, worker="timer"), poll_seconds=3600)
        timer.start()
        try:
            # the first look at the database finds nothing due yet and sets the wake-up
            # for the due time; the work is done when that wake-up fires
            await asyncio.wait_for(did_work.wait(), timeout=30)
        finally:
            await timer.stop()
        rows = {w["id"]: w for w in await _all_work(runtime)}
        assert rows[work_id]["outcome"] == Outcome.SENT
        assert rows[work_id]["claimed_by"] == "timer"
        assert rows[work_id]["done_at"] >= rows[work_id]["due_at"]  # not a moment early
    finally:
        await runtime.close()


async def test_the_service_runs_overdue_work_after_a_start(tmp_path: Path) -> None:
    """``buurtbot run``'s runtime starts the timer next to the platforms (none here)."""
    from adapters.service import serve

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'service.db'}")
    store = await SqlStore.open(settings.database_url)
    now = datetime.now(AMSTERDAM)
    async with store.transaction() as tx:
        community = await tx.create_community("Buurt", "nl", "Europe/Amsterdam", {})
        anna = await tx.create_member("Anna", None, now)
        await tx.add_identity(anna.id, "console", "anna", None, now)
        await tx.join(anna.id, community.id, Role.ORGANISER, now)
        await tx.update_community_settings(community.id, {"quiet_hours": "off"})
        work_id = await tx.schedule_work(
            NewWork(
                WorkKind.DIGEST_NOTICE, community.id, now - timedelta(hours=3), member_id=anna.id
            ),
            now,
        )

    async def done() -> dict[str, Any]:
        while True:
            async with store.engine.connect() as conn:
                row = (await conn.execute(select(due_t).where(due_t.c.id == work_id))).one()
            if row.done_at is not None:
                return dict(row._mapping)
            await asyncio.sleep(0.05)

    stop = asyncio.Event()
    service = asyncio.create_task(serve(settings, stop))
    try:
        row = await asyncio.wait_for(done(), timeout=30)
    finally:
        stop.set()
        await asyncio.wait_for(service, timeout=30)
        await store.close()
    assert row["outcome"] == Outcome.SENT


def test_catalogs_carry_every_scheduler_key() -> None:
    catalog = Catalog.load()
    ours = (
        "followup",
        "reminder",
        "escalation",
        "referral",
        "digest",
        "quiet",
        "backing",
        "bundle",
    )
    keys = {k for k in catalog.keys("nl") if k.split(".")[0] in ours}
    assert len(keys) > 50
    assert keys <= catalog.keys("en")
