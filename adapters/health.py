"""Health and metrics: what the running bot knows about itself, over HTTP if wanted.

``Health`` is a small in-process object (one per process, on ``Runtime.health``). Adapters
tell it how their connection is doing::

    runtime.health.channel_ok("telegram")              # after every good poll or sync
    runtime.health.channel_down("telegram", "timeout") # when the platform cannot be reached
    runtime.health.handling_paused("telegram", reason) # an update waits: the database failed
    runtime.health.handling_resumed("telegram")        # updates are handled again

The core never talks to it: the one log line per handled event (``buurtbot.events``) and
every logged error are counted by ``MetricsHandler``. The outbox backlog and the number of
open and matched requests are read from the database when asked.

With ``health_port`` set, ``HealthServer`` answers on ``health_host`` (127.0.0.1 unless
configured otherwise):

- ``GET /healthz``: JSON; 200 when the database answers (``status`` "ok", or "degraded"
  when a channel reported trouble or waits for the database before it handles its next
  update), 503 when it does not (``status`` "unavailable"). A configured channel that has
  not reported yet shows ``"connected": null``.
- ``GET /metrics``: the Prometheus text format (version 0.0.4).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlmodel import SQLModel

from adapters.logs import EVENTS_LOGGER
from adapters.serving import AppServer
from bot.clock import Clock, SystemClock
from storage.engine import reading
from storage.sql import SqlStore

if TYPE_CHECKING:
    from aiohttp import web

    from bot.outbox import OutboxSender

log = logging.getLogger("buurtbot.health")

OUTBOX_STATES = ("pending", "waiting", "failed")
REQUEST_STATES = ("open", "matched")
DATABASE_TIMEOUT = 5.0
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class ChannelState:
    connected: bool | None = None  # None: the adapter has not reported yet
    last_ok: datetime | None = None
    problem: str | None = None


@dataclass
class HandlingState:
    """Whether a channel's updates wait because the database could not be used."""

    paused: bool = False
    since: datetime | None = None  # when the first update of this pause failed
    problem: str | None = None


@dataclass
class Health:
    """What adapters and the log report while the bot runs; read by /healthz and /metrics."""

    clock: Clock = field(default_factory=SystemClock)
    channels: dict[str, ChannelState] = field(default_factory=dict)
    # (platform, outcome) -> events; outcome: ok, duplicate, refused, error, cancelled,
    # unavailable (the database could not be used: not acknowledged, handled again later)
    events: Counter[tuple[str, str]] = field(default_factory=Counter)
    event_seconds: dict[str, float] = field(default_factory=dict)  # platform -> seconds
    errors: Counter[str] = field(default_factory=Counter)  # logger name -> error records
    handling: dict[str, HandlingState] = field(default_factory=dict)
    # channel -> times an update was left unacknowledged because the database failed
    database_failures: Counter[str] = field(default_factory=Counter)
    started_at: datetime | None = None
    # Whether this process leads those on one PostgreSQL database; None: no leader needed
    leading: bool | None = None

    def __post_init__(self) -> None:
        self.started_at = self.started_at or self.clock.now()

    # --- for adapters ---------------------------------------------------------------------
    def expect_channel(self, name: str) -> None:
        """Name a configured channel, so it is listed before its adapter reports."""
        self.channels.setdefault(name, ChannelState())

    def channel_ok(self, name: str) -> None:
        """The channel just polled or synced successfully."""
        state = self.channels.setdefault(name, ChannelState())
        state.connected, state.last_ok, state.problem = True, self.clock.now(), None

    def channel_down(self, name: str, problem: str) -> None:
        """The channel cannot reach its platform; ``problem`` is a short reason, no secrets."""
        state = self.channels.setdefault(name, ChannelState())
        state.connected, state.problem = False, problem[:200]

    def handling_paused(self, name: str, problem: str) -> None:
        """An update of ``name`` could not be handled because the database could not be used;
        it was not acknowledged and will be tried again."""
        state = self.handling.setdefault(name, HandlingState())
        if not state.paused:
            state.paused, state.since = True, self.clock.now()
        state.problem = problem[:200]
        self.database_failures[name] += 1

    def handling_resumed(self, name: str) -> None:
        """Updates of ``name`` are handled again."""
        state = self.handling.setdefault(name, HandlingState())
        state.paused, state.since, state.problem = False, None, None

    @property
    def degraded(self) -> bool:
        return any(state.connected is False for state in self.channels.values()) or any(
            state.paused for state in self.handling.values()
        )

    # --- fed by MetricsHandler ----------------------------------------------------------
    def event_handled(self, platform: str, outcome: str, seconds: float) -> None:
        self.events[(platform, outcome)] += 1
        self.event_seconds[platform] = self.event_seconds.get(platform, 0.0) + seconds

    def error_logged(self, source: str) -> None:
        self.errors[source] += 1


