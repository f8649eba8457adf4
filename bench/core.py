"""Figure 1: the dispatcher's throughput on one core, and its latency at a steady 50/s.

A realistic mix (``bench.workload.Mix``) goes through ``Bot.handle`` on a SQLite file
(WAL), with the outbox delivered to an in-memory recording channel.

- Throughput: one event after another as fast as they go, each handled *and its replies
  delivered* before the next (the whole work of one message). Counted per second of CPU
  time of this process (its SQLite thread included), which is what one core of its own
  would do; the rate per second of wall-clock time, which depends on the other work on the
  machine, is given beside it.
- Latency: events arrive on a fixed schedule of 50 a second (open loop: a late event does
  not delay the schedule), handled one at a time as the adapters do, while the outbox
  sender delivers concurrently as in production. Latency is from an event's arrival to the
  end of its transaction, so waiting behind an earlier event counts.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.common import Figure, Measurement, cli, emit, percentile
from bench.workload import Neighbourhood

TICK = timedelta(milliseconds=200)  # the bot's clock moves on this much per event


async def throughput(folder: Path, events: int, warm: int) -> list[Figure]:
    hood = await Neighbourhood.open(folder)
    try:
        await hood.warm_up(helpers=300, events=warm, tick=TICK)
        measurement = Measurement()
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(events):
            await hood.step(hood.mix.next_event(), tick=TICK)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        per_cpu, per_wall = events / cpu, events / wall
        measurement.add(
            Figure(
                key="core.throughput",
                title="1. Core throughput (per CPU-second, one core)",
                value=per_cpu,
                unit="msg/s",
                target=1000,
                comparison=">=",
                reference=1000,
                reference_name="target",
                details={
                    "events": events,
                    "per wall-clock second": round(per_wall, 1),
                    "CPU seconds": round(cpu, 2),
                    "wall seconds": round(wall, 2),
                    "replies delivered": hood.channel.sent,
                    "mix": dict(hood.mix.counts),
                },
            )
        )
        return measurement.figures
    finally:
        await hood.close()


async def steady(folder: Path, rate: float, seconds: float, warm: int) -> list[Figure]:
    hood = await Neighbourhood.open(folder, seed=11)
    sending = asyncio.create_task(hood.sender.run())
    try:
        await hood.warm_up(helpers=300, events=warm, tick=TICK)
        measurement = Measurement()
        loop = asyncio.get_running_loop()
        count = int(rate * seconds)
        latencies: list[float] = []
        service: list[float] = []
        gc.collect()
        start = loop.time() + 0.05
        for number in range(count):
            arrival = start + number / rate
            if (delay := arrival - loop.time()) > 0:
                await asyncio.sleep(delay)
            hood.clock.advance(TICK)
            began = loop.time()
            await hood.runtime.bot.handle(hood.mix.next_event())
            done = loop.time()
            latencies.append(done - arrival)
            service.append(done - began)
        await hood.sender.drain()
        p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
        details = {
            "events": count,
            "p50 ms": round(p50, 2),
            "p99 ms": round(p99, 2),
            "max ms": round(max(latencies) * 1000, 1),
            "transaction alone p50 ms": round(percentile(service, 0.5) * 1000, 2),
            "transaction alone p99 ms": round(percentile(service, 0.99) * 1000, 2),
            "mix": dict(hood.mix.counts),
        }
        measurement.add(
            Figure(
                key="core.latency_p99",
                title="1. Core latency p99 at a steady 50 msg/s",
                value=p99,
                unit="ms",
                target=20,
                comparison="<=",
                reference=20,
                reference_name="target",
                details=details,
            )
        )
        return measurement.figures
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        await hood.close()


async def main() -> None:
    args = cli(__doc__ or "")
    events, warm, seconds = (500, 200, 5.0) if args.quick else (1500, 300, 30.0)
    figures: list[Figure] = []
    for name in ("throughput", "steady"):
        with tempfile.TemporaryDirectory(prefix="buurtbot-bench-") as folder:
            if name == "throughput":
                figures += await throughput(Path(folder), events, warm)
            else:
                figures += await steady(Path(folder), 50.0, seconds, warm)
    emit(figures, args.out)


if __name__ == "__main__":
    asyncio.run(main())
