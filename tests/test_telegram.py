"""The Telegram adapter: the real python-telegram-bot ``Application`` against a local Bot API.

Every test runs ``run_telegram`` as the service does, on a SQLite file, against
``tests.botapi.BotApiServer`` with its flood limits on. Time on the server is compressed
(``TIME_SCALE``: "a minute" lasts 0.6 s) and the outbox is paced to the same compressed
limits, taken from ``server.effective_limits``. The core's clock starts on Monday
23 November 2026, 09:00 in Amsterdam and runs on from there with real time, so a message
postponed by a flood wait falls due again.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from pydantic import ValidationError
from telegram import Update

from adapters.bootstrap import Runtime, bootstrap
from adapters.service import led
from adapters.settings import Settings
from adapters.telegram import SECRET_HEADER, fit, message_ref_of, run_telegram, to_event
from bot.clock import FakeClock
from bot.i18n import FSI, PDI, RLM
from bot.ports import RateLimits
from bot.types import BotAdded, ChatKind, ChatRef, MemberLeft, Message, Sender
from storage.leader import Leadership
from tests.botapi import BotApiServer, Chat, CommandScope, Limit, Limits, Sent, User
from tests.conftest import MONDAY_MORNING, new_postgres_database

GROUP_ID = -1001234567890
BOT_USERNAME = "buurtbot_test_bot"
TIME_SCALE = 0.01
DEEP_LINK = f"https://t.me/{BOT_USERNAME}?start=hallo"
ASK_IN_GROUP = f"/vraag@{BOT_USERNAME} boodschappen morgen middag melk en brood"
CONTINUE_PRIVATELY = (
    "Ik ga verder in een privégesprek, zodat niemand anders meeleest.\n"
    f"Zie je niets van mij? Open dan: {DEEP_LINK}"
)


class RunningClock(FakeClock):
    """A fake clock that starts where it is told and then moves on with real time."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._began = time.monotonic()

    def now(self) -> datetime:
        return super().now() + timedelta(seconds=time.monotonic() - self._began)


def paced_as(server: BotApiServer) -> RateLimits:
    """Telegram's limits as the server applies them, after its time scale."""

    def window(limit: Limit | None) -> tuple[int, float]:
        return (1_000_000, 1.0) if limit is None else (limit.count, limit.seconds)

    limits = server.effective_limits
    return RateLimits(window(limits.overall), window(limits.per_chat), window(limits.per_group))


@pytest.fixture(autouse=True)
def retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns on every ``RetryAfter`` unless its periods are timedeltas."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer(time_scale=TIME_SCALE) as server:
        yield server


@pytest.fixture
def fatima(server: BotApiServer) -> User:
    return server.user(1001, "Fatima", "fatima_r")


@pytest.fixture
def kees(server: BotApiServer) -> User:
    return server.user(1002, "Kees", "kees_b")


@pytest.fixture
def group(server: BotApiServer) -> Chat:
    return server.group(GROUP_ID, "Buurt Middelland")


@dataclass
class Buurtbot:
    """One deployment: settings and a database file, started and stopped as the service does."""

    server: BotApiServer
    settings: Settings
    clock: RunningClock = field(default_factory=lambda: RunningClock(MONDAY_MORNING))

    async def open(self) -> Runtime:
        return await bootstrap(self.settings, clock=self.clock)

    @asynccontextmanager
    async def running(self, runtime: Runtime | None = None) -> AsyncIterator[Runtime]:
        """Run the adapter until the block ends; a fresh process unless given a runtime."""
        own = runtime is None
        runtime = runtime or await self.open()
        stop = asyncio.Event()
        requests = len(self.server.requests)
        task = asyncio.create_task(
            run_telegram(runtime, self.settings, stop, limits=paced_as(self.server))
        )

        def listening() -> bool:
            wanted = "setWebhook" if self.settings.telegram_webhook_url else "getUpdates"
            return task.done() or any(r.method == wanted for r in self.server.requests[requests:])

        try:
            await self.server.wait_for(listening, what="the adapter to listen")
            if task.done():
                task.result()  # raises what went wrong
            yield runtime
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
            if own:
                await runtime.close()


@pytest.fixture
def buurtbot(server: BotApiServer, tmp_path: Path) -> Buurtbot:
    return Buurtbot(server, settings_for(server, tmp_path))


