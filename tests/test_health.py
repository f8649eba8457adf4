"""Health checks, metrics and logs, over real HTTP, on real databases and processes."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters import service
from adapters.bootstrap import Runtime
from adapters.health import Health, HealthServer, MetricsHandler
from adapters.logs import REDACTED, configure_logging, secrets_of
from adapters.service import serve
from adapters.settings import Settings
from bot.clock import FakeClock
from bot.types import ChatKind
from storage.engine import make_engine
from storage.sql import SqlStore
from tests.conftest import MONDAY_MORNING, Transcript, make_transcript
from tests.test_ops import HANG, clean_env, fill, sqlite_url, start_buurtbot

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


# --- helpers ------------------------------------------------------------------------------------
async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


async def get_json(url: str) -> tuple[int, dict[str, Any]]:
    status, _, body = await get(url)
    return status, json.loads(body)


SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Prometheus text -> {(name, labels): value}; checked with prometheus_client when there."""
    try:
        from prometheus_client.parser import text_string_to_metric_families

        list(text_string_to_metric_families(text))  # raises on a malformed exposition
    except ImportError:
        pass
    found = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match["labels"] or ""))
        found[(match["name"], labels)] = float(match["value"])
    return found


def sample(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found[(name, frozenset(labels.items()))]


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Transcript]:
    """A bot on SQLite whose handled events and errors are counted by its ``Health``."""
    transcript = await make_transcript(sqlite_url(tmp_path / "bot.db"))
    transcript.runtime.health = Health(clock=transcript.clock)
    handler = MetricsHandler(transcript.runtime.health)
    handler.install()
    try:
        yield transcript
    finally:
        handler.uninstall()
        await transcript.runtime.close()


@pytest.fixture
async def server(bot: Transcript) -> AsyncIterator[HealthServer]:
    runtime = bot.runtime
    health_server = HealthServer(runtime.health, runtime.store, port=0, senders=runtime.senders)
    await health_server.start()
    try:
        yield health_server
    finally:
        await health_server.close()


@dataclass
class Facts:
    requests: dict[str, int]  # open and matched help requests
    events: int  # console events handled
    sent: int  # console messages delivered


async def database_facts(runtime: Runtime) -> Facts:
    """What the database says, to hold /healthz and /metrics against."""
    async with runtime.store.engine.connect() as conn:
        rows = await conn.exec_driver_sql(
            "SELECT status, count(*) FROM help_request GROUP BY status"
        )
        statuses = {status: count for status, count in rows}
        events = await conn.exec_driver_sql("SELECT count(*) FROM inbox WHERE platform = 'console'")
        sent = await conn.exec_driver_sql(
            "SELECT count(*) FROM outbox WHERE platform = 'console' AND status = 'sent'"
        )
        return Facts(
            {status: statuses.get(status, 0) for status in ("open", "matched")},
            int(events.scalar_one()),
            int(sent.scalar_one()),
        )


async def queue_for_telegram(runtime: Runtime, count: int) -> None:
    """Answers waiting for a platform that is not connected."""
    async with runtime.store.transaction() as tx:
        for i in range(count):
            await tx.enqueue(
                platform="telegram",
                chat_id=str(1000 + i),
                kind=ChatKind.PRIVATE,
                member_id=None,
                text="Hallo",
                buttons=(),
                edit_of=None,
                attachment=None,
                now=runtime.clock.now(),
            )


