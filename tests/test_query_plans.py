"""Every statement on the hot paths finds its rows through an index, on both databases.

A busy neighbourhood (``bench.workload``: asking, offering, accepting, tables, /mijn,
chatter in the group, replies delivered by the outbox sender) runs for a while, then due
work (reminders, follow-ups, widening, digests) is done over the next days. Every
statement the store runs is caught with SQLAlchemy's ``before_cursor_execute`` event.
Then each is explained: on SQLite with ``EXPLAIN QUERY PLAN``, on PostgreSQL with the
generic plan of the prepared statement and sequential scans made as costly as they get.
A full scan of a table that grows with use fails the test (on SQLite also a walk of a
whole index bound only by "IS NOT NULL"); ``SMALL`` names the tables
that may be read whole, with the reason.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlmodel import SQLModel

from bench.workload import GROUP, Neighbourhood
from bot.duework import DueWorkRunner
from bot.types import InboundEvent
from scheduler.stepping import run_until
from tests.conftest import new_postgres_database

TICK = timedelta(seconds=20)
# Tables that may be read whole: they do not grow as the bot is used.
SMALL = {
    "community": "one row per neighbourhood",
    "group_chat": "one row per group chat of a neighbourhood",
    "cursor": "a few rows per platform (offsets, sync tokens)",
    "alembic_version": "one row",
}


@dataclass
class Caught:
    """The statements run, each with the parameters of one of its runs."""

    statements: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def listen(self, sync_engine: Any) -> None:
        @event.listens_for(sync_engine, "before_cursor_execute")
        def caught(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            if many and parameters:
                parameters = parameters[0]
            self.statements.setdefault(statement, parameters)
            self.counts[statement] += 1


async def drive(url: str, folder: Path) -> Caught:
    """The bot's hot paths on the database at ``url``: a busy hour, then two days of due work."""
    hood = await Neighbourhood.open(folder, residents=80, database_url=url)
    caught = Caught()
    for engine in hood.runtime.store.statement_engines:
        caught.listen(engine)
    try:
        for who in hood.mix.people[:25]:
            await hood.step(hood.mix.offer(who), tick=TICK)
        for _ in range(200):
            await hood.step(_next(hood), tick=TICK)
        runner = DueWorkRunner(hood.runtime.bot, worker="plans")
        await run_until(runner, hood.clock, hood.clock.now() + timedelta(days=2))
        await hood.sender.drain()
    finally:
        await hood.close()
    return caught


def _next(hood: Neighbourhood) -> InboundEvent:
    """The mix's next event; a request posted in the group is taken on there by someone."""
    proposals = hood.channel.proposals
    if proposals and proposals[0][0] == GROUP.chat_id:
        _, ref, request = proposals.popleft()
        return hood.mix.press(hood.mix.someone(), ref, f"acc:{request}", group=True)
    return hood.mix.next_event()


def _plain(statement: str) -> str:
    return " ".join(statement.split())


def _is_query(statement: str) -> bool:
    return statement.lstrip().split(None, 1)[0].upper() in {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "WITH",
    }


def _aliases(statement: str) -> dict[str, str]:
    return {alias: table for table, alias in re.findall(r"\b(\w+) AS (\w+)\b", statement)}


def _scanned_sqlite(connection: sqlite3.Connection, statement: str, parameters: Any) -> set[str]:
    plan = connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
    aliases = _aliases(statement)
    scanned = set()
    for *_, detail in plan:
        found = re.match(r"SCAN (\w+)", detail)
        # "IS NOT NULL" as the only bound on an index is a walk of the whole index
        walked = re.match(r"SEARCH (\w+) USING (?:COVERING )?INDEX \w+ \((\w+)>\?\)$", detail)
        if walked and not re.search(rf"\b{walked.group(2)} IS NOT NULL\b", statement):
            walked = None
        for table in (found, walked):
            if table:
                scanned.add(aliases.get(table.group(1), table.group(1)))
    return scanned


async def _scanned_postgres(connection: asyncpg.Connection, statement: str) -> tuple[set[str], str]:
    arguments = {int(n) for n in re.findall(r"\$(\d+)", statement)}
    await connection.execute(f"PREPARE explained AS {statement}")
    nulls = ", ".join("NULL" for _ in range(max(arguments, default=0)))
    try:
        rows = await connection.fetch(
            f"EXPLAIN EXECUTE explained({nulls})" if nulls else "EXPLAIN EXECUTE explained"
        )
    finally:
        await connection.execute("DEALLOCATE explained")
    plan = "\n".join(r[0] for r in rows)
    return set(re.findall(r"Seq Scan on (\w+)", plan)), plan


def _listed(scans: dict[str, Any]) -> str:
    return "full scans of growing tables:\n" + "\n\n".join(
        f"{s}\n  -> {t}" for s, t in scans.items()
    )


def _growing(scanned: set[str]) -> set[str]:
    """The tables read whole that grow (a scan of a subquery's rows is not one of a table)."""
    return {t for t in scanned if t in SQLModel.metadata.tables and t not in SMALL}


async def test_no_hot_statement_scans_a_growing_table_on_sqlite(tmp_path: Path) -> None:
    caught = await drive(f"sqlite:///{tmp_path / 'bench.db'}", tmp_path)
    connection = sqlite3.connect(tmp_path / "bench.db")
    try:
        scans = {}
        for statement, parameters in caught.statements.items():
            if _is_query(statement):
                growing = _growing(_scanned_sqlite(connection, statement, parameters))
                if growing:
                    scans[_plain(statement)] = sorted(growing)
    finally:
        connection.close()
    queries = [s for s in caught.statements if _is_query(s)]
    assert len(queries) > 40  # the flows ran: claims, look-ups and writes were caught
    assert not scans, _listed(scans)


async def test_no_hot_statement_scans_a_growing_table_on_postgresql(tmp_path: Path) -> None:
    async with new_postgres_database("plans") as url:
        caught = await drive(url, tmp_path)
        connection = await asyncpg.connect(url.replace("+asyncpg", ""), statement_cache_size=0)
        try:
            await connection.execute("SET plan_cache_mode = force_generic_plan")
            await connection.execute("SET enable_seqscan = off")
            await connection.execute("SET jit = off")
            scans = {}
            for statement in caught.statements:
                if _is_query(statement):
                    scanned, plan = await _scanned_postgres(connection, statement)
                    if _growing(scanned):
                        scans[_plain(statement)] = plan
        finally:
            await connection.close()
    queries = [s for s in caught.statements if _is_query(s)]
    assert len(queries) > 40
    assert not scans, _listed(scans)