class MetricsHandler(logging.Handler):
    """Counts handled events (from their log line) and error records, into ``Health``."""

    def __init__(self, health: Health) -> None:
        super().__init__(logging.NOTSET)
        self.health = health

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == EVENTS_LOGGER:
            outcome = getattr(record, "outcome", None)
            platform = getattr(record, "platform", None)
            duration = getattr(record, "duration_ms", 0.0)
            if isinstance(outcome, str) and isinstance(platform, str):
                self.health.event_handled(platform, outcome, float(duration) / 1000)
        if record.levelno >= logging.ERROR:
            self.health.error_logged(record.name)

    def install(self) -> None:
        """Listen to every record (events from ``buurtbot.events`` even when not printed)."""
        logging.getLogger().addHandler(self)
        events = logging.getLogger(EVENTS_LOGGER)
        if events.getEffectiveLevel() > logging.INFO:
            events.setLevel(logging.INFO)

    def uninstall(self) -> None:
        logging.getLogger().removeHandler(self)


@dataclass
class DatabaseState:
    reachable: bool
    problem: str | None = None
    # platform -> status -> rows
    outbox: dict[str, dict[str, int]] = field(default_factory=dict)
    oldest_pending: dict[str, datetime] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)


async def read_database(store: SqlStore, timeout: float = DATABASE_TIMEOUT) -> DatabaseState:
    """Ask the database for the outbox backlog and request counts, within ``timeout``."""
    import storage.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

    outbox_t = SQLModel.metadata.tables["outbox"]
    request_t = SQLModel.metadata.tables["help_request"]

    async def ask() -> DatabaseState:
        state = DatabaseState(reachable=True)
        async with reading(store.engine) as conn:
            rows = await conn.execute(
                select(outbox_t.c.platform, outbox_t.c.status, func.count())
                .where(outbox_t.c.status.in_(OUTBOX_STATES))
                .group_by(outbox_t.c.platform, outbox_t.c.status)
            )
            for platform, status, count in rows:
                state.outbox.setdefault(platform, dict.fromkeys(OUTBOX_STATES, 0))[status] = count
            rows = await conn.execute(
                select(outbox_t.c.platform, func.min(outbox_t.c.created_at))
                .where(outbox_t.c.status == "pending")
                .group_by(outbox_t.c.platform)
            )
            for platform, oldest in rows:
                if oldest is not None:
                    # min() loses the column type on some databases: make it UTC again.
                    state.oldest_pending[platform] = _as_utc(oldest)
            rows = await conn.execute(
                select(request_t.c.status, func.count())
                .where(request_t.c.status.in_(REQUEST_STATES))
                .group_by(request_t.c.status)
            )
            state.requests = dict.fromkeys(REQUEST_STATES, 0) | {s: c for s, c in rows}
        return state

    try:
        return await asyncio.wait_for(ask(), timeout)
    except TimeoutError:
        return DatabaseState(False, f"no answer within {timeout:g} s")
    except Exception as problem:
        return DatabaseState(False, f"{type(problem).__name__}: {problem}".splitlines()[0][:300])


def _as_utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _version() -> str:
    try:
        return metadata.version("buurtbot")
    except metadata.PackageNotFoundError:
        return "unknown"


