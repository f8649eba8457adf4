"""Settings decided by the community: /instellingen in the chat, the use cases behind it
(bot.organising), and how the settings are kept on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import organising
from bot import settings as schema
from bot.context import Context
from bot.errors import UserError
from bot.model import MemberStatus, RequestStatus
from bot.types import ButtonPress, ChatKind, ChatRef, Message, Sender
from storage.sql import SqlStore
from tests.conftest import Transcript, make_transcript

APPROVE = schema.SCHEMA.index(schema.BY_NAME["approve_helpers"])
DENIED = "Dat kunnen alleen de organisatoren van de buurt doen."
NOT_FOR_YOU = "Deze knop is niet voor jou bedoeld. Er is niets veranderd."


@pytest.fixture
async def street(tmp_path: Path) -> AsyncIterator[Transcript]:
    """Anna organises; Kees helps; Fatima and Henk live there."""
    chat = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}")
    await chat.say(
        "@organiser anna",
        "kees (dm): /aanbod boodschappen elke dag",
        "fatima: /start",
        "henk: /start",
    )
    yield chat
    await chat.runtime.close()


async def own_settings(chat: Transcript, community_id: int = 1) -> dict[str, Any]:
    async with chat.runtime.store.transaction() as tx:
        return dict((await tx.community(community_id)).settings)


def sender(name: str) -> Sender:
    return Sender("console", name, name.capitalize(), handle=f"@{name}")


def private(name: str) -> ChatRef:
    return ChatRef("console", name, ChatKind.PRIVATE)


async def send(chat: Transcript, event: ButtonPress | Message) -> list[str]:
    start = len(chat.lines)
    await chat.runtime.bot.handle(event)
    await chat.session.sender.drain()
    return chat.lines[start:]


async def other_neighbourhood(chat: Transcript) -> None:
    """Olga organises a second neighbourhood, with a group of its own."""
    group = ChatRef("console", "group-2", ChatKind.GROUP, "Andere buurt")
    await chat.runtime.bot.appoint_organiser(group, sender("olga"))
    await chat.runtime.bot.handle(Message("o-1", group, sender("olga"), "/start"))
    await chat.session.sender.drain()


# --- seeing them ---------------------------------------------------------------------------------


async def test_an_organiser_sees_every_setting_and_which_are_the_default(
    street: Transcript,
) -> None:
    await street.say("anna (dm): /instellingen")
    shown = street.to("anna")[-1]
    assert shown.startswith("Zo werkt de hulp in onze buurt nu:")
    assert "• verbreden_na: 4 uur (standaard)" in shown
    assert "• stille_uren: 21:30-08:30 (standaard)" in shown
    assert "• kring_venster: 2 uur (standaard)" in shown
    assert "• huisregels: de gewone huisregels (standaard)" in shown
    await street.say("anna (dm): /instellingen verbreden_na 2 uur", "anna (dm): /instellingen")
    shown = street.to("anna")[-1]
    assert "• verbreden_na: 2 uur (gekozen door de buurt; standaard: 4 uur)" in shown
    assert "• organisatoren_na: 24 uur (standaard)" in shown


async def test_one_setting_is_explained_with_its_range(street: Transcript) -> None:
    await street.say("anna (dm): /instellingen stille uren")
    shown = street.to("anna")[-1]
    assert shown.startswith("stille_uren\nDe stille uren: dan stuurt de bot niets wat kan wachten.")
    assert "Nu: 21:30-08:30\nStandaard: 21:30-08:30" in shown
    assert "22:00-8:00" in shown
    await street.say("anna (dm): /instellingen helpers_tegelijk")
    assert "Typ een getal van 1 tot 20." in street.to("anna")[-1]


async def test_in_english_with_the_english_names(street: Transcript) -> None:
    await street.say("anna (dm): /taal en", "anna (dm): /settings widen_after 3 hours")
    assert street.to("anna")[-1] == (
        "Changed: widen_after was 4 hours, and is now 3 hours. This counts from now on."
    )
    await street.say("anna (dm): /settings")
    assert (
        "• widen_after: 3 hours (chosen by the neighbourhood; default: 4 hours)"
        in (street.to("anna")[-1])
    )
    assert (await own_settings(street))["widen_after_hours"] == 3


# --- changing them, typed their own way ---------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name", "stored"),
    [
        ("verbreden_na 2 uur", "widen_after_hours", 2),
        ("verbreden_na 2u", "widen_after_hours", 2),
        ("verbreden na 2u", "widen_after_hours", 2),
        ("Verbreden-na 90 min", "widen_after_hours", 1.5),
        ("verbreden_na 1,5 uur", "widen_after_hours", 1.5),
        ("verbreden_na een uur", "widen_after_hours", 1),
        ("verbreden_na een half uur", "widen_after_hours", 0.5),
        ("verbreden_na een kwartier", "widen_after_hours", 0.25),
        ("verbreden_na drie uur", "widen_after_hours", 3),
        ("verbreden_na anderhalf uur", "widen_after_hours", 1.5),
        ("organisatoren_na 2 dagen", "organisers_after_hours", 48),
        ("stille_uren 22:00-8:00", "quiet_hours", "22:00-08:00"),
        ("stille uren van 22 tot 8", "quiet_hours", "22:00-08:00"),
        ("stille_uren 22u-7u30", "quiet_hours", "22:00-07:30"),
        ("stille_uren uit", "quiet_hours", "off"),
        ("helpers_tegelijk 5", "helpers_to_ask", 5),
        ("helpers goedkeuren ja", "approve_helpers", True),
        ("helpers_goedkeuren Nee", "approve_helpers", False),
        ("borg_nodig gezelschap en vervoer", "vouched_categories", ["company", "transport"]),
        ("borg_nodig geen", "vouched_categories", []),
        ("bewaren 12 weken", "retention_days", 84),
        ("bewaren 30", "retention_days", 30),
        ("kring_venster 3 uur", "circle_window_hours", 3),
        ("vragen_per_dag 10", "asks_per_day", 10),
        ("huisregels Wees lief voor elkaar. Vraag gerust.", "house_rules", None),
    ],
)
async def test_a_setting_typed_their_own_way(
    street: Transcript, typed: str, name: str, stored: Any
) -> None:
    await street.say(f"anna (dm): /instellingen {typed}")
    answer = street.to("anna")[-1]
    assert answer.startswith("Veranderd: ") and answer.endswith("Dat geldt vanaf nu."), answer
    own = await own_settings(street)
    if name == "house_rules":
        assert own[name] == "Wees lief voor elkaar. Vraag gerust."
    else:
        assert own == {name: stored}


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("verbredn 3 uur", "Ik ken geen instelling 'verbredn'. Bedoel je verbreden_na?"),
        ("kleur blauw", "Ik ken geen instelling 'kleur'. Typ /instellingen om ze allemaal"),
        ("verbreden_na gauw", "Ik begrijp 'gauw' niet als tijd voor verbreden_na."),
        (
            "verbreden_na 2 weken",
            "Ik kan verbreden_na niet op '2 weken' zetten. Kies iets van 15 minuten tot 168 uur.",
        ),
        ("verbreden_na 0", "Ik kan verbreden_na niet op '0' zetten."),
        ("helpers_tegelijk 2,5", "Ik begrijp '2,5' niet als getal voor helpers_tegelijk."),
        (
            "helpers_tegelijk 100",
            "Ik kan helpers_tegelijk niet op '100' zetten. Kies iets van 1 tot 20.",
        ),
        ("stille_uren 's avonds", "Ik begrijp ''s avonds' niet als tijden voor stille_uren."),
        ("stille_uren 22:00-22:00", "niet als tijden voor stille_uren"),
        ("helpers_goedkeuren misschien", "Voor helpers_goedkeuren kun je ja of nee typen"),
        ("borg_nodig gezelschap fietsen", "Ik ken 'fietsen' niet als soort hulp."),
        ("bewaren 1", "Ik kan bewaren niet op '1' zetten. Kies iets van 2 dagen tot 3650 dagen."),
        ("huisregels " + "x" * 2001, "Die tekst is te lang. Hoogstens 2000 tekens"),
        ("vragen_per_dag 50", "Maak vragen_per_dag kleiner, of vragen_per_week groter."),
        ("organisatoren_na 1 uur", "Kies organisatoren_na even lang als verbreden_na of langer."),
    ],
)
async def test_a_bad_value_gets_a_plain_answer_and_changes_nothing(
    street: Transcript, typed: str, answer: str
) -> None:
    await street.say(f"anna (dm): /instellingen {typed}")
    assert answer in street.to("anna")[-1]
    assert await own_settings(street) == {}
    await street.say("anna (dm): /logboek")
    assert street.to("anna")[-1] == "Het logboek is nog leeg."


async def test_back_to_the_default_by_word_and_by_button(street: Transcript) -> None:
    await street.say(
        "anna (dm): /instellingen verbreden_na 2 uur",
        "anna (dm): /instellingen helpers_tegelijk 5",
        "anna (dm): /instellingen verbreden_na standaard",
    )
    assert street.to("anna")[-1] == (
        "Veranderd: verbreden_na was 2 uur, en is nu weer de standaard: 4 uur. Dat geldt vanaf nu."
    )
    assert await own_settings(street) == {"helpers_to_ask": 5}
    await street.say("anna (dm): /instellingen helpers_tegelijk")
    assert street.to("anna")[-1].endswith("[Terug naar de standaard]")
    await street.say("anna (dm): [Terug naar de standaard]")
    assert street.to("anna")[-1].startswith("Veranderd: helpers_tegelijk was 5, en is nu weer")
    assert await own_settings(street) == {}
    await street.say("anna (dm): /instellingen helpers_tegelijk 3")
    assert street.to("anna")[-1].startswith("Veranderd: helpers_tegelijk was 3, en is nu 3.")
    await street.say("anna (dm): /instellingen helpers_tegelijk 3")
    assert street.to("anna")[-1] == "helpers_tegelijk staat al op 3. Er is niets veranderd."


async def test_a_yes_no_setting_by_button(street: Transcript) -> None:
    await street.say("anna (dm): /instellingen helpers_goedkeuren")
    assert street.to("anna")[-1].endswith("[Ja] [Nee]")
    await street.say("anna (dm): [Ja]")
    assert street.to("anna")[-1].startswith("Veranderd: helpers_goedkeuren was nee, en is nu ja.")
    assert await own_settings(street) == {"approve_helpers": True}
    await street.say("mo (dm): /aanbod klusje elke dag")  # in force at once
    assert street.to("anna")[-1].startswith("Mo wil graag helpen. Is dat goed?")


async def test_each_change_is_in_the_audit_log_with_old_and_new_value(street: Transcript) -> None:
    await street.say(
        "anna (dm): /instellingen verbreden_na 2 uur",
        "anna (dm): /instellingen borg_nodig gezelschap",
        "anna (dm): /instellingen huisregels Wees lief.",
        "anna (dm): /instellingen verbreden_na standaard",
        "anna (dm): /logboek",
    )
    log = street.to("anna")[-1]
    assert "Anna: instelling veranderd (widen_after_hours: 4 -> 2)" in log
    assert "Anna: instelling veranderd (vouched_categories: - -> company)" in log
    assert "Anna: instelling veranderd (house_rules: - -> “Wees lief.”)" in log
    assert "Anna: instelling veranderd (widen_after_hours: 2 -> 4 (standaard))" in log


async def test_new_house_rules_are_what_newcomers_read(street: Transcript) -> None:
    await street.say("anna (dm): /instellingen huisregels Wees lief voor elkaar.")
    await street.say("henk (dm): /huisregels")
    assert "Wees lief voor elkaar." in street.to("henk")[-1]


# --- in force at once: the injected clock --------------------------------------------------------


async def test_changing_the_widen_time_changes_when_the_next_request_is_widened(
    street: Transcript,
) -> None:
    await street.say("anna (dm): /instellingen verbreden_na 1 uur")
    await street.say(
        "fatima: /vraag boodschappen morgen middag melk en brood",
        "fatima (dm): [In de groep, zonder mijn naam]",
    )
    assert street.to("kees")[-1].startswith("Kun jij helpen?")
    posts = len(street.to("group"))
    await street.say("@wait 59m")
    assert len(street.to("group")) == posts
    await street.say("@wait 1m")  # one hour without a helper, not four
    assert street.to("group")[-1].startswith("Een buur vraagt om hulp:\nBoodschappen")
    await street.say("anna (dm): /instellingen verbreden_na 6 uur")
    await street.say(
        "henk: /vraag boodschappen morgen middag koffie",
        "henk (dm): [In de groep, zonder mijn naam]",
    )
    posts = len(street.to("group"))
    await street.say("@wait 5h")
    assert len(street.to("group")) == posts
    await street.say("@wait 1h")
    assert "koffie" in street.to("group")[-1]


# --- who may -------------------------------------------------------------------------------------


BLOCKED = "Je kunt de bot op dit moment niet gebruiken."


@pytest.mark.parametrize(("who", "answer"), [("henk", DENIED), ("kees", DENIED), ("bob", BLOCKED)])
async def test_only_an_active_organiser_of_this_community_may(
    street: Transcript, who: str, answer: str
) -> None:
    """A resident, a helper, an organiser who was blocked."""
    await street.say("@organiser bob", "anna (dm): /blokkeer @bob")
    assert street.to("anna")[-1].startswith("Bob is geblokkeerd.")
    for line in ("/instellingen", "/instellingen verbreden_na 1 uur", "/instellingen bewaren"):
        await street.say(f"{who} (dm): {line}")
        assert street.to(who)[-1].startswith(answer), line
    assert await own_settings(street) == {}


async def test_an_organiser_of_another_community_changes_only_her_own(street: Transcript) -> None:
    await other_neighbourhood(street)
    await street.say("olga (dm): /instellingen verbreden_na 1 uur")
    assert street.to("olga")[-1].startswith("Veranderd: verbreden_na was 4 uur")
    assert await own_settings(street, 1) == {}
    assert await own_settings(street, 2) == {"widen_after_hours": 1}


def every_use_case(ctx: Context, kees: int, fatima: int) -> list[Callable[[], Awaitable[object]]]:
    """Each organiser's use case, on community 1 and its request 1, ready to be called."""
    return [
        lambda: organising.open_requests(ctx, 1),
        lambda: organising.pick_up(ctx, 1),
        lambda: organising.refer(ctx, 1),
        lambda: organising.helper_choices(ctx, 1),
        lambda: organising.assign(ctx, 1, kees),
        lambda: organising.on_behalf(ctx, 1, "mevrouw Jansen", "boodschappen morgen brood"),
        lambda: organising.figures(ctx, 1),
        lambda: organising.export_requests(ctx, 1),
        lambda: organising.audit_log(ctx, 1),
        lambda: organising.hide_request(ctx, 1),
        lambda: organising.set_member_status(ctx, 1, fatima, MemberStatus.BLOCKED),
        lambda: organising.appoint(ctx, 1, fatima),
        lambda: organising.community_settings(ctx, 1),
        lambda: organising.community_setting(ctx, 1, "verbreden_na"),
        lambda: organising.change_setting(ctx, 1, "verbreden_na", "1 uur"),
        lambda: organising.reset_setting(ctx, 1, "verbreden_na"),
    ]


