"""The kinds of scheduled work: one table handed to the bot, the runner knows no part."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import CommunitySettings
from bot.context import Context
from bot.duework import DueWorkRunner
from bot.handlers import build_work
from bot.work import DueWork, NewWork, Outcome, WorkKind
from bot.workkinds import WorkKinds
from tests.conftest import Transcript

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["bot/duework.py", "bot/tablework.py", "bot/mealtables.py"])
def test_scheduled_work_does_not_reach_into_chat_handlers(module: str) -> None:
    assert not [m for m in imported_modules(ROOT / module) if m.startswith("bot.handlers")]


def test_every_kind_of_work_is_done_by_exactly_one_part() -> None:
    kinds = build_work()
    assert kinds.missing() == []
    assert not set(kinds.jobs) & set(kinds.messages)
    with pytest.raises(ValueError, match="twice"):
        kinds.job(WorkKind.DIGEST, kinds.jobs[WorkKind.DIGEST])


async def test_the_runner_does_what_the_table_handed_over_says(chat: Transcript) -> None:
    """A job is looked up in the bot's table: replace it there and the runner does the new one;
    a kind missing from the table fails and is recorded, and the rest still runs."""
    await chat.say("fatima: hallo")
    done: list[int] = []

    async def counted(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome:
        done.append(work.id)
        return Outcome.DONE

    bot = chat.runtime.bot
    table = WorkKinds()
    table.job(WorkKind.WIDEN, counted)
    bot.work = table
    now = chat.clock.now()
    async with chat.runtime.store.transaction() as tx:
        community = (await tx.communities())[0]
        for kind in (WorkKind.ESCALATE, WorkKind.WIDEN):
            await tx.schedule_work(
                NewWork(kind=kind, community_id=community.id, subject_id=99, due_at=now), now
            )
    runner = DueWorkRunner(bot, plan_every=timedelta(days=365))
    runner._planned_at = now  # no digest planned in between
    assert await runner.run_due() == 2
    async with chat.runtime.store.transaction() as tx:
        about = {w.kind: w for w in await tx.work_about(99)}
    assert about[WorkKind.WIDEN].outcome == Outcome.DONE
    assert done == [about[WorkKind.WIDEN].id]
    assert about[WorkKind.ESCALATE].outcome is None  # failed, to be tried again
    assert about[WorkKind.ESCALATE].attempts == 1