def health_report(
    health: Health, db: DatabaseState, senders: Sequence[OutboxSender] = ()
) -> tuple[int, dict[str, Any]]:
    """The /healthz answer: HTTP status and JSON body."""
    now = health.clock.now()
    channels = {
        name: {
            "connected": state.connected,
            "last_ok": state.last_ok.isoformat() if state.last_ok else None,
            "seconds_since_ok": (
                round((now - state.last_ok).total_seconds(), 1) if state.last_ok else None
            ),
            "problem": state.problem,
        }
        for name, state in sorted(health.channels.items())
    }
    handling = {
        name: {
            "paused": state.paused,
            "paused_seconds": (
                round((now - state.since).total_seconds(), 1) if state.since else None
            ),
            "problem": state.problem,
            "database_failures": health.database_failures[name],
        }
        for name, state in sorted(health.handling.items())
    }
    if not db.reachable:
        status = "unavailable"
    elif health.degraded:
        status = "degraded"
    else:
        status = "ok"
    backlog = _backlog(health, db, senders)
    outbox = {
        platform: {
            **counts,
            "oldest_pending_seconds": (
                round((now - db.oldest_pending[platform]).total_seconds(), 1)
                if platform in db.oldest_pending
                else None
            ),
        }
        for platform, counts in sorted(backlog.items())
    }
    sent: Counter[str] = Counter()
    for sender in senders:
        sent[sender.channel.platform] += sender.sent
    body: dict[str, Any] = {
        "status": status,
        "version": _version(),
        "uptime_seconds": round((now - (health.started_at or now)).total_seconds(), 1),
        "database": {"reachable": db.reachable, "problem": db.problem},
        "channels": channels,
        "leader": health.leading,
        "handling": handling,
        "outbox": outbox if db.reachable else None,
        "requests": db.requests if db.reachable else None,
        "events_handled": sum(health.events.values()),
        "messages_sent": dict(sorted(sent.items())),
    }
    return (503 if not db.reachable else 200), body


def _backlog(
    health: Health, db: DatabaseState, senders: Sequence[OutboxSender]
) -> dict[str, dict[str, int]]:
    """Outbox counts per platform, with zeros for every platform we know of."""
    known = {*health.channels, *(sender.channel.platform for sender in senders)}
    return {platform: dict.fromkeys(OUTBOX_STATES, 0) for platform in known} | db.outbox


