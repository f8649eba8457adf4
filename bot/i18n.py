"""Message catalogs: every text a person reads comes from ``bot/locale/<lang>/*.po``.

Message ids are keys (``request.placed``); every catalog (Dutch, English, Turkish, Arabic)
carries every key. Texts use ``{name}`` placeholders. Catalogs are read with Babel at start-up.

Arabic is written right to left. Latin text inside it (a name, a street, a Dutch word, a
time, an amount, a command) is set apart with the Unicode isolation marks FSI … PDI, so that
Telegram and Matrix show it in its own direction and the sentence around it stays in place.
That happens here and nowhere else: to the Latin runs of an Arabic text once, when the
catalog is read, and to every value filled into an Arabic text, line by line, when it is
filled in. Each line of an Arabic text starts with a
RIGHT-TO-LEFT MARK, so that it reads right to left even when it opens with a Latin name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from string import Formatter

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "nl"
RTL_LANGUAGES = frozenset({"ar"})
RLM = "\u200f"  # RIGHT-TO-LEFT MARK: starts each line of an Arabic text, so that apps that
# take a line's direction from its first letter read it right to left also when it opens
# with a name or a time
FSI = "\u2068"  # FIRST STRONG ISOLATE: what follows takes the direction of its first letter
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE: the end of it
BIDI_MARKS = "\u200e\u200f\u2066\u2067\u2068\u2069"
# Text that reads left to right and needs setting apart inside Arabic: Latin letters, digits.
_LTR = re.compile(r"[0-9A-Za-z\u00c0-\u024f]")
_LTR_SIGNS = frozenset("/@#€+")
_SLOT = "\ue000"  # stands for a placeholder while a template's Latin runs are found
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_WORD = re.compile(r"\S+")
_RUN_END = ".,:;!?،؛؟)»'\""  # sentence marks after a Latin run stay outside it
_RUN_START = "(«'\""


class Catalog:
    def __init__(self, messages: Mapping[str, Mapping[str, str]]) -> None:
        self._messages = {
            lang: {
                key: isolate_template(text) if lang in RTL_LANGUAGES else text
                for key, text in texts.items()
            }
            for lang, texts in messages.items()
        }

    @classmethod
    def load(cls, folder: Path = LOCALE_DIR) -> Catalog:
        messages: dict[str, dict[str, str]] = {}
        for po_file in sorted(folder.glob("*/LC_MESSAGES/*.po")):
            lang = po_file.parent.parent.name
            with po_file.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
            texts = messages.setdefault(lang, {})
            for message in catalog:
                if message.id and isinstance(message.id, str) and message.string:
                    texts[message.id] = str(message.string)
        return cls(messages)

    @property
    def languages(self) -> list[str]:
        return sorted(self._messages)

    def keys(self, lang: str) -> set[str]:
        return set(self._messages.get(lang, {}))

    def has(self, lang: str, key: str) -> bool:
        return key in self._messages.get(lang, {})

    def raw(self, lang: str, key: str) -> str:
        texts = self._messages.get(lang) or self._messages.get(DEFAULT_LANGUAGE, {})
        text = texts.get(key)
        if text is None:
            text = self._messages.get(DEFAULT_LANGUAGE, {}).get(key, key)
        return text

    def text(self, lang: str, key: str, /, **params: object) -> str:
        template = self.raw(lang, key)
        if not params:
            return template
        if lang in RTL_LANGUAGES:
            # every line of the template starts with the mark already
            params = {name: isolate(str(value).removeprefix(RLM)) for name, value in params.items()}
        return template.format_map(_Lenient(params))

    def language_of(self, wanted: str | None) -> str:
        """The catalog language to use for a platform's language code ("en-GB" -> "en")."""
        if wanted:
            short = wanted.split("-")[0].split("_")[0].lower()
            if short in self._messages:
                return short
        return DEFAULT_LANGUAGE


class _Lenient(dict[str, object]):
    """Leaves an unknown placeholder visible instead of failing the whole message."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def isolate(value: str) -> str:
    """Each line of ``value`` that holds Latin letters or digits, and does not itself read
    right to left, between FSI and PDI.

    An isolate ends with its line, so a value of several lines is isolated line by line. A
    line that starts in Arabic (a text of the catalog, or Arabic typed by a member) is left
    as it is: it reads right to left like the text around it."""
    return "\n".join(
        f"{FSI}{line}{PDI}"
        if _LTR.search(line) and not _starts_rtl(line) and not line.isdecimal()
        else line
        for line in value.split("\n")
    )


def _starts_rtl(line: str) -> bool:
    """Whether the first letter of ``line`` outside isolates is written right to left."""
    depth = 0
    for char in line:
        if char in "\u2066\u2067\u2068":
            depth += 1
        elif char == PDI:
            depth = max(depth - 1, 0)
        elif depth == 0:
            kind = unicodedata.bidirectional(char)
            if kind in ("R", "AL"):
                return True
            if kind == "L":
                return False
    return False


def isolate_template(template: str) -> str:
    """A right-to-left template with its Latin runs ("/vraag", "€ 23,40", "#{nr}") isolated.

    A run is a row of words with Latin letters, digits or signs, and the words without
    letters between them ("–"); a placeholder written against it ("#{nr}", "/{command}")
    or right after it ("€ {word}") belongs to it. A placeholder alone is left as it is: its
    value is isolated when it is filled in."""
    slots = _PLACEHOLDER.findall(template)
    masked = _PLACEHOLDER.sub(_SLOT, template)
    marked = "\n".join(RLM + _isolate_line(line) if line else line for line in masked.split("\n"))
    pieces = marked.split(_SLOT)
    return pieces[0] + "".join(slot + piece for slot, piece in zip(slots, pieces[1:], strict=True))


def _opens(run: str) -> bool:
    """Whether the bracket at the end of ``run`` closes one opened in it: "tr (Türkçe)"."""
    return run.endswith(")") and run.count("(") >= run.count(")")


def _closes(run: str) -> bool:
    """Whether the bracket at the start of ``run`` is closed in it."""
    return run.startswith("(") and run.count(")") >= run.count("(")


def _kind(word: str) -> str:
    if any(unicodedata.bidirectional(char) in ("R", "AL") for char in word):
        return "rtl"
    if _LTR.search(word) or _LTR_SIGNS.intersection(word):
        return "ltr"
    return "slot" if _SLOT in word else "neutral"


def _isolate_line(line: str) -> str:
    words = list(_WORD.finditer(line))
    kinds = [_kind(word.group(0)) for word in words]
    runs: list[tuple[int, int]] = []
    index = 0
    while index < len(words):
        if kinds[index] != "ltr":
            index += 1
            continue
        last = index
        after = index + 1
        while after < len(words):
            if kinds[after] == "ltr" or (kinds[after] == "slot" and after == last + 1):
                last = after
            elif kinds[after] != "neutral":
                break
            after += 1
        start, end = words[index].start(), words[last].end()
        while start < end and line[start] in _RUN_START and not _closes(line[start:end]):
            start += 1
        while end > start and line[end - 1] in _RUN_END and not _opens(line[start:end]):
            end -= 1
        runs.append((start, end))
        index = last + 1
    for start, end in reversed(runs):
        line = f"{line[:start]}{FSI}{line[start:end]}{PDI}{line[end:]}"
    return line


def without_bidi_marks(text: str) -> str:
    """The text as a person would type it: without the invisible direction marks."""
    return text.translate({ord(mark): None for mark in BIDI_MARKS})


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}
