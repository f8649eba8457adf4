"""Personal details in texts for a group: measured on a corpus of residents' texts.

``tests/phrasings/details.txt`` holds texts as residents write them, with every detail
marked. The finder must find nearly all phone numbers, e-mail and street addresses, and
most names; what it finds beyond the marks counts against its precision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.details import PatternDetails
from bot.details import Detail, Finding, merged, screen
from bot.i18n import Catalog

CORPUS = Path(__file__).parent / "phrasings" / "details.txt"
KINDS = {
    "adres": Detail.ADDRESS,
    "telefoon": Detail.PHONE,
    "email": Detail.EMAIL,
    "naam": Detail.NAME,
    "gezondheid": Detail.HEALTH,
}
MARK = re.compile(r"\{(\w+):([^{}]+)\}")
LEAST_RECALL = {
    Detail.PHONE: 0.98,
    Detail.EMAIL: 0.98,
    Detail.ADDRESS: 0.98,
    Detail.NAME: 0.90,
    Detail.HEALTH: 0.90,
}


@dataclass(frozen=True)
class Example:
    line: int
    text: str
    details: tuple[Finding, ...]


def corpus() -> list[Example]:
    examples = []
    for number, raw in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        text, details, at = "", [], 0
        for mark in MARK.finditer(raw):
            text += raw[at : mark.start()]
            start = len(text)
            text += mark.group(2)
            details.append(Finding(KINDS[mark.group(1)], start, len(text)))
            at = mark.end()
        text += raw[at:]
        examples.append(Example(number, text, tuple(details)))
    return examples


def overlaps(a: Finding, b: Finding) -> bool:
    return a.kind is b.kind and a.start < b.end and b.start < a.end


@dataclass
class Count:
    marked: int = 0
    found_marked: int = 0
    found: int = 0
    found_right: int = 0

    @property
    def recall(self) -> float:
        return self.found_marked / self.marked if self.marked else 1.0

    @property
    def precision(self) -> float:
        return self.found_right / self.found if self.found else 1.0


@pytest.fixture(scope="module")
def finder() -> PatternDetails:
    return PatternDetails.load()


def measure(finder: PatternDetails) -> tuple[dict[Detail, Count], list[str]]:
    counts = {kind: Count() for kind in Detail}
    misses = []
    for example in corpus():
        found = merged(finder.find(example.text))
        for detail in example.details:
            counts[detail.kind].marked += 1
            if any(overlaps(detail, f) for f in found):
                counts[detail.kind].found_marked += 1
            else:
                text = example.text[detail.start : detail.end]
                misses.append(f"line {example.line}: missed {detail.kind} {text!r}")
        for f in found:
            counts[f.kind].found += 1
            if any(overlaps(f, d) for d in example.details):
                counts[f.kind].found_right += 1
            else:
                text = example.text[f.start : f.end]
                misses.append(f"line {example.line}: wrongly {f.kind} {text!r}")
    return counts, misses


def test_the_corpus_is_large_enough_and_well_marked() -> None:
    examples = corpus()
    assert len(examples) >= 150
    assert all("{" not in e.text and "}" not in e.text for e in examples)
    kinds = {d.kind for e in examples for d in e.details}
    assert kinds == set(Detail)
    assert sum(1 for e in examples if not e.details) >= 40  # texts that must stay as they are


def test_recall_and_precision_per_kind(finder: PatternDetails) -> None:
    counts, misses = measure(finder)
    report = [f"{'kind':<8} {'marked':>6} {'recall':>7} {'precision':>9}"]
    for kind, c in counts.items():
        report.append(f"{kind.value:<8} {c.marked:>6} {c.recall:>7.1%} {c.precision:>9.1%}")
    print("\n".join(["", *report, *misses]))
    for kind, least in LEAST_RECALL.items():
        assert counts[kind].recall >= least, "\n".join([*report, *misses])
    for kind in Detail:
        assert counts[kind].precision >= 0.9, "\n".join([*report, *misses])


@pytest.mark.parametrize(
    ("text", "lang", "group_text"),
    [
        (
            "insuline ophalen, ik woon Kerklaan 12, bel 0612345678",
            "nl",
            "[gezondheid] ophalen, ik woon [adres], bel [telefoon]",
        ),
        (
            "I live at Kerklaan 12-2, mail piet@example.nl",
            "en",
            "I live at [address], mail [e-mail]",
        ),
        ("vraag naar mevrouw de Vries", "nl", "vraag naar mevrouw [naam]"),
    ],
)
def test_details_are_replaced_by_placeholders_in_the_communitys_language(
    finder: PatternDetails, text: str, lang: str, group_text: str
) -> None:
    screened = screen(finder, Catalog.load(), lang, text)
    assert screened.text == group_text
    assert screened.changed


@pytest.mark.parametrize(
    "text",
    [
        "morgen 14:00 melk en brood",
        "gezelschap donderdagmiddag 3021 even een kop koffie samen",
        "€ 2,50 voor de koffie, om 14.30 uur, op 24-11-2026",
        "in januari, bij de Dirk, een pak suiker",
        "Ben je er morgen? Ik ben er tussen 10 en 12",
    ],
)
def test_times_prices_and_everyday_words_stay(finder: PatternDetails, text: str) -> None:
    screened = screen(finder, Catalog.load(), "nl", text)
    assert screened.text == text
    assert not screened.changed