# --- /healthz -----------------------------------------------------------------------------------
async def test_healthz_reports_database_channels_outbox_and_requests(
    bot: Transcript, server: HealthServer
) -> None:
    await fill(bot)
    async with bot.runtime.store.transaction() as tx:  # one request open again, as if new
        await tx.conn.exec_driver_sql(
            "UPDATE help_request SET status = 'open' WHERE id = (SELECT min(id) FROM help_request)"
        )
    facts = await database_facts(bot.runtime)
    await queue_for_telegram(bot.runtime, 3)
    health = bot.runtime.health
    health.expect_channel("matrix")
    health.channel_ok("telegram")
    bot.clock.advance(timedelta(minutes=2))

    status, body = await get_json(f"{server.url}/healthz")

    assert status == 200
    assert body["status"] == "ok"  # matrix has not reported yet: not a problem in itself
    assert body["database"] == {"reachable": True, "problem": None}
    assert body["channels"]["telegram"]["connected"] is True
    assert body["channels"]["telegram"]["seconds_since_ok"] == 120.0
    assert body["channels"]["matrix"] == {
        "connected": None,
        "last_ok": None,
        "seconds_since_ok": None,
        "problem": None,
    }
    assert body["outbox"]["telegram"]["pending"] == 3
    assert body["outbox"]["telegram"]["oldest_pending_seconds"] == 120.0
    assert body["outbox"]["console"]["pending"] == 0  # the console delivered everything
    assert body["requests"] == facts.requests
    assert facts.requests["open"] >= 1
    assert body["events_handled"] == facts.events
    assert body["messages_sent"]["console"] == facts.sent

    health.channel_ok("matrix")
    health.channel_down("telegram", "Bot API: 502 Bad Gateway")
    status, body = await get_json(f"{server.url}/healthz")
    assert status == 200 and body["status"] == "degraded"
    assert body["channels"]["telegram"]["connected"] is False
    assert body["channels"]["telegram"]["problem"] == "Bot API: 502 Bad Gateway"
    assert body["channels"]["telegram"]["seconds_since_ok"] == 120.0  # the last good one
    health.channel_ok("telegram")
    status, body = await get_json(f"{server.url}/healthz")
    assert (status, body["status"]) == (200, "ok")


async def test_healthz_is_503_when_the_database_cannot_be_reached() -> None:
    store = SqlStore(make_engine("postgresql://buurtbot@127.0.0.1:1/buurtbot"))
    health = Health()
    health.channel_ok("telegram")
    server = HealthServer(health, store, port=0)
    await server.start()
    try:
        status, body = await get_json(f"{server.url}/healthz")
        metrics_status, _, metrics = await get(f"{server.url}/metrics")
    finally:
        await server.close()
        await store.close()

    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"]["reachable"] is False
    assert "Connect" in body["database"]["problem"] or "refused" in body["database"]["problem"]
    assert body["outbox"] is None
    assert metrics_status == 200  # the scrape itself works; it says the database is down
    assert sample(samples(metrics), "buurtbot_database_up") == 0


# --- /metrics -----------------------------------------------------------------------------------
async def test_metrics_count_messages_errors_queues_and_requests(
    bot: Transcript, server: HealthServer
) -> None:
    await fill(bot)
    await bot.say("piet: /onzin")  # an unknown command: refused, with a friendly answer
    facts = await database_facts(bot.runtime)
    await queue_for_telegram(bot.runtime, 2)
    logging.getLogger("buurtbot.outbox").error("outbox row 7 refused: chat not found")

    status, content_type, text = await get(f"{server.url}/metrics")

    assert status == 200
    assert content_type.startswith("text/plain") and "version=0.0.4" in content_type
    found = samples(text)
    assert sample(found, "buurtbot_database_up") == 1
    by_outcome = {
        dict(labels)["outcome"]: value
        for (name, labels), value in found.items()
        if name == "buurtbot_events_total"
    }
    assert sum(by_outcome.values()) == facts.events
    assert by_outcome["ok"] > 0 and by_outcome["refused"] >= 1
    assert sample(found, "buurtbot_event_duration_seconds_count", platform="console") == (
        facts.events
    )
    assert sample(found, "buurtbot_event_duration_seconds_sum", platform="console") > 0
    assert sample(found, "buurtbot_messages_sent_total", platform="console") == facts.sent
    assert sample(found, "buurtbot_errors_total", source="buurtbot.outbox") == 1
    assert sample(found, "buurtbot_outbox_messages", platform="telegram", status="pending") == 2
    assert sample(found, "buurtbot_help_requests", status="matched") == facts.requests["matched"]
    assert sample(found, "buurtbot_help_requests", status="open") == facts.requests["open"]
    assert "melk" not in text and "Fatima" not in text


