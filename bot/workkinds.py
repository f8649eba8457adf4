"""The kinds of scheduled work, each with what it does when it comes due.

One table, filled by the parts of the bot that schedule work (requests, meal tables,
check-ins, gatherings) and handed to the bot at bootstrap. The due-work runner
(``bot.duework``) looks a kind up here and knows nothing of the parts themselves.

A kind is either a message to one member (its ``Render`` says what the message is, or
None when it no longer applies) or work on something as a whole (its ``Job`` does it and
says how it went; None means it was postponed and stays pending).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import CommunitySettings
from bot.context import Context
from bot.model import Community
from bot.store import Tx
from bot.work import DueWork, Notice, Outcome, WorkKind

Job = Callable[[Context, DueWork, CommunitySettings], Awaitable[Outcome | None]]
Render = Callable[[Context, DueWork], Awaitable[Notice | None]]
AfterSent = Callable[[Context, DueWork, CommunitySettings], Awaitable[None]]
# Work that recurs (the weekly digest, the nightly clean-up, the weekly rota): sees that
# the next one is planned for a community, now and then (see ``DueWorkRunner``).
Planner = Callable[[Tx, Community, CommunitySettings, datetime], Awaitable[None]]


@dataclass
class WorkKinds:
    jobs: dict[WorkKind, Job] = field(default_factory=dict)
    messages: dict[WorkKind, Render] = field(default_factory=dict)
    # what follows from a message having gone out (a nudge after a follow-up question)
    after_sent: dict[WorkKind, AfterSent] = field(default_factory=dict)
    planners: list[Planner] = field(default_factory=list)

    def job(self, kind: WorkKind, does: Job) -> None:
        self._free(kind)
        self.jobs[kind] = does

    def message(self, kind: WorkKind, render: Render, after: AfterSent | None = None) -> None:
        self._free(kind)
        self.messages[kind] = render
        if after is not None:
            self.after_sent[kind] = after

    def plan(self, planner: Planner) -> None:
        self.planners.append(planner)

    def _free(self, kind: WorkKind) -> None:
        if kind in self.jobs or kind in self.messages:
            raise ValueError(f"work kind {kind} is registered twice")

    def missing(self) -> list[WorkKind]:
        """Kinds nobody registered: work of such a kind would fail when it comes due."""
        return [k for k in WorkKind if k not in self.jobs and k not in self.messages]