# --- Prometheus text format -------------------------------------------------------------------
def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class _Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(
        self, name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float]]
    ) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self.sample(name, labels, value)

    def sample(self, name: str, labels: dict[str, str], value: float) -> None:
        if labels:
            inner = ",".join(f'{key}="{_label(v)}"' for key, v in labels.items())
            self.lines.append(f"{name}{{{inner}}} {_number(value)}")
        else:
            self.lines.append(f"{name} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def metrics_text(health: Health, db: DatabaseState, senders: Sequence[OutboxSender] = ()) -> str:
    out = _Exposition()
    started = health.started_at or health.clock.now()
    out.family(
        "buurtbot_start_time_seconds",
        "gauge",
        "When this process started, in seconds since the epoch.",
        [({}, started.timestamp())],
    )
    out.family(
        "buurtbot_database_up",
        "gauge",
        "1 when the database answered the last question, else 0.",
        [({}, 1 if db.reachable else 0)],
    )
    if health.leading is not None:
        out.family(
            "buurtbot_leader",
            "gauge",
            "1 in the process that long-polls and syncs of those on one PostgreSQL database.",
            [({}, 1 if health.leading else 0)],
        )
    channels = sorted(health.channels.items())
    out.family(
        "buurtbot_channel_connected",
        "gauge",
        "1 when the channel's last poll or sync succeeded.",
        [
            ({"channel": name}, 1 if state.connected else 0)
            for name, state in channels
            if state.connected is not None
        ],
    )
    out.family(
        "buurtbot_channel_last_ok_timestamp_seconds",
        "gauge",
        "When the channel last polled or synced successfully.",
        [({"channel": n}, s.last_ok.timestamp()) for n, s in channels if s.last_ok],
    )
    out.family(
        "buurtbot_handling_paused",
        "gauge",
        "1 while the channel's next update waits for the database to be usable again.",
        [({"channel": n}, 1 if s.paused else 0) for n, s in sorted(health.handling.items())],
    )
    out.family(
        "buurtbot_database_failures_total",
        "counter",
        "Updates left unacknowledged because the database could not be used (tried again).",
        [({"channel": n}, c) for n, c in sorted(health.database_failures.items())],
    )
    out.family(
        "buurtbot_events_total",
        "counter",
        "Inbound events (messages, button presses, joins) handled, by outcome.",
        [
            ({"platform": platform, "outcome": outcome}, count)
            for (platform, outcome), count in sorted(health.events.items())
        ],
    )
    platforms = sorted({platform for platform, _ in health.events})
    out.lines.append("# HELP buurtbot_event_duration_seconds Time spent handling events.")
    out.lines.append("# TYPE buurtbot_event_duration_seconds summary")
    for platform in platforms:
        count = sum(c for (p, _), c in health.events.items() if p == platform)
        out.sample("buurtbot_event_duration_seconds_count", {"platform": platform}, count)
        out.sample(
            "buurtbot_event_duration_seconds_sum",
            {"platform": platform},
            round(health.event_seconds.get(platform, 0.0), 6),
        )
    sent: Counter[str] = Counter()
    for sender in senders:
        sent[sender.channel.platform] += sender.sent
    out.family(
        "buurtbot_messages_sent_total",
        "counter",
        "Messages delivered to a platform by this process.",
        [({"platform": platform}, count) for platform, count in sorted(sent.items())],
    )
    out.family(
        "buurtbot_errors_total",
        "counter",
        "Errors logged, by the part of the bot that logged them.",
        [({"source": source}, count) for source, count in sorted(health.errors.items())],
    )
    if db.reachable:
        out.family(
            "buurtbot_outbox_messages",
            "gauge",
            "Messages in the outbox that are not sent yet, by status.",
            [
                ({"platform": platform, "status": status}, count)
                for platform, counts in sorted(_backlog(health, db, senders).items())
                for status, count in counts.items()
            ],
        )
        now = health.clock.now()
        out.family(
            "buurtbot_outbox_oldest_pending_seconds",
            "gauge",
            "Age of the oldest message waiting to be sent.",
            [
                ({"platform": platform}, round((now - oldest).total_seconds(), 3))
                for platform, oldest in sorted(db.oldest_pending.items())
            ],
        )
        out.family(
            "buurtbot_help_requests",
            "gauge",
            "Help requests that are open or matched (a helper found, not done yet).",
            [({"status": status}, count) for status, count in sorted(db.requests.items())],
        )
    return out.text()


# --- the HTTP server -----------------------------------------------------------------------
class HealthServer(AppServer):
    """``/healthz`` and ``/metrics`` on a small aiohttp server."""

    def __init__(
        self,
        health: Health,
        store: SqlStore,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        senders: Sequence[OutboxSender] = (),
        database_timeout: float = DATABASE_TIMEOUT,
    ) -> None:
        super().__init__(host, port)
        self.health = health
        self.store = store
        self.senders = senders
        self.database_timeout = database_timeout

    async def start(self) -> None:
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/", self._index)
        await self.serve(app)
        log.info("health endpoint on %s/healthz and %s/metrics", self.url, self.url)

    async def _healthz(self, request: web.Request) -> web.Response:
        from aiohttp import web

        db = await read_database(self.store, self.database_timeout)
        status, body = health_report(self.health, db, self.senders)
        return web.json_response(body, status=status)

    async def _metrics(self, request: web.Request) -> web.Response:
        from aiohttp import web

        db = await read_database(self.store, self.database_timeout)
        return web.Response(
            body=metrics_text(self.health, db, self.senders).encode(),
            headers={"Content-Type": PROMETHEUS_CONTENT_TYPE},
        )

    async def _index(self, request: web.Request) -> web.Response:
        from aiohttp import web

        return web.Response(text="Buurtbot: see /healthz and /metrics\n")


__all__ = [
    "ChannelState",
    "DatabaseState",
    "HandlingState",
    "Health",
    "HealthServer",
    "MetricsHandler",
    "health_report",
    "metrics_text",
    "read_database",
]
