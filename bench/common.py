"""What every benchmark shares: one figure's record, the machine, the load, and the report.

A figure is written as one JSON object (``Figure.to_json``) with its value, its target, the
reference its ratio is taken against, the machine, the date and the load average of the
machine before and after it was measured. ``bench/results.json`` holds the latest figure of
each kind; ``bench/RESULTS.md`` is rendered from it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

BENCH = Path(__file__).parent
ROOT = BENCH.parent
RESULTS_JSON = BENCH / "results.json"
RESULTS_MD = BENCH / "RESULTS.md"

Comparison = Literal[">=", "<="]


def machine() -> str:
    """``2 × AMD EPYC, Linux 6.1 x86_64, CPython 3.11.7``."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} × {model}, {platform.system()} {platform.release()} "
        f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
    )


def load() -> float:
    """The one-minute load average (runnable processes, to compare with the cores)."""
    return round(os.getloadavg()[0], 2)


@dataclass
class Figure:
    """One measured figure and how it compares with its target."""

    key: str  # "core.throughput"
    title: str
    value: float
    unit: str
    target: float  # the figure the issue asks for
    comparison: Comparison  # the value must be >= or <= the target
    reference: float  # what the ratio is taken against (often the target itself)
    reference_name: str  # "target", "echo bot", "theoretical minimum"
    details: dict[str, Any] = field(default_factory=dict)
    machine: str = field(default_factory=machine)
    date: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    load_before: float = 0.0
    load_after: float = 0.0

    @property
    def ratio(self) -> float:
        return self.value / self.reference if self.reference else float("nan")

    @property
    def meets(self) -> bool:
        return self.value >= self.target if self.comparison == ">=" else self.value <= self.target

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = round(self.ratio, 4)
        data["meets"] = self.meets
        return data


class Measurement:
    """Notes the load before and after a block; figures made inside carry both."""

    def __init__(self) -> None:
        self.figures: list[Figure] = []
        self._load_before = load()

    def add(self, figure: Figure) -> Figure:
        figure.load_before = self._load_before
        figure.load_after = load()
        self.figures.append(figure)
        return figure


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (0.5, 0.95, 0.99) by linear interpolation."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return float(values[0])
    cuts = statistics.quantiles(values, n=1000, method="inclusive")
    index = round(fraction * 1000) - 1
    return float(cuts[min(max(index, 0), len(cuts) - 1)])


def cli(description: str) -> argparse.Namespace:
    """Every benchmark module takes ``--out FILE`` (JSON lines of figures) and ``--quick``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, help="append the figures as JSON lines here")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a try-out")
    return parser.parse_args()


def emit(figures: Sequence[Figure], out: Path | None) -> None:
    """Print the figures; append them to ``out`` for the runner."""
    for figure in figures:
        print(
            f"{figure.title}: {fmt(figure.value)} {figure.unit} "
            f"(target {figure.comparison} {fmt(figure.target)}; ratio to {figure.reference_name} "
            f"{figure.ratio:.2f}; load {figure.load_before}→{figure.load_after})",
            flush=True,
        )
    if out is not None:
        with out.open("a", encoding="utf-8") as file:
            for figure in figures:
                file.write(json.dumps(figure.to_json()) + "\n")


def fmt(value: float) -> str:
    if value != value:  # NaN
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


# --- the results file and its table ------------------------------------------------------
def read_results(path: Path = RESULTS_JSON) -> dict[str, Any]:
    if not path.exists():
        return {"figures": {}}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data.setdefault("figures", {})
    return data


def merge_results(new: Sequence[dict[str, Any]], path: Path = RESULTS_JSON) -> dict[str, Any]:
    """Keep the latest figure of each kind; figures not measured this time stay as they were."""
    data = read_results(path)
    for figure in new:
        data["figures"][figure["key"]] = figure
    data["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
    data["machine"] = machine()
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return data


ORDER = (
    "core.",
    "telegram.",
    "matrix.",
    "matching.",
    "sending.",
    "reminders.",
    "startup.",
    "chaos.",
    "chaos-postgres.",
)


def _order(key: str) -> tuple[int, str]:
    for number, prefix in enumerate(ORDER):
        if key.startswith(prefix):
            return number, key
    return len(ORDER), key


def table(data: dict[str, Any]) -> str:
    """The figures as a markdown table."""
    lines = [
        "| figure | measured | target | ratio | meets | load 1 min (before→after) | date |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in sorted(data["figures"], key=_order):
        f = data["figures"][key]
        ratio = f"{f['ratio']:.2f} × {f['reference_name']}"
        lines.append(
            f"| {f['title']} | {fmt(f['value'])} {f['unit']} | {f['comparison']} "
            f"{fmt(f['target'])} {f['unit']} | {ratio} | {'yes' if f['meets'] else '**no**'} "
            f"| {f['load_before']}→{f['load_after']} | {f['date'][:16].replace('T', ' ')} |"
        )
    return "\n".join(lines)


def render_markdown(data: dict[str, Any], notes: str = "") -> str:
    machines = sorted({f["machine"] for f in data["figures"].values()})
    parts = [
        "# Benchmark results",
        "",
        "Written by `make bench` (figures 1–7) and `make chaos` (figures 8 and 8b) from "
        "`bench/results.json`; each row is the latest run of that figure. "
        "*ratio* is the measured value divided by its reference (the target, the echo bot "
        "or the theoretical minimum). The load is the machine's one-minute load average "
        "(2 cores: above 2, other work was competing for the CPU).",
        "",
        "Machine: " + "; ".join(machines),
        "",
        table(data),
        "",
    ]
    details = []
    for key in sorted(data["figures"], key=_order):
        f = data["figures"][key]
        if f.get("details"):
            rendered = ", ".join(f"{k} = {_detail(v)}" for k, v in f["details"].items())
            details.append(f"- **{f['title']}**: {rendered}")
    if details:
        parts += ["## Details", "", *details, ""]
    if notes:
        parts += [notes.rstrip(), ""]
    return "\n".join(parts)


def _detail(value: Any) -> str:
    if isinstance(value, float):
        return fmt(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_detail(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_detail(v) for v in value) + "]"
    return str(value)


def notes_of(path: Path = BENCH / "NOTES.md") -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def write_report(data: dict[str, Any]) -> str:
    text = render_markdown(data, notes_of())
    RESULTS_MD.write_text(text, encoding="utf-8")
    return text


def timer() -> float:
    return time.perf_counter()


def fail(message: str) -> None:
    print(message, file=sys.stderr)
    raise SystemExit(1)
