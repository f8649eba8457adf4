"""A database that cannot be used is not an answer; a channel that fails does not stop others.

Real parts throughout: python-telegram-bot against the Bot API server on localhost
(tests/botapi.py), a PostgreSQL server of the test's own that it stops and starts again
(tests/pgserver.py; the shared server is never touched), a SQLite file whose lock another
connection holds, and Synapse for Matrix. Each test asserts what residents received and
what /healthz and /metrics say.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy.exc import OperationalError

from adapters import service
from adapters.bootstrap import Runtime, bootstrap
from adapters.health import HandlingState, HealthServer, metrics_text, read_database
from adapters.matrix import NEXT_BATCH, run_matrix
from adapters.retry import jittered_backoff
from adapters.service import serve
from adapters.settings import Settings
from adapters.telegram import SECRET_HEADER
from bot.clock import FakeClock
from bot.errors import StoreUnavailable
from bot.types import ChatKind, ChatRef, Message, Sender
from storage.engine import make_engine
from storage.sql import SqlStore
from tests.botapi import BotApiServer, User
from tests.conftest import MONDAY_MORNING, make_transcript
from tests.pgserver import PostgresServer
from tests.test_matrix import CATALOG, FAST, Resident, nl
from tests.test_telegram import Buurtbot, free_port, settings_for

if TYPE_CHECKING:
    from tests.synapse import MatrixUsers, SynapseServer

pytest_plugins = ["tests.synapse"]

RESIDENTS = 30
OUTAGE_SECONDS = 6.0
LOCK_LONGEST = 25.0  # longer than SQLite's busy_timeout (10 s), so that a write gives up
HANG = 60.0


@pytest.fixture(autouse=True)
def retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer(time_scale=0.01) as server:
        yield server


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for this module's tests, which may stop and start it."""
    server = PostgresServer.create()
    with server:
        yield server