def settings_for(server: BotApiServer, tmp_path: Path, **more: object) -> Settings:
    return Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
            "telegram_token": server.token,
            "telegram_base_url": server.base_url,
            **more,
        }
    )


async def nth(server: BotApiServer, chat: Chat | User, n: int) -> Sent:
    """The ``n``-th message the bot sent to ``chat``, once it is there."""
    return (await server.wait_sent(n, chat_id=chat.id))[n - 1]


async def press(runtime: Runtime, server: BotApiServer, user: User, sent: Sent, label: str) -> int:
    """``user`` presses a button in their private chat, as people do: not before the bot has
    noted that Telegram took the message (a few milliseconds after the server has it)."""
    ref = message_ref_of(sent.chat_id, sent.message_id)
    async with asyncio.timeout(10):
        while not await runtime.bot.buttons_of("telegram", ref):
            await asyncio.sleep(0.005)
    data = server.message(user, sent.message_id).callback_data(label)
    return server.press(user, user, sent.message_id, data)


# --- asking, offering and matching --------------------------------------------------------


async def test_ask_offer_and_match_through_the_group_and_private_chats(
    server: BotApiServer, buurtbot: Buurtbot, fatima: User, kees: User, group: Chat
) -> None:
    group.bot_can_delete = True  # an administrator of the group
    async with buurtbot.running() as runtime:
        server.bot_added(group, fatima)
        welcome = await nth(server, group, 1)
        assert welcome.text is not None and welcome.text.startswith("Hallo allemaal!")

        server.send_text(kees, kees, "/aanbod boodschappen ma-vr middag")
        kees_rules = await nth(server, kees, 1)
        await press(runtime, server, kees, kees_rules, "Ik doe mee")
        offered = await nth(server, kees, 2)
        assert offered.text is not None and "Je biedt aan: Boodschappen" in offered.text

        asked = server.send_text(group, fatima, ASK_IN_GROUP)
        notice = await nth(server, group, 2)
        assert notice.text == CONTINUE_PRIVATELY
        assert (group.id, server.message_id_of(asked)) in server.deleted_user_messages
        fatima_rules = await nth(server, fatima, 1)
        await press(runtime, server, fatima, fatima_rules, "Ik doe mee")
        first = await nth(server, fatima, 2)
        assert first.text is not None and first.text.startswith("Dit is je vraag")
        stale = server.message(fatima, first.message_id).callback_data("Stoppen")
        await press(runtime, server, fatima, first, "De helper schiet het geld voor")
        visibility = await nth(server, fatima, 3)
        assert visibility.text is not None and "jij betaalt het terug" in visibility.text
        await press(runtime, server, fatima, visibility, "In de groep, zonder mijn naam")
        placed = await nth(server, fatima, 4)
        assert placed.text is not None and placed.text.startswith("Je vraag staat erin")
        proposal = await nth(server, kees, 3)
        assert proposal.text is not None and "melk en brood" in proposal.text
        assert "Fatima" not in proposal.text

        await press(runtime, server, kees, proposal, "Ik help")
        found, helping = await nth(server, fatima, 5), await nth(server, kees, 4)
        assert found.text is not None and found.text.startswith("Goed nieuws! Kees helpt je")
        assert "@kees_b" in found.text
        assert helping.text is not None and helping.text.startswith("Dank je wel! Je helpt Fatima")
        assert "@fatima_r" in helping.text

        # The pressed messages show the outcome and lose their buttons.
        settled = [
            (kees, kees_rules, "✔"),
            (fatima, fatima_rules, "✔"),
            (fatima, visibility, "✔ Geplaatst"),
            (kees, proposal, "✔ Kees helpt"),
        ]
        await server.wait_for(
            lambda: all(server.message(c, s.message_id).edit_count == 1 for c, s, _ in settled),
            what="the edits",
        )
        for chat, sent, outcome in settled:
            now = server.message(chat, sent.message_id)
            assert now.text is not None and now.text.startswith(sent.text or "")
            assert now.text.rpartition("\n")[2].startswith(outcome)
            assert now.labels == []
        await server.wait_for(lambda: len(server.answered_callbacks) == 5, what="5 answers")

        # An old button that the core refuses is answered too.
        server.forged_press(fatima, fatima, first.message_id, stale)  # shown before it was settled
        await server.wait_for(lambda: len(server.answered_callbacks) == 6, what="6 answers")
        await nth(server, fatima, 6)

        # A command without the @suffix works in the group as well.
        server.send_text(group, kees, "/hulp")
        help_text = await nth(server, group, 3)
        assert help_text.text is not None and help_text.text.startswith("Ik help buren")

    # Nothing about the request was said in the group.
    assert [sent.text for sent in server.sent_to(group)] == [
        welcome.text,
        notice.text,
        help_text.text,
    ]


