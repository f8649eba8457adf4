"""Waiting before trying again: doubling pauses with jitter.

Jitter spreads the retries of several updates, channels or processes that failed at the same
moment (the database went away for all of them), so they do not all come back at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable


def jittered_backoff(
    failures: int,
    *,
    first: float = 0.5,
    longest: float = 30.0,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after ``failures`` failures in a row (1, 2, …): between half and all
    of ``first`` doubled each time, at most ``longest``."""
    ceiling = min(longest, first * 2.0 ** min(max(failures, 1) - 1, 30))
    return ceiling / 2 + rng() * ceiling / 2


__all__ = ["jittered_backoff"]
