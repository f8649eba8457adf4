"""Circles through the console: starting, inviting, joining, leaving, privacy, partners,
and a circle member's request going to the circle first."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from adapters.console import GROUP_ID
from bot.circle_records import InviteStatus
from bot.model import RequestStatus
from bot.types import ButtonPress, ChatKind, ChatRef, MemberLeft, Sender
from bot.work import WorkKind
from storage.rows import outbox_t
from tests.conftest import Transcript, make_transcript

NOT_FOR_YOU = "Deze knop is niet voor jou bedoeld. Er is niets veranderd."
EVENING = datetime(2026, 11, 23, 20, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))
ORGANISERS_ONLY = "Dat kunnen alleen de organisatoren van de buurt doen."


async def set_community(chat: Transcript, **changes: object) -> None:
    async with chat.runtime.store.transaction() as tx:
        community = (await tx.communities())[0]
        await tx.update_community_settings(community.id, dict(changes))


async def member_id(chat: Transcript, name: str) -> int:
    async with chat.runtime.store.transaction() as tx:
        identity = await tx.identity("console", name)
    assert identity is not None
    return identity.member_id


async def members_of_circle(chat: Transcript, circle_id: int = 1) -> list[str]:
    async with chat.runtime.store.transaction() as tx:
        members = await tx.circle_members(circle_id)
        return [(await tx.member(m.member_id)).display_name for m in members]


async def send(chat: Transcript, press: ButtonPress) -> list[str]:
    start = len(chat.lines)
    await chat.runtime.bot.handle(press)
    await chat.session.sender.drain()
    return chat.lines[start:]


async def kerklaan(chat: Transcript, *joiners: str) -> None:
    """Els starts circle Kerklaan; each joiner is invited and joins, skipping the questions."""
    await chat.say("els (dm): /cirkel nieuw Kerklaan")
    for name in joiners:
        await chat.say(
            f"{name} (dm): /start",
            f"els (dm): /cirkel uitnodigen @{name}",
            f"{name} (dm): [Meedoen]",
            f"{name} (dm): [Overslaan]",
            f"{name} (dm): [Overslaan]",
        )


# --- starting, inviting, joining -------------------------------------------------------------
async def test_a_circle_is_started_joined_and_shown_to_its_members(chat: Transcript) -> None:
    await chat.say("els (dm): /cirkel nieuw Kerklaan", "kees (dm): /start")
    assert chat.to("els")[-1].startswith("Je cirkel Kerklaan is begonnen.")
    await chat.say("els (dm): /cirkel uitnodigen @kees")
    assert chat.to("els")[-1] == "Ik heb Kees uitgenodigd. Je hoort het als Kees meedoet."
    invite = chat.to("kees")[-1]
    assert invite.startswith("Els nodigt je uit voor cirkel Kerklaan.")
    assert invite.endswith("[Meedoen] [Nee, dank je]")
    await chat.say("kees (dm): [Meedoen]")
    assert chat.to("els")[-1] == "Kees doet nu mee met cirkel Kerklaan."
    assert chat.to("kees")[-1].startswith("Welkom in cirkel Kerklaan!")
    await chat.say("kees (dm): klusjes en boodschappen", "kees (dm): een lift")
    assert chat.to("kees")[-1].startswith("Dank je wel! Typ /cirkel")
    await chat.say("els (dm): /cirkel")
    shown = chat.to("els")[-1]
    assert shown.startswith("Cirkel Kerklaan (2 van de 15, open voor nieuwe buren)")
    assert "• Els (contactpersoon)" in shown
    assert "• Kees; doet graag: klusjes en boodschappen; kan misschien gebruiken: een lift" in shown
    assert await members_of_circle(chat) == ["Els", "Kees"]


async def test_typed_their_own_way(chat: Transcript) -> None:
    await chat.say("els (dm): /circle   NEW   Kerklaan ", "kees (dm): /start", "piet (dm): /start")
    assert chat.to("els")[-1].startswith("Je cirkel Kerklaan is begonnen.")
    await chat.say("els (dm): /cirkel nodig @kees uit")
    assert chat.to("kees")[-1].startswith("Els nodigt je uit voor cirkel Kerklaan.")
    await chat.say("els (dm): /Cirkel uitnodigen Piet")  # a name without @
    assert chat.to("piet")[-1].startswith("Els nodigt je uit")
    await chat.say("kees (dm): [Meedoen]", "kees (dm): /cirkel graag: soep koken")
    assert chat.to("kees")[-1] == "Bewaard. Alleen je cirkel ziet het."
    await chat.say("jo (dm): /cirkel meedoen kerklaan")
    assert chat.to("jo")[-1].startswith("Ik heb de contactpersoon van cirkel Kerklaan gevraagd")
    await chat.say("els (dm): /cirkel kerklaan")  # its name: her own circle
    assert "• Kees; doet graag: soep koken" in chat.to("els")[-1]
    assert "Jo (wil meedoen)" in chat.to("els")[-1]
    await chat.say("anna (dm): /cirkel wat is dit")
    assert chat.to("anna")[-1].startswith("Ik begrijp 'wat is dit' niet na /cirkel.")


async def test_english(chat: Transcript) -> None:
    await chat.say("els (dm): /taal en", "els (dm): /circle")
    assert chat.to("els")[-1].startswith("You are not in a circle yet.")
    assert chat.to("els")[-1].endswith("[Start a circle] [Circles nearby]")
    await chat.say("els (dm): [Start a circle]", "els (dm): Kerklaan")
    assert chat.to("els")[-1].startswith("Your circle Kerklaan has started.")


async def test_asking_to_join_from_the_list_the_contact_person_decides(chat: Transcript) -> None:
    await kerklaan(chat, "kees")
    await chat.say("piet (dm): /cirkel")
    assert chat.to("piet")[-1].startswith("Je zit nog niet in een cirkel.")
    await chat.say("piet (dm): [Cirkels in de buurt]")
    listed = chat.to("piet")[-1]
    assert "1. Kerklaan: 2 van de 15 buren, open" in listed
    assert "Els" not in listed and "Kees" not in listed  # names are for the circle only
    await chat.say("piet (dm): [Vraag om mee te doen: Kerklaan]")
    assert chat.to("els")[-1].startswith("Piet wil graag meedoen met cirkel Kerklaan.")
    assert not chat.to("kees")[-1].startswith("Piet wil")  # Kees is no contact person
    # pressing twice: one request is enough
    said = await chat.say("piet (dm): /cirkel meedoen Kerklaan")
    assert said[-1].endswith("De contactpersoon beslist nog.")
    await chat.say("els (dm): [Liever niet]")
    assert chat.to("piet")[-1].startswith("Cirkel Kerklaan heeft nu geen plek voor je.")
    assert await members_of_circle(chat) == ["Els", "Kees"]
    # asking again later, and being welcomed
    await chat.say("piet (dm): /cirkel meedoen 1", "els (dm): [Welkom]")
    assert chat.to("piet")[-1].startswith("Welkom in cirkel Kerklaan!")
    assert await members_of_circle(chat) == ["Els", "Kees", "Piet"]


async def test_a_closed_circle_is_not_asked_to_join(chat: Transcript) -> None:
    await kerklaan(chat, "kees")
    await chat.say("kees (dm): /cirkel dicht")
    assert chat.to("kees")[-1] == "Dat kan alleen de contactpersoon van je cirkel."
    await chat.say("els (dm): /cirkel contact @kees", "kees (dm): /cirkel dicht")
    assert chat.to("kees")[-1] == "Cirkel Kerklaan is nu alleen op uitnodiging."
    await chat.say("piet (dm): /cirkel lijst")
    assert "alleen op uitnodiging" in chat.to("piet")[-1]
    assert "[Vraag om mee te doen" not in chat.to("piet")[-1]
    await chat.say("piet (dm): /cirkel meedoen Kerklaan")
    assert chat.to("piet")[-1] == "Cirkel Kerklaan neemt alleen buren op die uitgenodigd zijn."


# --- bad input ------------------------------------------------------------------------------
async def test_bad_input_gets_a_clear_answer(chat: Transcript) -> None:
    await chat.say("els (dm): /cirkel uitnodigen @kees")
    assert chat.to("els")[-1].startswith("Je zit nog niet in een cirkel.")
    await chat.say("els (dm): /cirkel nieuw Kerklaan", "kees (dm): /start")
    cases = {
        "/cirkel uitnodigen @niemand": "Ik vind niemand in de buurt die '@niemand' heet.",
        "/cirkel uitnodigen": "Wie wil je uitnodigen?",
        "/cirkel uitnodigen @els": "Jij zit zelf al in je cirkel.",
        "/cirkel nieuw Dorpsstraat": "Je zit al in cirkel Kerklaan.",
        "/cirkel nieuw " + "x" * 41: "Die naam is wat lang.",
        "/cirkel graag": "Wat doe je graag?",
        "/cirkel graag " + "x" * 201: "Dat is wat lang.",
        "/cirkel meedoen Nergens": "Ik ken geen cirkel 'Nergens'.",
    }
    for typed, answer in cases.items():
        await chat.say(f"els (dm): {typed}")
        assert chat.to("els")[-1].startswith(answer), typed
    await chat.say("els (dm): /cirkel uitnodigen @kees", "els (dm): /cirkel uitnodigen @kees")
    assert chat.to("els")[-1] == "Je hebt Kees al uitgenodigd. We wachten nog op een antwoord."
    await chat.say("kees (dm): [Meedoen]", "kees (dm): [Overslaan]")
    await chat.say("els (dm): /cirkel uitnodigen @kees")
    assert chat.to("els")[-1] == "Kees zit al in je cirkel."
    await chat.say("piet (dm): /cirkel nieuw kerklaan")
    assert chat.to("piet")[-1].startswith("Er is al een cirkel die kerklaan heet.")
    await chat.say("piet (dm): /cirkel nieuw Dorpsstraat", "els (dm): /cirkel uitnodigen @piet")
    assert chat.to("els")[-1].startswith("Piet zit al in een andere cirkel.")


async def test_a_full_circle_takes_nobody_more(chat: Transcript) -> None:
    await chat.say("els (dm): /start")
    await set_community(chat, circle_size=2)
    await chat.say(
        "kees (dm): /start",
        "piet (dm): /start",
        "els (dm): /cirkel nieuw Kerklaan",
        "els (dm): /cirkel uitnodigen @kees",
        "els (dm): /cirkel uitnodigen @piet",
    )
    await chat.say("kees (dm): [Meedoen]")
    await chat.say("piet (dm): [Meedoen]")  # invited before it was full
    assert chat.to("piet")[-1] == "Cirkel Kerklaan is vol: er zitten al 2 buren in."
    await chat.say("els (dm): /cirkel uitnodigen @jo")
    await chat.say("jo (dm): /start", "els (dm): /cirkel uitnodigen @jo")
    assert chat.to("els")[-1] == "Cirkel Kerklaan is vol: er zitten al 2 buren in."
    await chat.say("jo (dm): /cirkel lijst")
    assert "[Vraag om mee te doen" not in chat.to("jo")[-1]
    await chat.say("jo (dm): /cirkel meedoen Kerklaan")
    assert chat.to("jo")[-1] == "Cirkel Kerklaan is vol: er zitten al 2 buren in."
    assert await members_of_circle(chat) == ["Els", "Kees"]


async def test_an_invite_pressed_by_someone_else_changes_nothing(chat: Transcript) -> None:
    await chat.say("els (dm): /cirkel nieuw Kerklaan", "kees (dm): /start", "piet (dm): /start")
    await chat.say("els (dm): /cirkel uitnodigen @kees")
    kees_press = chat.press("kees", "Meedoen", "kees-joins")
    piet = Sender("console", "piet", "Piet", handle="@piet")
    forged = ButtonPress(
        "forged",
        ChatRef("console", "piet", ChatKind.PRIVATE),
        piet,
        "cinv:yes:1",
        kees_press.message_ref,
    )
    said = await send(chat, forged)
    assert said == [f"buurtbot -> piet (dm): {NOT_FOR_YOU}"]
    said = await send(chat, replace(kees_press, event_id="in-his-chat", sender=piet))
    assert said == []
    assert await members_of_circle(chat) == ["Els"]
    await send(chat, kees_press)  # Kees himself still can
    assert await members_of_circle(chat) == ["Els", "Kees"]
    # and pressing it again afterwards does nothing more
    said = await send(chat, replace(kees_press, event_id="again"))
    assert "Kees doet nu mee" not in "\n".join(said)


async def test_only_a_contact_person_decides_on_asking_to_join(chat: Transcript) -> None:
    await kerklaan(chat, "kees")
    await chat.say("piet (dm): /cirkel meedoen Kerklaan")
    els_press = chat.press("els", "Welkom", "els-welcomes")
    kees = Sender("console", "kees", "Kees", handle="@kees")
    forged = ButtonPress(
        "forged",
        ChatRef("console", "kees", ChatKind.PRIVATE),
        kees,
        "cask:yes:2",
        els_press.message_ref,
    )
    said = await send(chat, forged)
    assert said == [f"buurtbot -> kees (dm): {NOT_FOR_YOU}"]
    assert await members_of_circle(chat) == ["Els", "Kees"]
    await send(chat, els_press)
    assert await members_of_circle(chat) == ["Els", "Kees", "Piet"]


async def test_deciding_on_an_ask_that_no_longer_stands_says_what_happened(
    chat: Transcript,
) -> None:
    await kerklaan(chat, "kees")
    refuse, welcome = {}, {}
    for name in ("piet", "anna", "jan"):
        await chat.say(f"{name} (dm): /start", f"{name} (dm): /cirkel meedoen Kerklaan")
        refuse[name] = chat.press("els", "Liever niet", f"els-refuses-{name}")
        welcome[name] = chat.press("els", "Welkom", f"els-welcomes-{name}")
    # Piet starts a circle of his own
    await chat.say("piet (dm): /cirkel nieuw Dorpsstraat")
    # Anna leaves the neighbourhood's group, Jan asks to be forgotten
    group = ChatRef("console", GROUP_ID, ChatKind.GROUP, "Buurt")
    await chat.runtime.bot.handle(
        MemberLeft("anna-leaves", group, Sender("console", "anna", "Anna"))
    )
    await chat.say("jan (dm): /vergeetmij", "jan (dm): [Ja, wis alles]")
    heard = {name: len(chat.to(name)) for name in ("piet", "anna")}
    said = await send(chat, refuse["piet"])
    assert said == [
        "buurtbot -> els (dm): Piet zit intussen in een andere cirkel. "
        "Er hoeft niets meer beslist te worden."
    ]
    said = await send(chat, refuse["anna"])
    assert said == [
        "buurtbot -> els (dm): Anna doet niet meer mee in de buurt. "
        "Daarom kan Anna niet meer bij cirkel Kerklaan."
    ]
    # the message about Jan was made neutral when he was forgotten, its buttons with it
    said = await send(chat, refuse["jan"])
    assert said == [
        "buurtbot -> els (dm): Deze knop werkt niet meer. Er is niets veranderd. "
        "Typ /mijn om te zien wat er open staat."
    ]
    assert await members_of_circle(chat) == ["Els", "Kees"]
    # welcoming instead says the same, and lets nobody in
    said = await send(chat, welcome["anna"])
    assert said[0].endswith("Daarom kan Anna niet meer bij cirkel Kerklaan.")
    assert await members_of_circle(chat) == ["Els", "Kees"]
    assert {name: len(chat.to(name)) for name in heard} == heard  # neither is told anything
    async with chat.runtime.store.transaction() as tx:
        asks = await tx.circle_invites(circle_id=1, statuses=list(InviteStatus))
    assert {i.status for i in asks} == {InviteStatus.ACCEPTED, InviteStatus.WITHDRAWN}


async def test_an_ask_to_a_circle_that_is_gone_says_so(chat: Transcript) -> None:
    await kerklaan(chat)
    await chat.say("piet (dm): /start", "piet (dm): /cirkel meedoen Kerklaan")
    refuse = chat.press("els", "Liever niet", "els-refuses")
    await chat.say("els (dm): /cirkel verlaten")  # the last one out: the circle is gone
    said = await send(chat, refuse)
    assert said == [
        "buurtbot -> els (dm): Dit verzoek om mee te doen is er niet meer. "
        "Er hoeft niets meer beslist te worden."
    ]


async def test_declining_an_invitation(chat: Transcript) -> None:
    await chat.say("els (dm): /cirkel nieuw Kerklaan", "kees (dm): /start")
    await chat.say("els (dm): /cirkel uitnodigen @kees", "kees (dm): [Nee, dank je]")
    assert chat.to("kees")[-1].startswith("Dat is goed.")
    assert chat.to("els")[-1] == "Kees doet niet mee met cirkel Kerklaan. Dat is helemaal goed."
    async with chat.runtime.store.transaction() as tx:
        [invite] = await tx.circle_invites(circle_id=1, statuses=list(InviteStatus))
    assert invite.status is InviteStatus.DECLINED
    # inviting again later is fine
    await chat.say("els (dm): /cirkel uitnodigen @kees")
    assert chat.to("kees")[-1].startswith("Els nodigt je uit")


# --- leaving and contact persons ------------------------------------------------------------
async def test_leaving_at_any_time(chat: Transcript) -> None:
    await kerklaan(chat, "kees", "piet")
    await chat.say("kees (dm): /cirkel verlaten")
    assert chat.to("kees")[-1].startswith("Je bent uit cirkel Kerklaan.")
    assert chat.to("els")[-1] == "Kees is uit cirkel Kerklaan gegaan."
    assert chat.to("piet")[-1] == "Kees is uit cirkel Kerklaan gegaan."
    # the only contact person leaves: the longest-standing member becomes one
    await chat.say("els (dm): /cirkel verlaten")
    assert chat.to("piet")[-2] == (
        "Je bent nu contactpersoon van cirkel Kerklaan. Je beslist mee als buren willen meedoen."
    )
    await chat.say("kees (dm): /cirkel kerklaan")
    assert chat.to("kees")[-1] == "Alleen de leden van een cirkel zien wie erin zit."
    await chat.say("piet (dm): /cirkel verlaten")
    async with chat.runtime.store.transaction() as tx:
        assert await tx.circles((await tx.communities())[0].id) == []
    await chat.say("piet (dm): /cirkel verlaten")
    assert chat.to("piet")[-1].startswith("Je zit nog niet in een cirkel.")


async def test_contact_persons(chat: Transcript) -> None:
    await kerklaan(chat, "kees")
    await chat.say("els (dm): /cirkel contact @els")
    assert chat.to("els")[-1].startswith("Je cirkel heeft minstens één contactpersoon nodig.")
    await chat.say("els (dm): /cirkel contact @kees")
    assert chat.to("kees")[-1].startswith("Je bent nu contactpersoon van cirkel Kerklaan.")
    await chat.say("els (dm): /cirkel contact @els")
    assert chat.to("els")[-1] == "Els is geen contactpersoon meer."
    await chat.say("els (dm): /cirkel contact @kees")
    assert chat.to("els")[-1] == "Dat kan alleen de contactpersoon van je cirkel."
    await chat.say("piet (dm): /start", "kees (dm): /cirkel contact @piet")
    assert chat.to("kees")[-1] == "Piet zit niet in je cirkel."


# --- privacy --------------------------------------------------------------------------------
async def test_a_non_member_and_an_organiser_see_nothing_of_a_circle(chat: Transcript) -> None:
    await chat.say("@organiser lies")
    await kerklaan(chat, "kees")
    await chat.say("kees (dm): /cirkel graag soep koken", "piet (dm): /cirkel Kerklaan")
    assert chat.to("piet")[-1] == "Alleen de leden van een cirkel zien wie erin zit."
    await chat.say("piet (dm): /cirkel 1")
    assert chat.to("piet")[-1] == "Alleen de leden van een cirkel zien wie erin zit."
    await chat.say("lies (dm): /cirkel 1")
    assert chat.to("lies")[-1] == "Alleen de leden van een cirkel zien wie erin zit."
    await chat.say("lies (dm): /cirkel cijfers")
    figures = chat.to("lies")[-1]
    assert figures.startswith("Cirkels in de buurt: 1, met samen 2 buren en 0 partners.")
    assert "1. Kerklaan: 2 buren, 0 partner(s)" in figures
    for secret in ("Els", "Kees", "soep"):
        assert secret not in figures
    await chat.say("piet (dm): /cirkel cijfers")
    assert chat.to("piet")[-1] == ORGANISERS_ONLY


async def test_my_data_shows_my_circle(chat: Transcript) -> None:
    await kerklaan(chat, "kees")
    await chat.say("kees (dm): /cirkel nodig een lift naar de dokter", "kees (dm): /mijngegevens")
    async with chat.runtime.store.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox_t.c.attachment).where(outbox_t.c.attachment_name == "mijn-gegevens.json")
        )
        [document] = [json.loads(bytes(r.attachment)) for r in rows]
    [circle] = document["circles"]
    assert (circle["might_need"], circle["role"]) == ("een lift naar de dokter", "member")
    [invite] = document["circle_invites"]
    assert invite["status"] == "accepted"


# --- partners --------------------------------------------------------------------------------
async def test_an_organiser_links_a_partner_used_for_backing(chat: Transcript) -> None:
    await chat.say("@organiser lies")
    await kerklaan(chat, "kees")
    await chat.say("kees (dm): /cirkel partner 1 Welzijn, 071")
    assert chat.to("kees")[-1] == ORGANISERS_ONLY
    await chat.say("lies (dm): /cirkel partner Kerklaan Welzijn")
    assert chat.to("lies")[-1].startswith("Schrijf het nummer van de cirkel en de partner")
    await chat.say("lies (dm): /cirkel partner 9 Welzijn")
    assert chat.to("lies")[-1].startswith("Die cirkel is er niet (meer).")
    await chat.say("lies (dm): /cirkel partner 1 Welzijn Oegstgeest, 071 123 4567")
    assert chat.to("lies")[-1].startswith("Welzijn Oegstgeest is nu partner van cirkel Kerklaan.")
    assert chat.to("kees")[-1].startswith("Cirkel Kerklaan heeft nu een partner: Welzijn")
    await chat.say("els (dm): /cirkel")
    assert "Partner voor rugdekking: Welzijn Oegstgeest" in chat.to("els")[-1]
    assert "071" not in chat.to("els")[-1]
    # Kees asks; nobody helps; Lies refers it and Kees agrees: the circle's partner is named
    await chat.say(
        "kees (dm): /vraag klusje morgen lamp ophangen",
        "kees (dm): [Alleen helpers die gevraagd worden]",
    )
    await chat.say("@wait 1d")
    await chat.say("lies (dm): [Doorverwijzen]", "kees (dm): [Ja, dat mag]")
    told = chat.to("lies")[-1]
    assert "Welzijn Oegstgeest 071 123 4567" in told
    await chat.say("lies (dm): /cirkel partner 1 weg")
    assert chat.to("lies")[-1] == "Cirkel Kerklaan heeft geen partner meer."


# --- the circle first -------------------------------------------------------------------------
async def neighbours_offering(chat: Transcript) -> None:
    """Els, Kees and Piet in circle Kerklaan; Kees, Piet and Anna offer shopping."""
    await kerklaan(chat, "kees", "piet")
    for name in ("kees", "piet", "anna"):
        await chat.say(f"{name} (dm): /aanbod boodschappen elke dag")


async def test_a_circle_members_request_goes_to_the_circle_first(chat: Transcript) -> None:
    await neighbours_offering(chat)
    await chat.say(
        "els (dm): /vraag boodschappen morgen 14:00 melk en brood",
        "els (dm): [In de groep, met mijn naam]",
    )
    assert chat.to("kees")[-1].startswith("Kun jij helpen?")
    assert chat.to("piet")[-1].startswith("Kun jij helpen?")
    assert not chat.to("anna")[-1].startswith("Kun jij helpen?")
    assert chat.to("els")[-1].startswith("Ik vraag het eerst aan buren uit je cirkel Kerklaan.")
    await chat.say("@wait 1h")
    assert not chat.to("anna")[-1].startswith("Kun jij helpen?")
    await chat.say("@wait 1h")  # the circle's window is over: the neighbourhood's turn
    assert chat.to("anna")[-1].startswith("Kun jij helpen?")
    assert chat.to("els")[-1].startswith("Nog niemand uit je cirkel kon ja zeggen op vraag 1.")
    # the ladder starts now: the group after four more hours, not before
    await chat.say("@wait 3h")
    assert chat.to("group") == []
    await chat.say("@wait 1h")
    assert chat.to("group")[-1].startswith("Els vraagt om hulp:")


async def test_the_circle_declining_opens_the_neighbourhood_at_once(chat: Transcript) -> None:
    await set_community_after_start(chat, circle_window_hours=3)
    await neighbours_offering(chat)
    await chat.say(
        "els (dm): /vraag boodschappen morgen 14:00 melk en brood",
        "els (dm): [In de groep, met mijn naam]",
        "kees (dm): [Nu niet]",
        "piet (dm): [Nu niet]",
    )
    assert not chat.to("anna")[-1].startswith("Kun jij helpen?")
    await chat.say("@wait 1m")  # the scheduler's next round, not three hours
    assert chat.to("els")[-1].startswith("Nog niemand uit je cirkel kon ja zeggen")
    assert chat.to("anna")[-1].startswith("Kun jij helpen?")
    await chat.say("anna (dm): [Ik help]")
    async with chat.runtime.store.transaction() as tx:
        request = await tx.request(1)
        work = await tx.work_about(1)
    assert request is not None and request.status is RequestStatus.MATCHED
    window = [w for w in work if w.kind is WorkKind.CIRCLE_WINDOW]
    assert [w.outcome for w in window] == ["done"]
    assert not any(w.pending for w in work if w.kind in (WorkKind.WIDEN, WorkKind.ESCALATE))


async def test_a_circle_member_who_helps_ends_the_circle_window(chat: Transcript) -> None:
    await neighbours_offering(chat)
    await chat.say(
        "els (dm): /vraag boodschappen morgen 14:00 melk en brood",
        "els (dm): [In de groep, met mijn naam]",
        "piet (dm): [Ik help]",
        "@wait 3h",
    )
    assert chat.to("els")[-1].startswith("Goed nieuws! Piet helpt je")
    assert not chat.to("anna")[-1].startswith("Kun jij helpen?")
    async with chat.runtime.store.transaction() as tx:
        work = await tx.work_about(1)
    assert [w.cancelled_at is not None for w in work if w.kind is WorkKind.CIRCLE_WINDOW] == [True]


async def test_a_reopened_request_goes_to_the_circle_first_again(chat: Transcript) -> None:
    await kerklaan(chat, "kees", "piet")
    for name in ("kees", "anna"):
        await chat.say(f"{name} (dm): /aanbod boodschappen elke dag")
    await chat.say(
        "els (dm): /vraag boodschappen morgen 14:00 melk en brood",
        "els (dm): [In de groep, met mijn naam]",
        "kees (dm): [Ik help]",
        "piet (dm): /aanbod boodschappen elke dag",  # Piet offers only now
        "@wait 31h",
        "kees (dm): [Niet gelukt]",
    )
    # Piet, in the circle and not asked yet, has the first turn; Anna not yet
    assert chat.to("piet")[-1].startswith("Kun jij helpen?")
    assert not any(line.startswith("Kun jij helpen?") for line in chat.to("anna"))
    assert chat.to("els")[-1].startswith("Ik vraag het eerst aan buren uit je cirkel Kerklaan.")
    await chat.say("@wait 1h")
    assert not any(line.startswith("Kun jij helpen?") for line in chat.to("anna"))
    await chat.say("@wait 1h")  # the same window as the first time: two hours
    assert chat.to("anna")[-1].startswith("Kun jij helpen?")
    assert chat.to("els")[-1].startswith("Nog niemand uit je cirkel kon ja zeggen op vraag 1.")


async def test_a_reopened_request_with_nobody_left_in_the_circle_goes_wide_at_once(
    chat: Transcript,
) -> None:
    await neighbours_offering(chat)
    await chat.say(
        "els (dm): /vraag boodschappen morgen 14:00 melk en brood",
        "els (dm): [In de groep, met mijn naam]",
        "piet (dm): [Nu niet]",
        "kees (dm): [Ik help]",
        "@wait 31h",
        "els (dm): [Niet gelukt]",
    )
    assert chat.to("anna")[-1].startswith("Kun jij helpen?")  # Kees and Piet were asked
    assert not chat.to("els")[-1].startswith("Ik vraag het eerst aan buren uit je cirkel")


async def test_without_a_circle_nothing_changes(chat: Transcript) -> None:
    await kerklaan(chat)  # Els alone in her circle: nobody to ask there
    for name in ("kees", "anna"):
        await chat.say(f"{name} (dm): /aanbod boodschappen elke dag")
    await chat.say(
        "els (dm): /vraag boodschappen morgen 14:00 melk en brood",
        "els (dm): [In de groep, met mijn naam]",
    )
    assert chat.to("kees")[-1].startswith("Kun jij helpen?")
    assert chat.to("anna")[-1].startswith("Kun jij helpen?")
    assert not any("cirkel" in line for line in chat.to("els")[-2:])


async def set_community_after_start(chat: Transcript, **changes: object) -> None:
    await chat.say("els (dm): /start")
    await set_community(chat, **changes)


async def test_the_circle_window_waits_for_the_morning(tmp_path: Path) -> None:
    """A request at 20:30: the circle's two hours end in the quiet hours (21:30-08:30), so
    the wider neighbourhood is asked in the morning, not at 22:30."""
    chat = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}", start=EVENING)
    try:
        await neighbours_offering(chat)
        await chat.say(
            "els (dm): /vraag boodschappen overmorgen 14:00 melk en brood",
            "els (dm): [Alleen helpers die gevraagd worden]",
            "@wait 3h",
        )
        assert not chat.to("anna")[-1].startswith("Kun jij helpen?")
        await chat.say("@wait 9h")  # 08:30
        assert chat.to("anna")[-1].startswith("Kun jij helpen?")
    finally:
        await chat.runtime.close()


async def test_the_circle_window_holds_across_a_restart(database_url: str) -> None:
    """The window is due work in the database: a restart in between neither loses it nor
    asks the neighbourhood twice."""
    chat = await make_transcript(database_url)
    try:
        await neighbours_offering(chat)
        await chat.say(
            "els (dm): /vraag boodschappen morgen 14:00 melk en brood",
            "els (dm): [In de groep, met mijn naam]",
            "@wait 1h",
        )
        assert not any(line.startswith("Kun jij helpen?") for line in chat.to("anna"))
    finally:
        await chat.runtime.close()
    later = chat.clock.now()
    chat = await make_transcript(database_url, start=later)
    try:
        await chat.say("@wait 1h", "@wait 1h")
        assert [line for line in chat.to("anna") if line.startswith("Kun jij helpen?")] != []
        async with chat.runtime.store.transaction() as tx:
            work = await tx.work_about(1)
            proposals = await tx.proposals(1)
        assert [w.outcome for w in work if w.kind is WorkKind.CIRCLE_WINDOW] == ["done"]
        anna = await member_id(chat, "anna")
        assert [p.helper_id for p in proposals].count(anna) == 1
        assert sum(w.kind is WorkKind.WIDEN and w.pending for w in work) == 1
    finally:
        await chat.runtime.close()


async def test_joining_in_the_middle_of_a_request_keeps_the_request(chat: Transcript) -> None:
    await chat.say("els (dm): /cirkel nieuw Kerklaan", "kees (dm): /vraag boodschappen")
    asked = chat.to("kees")[-1]
    await chat.say("els (dm): /cirkel uitnodigen @kees", "kees (dm): [Meedoen]")
    assert chat.to("kees")[-1].startswith("Welkom in cirkel Kerklaan! Vertel je cirkel")
    kees = await member_id(chat, "kees")
    async with chat.runtime.store.transaction() as tx:
        draft = await tx.draft(kees)
    assert draft is not None and draft.kind != "circle"
    assert asked.startswith("Wanneer heb je de hulp nodig?")
    await chat.say("kees (dm): [Morgen]")  # the request goes on where it was
    assert not chat.to("kees")[-1].startswith("Welkom")


async def test_an_organiser_sets_the_size_of_circles(chat: Transcript) -> None:
    await chat.say("@organiser lies", "lies (dm): /instellingen cirkel_grootte 2")
    await kerklaan(chat, "kees")
    await chat.say("piet (dm): /cirkel meedoen Kerklaan")
    assert chat.to("piet")[-1] == "Cirkel Kerklaan is vol: er zitten al 2 buren in."
    await chat.say("lies (dm): /instellingen cirkel_grootte 1")
    assert "2" in chat.to("lies")[-1] and "50" in chat.to("lies")[-1]