async def test_a_member_who_never_started_the_bot_gets_the_message_once_she_does(
    server: BotApiServer, buurtbot: Buurtbot, fatima: User, group: Chat
) -> None:
    server.block_private(fatima)
    group.bot_can_delete = True
    async with buurtbot.running() as runtime:
        server.send_text(group, fatima, ASK_IN_GROUP)
        # The group hears how to open a private chat, without her name or her question.
        [notice] = await server.wait_sent(1, chat_id=group.id)
        assert notice.text == CONTINUE_PRIVATELY
        await server.wait_for(
            lambda: [call.status for call in server.calls("sendMessage")].count(403) == 1,
            what="the private message to be refused",
        )
        assert server.sent_to(fatima) == []

        # She follows the link: Telegram sends "/start hallo" from her private chat.
        server.send_text(fatima, fatima, "/start hallo")
        held, hello = await server.wait_sent(2, chat_id=fatima.id)
        assert held.text is not None and held.text.startswith("Welkom! Dit zijn de huisregels")
        assert hello.text is not None and hello.text.startswith("Hoi Fatima!")
        await press(runtime, server, fatima, held, "Ik doe mee")
        asked = await nth(server, fatima, 3)
        assert asked.text is not None and asked.text.startswith("Dit is je vraag")

    assert len(server.sent_to(group)) == 1


# --- exactly once: redelivery, restarts, flood waits ------------------------------------


async def test_a_redelivered_update_is_answered_once_also_after_an_update_id_jump(
    server: BotApiServer, buurtbot: Buurtbot, fatima: User
) -> None:
    async with buurtbot.running():
        first = server.send_text(fatima, fatima, "/start")
        await nth(server, fatima, 1)
        server.jump_update_ids(1000)  # as after a quiet week
        second = server.send_text(fatima, fatima, "/help")
        await nth(server, fatima, 2)
    assert second == first + 1001
    assert not server.is_pending(second)

    # Telegram never heard the confirmation: both come again, to a restarted process.
    server.redeliver(first)
    server.redeliver(second)
    async with buurtbot.running():
        await server.wait_confirmed(second)
        server.send_text(fatima, fatima, "/taal")
        replies = await server.wait_sent(3, chat_id=fatima.id)

    # A repeated reply would have been sent before the answer to /taal.
    assert [reply.text is not None for reply in replies] == [True] * 3
    assert replies[2].text == "In welke taal wil je mijn berichten?"


async def test_a_reply_that_waits_through_a_restart_is_sent_once(
    server: BotApiServer, buurtbot: Buurtbot, fatima: User
) -> None:
    server.force_429(1, method="sendMessage")
    async with buurtbot.running():
        server.send_text(fatima, fatima, "/start")
        await server.wait_for(lambda: server.too_many_requests > 0, what="the 429")
    assert server.sent_to(fatima) == []

    async with buurtbot.running():  # the same database file, a new process
        server.send_text(fatima, fatima, "/taal")
        hello, language = await server.wait_sent(2, chat_id=fatima.id)

    assert hello.text is not None and hello.text.startswith("Hoi Fatima!")
    assert language.text == "In welke taal wil je mijn berichten?"
    assert len(server.sent_to(fatima)) == 2


async def test_a_storm_of_429s_and_a_dropped_connection_lose_and_repeat_nothing(
    tmp_path: Path,
) -> None:
    # Telegram's limits in real time, so that only the forced 429s are refused.
    async with BotApiServer() as server:
        people = [server.user(2000 + n, f"Buur{n}") for n in range(6)]
        server.force_429(4, retry_after=1, method="sendMessage")
        server.fail_next(1, kind="drop", method="sendMessage")
        async with Buurtbot(server, settings_for(server, tmp_path)).running():
            for person in people:
                server.send_text(person, person, "/start")
            await server.wait_for(
                lambda: all(server.sent_to(person) for person in people), 30, "everyone's reply"
            )
            server.send_text(people[0], people[0], "/taal")
            await nth(server, people[0], 2)

    assert server.too_many_requests == 4
    assert [len(server.sent_to(person)) for person in people] == [2, 1, 1, 1, 1, 1]
    for person in people:
        first = server.sent_to(person)[0].text
        assert first is not None and first.startswith(f"Hoi {person.first_name}!")


