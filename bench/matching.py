"""Figure 4: the time to find helpers for one request, with 1k, 10k and 100k open offers.

One community, one member per offer (a Telegram identity, an active membership), each offer
with one or two kinds of help, some days, some parts of the day, a postcode, and 5 % paused.
A request for shopping tomorrow afternoon near postcode 3050 is put to ``find_helpers``
(``bot.matching``) again and again, each time in a transaction of its own, as the
dispatcher does, after three look-ups to warm up; p50 and p95 of its duration are
reported, and how they grow with the number of offers.
"""

from __future__ import annotations

import asyncio
import gc
import math
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from bench import data
from bench.common import Figure, Measurement, cli, emit, percentile
from bench.workload import MONDAY_MORNING
from bot.clock import FakeClock
from bot.duework import work_context
from bot.matching import find_helpers
from bot.model import Category, NewRequest, Visibility

WARM_UP = 3


async def measure(folder: Path, offers: int, repeats: int) -> dict[str, float]:
    path = folder / f"offers-{offers}.db"
    url = await data.migrated(path)
    now = MONDAY_MORNING
    engine = data.connect(path)
    with engine.begin() as conn:
        community_id = data.community(conn)
        helpers = data.members(conn, community_id, offers, now)
        data.offers(conn, community_id, helpers, now)
        [requester] = data.members(conn, community_id, 1, now, first_user=900_000)
    engine.dispose()
    clock = FakeClock(now)
    runtime = await bootstrap(Settings(database_url=url), clock=clock)
    try:
        start = now.replace(hour=14) + timedelta(days=1)
        async with runtime.store.transaction() as tx:
            request = await tx.add_request(
                NewRequest(
                    community_id=community_id,
                    requester_id=requester,
                    category=Category.SHOPPING,
                    starts_at=start,
                    ends_at=start + timedelta(hours=3),
                    exact=False,
                    place="3050",
                    description="melk en brood",
                    visibility=Visibility.HELPERS,
                    advance=False,
                ),
                now,
            )
        durations: list[float] = []
        found = 0
        gc.collect()
        for repeat in range(WARM_UP + repeats):
            began = time.perf_counter()
            async with runtime.store.transaction() as tx:
                community = await tx.community(community_id)
                ctx = work_context(runtime.bot, tx, community, now)
                candidates = await find_helpers(ctx, request, 3)
            if repeat >= WARM_UP:  # the first look-ups also fill SQLite's page cache
                durations.append(time.perf_counter() - began)
            found = len(candidates)
        return {
            "p50 ms": percentile(durations, 0.5) * 1000,
            "p95 ms": percentile(durations, 0.95) * 1000,
            "helpers found": found,
            "repeats": repeats,
        }
    finally:
        await runtime.close()


async def main() -> None:
    args = cli(__doc__ or "")
    sizes: tuple[tuple[int, int], ...] = ((1000, 200), (10_000, 200), (100_000, 200))
    if args.quick:
        sizes = ((1000, 20), (10_000, 20))
    measurement = Measurement()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="buurtbot-bench-") as folder:
        for offers, repeats in sizes:
            results[offers] = await measure(Path(folder), offers, repeats)
            print(f"  {offers:>7} offers: {results[offers]}", flush=True)
    sizes_seen = sorted(results)
    largest, second = sizes_seen[-1], sizes_seen[-2]
    # Growth between the two largest sizes, where a fixed cost per request no longer hides
    # the cost per offer: 1.0 is linear. p50 is steadier than p95 on a busy machine.
    exponent = math.log(results[largest]["p50 ms"] / results[second]["p50 ms"]) / math.log(
        largest / second
    )
    details: dict[str, object] = {
        f"{n:,} offers": {k: round(v, 2) for k, v in r.items()} for n, r in results.items()
    }
    details[f"growth exponent of p50, {second:,} to {largest:,}"] = round(exponent, 2)
    details["grows"] = "slower than linearly" if exponent < 0.9 else "linearly (or faster)"
    measurement.add(
        Figure(
            key="matching.p95",
            title=f"4. Matching p95 with {largest:,} open offers",
            value=results[largest]["p95 ms"],
            unit="ms",
            target=10,
            comparison="<=",
            reference=10,
            reference_name="target",
            details=details,
        )
    )
    emit(measurement.figures, args.out)


if __name__ == "__main__":
    asyncio.run(main())