async def fresh_database(postgres: PostgresServer) -> str:
    """A new, empty database on ``postgres``; its URL."""
    name = f"buurtbot_{uuid.uuid4().hex[:12]}"
    admin = make_engine(postgres.url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        await admin.dispose()
    return postgres.url.rsplit("/", 1)[0] + f"/{name}"


def residents(server: BotApiServer, count: int) -> list[User]:
    return [server.user(5000 + n, f"Bewoner {n}", f"bewoner_{n}") for n in range(count)]


async def everyone_answered_once(server: BotApiServer, people: list[User], update_ids: list[int]):
    """Wait until each resident has an answer and every update is confirmed to Telegram;
    then a moment more, in which a second answer would show."""
    await server.wait_for(
        lambda: all(server.sent_to(person) for person in people),
        timeout=HANG,
        what="an answer for every resident",
    )
    for update_id in update_ids:
        await server.wait_confirmed(update_id, timeout=HANG)
    await asyncio.sleep(1.5)  # the outbox runs at least once more
    return {person.first_name: len(server.sent_to(person)) for person in people}


async def healthz(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
        return response.status, await response.json()


# --- PostgreSQL away during a burst ---------------------------------------------------------


async def test_a_burst_during_a_postgresql_outage_is_answered_once_when_it_returns(
    server: BotApiServer, postgres: PostgresServer, tmp_path: Path
) -> None:
    settings = settings_for(server, tmp_path, database_url=await fresh_database(postgres))
    buurtbot = Buurtbot(server, settings)
    people = residents(server, RESIDENTS)
    async with buurtbot.running() as runtime:
        update_ids = [server.send_text(p, p, "/start") for p in people[:10]]
        await asyncio.to_thread(postgres.stop)  # while the first ones are being handled
        try:
            update_ids += [server.send_text(p, p, "/start") for p in people[10:]]
            await asyncio.sleep(OUTAGE_SECONDS)
            handling = runtime.health.handling["telegram"]
            assert handling.paused and handling.problem is not None
            assert "cannot connect" in handling.problem
            db = await read_database(runtime.store, timeout=2)
            assert not db.reachable  # /healthz answers 503 "unavailable" meanwhile
        finally:
            await asyncio.to_thread(postgres.start)
        answers = await everyone_answered_once(server, people, update_ids)
        assert answers == {person.first_name: 1 for person in people}
        assert all((s.text or "").startswith("Hoi Bewoner") for s in server.sent)
        assert not runtime.health.handling["telegram"].paused
        metrics = metrics_text(runtime.health, await read_database(runtime.store))
        assert 'buurtbot_handling_paused{channel="telegram"} 0' in metrics
        failures = runtime.health.database_failures["telegram"]
        assert failures >= 1
        assert f'buurtbot_database_failures_total{{channel="telegram"}} {failures}' in metrics


async def test_the_webhook_answers_503_while_postgresql_is_away_and_then_handles_once(
    server: BotApiServer, postgres: PostgresServer, tmp_path: Path
) -> None:
    secret = "buurt-geheim_42"
    settings = settings_for(
        server,
        tmp_path,
        database_url=await fresh_database(postgres),
        telegram_webhook_url="https://buurt.example/telegram/hook",
        telegram_webhook_secret=secret,
        telegram_webhook_port=free_port(),
    )
    hook = f"http://127.0.0.1:{settings.telegram_webhook_port}/telegram/hook"
    people = residents(server, 3)
    updates = [server.updates[server.send_text(p, p, "/start")] for p in people]

    async with Buurtbot(server, settings).running() as runtime, aiohttp.ClientSession() as http:

        async def post(update: dict[str, object]) -> int:
            headers = {SECRET_HEADER: secret}
            async with http.post(hook, json=update, headers=headers) as response:
                return response.status

        await asyncio.to_thread(postgres.stop)
        try:
            assert [await post(update) for update in updates] == [503, 503, 503]
            assert runtime.health.handling["telegram"].paused
        finally:
            await asyncio.to_thread(postgres.start)
        # Telegram sends each again, some twice (a retry overtaking the first answer)
        assert [await post(update) for update in [*updates, updates[0]]] == [200] * 4
        await server.wait_for(
            lambda: all(server.sent_to(p) for p in people), timeout=HANG, what="the answers"
        )
        await asyncio.sleep(1.5)
        assert [len(server.sent_to(p)) for p in people] == [1, 1, 1]
        assert not runtime.health.handling["telegram"].paused
        assert runtime.health.database_failures["telegram"] == 3


# --- SQLite locked by another process -------------------------------------------------------


async def test_a_burst_while_another_process_locks_sqlite_is_answered_once(
    server: BotApiServer, buurtbot: Buurtbot, tmp_path: Path
) -> None:
    people = residents(server, 10)
    async with buurtbot.running() as runtime:
        health = HealthServer(runtime.health, runtime.store)
        await health.start()
        blocker = sqlite3.connect(
            tmp_path / "bot.db", isolation_level=None, timeout=5, check_same_thread=False
        )
        statuses: list[tuple[int, str]] = []
        try:
            await asyncio.to_thread(blocker.execute, "BEGIN EXCLUSIVE")
            update_ids = [server.send_text(p, p, "/start") for p in people]
            # Held until /healthz says handling waits for the database (longer than
            # busy_timeout, so a write gave up), and at most LOCK_LONGEST seconds.
            async with asyncio.timeout(LOCK_LONGEST):
                while not statuses or statuses[-1][1] != "degraded":
                    status, body = await healthz(health.url)
                    statuses.append((status, body["status"]))
                    await asyncio.sleep(0.05)
            for update_id in update_ids:
                assert server.is_pending(update_id)  # nothing confirmed to Telegram
        except TimeoutError:
            pass  # the lock is let go in any case; the answers below tell what was lost
        finally:
            blocker.rollback()
            blocker.close()
        try:
            answers = await everyone_answered_once(server, people, update_ids)
            status, body = await healthz(health.url)
        finally:
            await health.close()
    assert answers == {person.first_name: 1 for person in people}
    assert statuses[-1] == (200, "degraded")  # the database answers reads; writes wait
    assert (status, body["status"]) == (200, "ok")
    assert body["handling"]["telegram"]["paused"] is False
    assert body["handling"]["telegram"]["database_failures"] >= 1


@pytest.fixture
def buurtbot(server: BotApiServer, tmp_path: Path) -> Buurtbot:
    return Buurtbot(server, settings_for(server, tmp_path))


# --- Matrix: the sync token stays where it was --------------------------------------------


async def matrix_bot(synapse: SynapseServer) -> tuple[str, dict[str, object]]:
    account = await asyncio.to_thread(synapse.register, f"buurtbot-{secrets.token_hex(4)}")
    await asyncio.to_thread(synapse.override_ratelimit, account.user_id)
    return account.user_id, {
        "matrix_homeserver": synapse.base_url,
        "matrix_user": account.user_id,
        "matrix_password": SecretStr(account.password),
    }


async def test_matrix_does_not_move_its_sync_token_past_what_the_database_did_not_keep(
    synapse: SynapseServer, matrix: MatrixUsers, postgres: PostgresServer
) -> None:
    bot_id, matrix_settings = await matrix_bot(synapse)
    settings = Settings.model_validate(
        {"database_url": await fresh_database(postgres), **matrix_settings}
    )
    runtime = await bootstrap(settings, clock=FakeClock(MONDAY_MORNING))
    stop = asyncio.Event()
    task = asyncio.create_task(run_matrix(runtime, settings, stop, limits=FAST))

    def alive() -> None:
        if task.done():
            task.result()
            raise AssertionError("the Matrix channel stopped by itself")

    try:
        fatima = Resident(
            "Fatima", await matrix.client("fatima", rate_limited=False), bot_id, alive
        )
        dm = await fatima.open_direct_room()
        await fatima.say(dm, "!help")
        await fatima.expect(nl("help.short"), room=dm)
        token_before = await runtime.bot.cursor(NEXT_BATCH)

        await asyncio.to_thread(postgres.stop)
        try:
            await fatima.say(dm, "!help")  # synced while the database is away
            async with asyncio.timeout(HANG):
                while not runtime.health.handling.get("matrix", HandlingState()).paused:
                    alive()
                    await asyncio.sleep(0.05)
        finally:
            await asyncio.to_thread(postgres.start)
        await fatima.expect(nl("help.short"), room=dm)
        await fatima.say(dm, "!help")  # one more, so that a late second answer would show
        await fatima.expect(nl("help.short"), room=dm)
        await asyncio.sleep(1.0)
        assert sum(nl("help.short") in notice.body for notice in fatima.notices) == 3
        assert await runtime.bot.cursor(NEXT_BATCH) != token_before
        assert not runtime.health.handling["matrix"].paused
        assert runtime.health.database_failures["matrix"] >= 1
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=HANG)
        await runtime.close()


# --- channels independent -------------------------------------------------------------------


async def test_telegram_unreachable_at_start_is_retried_while_matrix_serves(
    synapse: SynapseServer,
    matrix: MatrixUsers,
    server: BotApiServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service, "RESTART_FIRST", 0.2, raising=False)
    monkeypatch.setattr(service, "RESTART_LONGEST", 1.0, raising=False)
    bot_id, matrix_settings = await matrix_bot(synapse)
    settings = settings_for(server, tmp_path, health_port=0, **matrix_settings)
    server.fail_next(1_000_000, kind="drop", method="getMe")  # Telegram cannot be reached
    stop = asyncio.Event()
    ready: list[tuple[Runtime, HealthServer | None]] = []
    serving = asyncio.create_task(
        serve(settings, stop, on_ready=lambda runtime, health: ready.append((runtime, health)))
    )

    def alive() -> None:
        if serving.done():
            serving.result()
            raise AssertionError("the service stopped by itself")

    try:
        async with asyncio.timeout(HANG):
            while not ready:
                alive()
                await asyncio.sleep(0.05)
        runtime, health = ready[0]
        assert health is not None
        telegram = runtime.health.channels["telegram"]
        await server.wait_for(
            lambda: len(server.calls("getMe")) >= 2, timeout=HANG, what="Telegram tried again"
        )
        assert telegram.connected is False and telegram.problem is not None
        assert "NetworkError" in telegram.problem

        # Matrix serves meanwhile
        fatima = Resident(
            "Fatima", await matrix.client("fatima", rate_limited=False), bot_id, alive
        )
        dm = await fatima.open_direct_room()
        await fatima.say(dm, "!help")
        await fatima.expect(nl("help.short"), room=dm)
        status, body = await healthz(health.url)
        assert (status, body["status"]) == (200, "degraded")
        assert body["channels"]["telegram"]["connected"] is False
        assert "NetworkError" in body["channels"]["telegram"]["problem"]
        assert body["channels"]["matrix"]["connected"] is True

        # Telegram is back: it is started again and answers
        server.clear_faults()
        kees = server.user(2002, "Kees", "kees_b")
        server.send_text(kees, kees, "/start")
        [hello] = await server.wait_sent(1, chat_id=kees.id, timeout=HANG)
        assert (hello.text or "").startswith("Hoi Kees!")
        await server.wait_for(lambda: telegram.connected is True, timeout=HANG, what="ok")
        status, body = await healthz(health.url)
        assert (status, body["status"]) == (200, "ok")
    finally:
        stop.set()
        await asyncio.wait_for(serving, timeout=HANG)


# --- the console ----------------------------------------------------------------------------


async def test_the_console_keeps_a_line_until_the_database_is_back(
    postgres: PostgresServer,
) -> None:
    chat = await make_transcript(await fresh_database(postgres))
    try:
        await asyncio.to_thread(postgres.stop)
        try:
            typing = asyncio.create_task(chat.say("fatima (dm): /start"))
            note = "! " + CATALOG.text("nl", "console.database_away")
            async with asyncio.timeout(HANG):
                while note not in chat.lines:
                    assert not typing.done() or typing.result() is None
                    await asyncio.sleep(0.05)
        finally:
            await asyncio.to_thread(postgres.start)
        answer = await asyncio.wait_for(typing, HANG)
        assert answer[0] == note
        assert len(chat.to("fatima")) == 1
        assert chat.to("fatima")[0].startswith("Hoi Fatima!")
    finally:
        await chat.runtime.close()


# --- what counts as an outage ---------------------------------------------------------------


async def test_a_mistake_in_a_query_is_a_bug_not_an_outage(tmp_path: Path) -> None:
    """Only a database that cannot be used is tried again; a query that can never work is
    a bug, answered with the general error text, or it would be tried for ever."""
    store = await SqlStore.open(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        with pytest.raises(OperationalError) as raised:
            async with store.transaction() as tx:
                await tx.conn.exec_driver_sql("SELECT * FROM nowhere")
        assert not isinstance(raised.value, StoreUnavailable)
        assert "no such table" in str(raised.value)
    finally:
        await store.close()


@pytest.mark.parametrize(
    "error",
    [TimeoutError("the shop did not answer"), ConnectionRefusedError(111, "Connection refused")],
    ids=["timeout", "connection refused"],
)
async def test_a_timeout_in_a_handler_is_a_bug_answered_once_not_an_outage(
    tmp_path: Path, error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler's own ``TimeoutError`` or ``OSError`` (not the database's) is answered
    with the general error text and counts as handled: were it taken for an outage, the
    update would never be acknowledged and would come again for ever."""
    transcript = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}")
    bot = transcript.runtime.bot
    try:

        @bot.registry.command("traag", help="help.help", listed=False)
        async def slow(ctx: object, args: str) -> None:
            raise error

        chat = ChatRef("console", "fatima", ChatKind.PRIVATE)
        sender = Sender("console", "fatima", "Fatima", handle="@fatima")
        said = Message("slow-1", chat, sender, "/traag")
        await bot.handle(said)  # returns: the update may be acknowledged
        await bot.handle(said)  # and when it comes once more, it is not handled again
        while await transcript.session.sender.drain():
            pass
        assert transcript.to("fatima") == [CATALOG.text("nl", "error.internal")]
        assert any(
            r.levelname == "ERROR" and "handling event slow-1" in r.getMessage()
            for r in caplog.records
        )
    finally:
        await transcript.runtime.close()


async def test_a_database_locked_by_another_process_is_still_an_outage(tmp_path: Path) -> None:
    """The other side: what the database itself cannot do is not answered, and not kept."""
    transcript = await make_transcript(f"sqlite:///{tmp_path / 'bot.db'}")
    bot = transcript.runtime.bot
    blocker = sqlite3.connect(tmp_path / "bot.db", isolation_level=None, timeout=5)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        chat = ChatRef("console", "fatima", ChatKind.PRIVATE)
        sender = Sender("console", "fatima", "Fatima", handle="@fatima")
        with pytest.raises(StoreUnavailable):
            await bot.handle(Message("locked-1", chat, sender, "/help"))
        blocker.rollback()
        await bot.handle(Message("locked-1", chat, sender, "/help"))
        while await transcript.session.sender.drain():
            pass
        assert len(transcript.to("fatima")) == 1
    finally:
        blocker.close()
        await transcript.runtime.close()


def test_pauses_grow_with_jitter_up_to_the_longest() -> None:
    assert jittered_backoff(1, rng=lambda: 0.0) == 0.25
    assert jittered_backoff(1, rng=lambda: 1.0) == 0.5
    assert jittered_backoff(4, rng=lambda: 0.0) == 2.0
    assert jittered_backoff(4, rng=lambda: 1.0) == 4.0
    assert jittered_backoff(1000, rng=lambda: 1.0) == 30.0
    assert jittered_backoff(1000, rng=lambda: 0.0) == 15.0