async def test_two_hundred_messages_for_one_group_keep_to_twenty_a_minute(
    tmp_path: Path,
) -> None:
    # One message a second per chat is checked elsewhere; at this scale its window (10 ms)
    # is finer than the jitter of a local HTTP request.
    async with BotApiServer(time_scale=TIME_SCALE, limits=Limits(per_chat=None)) as server:
        group = server.group(GROUP_ID, "Buurt Middelland")
        buurtbot = Buurtbot(server, settings_for(server, tmp_path))
        runtime = await buurtbot.open()
        async with runtime.store.transaction() as tx:
            for n in range(200):
                await tx.enqueue(
                    platform="telegram",
                    chat_id=str(group.id),
                    kind=ChatKind.GROUP,
                    member_id=None,
                    text=f"Bericht {n}",
                    buttons=(),
                    edit_of=None,
                    attachment=None,
                    now=runtime.clock.now(),
                )
        began = time.monotonic()
        async with buurtbot.running(runtime):
            sent = await server.wait_sent(200, chat_id=group.id, timeout=30)
        took = time.monotonic() - began
        await runtime.close()

    minute = server.effective_limits.per_group
    assert minute == Limit(20, 60 * TIME_SCALE)
    assert [s.text for s in sent] == [f"Bericht {n}" for n in range(200)]
    assert server.too_many_requests == 0
    times = [s.time for s in sent]
    assert all(times[n + 20] - times[n] >= minute.seconds for n in range(len(times) - 20))
    assert took >= 9 * minute.seconds  # ten "minutes" of twenty


# --- the command menu, the logs, the webhook, the translation --------------------------


async def test_the_command_menu_is_published_in_dutch_and_english_for_both_kinds_of_chat(
    server: BotApiServer, buurtbot: Buurtbot
) -> None:
    async with buurtbot.running():
        pass

    def names(kind: str, language: str) -> list[str]:
        return [name for name, _ in server.commands_for(CommandScope(kind), language)]

    for kind in ("all_private_chats", "all_group_chats"):
        scope = CommandScope(kind)
        dutch, english = server.commands_for(scope, "nl"), server.commands_for(scope, "en")
        assert server.commands_for(scope) == dutch  # for every other app language
        assert len(dutch) == len(english)
        assert {"start", "hulp", "vraag", "aanbod", "annuleer"} <= set(names(kind, "nl"))
        assert {"start", "help", "ask", "offer", "cancel"} <= set(names(kind, "en"))
        assert "overzicht" not in names(kind, "nl")  # organisers find theirs in /hulp
        assert dict(dutch)["vraag"].startswith("hulp vragen, bijvoorbeeld: /vraag")
        assert dict(english)["ask"].startswith("ask for help, for example: /ask")
        assert all(3 <= len(text) <= 256 and "\n" not in text for _, text in dutch + english)
        # Turkish and Arabic: the Dutch names, explained in the member's own language
        for language in ("tr", "ar"):
            assert names(kind, language) == names(kind, "nl")
        assert dict(server.commands_for(scope, "tr"))["vraag"].startswith("yardım iste, mesela:")
        arabic = dict(server.commands_for(scope, "ar"))["vraag"]
        assert arabic.startswith(f"{RLM}اطلب مساعدة، مثلًا: {FSI}/vraag{PDI}")
    # Commands for private chats only are not offered in groups.
    assert "mijngegevens" in names("all_private_chats", "nl")
    assert "mydata" in names("all_private_chats", "en")
    assert "mijngegevens" not in names("all_group_chats", "nl")