async def test_the_use_cases_refuse_whoever_is_not_an_organiser_there(street: Transcript) -> None:
    """As the web calls them: no chat message, the community named by its id."""
    await other_neighbourhood(street)
    await street.say("@organiser bob", "anna (dm): /blokkeer @bob")
    await street.say(
        "fatima (dm): /vraag boodschappen morgen melk",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    bot = street.runtime.bot
    for name in ("olga", "bob", "henk"):
        async with street.runtime.store.transaction() as tx:
            ids = {}
            for who in (name, "kees", "fatima"):
                identity = await tx.identity("console", who)
                assert identity is not None
                ids[who] = identity.member_id
            member = await tx.member(ids[name])
            home = await tx.community(1)
            ctx = organising.organiser_context(bot, tx, member, home, street.clock.now())
            calls = every_use_case(ctx, ids["kees"], ids["fatima"])
            for call in calls:
                with pytest.raises(UserError) as refused:
                    await call()
                assert refused.value.key == "error.organisers_only", name
            mine = await organising.organised_by(tx, member.id)
            assert [c.id for c in mine] == ([2] if name == "olga" else [])
    assert await own_settings(street) == {}
    async with street.runtime.store.transaction() as tx:
        request = await tx.request(1)
        assert request is not None and request.status is RequestStatus.OPEN
        assert len(await tx.community_requests(1)) == 1
        fatima_here = await tx.membership(ids["fatima"], 1)
        assert fatima_here is not None and fatima_here.status is MemberStatus.ACTIVE
        assert fatima_here.role.value == "resident"
        assert await tx.audit_log(1) != []  # only Anna's block of Bob
        assert [e.action for e in await tx.audit_log(1)] == ["member_blocked"]


async def test_the_use_cases_return_plain_data(street: Transcript) -> None:
    await street.say(
        "fatima (dm): /vraag boodschappen morgen melk",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
    )
    street.clock.advance(timedelta(hours=3))
    async with street.runtime.store.transaction() as tx:
        identity = await tx.identity("console", "anna")
        assert identity is not None
        anna = await tx.member(identity.member_id)
        ctx = organising.organiser_context(
            street.runtime.bot, tx, anna, await tx.community(1), street.clock.now()
        )
        overview = await organising.open_requests(ctx, 1)
        [request] = overview.requests
        assert (request.id, request.requester_name, request.status) == (
            1,
            "Fatima",
            RequestStatus.OPEN,
        )
        assert request.waiting == timedelta(hours=3) and request.asked == 1
        figures = await organising.figures(ctx, 1, 7)
        assert (figures.asked, figures.open, figures.matched) == (1, 1, 0)
        changed = await organising.change_setting(ctx, 1, "widen_after_hours", "2")
        assert (changed.before.value, changed.after.value) == (4.0, 2.0)
        assert not changed.after.is_default and changed.after.shown == "2 uur"
        assert [c.id for c in await organising.organised_by(tx, anna.id)] == [1]
        values = {v.setting.name: v for v in await organising.community_settings(ctx, 1)}
        assert values["widen_after_hours"].value == 2.0
        assert values["circle_window_hours"].is_default
        assert values["circle_window_hours"].value == 2.0


# --- buttons pressed by someone else -------------------------------------------------------------


async def test_a_settings_button_sent_to_another_organiser_is_refused(street: Transcript) -> None:
    await street.say("@organiser bob", "anna (dm): /instellingen helpers_goedkeuren")
    annas = street.press("anna", "Ja", "anna-yes")
    assert annas.message_ref is not None
    await street.say("bob (dm): /instellingen helpers_tegelijk 4")  # a message of his own
    bobs_ref = street.session.channel.shown[-1].ref
    no_longer = "Deze knop werkt niet meer. Er is niets veranderd."
    forged = [  # what he sends; what he is told
        (
            ButtonPress("f1", private("bob"), sender("bob"), annas.action, annas.message_ref),
            NOT_FOR_YOU,
        ),
        (ButtonPress("f2", private("anna"), sender("bob"), annas.action, annas.message_ref), None),
        (ButtonPress("f3", private("bob"), sender("bob"), annas.action, bobs_ref), no_longer),
        (ButtonPress("f4", private("bob"), sender("bob"), f"cset:{APPROVE}:yes"), no_longer),
    ]
    for press, told in forged:
        said = await send(street, press)
        if told is None:
            assert said == []  # not even an answer, and nothing in her chat
        else:
            assert len(said) == 1 and said[0].startswith(f"buurtbot -> bob (dm): {told}")
        assert not street.to("anna")[-1].startswith("Veranderd")
    assert await own_settings(street) == {"helpers_to_ask": 4}
    await street.say("anna (dm): [Ja]")  # hers still works for her
    assert (await own_settings(street))["approve_helpers"] is True


# --- storage, on SQLite and PostgreSQL -----------------------------------------------------------


async def test_a_communitys_own_settings_are_kept_and_restored(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        async with store.transaction() as tx:
            community = await tx.create_community("Buurt", "nl", "Europe/Amsterdam", {})
            other = await tx.create_community("Elders", "nl", "Europe/Amsterdam", {})
            await tx.update_community_settings(
                community.id,
                {
                    "widen_after_hours": 1.5,
                    "vouched_categories": ["company", "transport"],
                    "house_rules": "Wees lief.\nVraag gerust — ‘echt’.",
                    "approve_helpers": True,
                },
            )
        async with store.transaction() as tx:
            await tx.update_community_settings(
                community.id, {"widen_after_hours": None, "quiet_hours": "off"}
            )
        async with store.transaction() as tx:
            assert (await tx.community(community.id)).settings == {
                "vouched_categories": ["company", "transport"],
                "house_rules": "Wees lief.\nVraag gerust — ‘echt’.",
                "approve_helpers": True,
                "quiet_hours": "off",
            }
            assert (await tx.community(other.id)).settings == {}
    finally:
        await store.close()


@pytest.mark.parametrize("module", ["bot.organising", "bot.dashboard", "bot.weblogin"])
def test_the_use_cases_import_on_their_own_as_a_second_front_end_would(module: str) -> None:
    """The web (or any other caller) may import a use-case module first, before the chat
    handlers; a cycle through ``bot.handlers`` would break that."""
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-800:]