# --- serve: the health server, signals and shutdown ---------------------------------------------
async def test_serve_without_platforms_answers_health_and_stops(tmp_path: Path) -> None:
    settings = Settings(database_url=sqlite_url(tmp_path / "bot.db"), health_port=0)
    stop = asyncio.Event()
    ready: list[str] = []

    def on_ready(runtime: Runtime, server: HealthServer | None) -> None:
        assert server is not None
        ready.append(server.url)

    serving = asyncio.create_task(serve(settings, stop, platforms=[], on_ready=on_ready))
    async with asyncio.timeout(HANG):
        while not ready:
            await asyncio.sleep(0.01)
    status, body = await get_json(f"{ready[0]}/healthz")
    stop.set()
    clean = await asyncio.wait_for(serving, HANG)

    assert (status, body["status"], body["channels"]) == (200, "ok", {})
    assert clean is True
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(f"{ready[0]}/healthz")  # closed on the way out


async def test_serve_cancels_a_platform_that_does_not_stop(tmp_path: Path) -> None:
    settings = Settings(database_url=sqlite_url(tmp_path / "bot.db"))
    stop = asyncio.Event()
    cancelled: list[bool] = []
    finished: list[str] = []

    async def stubborn(runtime: Runtime, settings: Settings, stop: asyncio.Event) -> None:
        try:
            await asyncio.Event().wait()  # never looks at stop
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def polite(runtime: Runtime, settings: Settings, stop: asyncio.Event) -> None:
        await stop.wait()
        finished.append("polite")

    stopping = asyncio.get_running_loop().call_soon(stop.set)
    clean = await serve(settings, stop, platforms=[stubborn, polite], grace=0.05)
    stopping.cancel()

    assert clean is True and cancelled == [True]
    assert finished == ["polite"]


async def test_a_failing_channel_is_started_again_while_the_others_keep_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "RESTART_FIRST", 0.02)
    settings = Settings(database_url=sqlite_url(tmp_path / "bot.db"))
    stop = asyncio.Event()
    tries: list[int] = []
    serving_politely = asyncio.Event()
    runtimes: list[Runtime] = []

    async def run_broken(runtime: Runtime, settings: Settings, stop: asyncio.Event) -> None:
        tries.append(1)
        raise RuntimeError("cannot reach the platform")

    async def run_polite(runtime: Runtime, settings: Settings, stop: asyncio.Event) -> None:
        serving_politely.set()
        await stop.wait()

    serving = asyncio.create_task(
        serve(
            settings,
            stop,
            platforms=[run_broken, run_polite],
            grace=0.05,
            on_ready=lambda runtime, _: runtimes.append(runtime),
        )
    )
    async with asyncio.timeout(HANG):
        while len(tries) < 3:
            await asyncio.sleep(0.01)
    assert not serving.done() and serving_politely.is_set()
    state = runtimes[0].health.channels["broken"]
    assert state.connected is False
    assert state.problem == "RuntimeError: cannot reach the platform"
    stop.set()
    failed = await asyncio.wait_for(serving, HANG)
    assert failed is False  # the broken channel was still failing when we stopped


async def test_a_channel_without_configuration_is_not_started_again(tmp_path: Path) -> None:
    settings = Settings(database_url=sqlite_url(tmp_path / "bot.db"))
    tries: list[int] = []

    async def run_unconfigured(runtime: Runtime, settings: Settings, stop: asyncio.Event) -> None:
        tries.append(1)
        raise ValueError("BUURTBOT_TELEGRAM_TOKEN is not set")

    failed = await asyncio.wait_for(
        serve(settings, asyncio.Event(), platforms=[run_unconfigured], grace=0.05), HANG
    )
    assert failed is False and tries == [1]  # and with no channel left, the service stops