async def test_the_token_never_reaches_the_logs(
    server: BotApiServer, buurtbot: Buurtbot, fatima: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # writes every URL, token and all
    server.fail_next(1, kind="drop", method="sendMessage")
    async with buurtbot.running():
        server.send_text(fatima, fatima, "/start")
        await nth(server, fatima, 1)
        logging.getLogger("buurtbot.test").error("a careless line with %s", server.token)

    assert caplog.records
    for record in caplog.records:
        assert server.token not in record.getMessage()
        assert server.token not in (record.exc_text or "")
    assert server.token not in caplog.text
    assert "a careless line with ***" in caplog.text
    assert f"{server.url}/bot***/getUpdates" in caplog.text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_the_webhook_handles_only_calls_with_the_secret_token(
    server: BotApiServer, tmp_path: Path, fatima: User
) -> None:
    secret = "buurt-geheim_42"
    settings = settings_for(
        server,
        tmp_path,
        telegram_webhook_url="https://buurt.example/telegram/hook",
        telegram_webhook_secret=secret,
        telegram_webhook_port=free_port(),
    )
    hook = f"http://127.0.0.1:{settings.telegram_webhook_port}/telegram/hook"
    buurtbot = Buurtbot(server, settings)
    help_update = server.updates[server.send_text(fatima, fatima, "/help")]
    start_update = server.updates[server.send_text(fatima, fatima, "/start")]

    async with buurtbot.running(), aiohttp.ClientSession() as http:
        assert server.webhook is not None
        assert server.webhook["url"] == "https://buurt.example/telegram/hook"
        assert server.webhook["secret_token"] == secret

        async def post(update: dict[str, object], headers: dict[str, str]) -> int:
            async with http.post(hook, json=update, headers=headers) as response:
                return response.status

        assert await post(help_update, {}) == 403
        assert await post(help_update, {SECRET_HEADER: "geraden"}) == 403
        assert await post(start_update, {SECRET_HEADER: secret}) == 200
        assert await post(start_update, {SECRET_HEADER: secret}) == 200  # Telegram retries
        assert await post(help_update, {SECRET_HEADER: secret}) == 200
        hello, help_text = await server.wait_sent(2, chat_id=fatima.id)

    assert hello.text is not None and hello.text.startswith("Hoi Fatima!")
    assert help_text.text is not None and help_text.text.startswith("Ik help buren")
    assert len(server.sent_to(fatima)) == 2
    assert not server.calls("getUpdates")


async def test_two_processes_on_one_postgres_answer_each_resident_once(
    server: BotApiServer, tmp_path: Path
) -> None:
    """Two bot processes behind a load balancer take webhook calls for one community on one
    PostgreSQL database: 60 residents each send /start, to either; each gets one welcome."""
    secret = "buurt-geheim_42"
    # a hang (a lock or a connection never given) fails the test instead of stopping the suite
    async with asyncio.timeout(120), new_postgres_database("webhooks") as url:
        bots = [
            Buurtbot(
                server,
                settings_for(
                    server,
                    tmp_path,
                    database_url=url,
                    telegram_webhook_url="https://buurt.example/telegram/hook",
                    telegram_webhook_secret=secret,
                    telegram_webhook_port=free_port(),
                ),
            )
            for _ in range(2)
        ]
        residents = [server.user(5000 + n, f"Buur{n}", f"buur_{n}") for n in range(60)]
        async with (
            bots[0].running() as first,
            bots[1].running() as second,
            aiohttp.ClientSession() as http,
        ):

            async def post(bot: Buurtbot, update_id: int) -> None:
                hook = f"http://127.0.0.1:{bot.settings.telegram_webhook_port}/telegram/hook"
                update = server.updates[update_id]
                async with http.post(hook, json=update, headers={SECRET_HEADER: secret}) as r:
                    assert r.status == 200

            await asyncio.gather(
                *(
                    post(bots[n % 2], server.send_text(resident, resident, "/start"))
                    for n, resident in enumerate(residents)
                )
            )
            for resident in residents:
                await server.wait_sent(1, chat_id=resident.id)
            await asyncio.sleep(1.0)  # time enough for a second copy to go out
            sent_by = [sum(s.sent for s in r.senders) for r in (first, second)]
        for resident in residents:
            [welcome] = server.sent_to(resident)
            assert welcome.text is not None and welcome.text.startswith(
                f"Hoi {resident.first_name}!"
            )
        assert sum(sent_by) == 60


async def test_long_polling_runs_in_the_leading_process_and_moves_when_it_stops(
    server: BotApiServer, tmp_path: Path, fatima: User, kees: User
) -> None:
    """Two processes on one PostgreSQL database, Telegram by long polling: one polls; when
    it stops, the other takes over within seconds and answers what came meanwhile."""
    # a hang (a lock or a connection never given) fails the test instead of stopping the suite
    async with asyncio.timeout(120), new_postgres_database("polling") as url:
        settings = settings_for(server, tmp_path, database_url=url)
        limits = paced_as(server)

        async def telegram(runtime: Runtime, settings: Settings, stop: asyncio.Event) -> None:
            await run_telegram(runtime, settings, stop, limits=limits)

        runtimes = [await Buurtbot(server, settings).open() for _ in range(2)]
        leaderships = [Leadership(url, retry=0.2, check=0.2) for _ in range(2)]
        stops = [asyncio.Event(), asyncio.Event()]
        tasks: list[asyncio.Task[None]] = []
        try:
            leaderships[0].start()
            await asyncio.wait_for(leaderships[0].leading.wait(), timeout=10)
            leaderships[1].start()
            tasks = [
                asyncio.create_task(led(telegram, leadership)(runtime, settings, stop))
                for runtime, leadership, stop in zip(runtimes, leaderships, stops, strict=True)
            ]
            server.send_text(fatima, fatima, "/start")
            [hello] = await server.wait_sent(1, chat_id=fatima.id)
            assert hello.text is not None and hello.text.startswith("Hoi Fatima!")
            assert runtimes[0].senders and not runtimes[1].senders  # the second only waits
            # the first process stops (SIGTERM): its lock is freed with its connection
            stops[0].set()
            await asyncio.wait_for(tasks[0], timeout=10)
            await leaderships[0].close()
            server.send_text(kees, kees, "/start")
            [welcome] = await server.wait_sent(1, chat_id=kees.id, timeout=5)
            assert welcome.text is not None and welcome.text.startswith("Hoi Kees!")
            assert runtimes[1].senders
            assert len(server.sent_to(fatima)) == 1
        finally:
            for stop in stops:
                stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            for leadership in leaderships:
                await leadership.close()
            for runtime in runtimes:
                await runtime.close()


def test_a_webhook_needs_a_secret_token(server: BotApiServer, tmp_path: Path) -> None:
    hook = "https://buurt.example/telegram/hook"
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET is needed"):
        settings_for(server, tmp_path, telegram_webhook_url=hook)
    with pytest.raises(ValidationError, match="letters, digits"):
        settings_for(server, tmp_path, telegram_webhook_url=hook, telegram_webhook_secret="a b")
    with pytest.raises(ValidationError, match="https://"):
        settings_for(
            server,
            tmp_path,
            telegram_webhook_url="http://buurt.example",
            telegram_webhook_secret="s",
        )


def test_updates_become_the_cores_events(
    server: BotApiServer, fatima: User, kees: User, group: Chat
) -> None:
    def event(update_id: int) -> object:
        return to_event(Update.de_json(server.updates[update_id]), BOT_USERNAME)

    in_group = ChatRef("telegram", str(GROUP_ID), ChatKind.GROUP, "Buurt Middelland")
    as_fatima = Sender("telegram", "1001", "Fatima", "@fatima_r", "nl")

    asked = server.send_text(group, fatima, "/vraag@BuurtBot_Test_Bot boodschappen")
    assert event(asked) == Message(
        str(asked),
        in_group,
        as_fatima,
        "/vraag@BuurtBot_Test_Bot boodschappen",
        f"{GROUP_ID}:{server.message_id_of(asked)}",
    )
    private = server.send_text(fatima, fatima, "/start hallo")
    assert event(private) == Message(
        str(private),
        ChatRef("telegram", "1001", ChatKind.PRIVATE),
        as_fatima,
        "/start hallo",
        f"1001:{server.message_id_of(private)}",
    )
    assert event(server.send_text(group, fatima, "/vraag@another_bot boodschappen")) is None
    left = server.member_left(group, kees)
    assert event(left) == MemberLeft(
        str(left), in_group, Sender("telegram", "1002", "Kees", "@kees_b", "nl")
    )
    added = server.bot_added(group, fatima)
    assert event(added) == BotAdded(str(added), in_group, as_fatima)
    assert event(added + 1) is None  # the "joined" service message that comes with it
    assert event(server.bot_removed(group, fatima)) is None


def test_a_text_too_long_for_telegram_is_cut_to_fit() -> None:
    assert fit("Hallo", 5) == "Hallo"
    assert fit("Hallo buren", 8) == "Hallo b…"
    emoji = "😀" * 3000  # two UTF-16 code units each, as Telegram counts them
    cut = fit(emoji, 4096)
    assert len(cut.encode("utf-16-le")) // 2 <= 4096
    assert cut == "😀" * 2047 + "…"


async def test_an_update_is_confirmed_only_once_it_was_handled(
    server: BotApiServer, buurtbot: Buurtbot, kees: User, tmp_path: Path
) -> None:
    """So that a crash between fetching and handling loses nothing: Telegram keeps
    sending an update until a later ``getUpdates`` confirms it."""
    import sqlite3

    async with buurtbot.running():
        # hold the database's write lock, as a slow disk or a long transaction would
        blocker = sqlite3.connect(
            tmp_path / "bot.db", isolation_level=None, timeout=5, check_same_thread=False
        )
        await asyncio.to_thread(blocker.execute, "BEGIN IMMEDIATE")  # the loop keeps going
        try:
            update_id = server.send_text(kees, kees, "/hulp")

            def fetched() -> bool:
                return any(
                    isinstance(record.response, dict)
                    and any(
                        isinstance(item, dict) and item.get("update_id") == update_id
                        for item in record.response.get("result") or []
                    )
                    for record in server.calls("getUpdates")
                )

            await server.wait_for(fetched, what="the update to be fetched")
            await asyncio.sleep(0.3)  # time enough to confirm it, if the adapter were to
            assert server.is_pending(update_id)
        finally:
            blocker.rollback()
            blocker.close()
        await server.wait_sent(1, chat_id=kees.id)
        await server.wait_for(lambda: not server.is_pending(update_id), what="the confirmation")


async def test_health_knows_whether_telegram_is_reachable(
    server: BotApiServer, buurtbot: Buurtbot, kees: User
) -> None:
    async with buurtbot.running() as runtime:
        state = runtime.health.channels["telegram"]
        server.send_text(kees, kees, "/hulp")  # a poll that brings something back
        await server.wait_sent(1, chat_id=kees.id)
        assert state.connected is True and state.last_ok is not None
        server.fail_next(1, kind="drop", method="getUpdates")
        server.send_text(kees, kees, "/hulp")
        await server.wait_for(lambda: state.connected is False, what="the channel reported down")
        await server.wait_sent(2, chat_id=kees.id)  # and it recovers by itself
        server.send_text(kees, kees, "/hulp")  # the next poll that comes back says so
        await server.wait_sent(3, chat_id=kees.id)
        assert state.connected is True


# --- anonymous means anonymous ----------------------------------------------------------------


async def test_the_group_reads_placeholders_and_the_helper_gets_the_whole_request(
    server: BotApiServer, buurtbot: Buurtbot, fatima: User, kees: User, group: Chat
) -> None:
    details = "insuline ophalen, ik woon Kerklaan 12, bel 0612345678"
    masked = "[gezondheid] ophalen, ik woon [adres], bel [telefoon]"

    async def to_fatima(start: str) -> Sent:
        """The bot's message to Fatima that begins so, once it is there."""
        found: list[Sent] = []

        def there() -> bool:
            found[:] = [s for s in server.sent_to(fatima) if (s.text or "").startswith(start)]
            return bool(found)

        await server.wait_for(there, what=f"a message to Fatima: {start}")
        return found[0]

    async with buurtbot.running() as runtime:
        server.bot_added(group, fatima)
        await nth(server, group, 1)
        server.send_text(
            group, fatima, f"/vraag@{BOT_USERNAME} boodschappen morgen 14:00 {details}"
        )
        await nth(server, group, 2)  # "ik ga verder in een privégesprek"
        await press(runtime, server, fatima, await to_fatima("Welkom!"), "Ik doe mee")
        visibility = await to_fatima("Dit is je vraag")
        await press(runtime, server, fatima, visibility, "In de groep, zonder mijn naam")
        preview = await to_fatima("Zo zien de buren")
        assert preview.text is not None
        assert preview.text.startswith("Zo zien de buren die ik vraag je vraag")
        assert f"Een buur vraagt om hulp:\nBoodschappen, morgen (di 24 nov) om 14:00: {masked}" in (
            preview.text
        )
        assert len(server.sent_to(group)) == 2  # nothing in the group before she chose
        await press(runtime, server, fatima, preview, "Zo plaatsen")
        post = await nth(server, group, 3)
        assert post.text == (
            "Een buur vraagt om hulp:\n"
            f"Boodschappen, morgen (di 24 nov) om 14:00: {masked}\n"
            "Kun jij helpen?"
        )
        ref = message_ref_of(post.chat_id, post.message_id)
        async with asyncio.timeout(10):
            while not await runtime.bot.buttons_of("telegram", ref):
                await asyncio.sleep(0.005)
        data = server.message(group, post.message_id).callback_data("Ik help")
        server.press(group, kees, post.message_id, data)
        await press(runtime, server, kees, await nth(server, kees, 1), "Ik doe mee")
        helping = await nth(server, kees, 2)
        assert helping.text is not None and helping.text.startswith("Dank je wel! Je helpt Fatima")
        assert details in helping.text
    assert all(details not in (sent.text or "") for sent in server.sent_to(group))


# --- plain sentences in the group ---------------------------------------------------------


async def test_a_question_for_help_in_the_group_is_asked_about_privately(
    server: BotApiServer, buurtbot: Buurtbot, fatima: User, kees: User, group: Chat
) -> None:
    """An administrator bot reads every group message: chatter is left alone, and a plain
    question for help is taken up with its writer only, privately."""
    group.bot_can_delete = True  # an administrator: out of privacy mode
    async with buurtbot.running() as runtime:
        server.bot_added(group, fatima)
        welcome = await nth(server, group, 1)
        server.send_text(group, kees, "Goedemorgen allemaal, wat een weer!")
        asked = server.send_text(group, fatima, "Wie kan mij morgen helpen met boodschappen?")
        noticed = await nth(server, fatima, 1)
        assert noticed.text is not None and noticed.text.startswith("Je schreef in de groep")
        assert "Alleen jij ziet dit bericht." in noticed.text
        await press(runtime, server, fatima, noticed, "Ja, graag")
        rules = await nth(server, fatima, 2)
        await press(runtime, server, fatima, rules, "Ik doe mee")
        what = await nth(server, fatima, 3)
        assert what.text is not None and what.text.startswith("Wil je er iets over zeggen?")
        server.send_text(fatima, fatima, "melk en brood")
        visibility = await nth(server, fatima, 4)
        assert visibility.text is not None and visibility.text.startswith("Dit is je vraag")
        assert server.sent_to(kees) == []  # her message is nobody else's to act on

    # Nothing was said in the group, and her message stays where she wrote it.
    assert [sent.text for sent in server.sent_to(group)] == [welcome.text]
    assert (group.id, server.message_id_of(asked)) not in server.deleted_user_messages


@pytest.mark.parametrize(
    ("code", "said", "understood", "kind"),
    [
        (
            "tr",
            "Kim bana cumartesi alışverişte yardım edebilir?",
            "Anladığım şu:",
            "Tür: Alışveriş",
        ),
        (
            "ar",
            "هل يستطيع أحد أن يساعدني في التسوق يوم السبت؟",
            f"{RLM}هذا ما فهمته:",
            "النوع: التسوق",
        ),
    ],
)
async def test_a_new_member_is_answered_in_turkish_or_arabic_as_her_app_is(
    server: BotApiServer, buurtbot: Buurtbot, code: str, said: str, understood: str, kind: str
) -> None:
    ayse = server.user(1004, "Ayşe", "ayse_y", language_code=code)
    async with buurtbot.running():
        server.send_text(ayse, ayse, said)
        answer = await nth(server, ayse, 1)
    assert answer.text is not None and answer.text.startswith(understood)
    assert kind in answer.text
    assert "السبت 28 نوفمبر" in answer.text if code == "ar" else "Cumartesi 28 Kas" in answer.text


async def test_a_new_member_is_answered_in_the_language_of_her_app(
    server: BotApiServer, buurtbot: Buurtbot
) -> None:
    sam = server.user(1003, "Sam", "sam_k", language_code="en")
    async with buurtbot.running():
        server.send_text(sam, sam, "Can someone help me with my groceries on Saturday?")
        understood = await nth(server, sam, 1)
    assert understood.text is not None and understood.text.startswith("This is what I understood")
    assert "Kind: Shopping" in understood.text
