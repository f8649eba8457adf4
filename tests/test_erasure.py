"""Exact erasure, retention, and the rights of blocked members and of those who report.

A busy neighbourhood is built through the console: An, Anna and Jo (names inside each
other and inside ordinary words), requests, offers, matches, a table An hosts with guests,
a seat with a diet, reports, an export, /mijngegevens. One member is forgotten; then every
column of every table is searched for any trace of her, and every row of everyone else is
compared with how it was before.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from adapters.matrix import private_member_key, private_room_key
from bot.types import ButtonPress, ChatKind, ChatRef, Delivery, Message, Sender
from storage.sql import SqlStore
from tests.conftest import Transcript, make_transcript

# Columns that name a member by id.
MEMBER_COLUMNS = (
    "member_id",
    "requester_id",
    "helper_id",
    "host_id",
    "reporter_id",
    "actor_id",
    "voucher_id",
    "organiser_id",
    "contact_id",
    "inviter_id",
    "buddy_id",
    "looker_id",
)

NEIGHBOURHOOD = (
    "@organiser lies",
    "anna (dm): /taal en",
    "kees (dm): /aanbod boodschappen klusje elke dag",
    "anna (dm): /aanbod boodschappen elke dag",
    "an (dm): /aanbod vervoer elke dag",
    "jo (dm): /aanbod klusje elke dag",
    # Piet's request, with "jo" inside a word: Jo helps
    "piet (dm): /vraag klusje morgen fiets naar jongerencentrum brengen",
    "piet (dm): [Alleen helpers die gevraagd worden]",
    "jo (dm): [Ik help]",
    # An's request goes privately to Kees and Anna; Kees helps and advances money
    "an (dm): /vraag boodschappen morgen insulinepen ophalen bij apotheek Zuid",
    "an (dm): [Ja, ik betaal het terug]",
    "an (dm): [Alleen helpers die gevraagd worden]",
    "kees (dm): [Ik help]",
    "kees (dm): /voorgeschoten 7,50",
    # Jo's request: An helps
    "jo (dm): /vraag vervoer morgen 10:00 naar de huisarts",
    "jo (dm): [In de groep, met mijn naam]",
    "an (dm): [Ik help]",
    # An hosts a table; Anna (English) and Piet take a seat
    "an (dm): /tafel do 18:00 Kerkstraat 12, 6 plaatsen, € 3, stamppot, vegetarisch",
    "anna: [Schuif aan]",
    "anna (dm): lactose free",
    "piet: [Schuif aan]",
    "piet (dm): [Ik eet alles]",
    # Kees hosts a table; An takes a seat and says what she cannot eat
    "kees (dm): /tafel vr 18:00 Wijkpaleis, 8 plaatsen, vrije gift, soep, halal",
    "an: [Schuif aan]",
    "an (dm): pinda-allergie en diabetes",
    "jo: [Schuif aan]",
    "jo (dm): geen vis",
    "kees (dm): /gasten",
    # Kees's circle invites An, but An starts a circle of her own: Jo joins and says what
    # she likes and might need; Anna asks to join and An, its contact person, welcomes
    # her; Piet is invited and has not answered. An organiser links a partner to it.
    "kees (dm): /cirkel nieuw Dorpsstraat",
    "kees (dm): /cirkel uitnodigen @an",
    "an (dm): /cirkel nieuw Molenhof",
    "an (dm): /cirkel uitnodigen @jo",
    "jo (dm): [Meedoen]",
    "jo (dm): breien voor de buren",
    "jo (dm): hulp bij de tuin",
    "an (dm): /cirkel graag appeltaart bakken",
    "an (dm): /cirkel uitnodigen @piet",
    "anna (dm): /cirkel meedoen Molenhof",
    "an (dm): [Welkom]",
    "lies (dm): /cirkel partner 2 Welzijn Zuid, 010 555 1234",
    # Omkijken in Molenhof: An, Jo and Anna ask to be asked how they are at ten; An plans
    # coffee and Jo and Anna come. At ten An answers in her own words; Jo and Anna say
    # nothing, so at twelve their buddies are asked: Anna goes to Jo, An goes to Anna.
    "an (dm): /omkijken dagelijks 10:00",
    "an (dm): [Ja, zo is het goed]",
    "jo (dm): /omkijken dagelijks 10:00",
    "jo (dm): [Ja, zo is het goed]",
    "anna (dm): /checkin daily 10:00",
    "anna (dm): [Yes, that's fine]",
    "an (dm): /cirkel afspraak za 10:00 koffie in de tuin",
    "jo (dm): [Ik kom]",
    "anna (dm): [I'll come]",
    "@wait 1h",
    "an (dm): ja hoor alles goed",
    "@wait 2h",
    "anna (dm): [I'll go and look]",
    "an (dm): [Ik ga even kijken]",
    "an (dm): /omkijken",
    # reports by and about them
    "an (dm): /meld @jo kwam niet opdagen",
    "piet (dm): /meld @an doet raar",
    "jo (dm): /meld @piet zomaar een melding",
    # the organiser's tools, and everyone's own data
    "lies (dm): /export",
    "lies (dm): /overzicht",
    "an (dm): /stil 22:00-08:00",
    "an: /start",
    "an (dm): /mijngegevens",
    "anna (dm): /mijngegevens",
    "jo (dm): /mijngegevens",
)


@dataclass(frozen=True)
class Victim:
    name: str  # as typed in the console: also her user id there
    display: str
    texts: tuple[str, ...]  # what she wrote, or others wrote about her

    def patterns(self) -> list[re.Pattern[str]]:
        found = [
            re.compile(rf"(?<!\w){re.escape(self.display)}(?!\w)"),
            re.compile(rf"@{re.escape(self.name)}(?!\w)"),
        ]
        return found + [re.compile(re.escape(text)) for text in self.texts]


AN = Victim(
    "an",
    "An",
    (
        "insulinepen",
        "apotheek Zuid",
        "Kerkstraat 12",
        "stamppot",
        "pinda-allergie",
        "kwam niet opdagen",
        "doet raar",
        "22:00-08:00",
        "appeltaart bakken",
    ),
)
JO = Victim(
    "jo",
    "Jo",
    (
        "naar de huisarts",
        "geen vis",
        "kwam niet opdagen",
        "zomaar een melding",
        "breien voor de buren",
        "hulp bij de tuin",
    ),
)


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def has_trace(value: Any, victim: Victim) -> bool:
    """Whether a stored value shows the victim: her name, handle, user id or texts."""
    if value is None or isinstance(value, bool | int | float):
        return False
    if isinstance(value, bytes | memoryview):
        value = bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        if any(leaf == victim.name for leaf in leaves(value)):
            return True
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    if text == victim.name:  # a user id or chat id of hers
        return True
    return any(p.search(text) for p in victim.patterns())


Snapshot = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


async def snapshot(chat: Transcript) -> Snapshot:
    """Every row of every table, by primary key (a row's own values when it has none)."""
    found: Snapshot = {}
    async with chat.runtime.store.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            keys = [c.name for c in table.primary_key.columns]
            rows: dict[tuple[Any, ...], dict[str, Any]] = {}
            for row in await conn.execute(select(table)):
                values = dict(row._mapping)
                for name, value in values.items():
                    if isinstance(value, memoryview):
                        values[name] = bytes(value)
                rows[tuple(values[k] for k in keys)] = values
            found[table.name] = rows
    return found


def member_id_of(state: Snapshot, victim: Victim) -> int:
    ids = [row["member_id"] for row in state["identity"].values() if row["user_id"] == victim.name]
    assert len(ids) == 1
    return int(ids[0])


def allowed_to_change(state: Snapshot, victim_id: int) -> dict[str, set[tuple[Any, ...]]]:
    """Rows of others that may change when she goes, known from the state before: her
    requests and those she helped with, the tables she hosts or sits at, and their work."""
    requests = {
        row["id"]
        for row in state["help_request"].values()
        if victim_id in (row["requester_id"], row["helper_id"])
    }
    tables = {row["id"] for row in state["meal_table"].values() if row["host_id"] == victim_id}
    tables |= {row["table_id"] for row in state["seat"].values() if row["member_id"] == victim_id}
    hosted = {row["id"] for row in state["meal_table"].values() if row["host_id"] == victim_id}
    # her circles: another member may become its contact person
    circles = {
        r["circle_id"] for r in state["circle_member"].values() if r["member_id"] == victim_id
    }
    # her check-ins and the work of them; her circle's week: whom she looked after gets
    # the one who looked after her
    checkins = {r["id"] for r in state["checkin"].values() if r["member_id"] == victim_id}
    omkijken_work = {
        k
        for k, r in state["due_work"].items()
        if (r["kind"] == "checkin" and r["subject_id"] == victim_id)
        or (r["kind"].startswith("checkin_") and r["subject_id"] in checkins)
    }
    return {
        "rota": {k for k, r in state["rota"].items() if r["circle_id"] in circles},
        "checkin_ask": {k for k, r in state["checkin_ask"].items() if r["checkin_id"] in checkins},
        "circle_member": {
            k for k, r in state["circle_member"].items() if r["circle_id"] in circles
        },
        "help_request": {(i,) for i in requests},
        "proposal": {k for k, r in state["proposal"].items() if r["request_id"] in requests},
        "seat": {k for k, r in state["seat"].items() if r["table_id"] in hosted},
        "due_work": {
            k
            for k, r in state["due_work"].items()
            if r["subject_id"] in requests | tables
            and not r["kind"].startswith(("checkin", "rota", "gathering"))
        }
        | omkijken_work,
    }


def refers_to(row: dict[str, Any], victim_id: int, table: str) -> bool:
    if table == "member" and row["id"] == victim_id:
        return True
    return any(row.get(column) == victim_id for column in MEMBER_COLUMNS)


async def erase(chat: Transcript, victim: Victim) -> None:
    await chat.say(f"{victim.name} (dm): /vergeetmij", f"{victim.name} (dm): [Ja, wis alles]")
    assert chat.to(victim.name)[-1].startswith("Klaar. Ik heb alles over je gewist.")


async def before_and_after(database_url: str, victim: Victim) -> tuple[Snapshot, Snapshot, int]:
    """The busy neighbourhood before and after the victim is forgotten, and her id."""
    chat = await make_transcript(database_url)
    try:
        await chat.say(*NEIGHBOURHOOD)
        before = await snapshot(chat)
        await erase(chat, victim)
        return before, await snapshot(chat), member_id_of(before, victim)
    finally:
        await chat.runtime.close()


@pytest.mark.parametrize("victim", [AN, JO], ids=["An", "Jo"])
async def test_forgetting_someone_leaves_no_trace_of_her(database_url: str, victim: Victim) -> None:
    before, after, _ = await before_and_after(database_url, victim)

    def traces(state: Snapshot) -> list[str]:
        """Every column of every table, JSON and files included."""
        return [
            f"{table}.{column} = {value!r:.120}"
            for table, rows in state.items()
            for row in rows.values()
            for column, value in row.items()
            if has_trace(value, victim)
        ]

    assert len(traces(before)) > 20
    assert traces(after) == []


@pytest.mark.parametrize("victim", [AN, JO], ids=["An", "Jo"])
async def test_forgetting_someone_changes_nothing_of_anyone_else(
    database_url: str, victim: Victim
) -> None:
    before, after, victim_id = await before_and_after(database_url, victim)
    # everyone else's rows are as they were, but for what was hers or showed her
    allowed = allowed_to_change(before, victim_id)
    changed = []
    for table, rows in before.items():
        for key, old in rows.items():
            new = after[table].get(key)
            if new == old:
                continue
            if refers_to(old, victim_id, table) or key in allowed.get(table, set()):
                continue
            if any(has_trace(value, victim) for value in old.values()):
                continue
            changed.append(f"{table} {key}: {old!r:.200} -> {new!r:.200}")
    assert changed == []
    # Piet's request, with "jo" inside a word, is whole, and so is its helper's copy
    assert "fiets naar jongerencentrum brengen" in {
        r["description"] for r in after["help_request"].values()
    }
    assert any(
        "fiets naar jongerencentrum brengen" in row["text"] for row in after["outbox"].values()
    )
    # Anna's own data, with "An" inside her name, is untouched
    anna = [r for r in after["identity"].values() if r["user_id"] == "anna"]
    assert len(anna) == 1 and after["member"][(anna[0]["member_id"],)]["display_name"] == "Anna"


async def test_forgetting_a_host_calls_off_her_table_for_each_guest_in_their_language(
    database_url: str,
) -> None:
    chat = await make_transcript(database_url)
    try:
        await chat.say(*NEIGHBOURHOOD)
        before = {guest: len(chat.to(guest)) for guest in ("anna", "piet")}
        await erase(chat, AN)
        # what each guest was told since (Anna also hears she is now her circle's contact)
        told = {guest: chat.to(guest)[before[guest] :] for guest in before}
        called_off = {
            "anna": "The meal of Thursday 26 Nov at 18:00 (table 1) will not go ahead",
            "piet": "De maaltijd van donderdag 26 nov om 18:00 (tafel 1)",
        }
        for guest, start in called_off.items():
            assert [line for line in told[guest] if line.startswith(start)]
            for line in told[guest]:
                assert "An" not in re.findall(r"\w+", line)
                assert "Kerkstraat" not in line
        await chat.say("anna (dm): /aanschuiven")
        assert "Kerkstraat" not in chat.to("anna")[-1]
        # the host of the other table no longer sees her or what she cannot eat
        await chat.say("kees (dm): /gasten")
        guests = chat.to("kees")[-1]
        assert "Jo" in guests and "geen vis" in guests
        assert "pinda" not in guests and not re.search(r"(?<!\w)An(?!\w)", guests)
        # what others received about her is replaced there by a neutral line
        state = await snapshot(chat)
        taken_back = [
            row
            for row in state["outbox"].values()
            if row["edit_of"] is not None
            and "heeft gevraagd alles over zich te wissen" in row["text"]
        ]
        assert {row["chat_id"] for row in taken_back} >= {"kees", "group"}
    finally:
        await chat.runtime.close()


WORKER = "test"


async def claim(store: SqlStore, now: datetime) -> list[Delivery]:
    """The Matrix rows due now, taken as a sender takes them."""
    return await store.claim("matrix", now, 100, WORKER, now + timedelta(minutes=1))


async def test_forgetting_someone_on_matrix_drops_what_names_her_private_room(
    database_url: str,
) -> None:
    """The Matrix channel notes which room is whose (``adapters.matrix.DirectRooms``):
    her note goes, the room stays known as a private room of nobody, Anna's stays."""
    chat = await make_transcript(database_url)
    bot = chat.runtime.bot
    notes = {
        "@an:buurt.example": "!kamer-an:buurt.example",
        "@anna:buurt.example": "!kamer-anna:buurt.example",
    }
    try:
        for user_id, room_id in notes.items():
            await bot.set_cursor(private_member_key(room_id), user_id)
            await bot.set_cursor(private_room_key(user_id), room_id)
        her = ChatRef("matrix", "@an:buurt.example", ChatKind.PRIVATE)
        sender = Sender("matrix", her.chat_id, "An", handle=her.chat_id)
        await bot.handle(Message("$vraag", her, sender, "/vraag klusje morgen lamp ophangen"))
        await bot.handle(Message("$vergeet", her, sender, "/vergeetmij"))
        store = chat.runtime.store
        asked = await claim(store, chat.clock.now())
        for delivery in asked:
            ref = f"$m{delivery.outbox_id}"
            await store.mark_sent(delivery.outbox_id, ref, chat.clock.now(), WORKER)
        confirm = f"$m{asked[-1].outbox_id}"
        assert asked[-1].text.startswith("Weet je het zeker?")
        # pressed as the Matrix channel does: the first option of that message
        yes = (await bot.buttons_of("matrix", confirm))[0]
        await bot.handle(ButtonPress("$ja", her, sender, yes, confirm))
        *delivered, goodbye = await claim(store, chat.clock.now())
        for delivery in delivered:
            await store.mark_sent(delivery.outbox_id, "$sent", chat.clock.now(), WORKER)
        assert goodbye.text.startswith("Klaar. Ik heb alles over je gewist.")
        await store.mark_failed(goodbye.outbox_id, "no room", chat.clock.now(), WORKER)
        assert await bot.cursor(private_room_key("@an:buurt.example")) is None
        left = await bot.cursor(private_member_key("!kamer-an:buurt.example"))
        assert left and left != "@an:buurt.example"  # still a private room, of nobody known
        assert (
            await bot.cursor(private_room_key("@anna:buurt.example"))
            == notes["@anna:buurt.example"]
        )
        assert await bot.cursor(private_member_key("!kamer-anna:buurt.example")) == (
            "@anna:buurt.example"
        )
        state = await snapshot(chat)
        found = [
            f"{table}: {row}"
            for table, rows in state.items()
            for row in rows.values()
            if any("@an:" in str(value) or "lamp ophangen" in str(value) for value in row.values())
        ]
        assert found == []
    finally:
        await chat.runtime.close()


# --- blocked members keep their rights over their own data -------------------------------------


async def test_a_blocked_member_can_still_see_and_erase_her_data(database_url: str) -> None:
    chat = await make_transcript(database_url)
    try:
        await chat.say(
            "@organiser lies",
            "jo (dm): /vraag klusje morgen lamp ophangen",
            "jo (dm): [Alleen helpers die gevraagd worden]",
            "lies (dm): /blokkeer @jo",
            "jo (dm): /vraag klusje morgen kast",
        )
        assert chat.to("jo")[-1].startswith("Je kunt de bot op dit moment niet gebruiken.")
        await chat.say("jo (dm): /mijngegevens")
        assert chat.to("jo")[-1].startswith("Dit bewaar ik over jou, Jo:")
        await chat.say("jo (dm): /vergeetmij")
        assert chat.to("jo")[-1].startswith("Weet je het zeker?")
        await erase(chat, JO)
        state = await snapshot(chat)
        assert not any(r["user_id"] == "jo" for r in state["identity"].values())
        assert {r["description"] for r in state["help_request"].values()} == {""}
    finally:
        await chat.runtime.close()


async def test_a_blocked_member_still_cannot_take_part(database_url: str) -> None:
    chat = await make_transcript(database_url)
    try:
        await chat.say("@organiser lies", "jo (dm): /start", "lies (dm): /blokkeer @jo")
        for line in ("jo (dm): /aanbod klusje elke dag", "jo (dm): /mijn", "jo: /vraag"):
            await chat.say(line)
            assert chat.to("jo")[-1].startswith("Je kunt de bot op dit moment niet"), line
    finally:
        await chat.runtime.close()


# --- reports about an organiser ------------------------------------------------------------------


async def test_a_report_about_an_organiser_goes_to_the_other_organisers_only(
    database_url: str,
) -> None:
    chat = await make_transcript(database_url)
    try:
        await chat.say(
            "@organiser lies",
            "@organiser oma",
            "piet (dm): /meld @lies was onbeleefd",
        )
        assert chat.to("piet")[-1].startswith("Dank je wel")
        assert any("was onbeleefd" in text for text in chat.to("oma"))
        assert not any("onbeleefd" in text or "Piet" in text for text in chat.to("lies"))
        # about a request of an organiser: the same
        await chat.say(
            "lies (dm): /vraag klusje morgen lamp ophangen",
            "lies (dm): [Alleen helpers die gevraagd worden]",
            "piet (dm): /meld #1 vreemde vraag",
        )
        assert any("vreemde vraag" in text for text in chat.to("oma"))
        assert not any("vreemde vraag" in text for text in chat.to("lies"))
    finally:
        await chat.runtime.close()


async def test_a_report_about_the_only_organiser_goes_to_the_operator(
    database_url: str,
) -> None:
    chat = await make_transcript(database_url, operator_contact="console:beheer")
    try:
        await chat.say("@organiser lies", "piet (dm): /meld @lies was onbeleefd")
        assert chat.to("piet")[-1].startswith("Dank je wel")
        to_operator = chat.to("beheer")
        assert len(to_operator) == 1 and "was onbeleefd" in to_operator[0]
        assert "Piet" in to_operator[0] and "Lies" in to_operator[0]
        assert not any("onbeleefd" in text for text in chat.to("lies"))
    finally:
        await chat.runtime.close()


async def test_a_report_about_the_only_organiser_without_an_operator_says_so(
    database_url: str,
) -> None:
    chat = await make_transcript(database_url)
    try:
        await chat.say("@organiser lies", "piet (dm): /meld @lies was onbeleefd")
        assert chat.to("piet")[-1].startswith("Dank je wel. Ik kan je melding alleen aan niemand")
        assert not any("onbeleefd" in text for text in chat.to("lies"))
    finally:
        await chat.runtime.close()


# --- retention over everything personal -----------------------------------------------------------


async def test_the_nightly_job_removes_everything_personal_past_the_retention_days(
    database_url: str,
) -> None:
    chat = await make_transcript(database_url)
    try:
        await chat.say(
            *NEIGHBOURHOOD[:22],
            "piet (dm): /meld @an doet raar",
            "lies (dm): /blokkeer @jo",
            "kees (dm): /klaar",
            "piet (dm): /klaar",
        )
        await chat.say("@wait 20d")
        await chat.say(
            "anna (dm): /vraag klusje morgen schilderij ophangen",
            "anna (dm): [Only helpers who are asked]",
        )
        recent = await snapshot(chat)
        await chat.say("@wait 75d")  # the first requests are 95 days old, the last 75
        state = await snapshot(chat)
        now = chat.clock.now()
        cutoff = now - timedelta(days=90)
        old_sent = [
            r
            for r in state["outbox"].values()
            if r["status"] == "sent" and (r["sent_at"] or r["created_at"]) < cutoff
        ]
        assert old_sent == []
        assert state["report"] == {}
        assert all(r["subject"] == "" and r["actor_id"] is None for r in state["audit"].values())
        assert all(r["received_at"] >= cutoff for r in state["inbox"].values())
        closed = {
            r["id"]
            for r in state["help_request"].values()
            if r["status"] not in ("open", "matched")
        }
        assert closed and not [r for r in state["proposal"].values() if r["request_id"] in closed]
        assert state["seat"] == {}
        assert not [
            r for r in state["help_request"].values() if r["id"] in closed and r["description"]
        ]
        # what is younger than the retention days stays
        assert "schilderij ophangen" in {r["description"] for r in state["help_request"].values()}
        young = [key for key, r in recent["outbox"].items() if "schilderij" in r["text"]]
        assert young and all(state["outbox"].get(key) == recent["outbox"][key] for key in young)
    finally:
        await chat.runtime.close()


async def test_nobody_can_erase_someone_else_and_typing_it_another_way_works(
    database_url: str,
) -> None:
    chat = await make_transcript(database_url)
    try:
        await chat.say(
            "anna (dm): /taal en",
            "anna (dm): /aanbod boodschappen elke dag",
            "an (dm): /aanbod klusje elke dag",
            # in the group: it belongs in a private chat, nothing is erased
            "an: /vergeetmij",
            # naming someone else changes nothing: it is always about the one who asks
            "an (dm): /Vergeetmij @anna",
        )
        assert chat.to("an")[-1].startswith("Weet je het zeker?")
        await chat.say("an (dm): [Ja, wis alles]")
        await chat.say("anna (dm): /mine")
        assert "Shopping" in chat.to("anna")[-1]
        await chat.say("anna (dm): /forgetme", "anna (dm): [Yes, erase everything]")
        assert chat.to("anna")[-1].startswith("Done.")
        state = await snapshot(chat)
        assert state["identity"] == {} and state["offer"] == {}
    finally:
        await chat.runtime.close()


async def test_a_request_she_was_asked_about_goes_on_without_her(database_url: str) -> None:
    chat = await make_transcript(database_url)
    try:
        await chat.say(
            "an (dm): /aanbod klusje elke dag",
            "piet (dm): /vraag klusje morgen fiets naar jongerencentrum brengen",
            "piet (dm): [In de groep, met mijn naam]",
        )
        assert chat.to("an")[-1].startswith("Kun jij helpen?")
        assert not chat.to("group")
        await erase(chat, AN)
        # she said nothing and is gone: nobody else has an offer, so the group is asked
        assert "fiets naar jongerencentrum brengen" in chat.to("group")[-1]
        async with chat.runtime.store.transaction() as tx:
            proposals = await tx.proposals(1)
        assert [p.status.value for p in proposals] == ["declined"]
    finally:
        await chat.runtime.close()