SERVE = """
import asyncio, sys
from adapters.logs import configure_logging
from adapters import service
from adapters.service import serve
from adapters.settings import load_settings

settings = load_settings()
configure_logging("INFO", json_lines=settings.log_json)
sys.exit(0 if asyncio.run(serve(settings, platforms=[])) else 1)
"""


async def test_sigterm_stops_serve_with_no_platforms(tmp_path: Path) -> None:
    """The service itself, in a process of its own: health on a free port, then SIGTERM."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVE,
        cwd=tmp_path,
        env=clean_env(
            BUURTBOT_DATABASE_URL=sqlite_url(tmp_path / "bot.db"),
            BUURTBOT_HEALTH_PORT="0",
            BUURTBOT_LOG_JSON="true",
        ),
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    url = None
    async with asyncio.timeout(HANG):
        while url is None:
            entry = json.loads(await process.stderr.readline())
            if found := re.search(r"(http://\S+)/healthz", entry["message"]):
                url = found[1]
    status, body = await get_json(f"{url}/healthz")
    process.send_signal(signal.SIGTERM)
    _, rest = await asyncio.wait_for(process.communicate(), HANG)
    messages = [json.loads(line)["message"] for line in rest.decode().splitlines()]

    assert (status, body["database"]["reachable"]) == (200, True)
    assert process.returncode == 0
    assert "SIGTERM received: finishing the current work, then stopping" in messages
    assert messages[-1] == "stopped"


# --- logs ---------------------------------------------------------------------------------------
@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Somewhere for ``configure_logging`` to write; the logging set-up is put back after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("buurtbot.events").level)
    try:
        yield io.StringIO()
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        logging.getLogger("buurtbot.events").setLevel(saved[2])


async def test_one_json_line_per_event_with_id_and_duration_and_no_personal_text(
    tmp_path: Path, log_output: io.StringIO
) -> None:
    configure_logging("INFO", json_lines=True, stream=log_output)
    transcript = await make_transcript(sqlite_url(tmp_path / "bot.db"))
    try:
        await transcript.say(
            "fatima: /vraag boodschappen morgen 14:00 melk en brood voor Fatima de Vries",
            "kees (dm): hallo, ik ben Kees van nummer 12",
        )
        await transcript.say("fatima: /vraag boodschappen morgen 14:00 melk en brood")
    finally:
        await transcript.runtime.close()

    entries = [json.loads(line) for line in log_output.getvalue().splitlines()]
    events = [e for e in entries if e["logger"] == "buurtbot.events"]
    assert len(events) >= 3
    assert [e["event_id"] for e in events] == [f"r1-{i + 1}" for i in range(len(events))]
    for entry in events:
        assert entry["platform"] == "console"
        assert entry["outcome"] in ("ok", "refused")
        assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] > 0
        assert entry["level"] == "INFO" and entry["time"].endswith("+00:00")
        assert entry["event_kind"] in ("Message", "ButtonPress")
    everything = log_output.getvalue()
    for personal in ("melk", "brood", "Vries", "hallo", "nummer 12", "Fatima", "Kees"):
        assert personal not in everything


def test_tokens_and_secrets_are_redacted_everywhere(log_output: io.StringIO) -> None:
    settings = Settings(
        database_url="postgresql://buurtbot:pg-wachtwoord@db/buurtbot",
        telegram_token=TOKEN,  # type: ignore[arg-type]
        matrix_homeserver="https://matrix.example.org",
        matrix_user="@buurtbot:example.org",
        matrix_access_token="syt_geheime_matrix_sleutel",  # type: ignore[arg-type]
    )
    configure_logging("DEBUG", secrets=secrets_of(settings), stream=log_output)
    log = logging.getLogger("buurtbot.test")
    other_token = "987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"

    log.info("POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
    log.warning("some other bot: %s", other_token)
    log.info("connecting to %s", settings.database_url)
    log.info("extra", extra={"url": "https://x/syt_geheime_matrix_sleutel"})
    try:
        raise RuntimeError(f"login failed with syt_geheime_matrix_sleutel and bot{TOKEN}")
    except RuntimeError:
        log.exception("Matrix login failed")
    log.info("broken format %s %s", "one")  # a bug in a log call still writes a line

    text = log_output.getvalue()
    for secret in (TOKEN, other_token, "pg-wachtwoord", "syt_geheime_matrix_sleutel"):
        assert secret not in text
    assert text.count(REDACTED) >= 6
    assert "Traceback" in text and "RuntimeError: login failed with [redacted]" in text
    assert "broken format" in text


async def test_telegram_run_logs_json_without_the_token_and_counts_metrics(
    tmp_path: Path,
) -> None:
    """``buurtbot run`` on Telegram at DEBUG with JSON logs: every line is JSON, the token
    is nowhere, each update has its line, and /metrics counts what came in and went out."""
    pytest.importorskip("adapters.telegram", reason="the Telegram adapter is not there yet")
    from tests.botapi import BotApiServer

    async with BotApiServer() as api:
        people = [api.user(7000 + i, f"Buur{i}", f"buur{i}") for i in range(5)]
        bot = await start_buurtbot(
            "run",
            cwd=tmp_path,
            BUURTBOT_DATABASE_URL=sqlite_url(tmp_path / "bot.db"),
            BUURTBOT_TELEGRAM_TOKEN=api.token,
            BUURTBOT_TELEGRAM_BASE_URL=api.base_url,
            BUURTBOT_LOG_LEVEL="DEBUG",
            BUURTBOT_LOG_JSON="true",
            BUURTBOT_HEALTH_PORT="0",
        )
        assert bot.stderr is not None
        stderr = bot.stderr
        lines: list[str] = []

        async def read_logs() -> None:  # all along: a full pipe would stop the bot
            while line := await stderr.readline():
                lines.append(line.decode())

        reading = asyncio.create_task(read_logs())
        url = None
        async with asyncio.timeout(HANG):
            while url is None:
                await asyncio.sleep(0.01)
                for line in lines:
                    if found := re.search(r"(http://[\d.:]+)/healthz", line):
                        url = found[1]
        await api.wait_for(lambda: bool(api.calls("getUpdates")), HANG, "polling")
        for person in people:
            api.send_text(person, person, "/aanbod boodschappen ma-vr middag")
        await api.wait_for(lambda: all(api.sent_to(p) for p in people), HANG, "answers")
        _, _, metrics = await get(f"{url}/metrics")
        _, health = await get_json(f"{url}/healthz")
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.wait(), HANG)
        await reading

    assert bot.returncode == 0
    entries = [json.loads(line) for line in lines if line.strip()]
    everything = "".join(lines)
    assert api.token not in everything
    assert api.token.split(":", 1)[1] not in everything
    events = [e for e in entries if e["logger"] == "buurtbot.events"]
    assert len(events) == len(people)
    assert all(e["platform"] == "telegram" and e["outcome"] == "ok" for e in events)
    found = samples(metrics)
    assert sample(found, "buurtbot_events_total", platform="telegram", outcome="ok") == 5
    assert sample(found, "buurtbot_messages_sent_total", platform="telegram") >= 5
    assert health["database"]["reachable"] is True
    assert "telegram" in health["channels"]


def test_console_clock_is_used_for_ages(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY_MORNING)
    health = Health(clock=clock)
    health.channel_ok("matrix")
    clock.advance(timedelta(seconds=90))
    from adapters.health import DatabaseState, health_report

    status, body = health_report(health, DatabaseState(reachable=True))
    assert status == 200
    assert body["channels"]["matrix"]["seconds_since_ok"] == 90.0
    assert body["uptime_seconds"] == 90.0
