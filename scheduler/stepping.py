"""Moving a virtual clock through due work, for the console's ``@wait``.

Each item runs at its own due moment, in due order, so what it schedules in turn (a
reminder of a follow-up, say) is timed from that moment and runs too if it falls before
the target.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.app import Bot
from bot.clock import FakeClock
from bot.duework import DueWorkRunner


async def run_until(runner: DueWorkRunner, clock: FakeClock, target: datetime) -> int:
    """Advance ``clock`` to ``target``, running due work on the way. Returns items handled."""
    handled = await runner.run_due()  # what is due already, and the digests planned
    while True:
        upcoming = await runner.next_due()
        if upcoming is None or upcoming > target:
            break
        if upcoming > clock.now():
            clock.set(upcoming)
        done = await runner.run_due()
        handled += done
        if not done and upcoming <= clock.now():
            break  # due but nothing could be claimed (it failed and waits): do not spin
    if target > clock.now():
        clock.set(target)
    return handled


def wait_hook(bot: Bot, clock: FakeClock) -> Callable[[datetime], Awaitable[None]]:
    """The console's ``@wait``: run what falls due, each item at its own moment."""
    runner = DueWorkRunner(bot, worker="console")

    async def hook(target: datetime) -> None:
        await run_until(runner, clock, target)

    return hook
