"""Operating Buurtbot: backup, restore, migrate, check-config, move-to-postgres, shutdown.

Everything runs for real: the ``buurtbot`` command in a subprocess, SQLite files, a
PostgreSQL server (skipped with the reason when none is reachable), the Bot API server of
tests/botapi.py for Telegram, and signals sent to the running process.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
import tomllib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from adapters.settings import Settings
from storage.engine import make_engine
from storage.sql import SqlStore
from tests.conftest import POSTGRES_URL, Transcript, make_transcript, new_postgres_database

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "deploy" / "buurtbot.example.toml"
SCENARIO = ROOT / "tests" / "scenarios" / "boodschappen.txt"
# A guard against a hanging process, never a measure of speed.
HANG = 60.0


# --- running the command ------------------------------------------------------------------------
def clean_env(**settings: str) -> dict[str, str]:
    """The environment for ``buurtbot``: ours, without settings leaking in from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUURTBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return env


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


async def buurtbot(*args: str, cwd: Path, **settings: str) -> Result:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.cli",
        *args,
        cwd=cwd,
        env=clean_env(**settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), HANG)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


async def start_buurtbot(*args: str, cwd: Path, **settings: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.cli",
        *args,
        cwd=cwd,
        env=clean_env(**settings),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def until(condition: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(HANG):
        while not condition():
            await asyncio.sleep(0.01)
    assert condition(), what


# --- looking at a database ----------------------------------------------------------------------
def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


async def table_contents(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in primary-key order, as Python values."""
    engine = make_engine(url)
    try:
        contents = {}
        async with engine.connect() as conn:
            for table in SQLModel.metadata.sorted_tables:
                rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
                contents[table.name] = [dict(row._mapping) for row in rows]
        return contents
    finally:
        await engine.dispose()


def counts(contents: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    return {name: len(rows) for name, rows in contents.items()}


async def fill(transcript: Transcript) -> None:
    """A morning in the neighbourhood: offers, a request, a match, money advanced and repaid."""
    for line in SCENARIO.read_text(encoding="utf-8").splitlines():
        if line.startswith("@at"):
            continue
        await transcript.session.feed(line)
    await transcript.say(
        "anna (dm): /aanbod gezelschap vervoer za zo ochtend 3021",
        "joop: /vraag vervoer za 10:00 naar het ziekenhuis",
        "piet (dm): /vraag",
    )


# --- backup -------------------------------------------------------------------------------------
async def test_backup_is_consistent_while_the_bot_writes(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    store = await SqlStore.open(sqlite_url(database))
    written = 0
    stop = asyncio.Event()

    async def write() -> None:
        # Each transaction adds an inbox row and moves a cursor: a consistent copy has
        # inbox rows 0..k-1 and the cursor at k-1, never one without the other.
        nonlocal written
        while not stop.is_set():
            async with store.transaction() as tx:
                await tx.remember_event("load", f"e{written:06d}", datetime.now(UTC))
                await tx.set_cursor("load.last", str(written))
            written += 1
            await asyncio.sleep(0)

    writer = asyncio.create_task(write())
    try:
        await until(lambda: written >= 50, "the writer got going")
        before = written
        result = await buurtbot(
            "backup", "copy.db", cwd=tmp_path, BUURTBOT_DATABASE_URL=sqlite_url(database)
        )
        after = written
        await until(lambda: written >= after + 50, "the writer went on after the backup")
    finally:
        stop.set()
        await writer
        await store.close()

    assert result.returncode == 0, result.output
    assert "Backed up" in result.stdout and "copy.db" in result.stdout
    assert after > before, "the writer wrote while the backup ran"
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
        ids = [r[0] for r in copy.execute("SELECT event_id FROM inbox ORDER BY event_id")]
        (last,) = copy.execute("SELECT value FROM cursor WHERE name = 'load.last'").fetchone()
    finally:
        copy.close()
    assert ids == [f"e{i:06d}" for i in range(len(ids))]
    assert int(last) == len(ids) - 1
    assert before <= len(ids) <= written
    assert (tmp_path / "copy.db").stat().st_mode & 0o077 == 0  # personal data: owner only


async def test_backup_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    await (await SqlStore.open(sqlite_url(database))).close()
    url = sqlite_url(database)
    first = await buurtbot("backup", "copy.db", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
    again = await buurtbot("backup", "copy.db", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
    forced = await buurtbot("backup", "copy.db", "--force", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
    postgres = await buurtbot(
        "backup",
        "pg.db",
        cwd=tmp_path,
        BUURTBOT_DATABASE_URL="postgresql://buurtbot:geheim@127.0.0.1:1/buurtbot",
    )
    missing = await buurtbot(
        "backup", "x.db", cwd=tmp_path, BUURTBOT_DATABASE_URL=sqlite_url(tmp_path / "none.db")
    )

    assert first.returncode == 0, first.output
    assert again.returncode == 1 and "exists already" in again.stderr
    assert forced.returncode == 0, forced.output
    assert postgres.returncode == 1 and "pg_dump" in postgres.stderr
    assert "geheim" not in postgres.output
    assert missing.returncode == 1 and "There is no file" in missing.stderr
    assert not (tmp_path / "none.db").exists()  # not created by accident


# --- restore ------------------------------------------------------------------------------------
async def test_restore_puts_the_backup_back(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    url = sqlite_url(database)
    transcript = await make_transcript(url)
    try:
        await fill(transcript)
        backed = await buurtbot("backup", "monday.db", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
        at_backup = await table_contents(url)
        await transcript.say(
            "kees (dm): /aanbod klusje ma ochtend", "fatima: /vraag klusje morgen lamp ophangen"
        )
    finally:
        await transcript.runtime.close()
    later = await table_contents(url)
    assert counts(later) != counts(at_backup)

    result = await buurtbot("restore", "monday.db", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)

    assert backed.returncode == 0, backed.output
    assert result.returncode == 0, result.output
    assert "Restored monday.db" in result.stdout
    assert "bot.db.before-restore" in result.stdout
    assert await table_contents(url) == at_backup
    assert await table_contents(sqlite_url(tmp_path / "bot.db.before-restore")) == later

    # The bot goes on from the restored state.
    again = await make_transcript(url)
    try:
        answer = await again.say("kees (dm): /aanbod klusje ma ochtend")
        assert any(line.startswith("buurtbot -> kees (dm)") for line in answer), answer
    finally:
        await again.runtime.close()

    # A second restore keeps the first "before" too.
    second = await buurtbot("restore", "monday.db", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
    assert second.returncode == 0, second.output
    assert (tmp_path / "bot.db.before-restore.2").exists()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: p.write_text("dit is geen database\n" * 50), "not a SQLite database"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.commit(),
            "not one of Buurtbot",
        ),
        (lambda p: None, "There is no file"),
    ],
    ids=["text-file", "other-sqlite", "missing"],
)
async def test_restore_checks_the_backup_first(
    tmp_path: Path, make: Callable[[Path], object], says: str
) -> None:
    database = tmp_path / "bot.db"
    url = sqlite_url(database)
    transcript = await make_transcript(url)
    await fill(transcript)
    await transcript.runtime.close()
    before = await table_contents(url)
    make(tmp_path / "backup.db")

    result = await buurtbot("restore", "backup.db", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)

    assert result.returncode == 1
    assert says in result.stderr
    assert await table_contents(url) == before
    assert not (tmp_path / "bot.db.before-restore").exists()


async def test_restore_refuses_while_the_bot_runs(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    url = sqlite_url(database)
    transcript = await make_transcript(url)
    await fill(transcript)
    await transcript.runtime.close()
    assert (
        await buurtbot("backup", "b.db", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
    ).returncode == 0
    before = await table_contents(url)

    bot = await start_buurtbot("run", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
    assert bot.stdout is not None and bot.stdin is not None
    first = await asyncio.wait_for(bot.stdout.readline(), HANG)
    assert b"starting the console" in first
    try:
        refused = await buurtbot("restore", "b.db", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
        moved = await buurtbot(
            "move-to-postgres", POSTGRES_URL, cwd=tmp_path, BUURTBOT_DATABASE_URL=url
        )
    finally:
        bot.stdin.close()  # the end of the input ends the console
        assert await asyncio.wait_for(bot.wait(), HANG) == 0

    assert refused.returncode == 1
    assert "Buurtbot is busy with this database" in refused.stderr
    assert "buurtbot run" in refused.stderr and "Stop it first" in refused.stderr
    assert moved.returncode == 1 and "busy" in moved.stderr
    after = await table_contents(url)
    after.pop("cursor"), before.pop("cursor")  # the console counts its runs there
    assert after == before
    assert not (tmp_path / "bot.db.before-restore").exists()
    # Stopped: now it may.
    allowed = await buurtbot("restore", "b.db", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
    assert allowed.returncode == 0, allowed.output


# --- migrate ------------------------------------------------------------------------------------
async def test_migrate_says_which_revision(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "bot.db")
    from adapters.ops import head_revisions

    (head,) = head_revisions()
    first = await buurtbot("migrate", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
    second = await buurtbot("migrate", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)

    assert first.returncode == 0, first.output
    assert "was at revision empty" in first.stdout and f"now at {head}" in first.stdout
    assert second.returncode == 0, second.output
    assert f"up to date, at revision {head}" in second.stdout


async def test_migrate_refuses_a_database_from_a_newer_version(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    url = sqlite_url(database)
    assert (await buurtbot("migrate", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)).returncode == 0
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_future'")
    connection.close()

    result = await buurtbot("migrate", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
    checked = await buurtbot("check-config", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)

    assert result.returncode == 1
    assert "9999_future" in result.stderr and "newer version" in result.stderr
    assert checked.returncode == 2 and "newer" in checked.stderr


# --- check-config -------------------------------------------------------------------------------
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"

BROKEN = [
    pytest.param(
        {"BUURTBOT_TELEGRAM_TOKEN": TOKEN, "BUURTBOT_TELEGRAM_BASE_URL": "api.telegram.org/bot"},
        "",
        "BUURTBOT_TELEGRAM_BASE_URL (or 'telegram_base_url' in the file): 'api.telegram.org/bot'"
        " is not a web address",
        id="base-url-not-a-url",
    ),
    pytest.param(
        {"BUURTBOT_DATABASE_URL": "sqlite:////nowhere/at/all/buurtbot.db"},
        "",
        "The database /nowhere/at/all/buurtbot.db cannot be created: the folder /nowhere/at/all"
        " does not exist.",
        id="database-folder-missing",
    ),
    pytest.param(
        {"BUURTBOT_DATABASE_URL": "sqlite:///garbage.db"},
        "",
        "The database cannot be used: garbage.db is not a SQLite database",
        id="database-not-sqlite",
    ),
    pytest.param(
        {"BUURTBOT_DATABASE_URL": "postgresql://buurtbot:geheim@127.0.0.1:1/buurtbot"},
        "",
        "The database at postgresql://buurtbot:***@127.0.0.1:1/buurtbot cannot be reached",
        id="postgres-unreachable",
    ),
    pytest.param(
        {"BUURTBOT_DATABASE_URL": "mysql://localhost/buurtbot"},
        "",
        "BUURTBOT_DATABASE_URL (or 'database_url' in the file): must start with sqlite:///",
        id="database-kind",
    ),
    pytest.param(
        {"BUURTBOT_TELEGRAM_TOKEN": "my-bot-token"},
        "",
        "telegram_token (BUURTBOT_TELEGRAM_TOKEN) does not look like a token from BotFather",
        id="token-shape",
    ),
    pytest.param(
        {},
        'telegram_tokn = "x"\n',
        "telegram_tokn' in the file): is not a setting Buurtbot knows (a typo?)",
        id="typo-in-file",
    ),
    pytest.param({}, "language = nl\n", "is not valid TOML", id="toml-syntax"),
    pytest.param(
        {"BUURTBOT_MATRIX_HOMESERVER": "https://matrix.example.org"},
        "",
        "BUURTBOT_MATRIX_USER is needed with a Matrix homeserver",
        id="matrix-incomplete",
    ),
    pytest.param(
        {
            "BUURTBOT_MATRIX_HOMESERVER": "https://matrix.example.org",
            "BUURTBOT_MATRIX_USER": "buurtbot",
            "BUURTBOT_MATRIX_PASSWORD": "geheim-wachtwoord",
        },
        "",
        "a Matrix user looks like @buurtbot:example.org",
        id="matrix-user-shape",
    ),
    pytest.param({"BUURTBOT_LOG_LEVEL": "loud"}, "", "must be one of DEBUG", id="log-level"),
    pytest.param({"BUURTBOT_HEALTH_PORT": "99999"}, "", "health_port", id="health-port"),
]


@pytest.mark.parametrize(("env", "toml", "says"), BROKEN)
async def test_check_config_says_what_is_wrong(
    tmp_path: Path, env: dict[str, str], toml: str, says: str
) -> None:
    (tmp_path / "garbage.db").write_text("no database\n" * 100)
    config = tmp_path / "buurtbot.toml"
    config.write_text(toml)
    settings = {"BUURTBOT_DATABASE_URL": sqlite_url(tmp_path / "bot.db"), **env}

    result = await buurtbot("check-config", "--config", str(config), cwd=tmp_path, **settings)

    assert result.returncode == 2, result.output
    assert says in result.stderr
    assert "Traceback" not in result.output
    assert "geheim" not in result.output


async def test_check_config_on_a_good_configuration(tmp_path: Path) -> None:
    config = tmp_path / "buurtbot.toml"
    config.write_text(f'telegram_token = "{TOKEN}"\norganisers = "telegram:42"\n')
    config.chmod(0o644)
    url = sqlite_url(tmp_path / "bot.db")
    assert (await buurtbot("migrate", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)).returncode == 0

    result = await buurtbot("check-config", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
    by_env = await buurtbot(
        "check-config", cwd=ROOT, BUURTBOT_DATABASE_URL=url, BUURTBOT_CONFIG=str(config)
    )

    assert result.returncode == 0, result.output
    assert "The configuration is fine. Channels: Telegram." in result.stdout
    assert "The database is at revision" in result.stdout
    assert "chmod 600" in result.stdout  # the token in a file anyone may read
    assert TOKEN not in result.output
    assert by_env.returncode == 0 and "Channels: Telegram" in by_env.stdout


async def test_check_config_postgres(tmp_path: Path, postgres_url: str) -> None:
    result = await buurtbot("check-config", cwd=tmp_path, BUURTBOT_DATABASE_URL=postgres_url)
    missing = await buurtbot(
        "check-config",
        cwd=tmp_path,
        BUURTBOT_DATABASE_URL=postgres_url.rsplit("/", 1)[0] + "/buurtbot_no_such_database",
    )

    assert result.returncode == 0, result.output
    assert "revision empty" in result.stdout  # reachable, not migrated yet
    assert missing.returncode == 2
    assert "does not exist. Create it first" in missing.stderr


# --- the example configuration ------------------------------------------------------------------
SETTING_LINE = re.compile(r"^#?\s*([a-z_]+)\s*=\s*(.+)$")


def example_settings() -> tuple[dict[str, Any], dict[str, Any]]:
    """(active, commented-out) settings of the example file, each parsed as TOML."""
    active: dict[str, Any] = {}
    commented: dict[str, Any] = {}
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = SETTING_LINE.match(line)
        if not match:
            continue
        name, value = match.groups()
        try:
            parsed = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            continue  # prose that happens to contain "word = word"
        target = commented if line.startswith("#") else active
        target.setdefault(name, parsed)
    return active, commented


def test_every_setting_is_explained_in_the_example() -> None:
    active, commented = example_settings()
    mentioned = set(active) | set(commented)
    missing = set(Settings.model_fields) - mentioned
    unknown = mentioned - set(Settings.model_fields)
    assert not missing, f"add to deploy/buurtbot.example.toml: {sorted(missing)}"
    assert not unknown, f"not settings (any more): {sorted(unknown)}"


def test_the_example_is_a_valid_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("BUURTBOT_")]:
        monkeypatch.delenv(name)
    from adapters.settings import load_settings

    load_settings(EXAMPLE)  # as shipped
    active, commented = example_settings()
    Settings(**(commented | active))  # with every example value switched on


# --- move to PostgreSQL -------------------------------------------------------------------------
@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database of its own."""
    async with new_postgres_database("buurtbot_move") as url:
        yield url


async def test_move_to_postgres_keeps_every_row(tmp_path: Path, postgres_url: str) -> None:
    url = sqlite_url(tmp_path / "bot.db")
    transcript = await make_transcript(url)
    try:
        await fill(transcript)
    finally:
        await transcript.runtime.close()
    before = await table_contents(url)
    filled = {name for name, n in counts(before).items() if n}
    wanted = {"member", "help_request", "offer", "proposal", "expense", "outbox"}
    assert wanted <= filled, f"the scenario no longer fills {sorted(wanted - filled)}"

    result = await buurtbot(
        "move-to-postgres", postgres_url, cwd=tmp_path, BUURTBOT_DATABASE_URL=url
    )

    assert result.returncode == 0, result.output
    moved = await table_contents(postgres_url)
    for name, rows in before.items():
        assert moved[name] == rows, f"table {name} differs after the move"
        assert re.search(rf"^{name}\s+{len(rows)}\s+{len(rows)}$", result.stdout, re.M), name
    assert f"All {sum(counts(before).values())} rows in {len(before)} tables" in result.stdout
    assert await table_contents(url) == before  # the SQLite file is left as it was

    # The bot carries on on PostgreSQL: new rows get new ids (the sequences were reset).
    carried_on = await make_transcript(postgres_url)
    try:
        answer = await carried_on.say(
            "noor (dm): /aanbod boodschappen ma-vr middag",
            "joop: /vraag boodschappen morgen 14:00 koffie",
        )
        assert any(line.startswith("buurtbot -> noor (dm)") for line in answer), answer
    finally:
        await carried_on.runtime.close()
    after = await table_contents(postgres_url)
    for name in ("member", "outbox"):
        ids = [row["id"] for row in after[name]]
        assert len(ids) == len(set(ids)) > len(before[name]), name


async def test_move_to_postgres_refuses_a_database_with_data(
    tmp_path: Path, postgres_url: str
) -> None:
    url = sqlite_url(tmp_path / "bot.db")
    transcript = await make_transcript(url)
    try:
        await fill(transcript)
    finally:
        await transcript.runtime.close()
    first = await buurtbot(
        "move-to-postgres", postgres_url, cwd=tmp_path, BUURTBOT_DATABASE_URL=url
    )
    in_postgres = await table_contents(postgres_url)

    again = await buurtbot(
        "move-to-postgres", postgres_url, cwd=tmp_path, BUURTBOT_DATABASE_URL=url
    )
    not_postgres = await buurtbot(
        "move-to-postgres", "mysql://x/y", cwd=tmp_path, BUURTBOT_DATABASE_URL=url
    )

    assert first.returncode == 0, first.output
    assert again.returncode == 1
    assert "The PostgreSQL database is not empty" in again.stderr
    assert await table_contents(postgres_url) == in_postgres  # nothing doubled
    assert not_postgres.returncode == 1 and "not a PostgreSQL address" in not_postgres.stderr


# --- stopping with SIGTERM ----------------------------------------------------------------------
def offer_line(i: int) -> str:
    return f"p{i:03d} (dm): /aanbod boodschappen ma-vr middag"


def answers_per_person(output: list[str]) -> Counter[str]:
    """How many messages the bot sent to each pNNN, from transcript output lines."""
    found = (re.match(r"^buurtbot -> (p\d{3}) \(dm\):", line) for line in output)
    return Counter(match[1] for match in found if match)


async def test_sigterm_during_a_burst_in_the_console_loses_nothing(tmp_path: Path) -> None:
    """Every line the bot took is handled whole (inbox, offer, answer); the rest is left
    unread and is handled once on the next run; nothing is handled twice."""
    database = tmp_path / "bot.db"
    url = sqlite_url(database)
    lines = [offer_line(i) for i in range(400)]
    bot = await start_buurtbot("run", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
    assert bot.stdin is not None and bot.stdout is not None
    bot.stdin.write(("\n".join(lines) + "\n").encode())
    await bot.stdin.drain()
    output: list[str] = []
    async with asyncio.timeout(HANG):
        while sum(line in lines for line in output) < 20:
            output.append((await bot.stdout.readline()).decode().rstrip("\n"))
    bot.send_signal(signal.SIGTERM)
    rest, errors = await asyncio.wait_for(bot.communicate(), HANG)
    output += rest.decode().splitlines()

    assert bot.returncode == 0, errors.decode()
    taken = [line for line in output if line in lines]
    assert 20 <= len(taken) < len(lines), "SIGTERM came in the middle of the burst"
    assert taken == lines[: len(taken)]
    first = answers_per_person(output)
    # Everyone who was taken got the same answer, including the line under way at SIGTERM.
    assert set(first) == {line[:4] for line in taken}
    assert len(set(first.values())) == 1
    state = await table_contents(url)
    assert len([r for r in state["inbox"] if r["platform"] == "console"]) == len(taken)
    assert len(state["member"]) == len(taken)
    assert {row["status"] for row in state["outbox"]} == {"sent"}

    # The rest, on the next run.
    again = await start_buurtbot("run", cwd=tmp_path, BUURTBOT_DATABASE_URL=url)
    more, errors = await asyncio.wait_for(
        again.communicate(("\n".join(lines[len(taken) :]) + "\n").encode()), HANG
    )
    assert again.returncode == 0, errors.decode()
    state = await table_contents(url)
    assert len([r for r in state["inbox"] if r["platform"] == "console"]) == len(lines)
    assert len(state["member"]) == len(lines)
    both = answers_per_person(output + more.decode().splitlines())
    assert set(both) == {line[:4] for line in lines}
    assert set(both.values()) == set(first.values())  # nobody lost, nobody answered twice


async def test_sigterm_during_a_telegram_burst_loses_nothing(tmp_path: Path) -> None:
    """``buurtbot run`` on Telegram (the Bot API server of tests/botapi.py): stopped in the
    middle of a burst, it handles what it fetched, keeps unsent answers in the outbox and
    sends them after a restart; every update is handled once and answered once."""
    pytest.importorskip("adapters.telegram", reason="the Telegram adapter is not there yet")
    from tests.botapi import BotApiServer

    url = sqlite_url(tmp_path / "bot.db")
    async with BotApiServer() as server:
        people = [server.user(5000 + i, f"Buur{i}", f"buur{i}") for i in range(60)]
        settings = {
            "BUURTBOT_DATABASE_URL": url,
            "BUURTBOT_TELEGRAM_TOKEN": server.token,
            "BUURTBOT_TELEGRAM_BASE_URL": server.base_url,
        }
        bot = await start_buurtbot("run", cwd=tmp_path, **settings)
        await server.wait_for(lambda: bool(server.calls("getUpdates")), HANG, "polling")
        for person in people:
            server.send_text(person, person, "/aanbod boodschappen ma-vr middag")
        await server.wait_sent(5, timeout=HANG)
        bot.send_signal(signal.SIGTERM)
        _, errors = await asyncio.wait_for(bot.communicate(), HANG)
        assert bot.returncode == 0, errors.decode()
        sent_before_restart = len(server.sent)
        state = await table_contents(url)
        pending = [r for r in state["outbox"] if r["status"] == "pending"]

        again = await start_buurtbot("run", cwd=tmp_path, **settings)
        await server.wait_for(
            lambda: len(server.sent) >= sent_before_restart + len(pending), HANG, "the rest"
        )
        again.send_signal(signal.SIGTERM)
        _, errors = await asyncio.wait_for(again.communicate(), HANG)
        assert again.returncode == 0, errors.decode()

    state = await table_contents(url)
    assert pending, "stopped with answers still in the outbox"
    assert sent_before_restart + len(pending) == len(people)
    assert len([r for r in state["inbox"] if r["platform"] == "telegram"]) == len(people)
    assert len(state["member"]) == len(people)
    assert len(server.sent) == sent_before_restart + len(pending)  # nothing sent twice
    per_person = {len(server.sent_to(person)) for person in people}
    assert len(per_person) == 1 and per_person != {0}, "everyone answered alike"
    assert {row["status"] for row in state["outbox"]} == {"sent"}
