"""Operating the bot's database: backup, restore, migrate, check and move to PostgreSQL.

Every function here says what went wrong in plain words (``OpsError``), for volunteers who
run Buurtbot on a small server and have never needed to know what a WAL file is.

The run lock: ``buurtbot run`` holds an exclusive lock on ``<database>.lock`` next to a
SQLite database for as long as it runs. ``restore`` and ``move-to-postgres`` take the same
lock, so they refuse to work while the bot runs, and the bot cannot start halfway through
them. ``backup`` does not need it: the SQLite online backup copies a running database.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from adapters.logs import TELEGRAM_TOKEN
from storage.engine import MIGRATIONS, is_sqlite, make_engine, migrate

if TYPE_CHECKING:
    from adapters.settings import Settings

MATRIX_USER = re.compile(r"@[^:\s]+:[^\s]+")
BATCH = 500
CONNECT_TIMEOUT = 10.0


class OpsError(Exception):
    """An operation was refused or failed; the message says why and what to do."""


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def sqlite_path(url: str) -> Path:
    """The file behind a ``sqlite:///`` URL."""
    if not is_sqlite(url):
        raise OpsError(
            f"This works on a SQLite database, and the database is {safe_url(url)}."
            " For PostgreSQL use its own tools (pg_dump and pg_restore)."
        )
    database = make_url(url).database
    if not database or database == ":memory:":
        raise OpsError(f"{url} is a database in memory, not a file.")
    return Path(database)


# --- migrations --------------------------------------------------------------------------------
def _script_directory() -> Any:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def known_revisions() -> dict[str, str]:
    """Every migration this version of Buurtbot has: revision id -> description."""
    return {
        script.revision: (script.doc or "").strip()
        for script in _script_directory().walk_revisions()
    }


def head_revisions() -> set[str]:
    return set(_script_directory().get_heads())


def describe_revisions(revisions: set[str]) -> str:
    if not revisions:
        return "empty (no migrations applied)"
    names = known_revisions()
    return ", ".join(
        f"{rev} ({names[rev]})" if names.get(rev) else rev for rev in sorted(revisions)
    )


async def _revisions(engine: AsyncEngine) -> set[str]:
    from storage.engine import current_revisions

    return await current_revisions(engine)


@dataclass
class MigrationReport:
    before: set[str]
    after: set[str]

    def __str__(self) -> str:
        if self.before == self.after:
            return f"The database is up to date, at revision {describe_revisions(self.after)}."
        return (
            f"The database was at revision {describe_revisions(self.before)}"
            f" and is now at {describe_revisions(self.after)}."
        )


async def migrate_database(url: str) -> MigrationReport:
    engine = make_engine(url)
    try:
        before = await _revisions(engine)
        unknown = before - set(known_revisions())
        if unknown:
            raise OpsError(
                f"The database is at revision {', '.join(sorted(unknown))}, which this version"
                " of Buurtbot does not know: it was used by a newer version. Install that"
                " version again rather than going back."
            )
        await migrate(engine)
        return MigrationReport(before, await _revisions(engine))
    finally:
        await engine.dispose()


