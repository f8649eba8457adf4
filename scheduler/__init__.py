"""When things happen: the timer that wakes the core's claim loop for due work.

The ``due_work`` table is the source of truth for what is due (see ``bot.duework``);
APScheduler is only the alarm clock. ``stepping`` moves a virtual clock through due work
for the console's ``@wait``.
"""

from __future__ import annotations

from scheduler.stepping import run_until, wait_hook
from scheduler.timer import DueTimer, start_timer, worker_name

__all__ = ["DueTimer", "run_until", "start_timer", "wait_hook", "worker_name"]
