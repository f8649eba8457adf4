"""Personal details in texts that go to a group, and the placeholders that replace them.

Before someone has said yes to a request, nobody but the asker sees its address, phone
number, e-mail address, names or health words: not the group, not the neighbours asked
privately. They see the *group text*: the description with each detail replaced by a plain
placeholder ("[adres]", "[telefoon]"), or the text the asker wrote for the group instead.
The helper who says yes gets the whole text.

What counts as a detail is decided by a ``DetailFinder`` passed in at start
(``adapters.details.PatternDetails``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.i18n import Catalog


class Detail(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    NAME = "name"
    HEALTH = "health"


# When two findings overlap, the one earlier here wins (an e-mail address holds a name).
PRIORITY = (Detail.EMAIL, Detail.PHONE, Detail.ADDRESS, Detail.NAME, Detail.HEALTH)


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Detail
    start: int
    end: int


class DetailFinder(Protocol):
    def find(self, text: str) -> Sequence[Finding]: ...


@dataclass(frozen=True, slots=True)
class Screened:
    text: str  # with placeholders
    kinds: tuple[Detail, ...]  # what was replaced, in order of appearance

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


def merged(findings: Sequence[Finding]) -> list[Finding]:
    """Findings that do not overlap: the stronger kind wins, and spans of it are joined."""
    chosen: list[Finding] = []
    ranked = sorted(
        (f for f in findings if f.end > f.start),
        key=lambda f: (PRIORITY.index(f.kind), f.start, -f.end),
    )
    for finding in ranked:
        overlapping = [c for c in chosen if c.start < finding.end and finding.start < c.end]
        if not overlapping:
            chosen.append(finding)
            continue
        same = [c for c in overlapping if c.kind is finding.kind]
        if len(same) == len(overlapping):  # widen the finding of the same kind
            for c in same:
                chosen.remove(c)
            start = min(finding.start, *(c.start for c in same))
            end = max(finding.end, *(c.end for c in same))
            chosen.append(Finding(finding.kind, start, end))
    return sorted(chosen, key=lambda f: f.start)


def screen(finder: DetailFinder, catalog: Catalog, lang: str, text: str) -> Screened:
    """The text as a group may see it, in ``lang``'s placeholders."""
    findings = merged(finder.find(text))
    if not findings:
        return Screened(text, ())
    parts, at = [], 0
    for finding in findings:
        parts.append(text[at : finding.start])
        parts.append(catalog.text(lang, f"detail.{finding.kind.value}"))
        at = finding.end
    parts.append(text[at:])
    return Screened("".join(parts), tuple(f.kind for f in findings))


__all__ = ["Detail", "DetailFinder", "Finding", "Screened", "merged", "screen"]
