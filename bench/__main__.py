"""``python -m bench [NAME ...] [--quick]``: run the benchmarks, each in a process of its own,
merge their figures into ``bench/results.json``, write ``bench/RESULTS.md`` and print the
table. Without names, figures 1 to 7; the crash test runs with ``python -m bench chaos``
(``make chaos``)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, merge_results, table, write_report

SUITE = ("core", "roundtrips", "telegram", "matrix", "matching", "sending", "reminders", "startup")
EVERY = (*SUITE, "chaos")
TIMEOUT = 900  # seconds for one benchmark, however slow the machine is
LONGER = {"chaos": 2400}  # two crash tests: on SQLite, and three processes on PostgreSQL


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"some of: {', '.join(EVERY)}")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a try-out")
    args = parser.parse_args()
    names = args.names or list(SUITE)
    unknown = [name for name in names if name not in EVERY]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(EVERY)}")
    figures = []
    failed = []
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="buurtbot-bench-") as folder:
        out = Path(folder) / "figures.jsonl"
        for name in names:
            print(f"== {name}", flush=True)
            command = [sys.executable, "-m", f"bench.{name}", "--out", str(out)]
            if args.quick:
                command.append("--quick")
            try:
                limit = LONGER.get(name, TIMEOUT)
                done = subprocess.run(command, cwd=ROOT, timeout=limit, check=False)
            except subprocess.TimeoutExpired:
                print(f"   {name}: gave up after {limit} s", flush=True)
                failed.append(name)
                continue
            if done.returncode != 0:
                print(f"   {name}: failed (exit code {done.returncode})", flush=True)
                failed.append(name)
        if out.exists():
            figures = [json.loads(line) for line in out.read_text().splitlines() if line]
    if args.quick:
        print("\n(--quick: small sizes; bench/results.json is left as it was)\n")
        print(table({"figures": {f["key"]: f for f in figures}}))
    else:
        data = merge_results(figures)
        write_report(data)
        print()
        print(table(data))
        seconds = time.monotonic() - began
        print(f"\nbench/results.json and bench/RESULTS.md written after {seconds:.0f} s")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