# --- the run lock ------------------------------------------------------------------------------
class RunLock:
    """An exclusive lock next to a SQLite database, held while the bot runs."""

    def __init__(self, database: Path, purpose: str) -> None:
        self.path = database.with_name(database.name + ".lock")
        self.purpose = purpose
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as problem:
            raise OpsError(
                f"Cannot create the lock file {self.path}: {problem.strerror}."
                " Does the folder exist, and may this user write in it?"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise OpsError(
                f"Buurtbot is busy with this database ({holder}; lock file {self.path})."
                " Stop it first, for example with 'systemctl stop buurtbot' or"
                " 'docker compose stop bot', and try again."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}: {self.purpose}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock; the file may stay
            self._fd = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


@contextlib.contextmanager
def run_lock(url: str, purpose: str) -> Iterator[RunLock | None]:
    """Hold the run lock of a SQLite database; PostgreSQL needs none (yields None)."""
    if not is_sqlite(url):
        yield None
        return
    path = sqlite_path(url)
    if not path.parent.exists():
        raise OpsError(
            f"The folder {path.parent.resolve()} for the database does not exist. Create it,"
            " or set database_url to a file in a folder that exists."
        )
    with RunLock(path, purpose) as lock:
        yield lock


# --- looking into a SQLite file -----------------------------------------------------------------
@dataclass
class SqliteInfo:
    path: Path
    revisions: set[str]
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _connect_existing(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """Open a SQLite file that must exist (never create one by accident)."""
    if not path.exists():
        raise OpsError(f"There is no file {path}.")
    if not path.is_file():
        raise OpsError(f"{path} is not a file.")
    mode = "ro" if read_only else "rw"
    try:
        connection = sqlite3.connect(f"file:{path.resolve()}?mode={mode}", uri=True)
    except sqlite3.Error as problem:
        raise OpsError(f"Cannot open {path}: {problem}.") from None
    connection.execute("PRAGMA busy_timeout=10000")
    return connection


def inspect_sqlite(path: Path, *, read_only: bool = False) -> SqliteInfo:
    """Check that ``path`` is a whole, readable Buurtbot database; count its rows."""
    connection = _connect_existing(path, read_only=read_only)
    try:
        try:
            verdict = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as problem:
            raise OpsError(f"{path} is not a SQLite database ({problem}).") from None
        if verdict != ["ok"]:
            shown = "; ".join(str(v) for v in verdict[:3])
            raise OpsError(f"{path} is damaged: the integrity check says {shown}.")
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        wanted = set(SQLModel.metadata.tables)
        if "alembic_version" not in tables or not wanted & tables:
            raise OpsError(f"{path} is a SQLite database, but not one of Buurtbot.")
        revisions = {
            row[0] for row in connection.execute("SELECT version_num FROM alembic_version")
        }
        unknown = revisions - set(known_revisions())
        if unknown:
            raise OpsError(
                f"{path} comes from a newer version of Buurtbot (revision"
                f" {', '.join(sorted(unknown))}). Upgrade Buurtbot first."
            )
        rows = {
            name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
            for name in sorted(wanted & tables)
        }
        return SqliteInfo(path, revisions, rows)
    finally:
        connection.close()


def _fsync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _private_empty_file(path: Path) -> None:
    """Create ``path`` empty and readable by its owner only: it will hold personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def _copy_database(source: sqlite3.Connection, target: Path, *, journal_mode: str) -> None:
    """Copy with the online backup API: one consistent snapshot, even while others write."""
    _private_empty_file(target)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
        destination.execute(f"PRAGMA journal_mode={journal_mode}")
        verdict = [row[0] for row in destination.execute("PRAGMA integrity_check")]
        if verdict != ["ok"]:
            raise OpsError(f"The copy in {target} did not pass the integrity check: {verdict[:3]}")
    finally:
        destination.close()
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())


# --- backup -------------------------------------------------------------------------------------
@dataclass
class BackupReport:
    source: Path
    target: Path
    size: int
    info: SqliteInfo

    def __str__(self) -> str:
        return (
            f"Backed up {self.source} to {self.target}: {self.info.total_rows} rows in"
            f" {len(self.info.rows)} tables, {self.size / 1024:.0f} KiB, revision"
            f" {describe_revisions(self.info.revisions)}."
        )


def backup(url: str, target: Path, *, overwrite: bool = False) -> BackupReport:
    """Copy the (possibly running) SQLite database into ``target``, a single file."""
    source_path = sqlite_path(url)
    if target.exists() and not overwrite:
        raise OpsError(f"{target} exists already. Choose another name, or add --force.")
    if not target.parent.exists():
        raise OpsError(f"The folder {target.parent} does not exist.")
    if target.resolve() == source_path.resolve():
        raise OpsError("The backup cannot be the database itself.")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    source = _connect_existing(source_path)
    try:
        _copy_database(source, partial, journal_mode="DELETE")
        info = inspect_sqlite(partial)
        os.replace(partial, target)
        _fsync_directory(target.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    return BackupReport(
        source_path, target, target.stat().st_size, SqliteInfo(target, info.revisions, info.rows)
    )


# --- restore ------------------------------------------------------------------------------------
@dataclass
class RestoreReport:
    source: Path
    database: Path
    kept: Path | None
    info: SqliteInfo

    def __str__(self) -> str:
        lines = [
            f"Restored {self.source} into {self.database}: {self.info.total_rows} rows in"
            f" {len(self.info.rows)} tables, revision {describe_revisions(self.info.revisions)}."
        ]
        if self.kept is not None:
            lines.append(f"The database as it was before is kept as {self.kept}.")
        if self.info.revisions != head_revisions():
            lines.append("Starting the bot (or 'buurtbot migrate') brings it up to date.")
        return "\n".join(lines)


def _free_name(base: Path) -> Path:
    if not base.exists():
        return base
    number = 2
    while (candidate := base.with_name(f"{base.name}.{number}")).exists():
        number += 1
    return candidate


def restore(url: str, source: Path) -> RestoreReport:
    """Put a backup back in place of the SQLite database, which must not be in use.

    The backup is checked first (integrity, a Buurtbot database of a known revision). The
    database it replaces is kept, whole, as ``<database>.before-restore``.
    """
    database = sqlite_path(url)
    if source.resolve() == database.resolve():
        raise OpsError("That file is the database itself.")
    info = inspect_sqlite(source, read_only=True)
    with run_lock(url, "restore"):
        staged = database.with_name(f".{database.name}.restoring-{os.getpid()}")
        backup_source = _connect_existing(source, read_only=True)
        try:
            _copy_database(backup_source, staged, journal_mode="WAL")
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        finally:
            backup_source.close()
        kept: Path | None = None
        try:
            if database.exists():
                _settle_wal(database)
                kept = _free_name(database.with_name(database.name + ".before-restore"))
                os.replace(database, kept)
            for suffix in ("-wal", "-shm"):
                database.with_name(database.name + suffix).unlink(missing_ok=True)
            os.replace(staged, database)
            _fsync_directory(database.parent)
        finally:
            staged.unlink(missing_ok=True)
    return RestoreReport(source, database, kept, SqliteInfo(database, info.revisions, info.rows))


def _settle_wal(database: Path) -> None:
    """Write everything from the WAL file into the database file, so it stands alone."""
    connection = _connect_existing(database)
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    wal = database.with_name(database.name + "-wal")
    if busy or (wal.exists() and wal.stat().st_size > 0):
        raise OpsError(f"{database} is still in use by another program; stop it and try again.")


# --- move to PostgreSQL -------------------------------------------------------------------------
@dataclass
class TableCount:
    table: str
    source: int
    target: int

    @property
    def same(self) -> bool:
        return self.source == self.target


@dataclass
class MoveReport:
    source: str
    target: str
    counts: list[TableCount]

    @property
    def complete(self) -> bool:
        return all(count.same for count in self.counts)

    def __str__(self) -> str:
        width = max(len(count.table) for count in self.counts)
        lines = [f"{'table':<{width}}  {'SQLite':>8}  {'PostgreSQL':>10}"]
        for count in self.counts:
            mark = "" if count.same else "   <- different!"
            lines.append(f"{count.table:<{width}}  {count.source:>8}  {count.target:>10}{mark}")
        total = sum(count.source for count in self.counts)
        if self.complete:
            lines.append(
                f"All {total} rows in {len(self.counts)} tables are in {self.target}."
                f" Set database_url to it and start the bot. {self.source} keeps its data;"
                " keep it until you are sure."
            )
        else:
            lines.append(
                "The row counts differ: do not switch. Keep using the SQLite database and"
                " report this."
            )
        return "\n".join(lines)


def tables_in_order() -> list[Table]:
    """Every table, parents before children (foreign-key order)."""
    return list(SQLModel.metadata.sorted_tables)


async def count_rows(engine: AsyncEngine) -> dict[str, int]:
    counts = {}
    async with engine.connect() as conn:
        for table in tables_in_order():
            counts[table.name] = int(
                (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            )
    return counts


async def move_to_postgres(
    url: str, target_url: str, progress: Callable[[str], None] = lambda _: None
) -> MoveReport:
    """Copy every row of the SQLite database into an empty PostgreSQL database."""
    sqlite_path(url)
    if not target_url.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        raise OpsError(
            f"{safe_url(target_url)} is not a PostgreSQL address; it should look like"
            " postgresql://buurtbot:password@localhost:5432/buurtbot"
        )
    with run_lock(url, "move-to-postgres"):
        source = make_engine(url)
        target = make_engine(target_url, connect_args={"timeout": CONNECT_TIMEOUT})
        try:
            progress("Bringing both databases to the same schema...")
            await migrate(source)
            try:
                await migrate(target)
            except OSError as problem:
                raise OpsError(
                    f"Cannot reach PostgreSQL at {safe_url(target_url)}: {problem}."
                ) from None
            except Exception as problem:
                raise OpsError(
                    f"PostgreSQL at {safe_url(target_url)} refused: {_first_line(problem)}"
                ) from None
            if await _revisions(source) != await _revisions(target):
                raise OpsError("The two databases are not at the same schema revision.")
            occupied = {name: n for name, n in (await count_rows(target)).items() if n}
            if occupied:
                shown = ", ".join(f"{name} ({_rows(n)})" for name, n in sorted(occupied.items()))
                raise OpsError(
                    f"The PostgreSQL database is not empty: {shown}. Buurtbot only moves into"
                    " an empty database, so nothing gets mixed up. Create a new one."
                )
            await _copy_tables(source, target, progress)
            source_counts = await count_rows(source)
            target_counts = await count_rows(target)
        finally:
            await source.dispose()
            await target.dispose()
    counts = [
        TableCount(table.name, source_counts[table.name], target_counts[table.name])
        for table in tables_in_order()
    ]
    return MoveReport(safe_url(url), safe_url(target_url), counts)


async def _copy_tables(
    source: AsyncEngine, target: AsyncEngine, progress: Callable[[str], None]
) -> None:
    """One read transaction on SQLite, one write transaction on PostgreSQL: all or nothing."""
    async with source.connect() as reader, target.begin() as writer:
        for table in tables_in_order():
            copied = 0
            order = list(table.primary_key.columns)
            result = await reader.stream(select(table).order_by(*order))
            async for batch in result.partitions(BATCH):
                await writer.execute(insert(table), [dict(row._mapping) for row in batch])
                copied += len(batch)
            progress(f"  {table.name}: {_rows(copied)}")
        await _reset_sequences(writer)


async def _reset_sequences(writer: Any) -> None:
    """Make PostgreSQL hand out ids after the highest copied one."""
    preparer = writer.dialect.identifier_preparer
    for table in tables_in_order():
        column = table.autoincrement_column
        if column is None:
            continue
        quoted_table = preparer.quote(table.name)
        quoted_column = preparer.quote(column.name)
        await writer.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column),"
                f" COALESCE((SELECT MAX({quoted_column}) FROM {quoted_table}), 0) + 1, false)"
            ),
            {"table": quoted_table, "column": column.name},
        )


def _first_line(problem: BaseException) -> str:
    return (str(problem).strip().splitlines() or [type(problem).__name__])[0]


# --- checking a configuration -------------------------------------------------------------------
@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_sqlite(url: str, findings: Findings) -> None:
    try:
        path = sqlite_path(url)
    except OpsError as problem:
        findings.problems.append(str(problem))
        return
    folder = path.parent.resolve()
    if not path.exists():
        if not folder.is_dir():
            findings.problems.append(
                f"The database {path} cannot be created: the folder {folder} does not exist."
            )
        elif not os.access(folder, os.W_OK | os.X_OK):
            findings.problems.append(
                f"The database {path} cannot be created: this user may not write in {folder}."
            )
        else:
            findings.notes.append(f"The database {path} does not exist yet; the bot creates it.")
        return
    if not os.access(path, os.R_OK | os.W_OK):
        findings.problems.append(
            f"The database {path} cannot be opened: this user may not write it."
        )
        return
    if not os.access(folder, os.W_OK | os.X_OK):
        findings.problems.append(
            f"The database {path} cannot be used: SQLite needs to write files next to it, in"
            f" {folder}, and this user may not."
        )
        return
    try:
        info = inspect_sqlite(path)
    except OpsError as problem:
        findings.problems.append(f"The database cannot be used: {problem}")
        return
    _note_revision(info.revisions, findings)


def _note_revision(revisions: set[str], findings: Findings) -> None:
    if revisions == head_revisions():
        findings.notes.append(f"The database is at revision {describe_revisions(revisions)}.")
    else:
        findings.notes.append(
            f"The database is at revision {describe_revisions(revisions)}; starting the bot"
            f" or 'buurtbot migrate' upgrades it to {describe_revisions(head_revisions())}."
        )


async def check_postgres(url: str, findings: Findings) -> None:
    engine = make_engine(url, connect_args={"timeout": CONNECT_TIMEOUT})
    where = safe_url(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        revisions = await _revisions(engine)
    except OSError as problem:
        findings.problems.append(
            f"The database at {where} cannot be reached ({_first_line(problem)}). Is PostgreSQL"
            " running, and are the host name and port right?"
        )
        return
    except Exception as problem:
        findings.problems.append(
            f"The database at {where} cannot be opened: {_explain_postgres(problem)}"
        )
        return
    finally:
        await engine.dispose()
    unknown = revisions - set(known_revisions())
    if unknown:
        findings.problems.append(
            f"The database is at revision {', '.join(sorted(unknown))}, from a newer version"
            " of Buurtbot."
        )
        return
    _note_revision(revisions, findings)


def _explain_postgres(problem: BaseException) -> str:
    chain: list[BaseException] = []
    current: BaseException | None = problem
    while current is not None and current not in chain:
        chain.append(current)
        current = getattr(current, "orig", None) or current.__cause__
    names = " ".join(type(error).__name__ for error in chain)
    if "InvalidPassword" in names or "InvalidAuthorization" in names:
        return "the user name or password is not accepted."
    if "InvalidCatalogName" in names:
        return (
            f"{_first_line(chain[-1])}. Create it first, for example with"
            " 'createdb -O buurtbot buurtbot'."
        )
    if any(isinstance(error, TimeoutError) for error in chain):
        return f"no answer within {CONNECT_TIMEOUT:g} seconds."
    return _first_line(chain[-1])


async def check_database(url: str) -> Findings:
    findings = Findings()
    if is_sqlite(url):
        check_sqlite(url, findings)
    else:
        await check_postgres(url, findings)
    return findings


def channel_list(settings: Settings) -> list[str]:
    found = [
        name
        for name, on in (
            ("Telegram", settings.telegram_enabled),
            ("Matrix", settings.matrix_enabled),
        )
        if on
    ]
    return found or ["console only"]


async def check_settings(settings: Settings, config_file: Path | None = None) -> Findings:
    """What ``buurtbot check-config`` says beyond the checks made when settings load."""
    from adapters.settings import DEFAULT_CONFIG_FILE

    if config_file is None and DEFAULT_CONFIG_FILE.exists():
        config_file = DEFAULT_CONFIG_FILE
    findings = await check_database(settings.database_url)
    if settings.telegram_token is not None:
        token = settings.telegram_token.get_secret_value()
        if not TELEGRAM_TOKEN.fullmatch(token):
            findings.problems.append(
                "telegram_token (BUURTBOT_TELEGRAM_TOKEN) does not look like a token from"
                " BotFather: digits, a colon, then a long code, like 123456789:AAH...xyz."
            )
    if (
        settings.matrix_enabled
        and settings.matrix_user
        and not MATRIX_USER.fullmatch(settings.matrix_user)
    ):
        findings.problems.append(
            f"matrix_user (BUURTBOT_MATRIX_USER) is '{settings.matrix_user}'; a Matrix user"
            " looks like @buurtbot:example.org."
        )
    if not settings.telegram_enabled and not settings.matrix_enabled:
        findings.notes.append(
            "No Telegram or Matrix is configured: 'buurtbot run' starts the console. Set"
            " telegram_token or matrix_homeserver to go live."
        )
    if not settings.organisers.strip():
        findings.notes.append(
            "Nobody is named as organiser (organisers); the first organiser can be set later."
        )
    if settings.health_port is not None and settings.health_host not in (
        "127.0.0.1",
        "localhost",
        "::1",
    ):
        findings.notes.append(
            f"The health endpoint listens on {settings.health_host}: anyone who can reach"
            " that address sees the health and metrics (no personal data, but still)."
        )
    if config_file is not None and config_file.exists():
        _check_file_secrets(config_file, findings)
    return findings


def _check_file_secrets(config_file: Path, findings: Findings) -> None:
    try:
        content = config_file.read_text(encoding="utf-8")
    except OSError:
        return
    from pydantic import SecretStr

    from adapters.settings import Settings

    secret_names = [
        name for name, info in Settings.model_fields.items() if SecretStr in _types(info.annotation)
    ]
    holds_secret = any(
        line.strip().startswith(name) for line in content.splitlines() for name in secret_names
    )
    if holds_secret and config_file.stat().st_mode & 0o004:
        findings.notes.append(
            f"{config_file} holds a token or password and everyone on this machine may read"
            f" it. Run 'chmod 600 {config_file}', or put secrets in the environment instead."
        )


def _types(annotation: Any) -> tuple[Any, ...]:
    from typing import get_args

    return (annotation, *get_args(annotation))


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"
