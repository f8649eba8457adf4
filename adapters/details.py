"""Finding personal details in what residents write: phone numbers, e-mail addresses,
street addresses, postcodes with a house number, people's names and health words.

The core asks through ``bot.details.DetailFinder`` and replaces what is found by plain
placeholders before a text reaches a group. Phone numbers are found by ``phonenumbers``
(region NL); the rest by patterns and word lists kept as data beside this module
(``adapters/data``). The lists are read when the finder is built, never at import.

Why not ``deduce`` (the Dutch de-identification method from UMC Utrecht): it installs and
runs offline, but loading it takes 8.5 s and 1.1 GB of memory, more than the whole bot may
use; see README, "Personal details in group posts", for what it finds on our corpus.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import phonenumbers

from bot.details import Detail, Finding

DATA = Path(__file__).with_name("data")

# Street names end in one of these (Kerklaan, Nieuwe Binnenweg, 's-Gravendijkwal).
STREET_ENDINGS = (
    "straat",
    "straatweg",
    "laan",
    "weg",
    "plein",
    "kade",
    "singel",
    "gracht",
    "dijk",
    "dreef",
    "hof",
    "hoven",
    "park",
    "pad",
    "steeg",
    "plantsoen",
    "markt",
    "wal",
    "erf",
    "haven",
    "burgwal",
    "boulevard",
    "baan",
    "kwartier",
    "veste",
    "vest",
    "street",
    "road",
    "lane",
    "avenue",
    "square",
)
_ENDING = "|".join(sorted(STREET_ENDINGS, key=len, reverse=True))
# A house number: 12, 12a, 12 A, 12-2, 12-II, 12 bis, 12 hs, 112A-02, 12 3hoog
_HOUSE = (
    r"\d{1,4}(?:\s?[a-zA-Z](?![a-zA-Z]))?(?:\s?-\s?(?:\d{1,3}|[IVX]{1,4}|[a-zA-Z]))?"
    r"(?:\s?(?:hs|bis|bg|huis|boven|hoog|I{1,3})\b)?"
)
_WORD = r"(?:'s-|'t\s)?[A-ZÀ-Ý][\w'.-]*"
_SMALL = r"(?:van|de|der|den|het|'t|ter|ten|la|le|von)"
_UNIT = (
    r"\s?(?:euro|eur|€|uur|u\b|min|keer|kilo|kg|tassen|personen|plaatsen|mensen|jaar|dagen|weken)"
)
# Kerklaan 12, Jan Steenstraat 4a, Nieuwe Binnenweg 112A, 's-Gravendijkwal 10, kerkstraat 5
STREET = re.compile(
    rf"(?<![\w-])(?:(?:{_WORD}|{_SMALL})[\s-]){{0,3}}(?:[A-ZÀ-Ý][\w'-]*|[\w'-]{{2,}})"
    rf"(?:{_ENDING})\.?,?\s+(?:nr\.?\s*|nummer\s+)?{_HOUSE}(?!\d|[,.]\d|{_UNIT})"
)
# An address written after "ik woon", "my address is": any street name, with a number.
LIVES = re.compile(
    r"\b(?:woon|wonen|woont|woonachtig|adres|address|live|lives|living)\b"
    r"(?:\s+(?:is|op|aan|in|at|on|het|de|nu|zelf|hier))*[:\s]+"
    rf"((?:{_WORD}[\s-]){{1,4}}{_HOUSE})(?!\d|[,.:]\d)"
)
NUMBER_ONLY = re.compile(
    rf"\b(?:huisnummer|huisnr\.?|nummer|nr\.?|number|no\.)\s*{_HOUSE}(?!\d|[,.:]\d|{_UNIT})",
    re.IGNORECASE,
)
POSTCODE = re.compile(
    rf"\b[1-9]\d{{3}}\s?(?!SA|SD|SS)[A-Z]{{2}}\b(?:,?\s*(?:(?:huis)?(?:nummer|nr\.?)\s*)?{_HOUSE}\b)?"
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}")
# A title makes the next capitalised word (with its tussenvoegsel) a name.
TITLE = re.compile(
    rf"\b(?:mevrouw|mevr\.?|mw\.?|meneer|mnr\.?|dhr\.?|de heer|mr\.?|mrs\.?|ms\.?|miss|"
    rf"dokter|dr\.?|tante|oom|opa|oma|zuster|juf|meester)\s+((?:{_SMALL}\s+){{0,2}}[A-ZÀ-Ý][\w'-]+"
    rf"(?:[\s-][A-ZÀ-Ý][\w'-]+)?)",
    re.IGNORECASE,
)
# Words after which a lower-case given name still is a name: "vraag naar jan".
NAME_CUES = re.compile(
    r"\b(?:vraag naar|vragen naar|ask for|ik ben|ik heet|mijn naam is|my name is|i am|i'm|"
    r"groetjes|groeten|groet|gr\.?|regards|thanks|buurman|buurvrouw|neighbour|"
    r"zoon|dochter|son|daughter|man|vrouw|husband|wife)[,:]?\s+$",
    re.IGNORECASE,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


TOKEN = re.compile(r"[A-Za-zÀ-ÿ\u0100-\u024f][\w'-]*")
# Shops and places named like people: "bij de Dirk", "Albert Heijn".
NOT_A_PERSON_AFTER = {"heijn", "cuyp", "schweitzer"}
# After an ambiguous name at the start of a sentence, these make it an everyday word.
WORD_USE = _words(
    "je jij u ik er het niet al nog ook we wij ze zij hij dat dit de een "
    "you someone anyone somebody anybody iemand they it i the this that a"
)
# After a name that is also a word, at the start of a sentence, these show a person.
NAME_NEXT = _words(
    "van de en heeft had is was zegt wil kan komt woont helpt vraagt "
    "has is was says will can comes lives helps asks from and"
)
SMALL_WORDS = _words("van de der den het 't ter ten la le von")
SENTENCE_END = re.compile(r"(?:^|[.!?:;\n]\s*|^\s*[-*•]\s*)$")


@dataclass(frozen=True, slots=True)
class HealthWord:
    stem: str
    prefix: bool  # "chemo*": every word that begins with it
    after: frozenset[str]  # when not empty: one of these words must come right before
    suffix: bool = False  # "*kanker": every word that ends with it (longkanker)


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


class PatternDetails:
    """The detail finder the bot uses: ``phonenumbers``, patterns and word lists."""

    def __init__(
        self,
        names: Iterable[str],
        ambiguous_names: Iterable[str],
        health: Iterable[str],
        more_names: Iterable[str] = (),
        region: str = "NL",
    ) -> None:
        self.names = frozenset(n.casefold() for n in names)
        self.ambiguous = frozenset(n.casefold() for n in ambiguous_names)
        # names that count only when capitalised in the middle of a sentence
        self.mid_only = frozenset(n.casefold() for n in more_names) - self.names - self.ambiguous
        self.region = region
        self.health: list[HealthWord] = []
        for line in health:
            word, _, after = line.partition("<-")
            word = word.strip().casefold()
            self.health.append(
                HealthWord(
                    word.strip("*"),
                    word.endswith("*"),
                    frozenset(after.split()),
                    suffix=word.startswith("*"),
                )
            )
        phrases = [h for h in self.health if " " in h.stem]
        self.health_phrases = re.compile(
            "|".join(rf"\b{re.escape(h.stem)}" + (r"\w*" if h.prefix else r"\b") for h in phrases)
            or r"(?!)"
        )
        words = [h for h in self.health if " " not in h.stem]
        self.health_exact: dict[str, HealthWord] = {
            h.stem: h for h in words if not h.prefix and not h.suffix
        }
        self.health_starts = tuple(h.stem for h in words if h.prefix)
        self.health_ends = tuple(h.stem for h in words if h.suffix)

    @classmethod
    def load(cls, region: str = "NL") -> PatternDetails:
        return cls(
            _lines("first_names.txt"),
            _lines("ambiguous_names.txt"),
            _lines("health_words.txt"),
            _lines("more_names.txt"),
            region,
        )

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        found += [Finding(Detail.EMAIL, m.start(), m.end()) for m in EMAIL.finditer(text)]
        found += self._phones(text)
        found += self._addresses(text)
        found += self._names(text)
        found += self._health(text)
        return found

    # --- phone numbers ------------------------------------------------------------------
    def _phones(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        if sum(c.isdigit() for c in text) < 7:
            return found  # no phone number is shorter (112 is not a person's)
        for leniency in (phonenumbers.Leniency.VALID, phonenumbers.Leniency.POSSIBLE):
            for match in phonenumbers.PhoneNumberMatcher(text, self.region, leniency=leniency):
                raw = match.raw_string
                digits = sum(c.isdigit() for c in raw)
                # a number that merely could be one counts when it is written like one
                if leniency is phonenumbers.Leniency.POSSIBLE and not (
                    raw.startswith(("+", "00", "06", "0")) and digits >= 10
                ):
                    continue
                found.append(Finding(Detail.PHONE, match.start, match.end))
        return found

    # --- addresses -------------------------------------------------------------------------
    def _addresses(self, text: str) -> list[Finding]:
        found = [Finding(Detail.ADDRESS, m.start(), m.end()) for m in STREET.finditer(text)]
        found += [Finding(Detail.ADDRESS, m.start(1), m.end(1)) for m in LIVES.finditer(text)]
        found += [Finding(Detail.ADDRESS, m.start(), m.end()) for m in NUMBER_ONLY.finditer(text)]
        found += [Finding(Detail.ADDRESS, m.start(), m.end()) for m in POSTCODE.finditer(text)]
        return [_trim(f, text) for f in found]

    # --- names ---------------------------------------------------------------------------
    def _names(self, text: str) -> list[Finding]:
        found = [Finding(Detail.NAME, m.start(1), m.end(1)) for m in TITLE.finditer(text)]
        tokens = list(TOKEN.finditer(text))
        for i, token in enumerate(tokens):
            word = token.group()
            key = word.casefold()
            before = text[: token.start()]
            known = key in self.names or key in self.ambiguous or key in self.mid_only
            if not known:
                # "mijn buurman Gijsbert": after such words a capitalised word is a name
                if word[0].isupper() and key not in WORD_USE and NAME_CUES.search(before):
                    found.append(Finding(Detail.NAME, token.start(), token.end()))
                continue
            capital = word[0].isupper()
            starts_sentence = bool(SENTENCE_END.search(before))
            following = [t.group().casefold() for t in tokens[i + 1 : i + 2]]
            if key in self.mid_only:
                if not capital or starts_sentence:
                    continue
            elif key in self.ambiguous:
                if not capital:
                    continue
                # at the start of a sentence only when a person is plainly meant:
                # "Ben van de overkant", "Roos wil graag" but "Ben je thuis?", "Max 5 kilo"
                if starts_sentence and not (
                    following and (following[0] in NAME_NEXT or tokens[i + 1].group()[0].isupper())
                ):
                    continue
            elif not capital and not NAME_CUES.search(before):
                continue
            if following and following[0] in NOT_A_PERSON_AFTER:
                continue
            if re.search(r"\b(?:de|the|sint|st\.)\s+$", before, re.IGNORECASE):
                continue  # "bij de Dirk", "Sint Jan"
            if self._street_from(text, tokens, i):
                continue  # a street named after a person: Jan Steenstraat
            end = token.end()
            # the surname that follows: Jan de Vries, Fatima El Amrani
            for nxt in tokens[i + 1 : i + 5]:
                gap = text[end : nxt.start()]
                if gap.strip() or "\n" in gap:
                    break
                w = nxt.group()
                if w.casefold() in {"van", "de", "der", "den", "el", "al", "ter", "ten", "'t"}:
                    continue
                if w[0].isupper() and w.casefold() not in self.names:
                    end = nxt.end()
                    continue
                break
            found.append(Finding(Detail.NAME, token.start(), end))
        return found

    @staticmethod
    def _street_from(text: str, tokens: list[re.Match[str]], i: int) -> bool:
        """The name begins a street name: capitalised words up to one with a street ending."""
        for before, nxt in zip(tokens[i : i + 4], tokens[i + 1 : i + 5], strict=False):
            if text[before.end() : nxt.start()] not in (" ", "-"):
                return False
            word = nxt.group()
            if word.casefold().endswith(STREET_ENDINGS):
                return True
            if not (word[0].isupper() or word.casefold() in SMALL_WORDS):
                return False
        return False

    # --- health ----------------------------------------------------------------------------
    def _health(self, text: str) -> list[Finding]:
        low = text.casefold()
        found = [
            Finding(Detail.HEALTH, m.start(), m.end()) for m in self.health_phrases.finditer(low)
        ]
        tokens = list(TOKEN.finditer(low))
        for i, token in enumerate(tokens):
            key = token.group()
            exact = self.health_exact.get(key)
            if exact is not None:
                if exact.after and (i == 0 or tokens[i - 1].group() not in exact.after):
                    continue
            elif not (key.startswith(self.health_starts) or key.endswith(self.health_ends)):
                continue
            found.append(Finding(Detail.HEALTH, token.start(), token.end()))
        return found


def _trim(finding: Finding, text: str) -> Finding:
    """No spaces or commas at the edges of what is replaced."""
    start, end = finding.start, finding.end
    while start < end and text[start] in " ,.;:":
        start += 1
    while end > start and text[end - 1] in " ,;:":
        end -= 1
    return Finding(finding.kind, start, end)


__all__ = ["STREET_ENDINGS", "PatternDetails"]
