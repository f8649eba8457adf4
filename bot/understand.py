"""Plain sentences read as a request or an offer: "Wie kan mij morgen helpen met boodschappen?"

Pure and deterministic: a small lexicon of the ways neighbours ask and offer, in Dutch and
English, and in everyday Turkish and Arabic, with tolerance for typos; times are read by
``bot.when.find_when``. Nothing here talks to a service or a model. A reading is never acted
on: the bot repeats it in its own words and the member says whether it is right.

Two strengths: ``read_private`` for a private chat with the bot (a message there is meant
for the bot, so a kind of help alone is enough), and ``read_group`` for what people write to
each other in the group, where only a clear question for help counts: chatter is never
taken as a request.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from bot.i18n import without_bidi_marks
from bot.model import Category
from bot.when import When, WhenError, find_when
from bot.words import NO_WORDS, YES_WORDS


class Kind(StrEnum):
    ASK = "ask"
    OFFER = "offer"


@dataclass(frozen=True, slots=True)
class Reading:
    """What a sentence says: asking or offering, which kind of help, when, and what."""

    kind: Kind
    categories: tuple[Category, ...] = ()
    when: When | None = None
    when_words: str = ""  # the time as it was typed, "morgenochtend"
    what: str = ""  # the rest in the writer's words, without "kan iemand" and the time
    unclear_time: str = ""  # a word that looked like a time but was not understood

    @property
    def category(self) -> Category | None:
        return self.categories[0] if self.categories else None


@dataclass(frozen=True, slots=True)
class Hints:
    """What could be read from a message that is neither a request nor an offer."""

    when: When | None = None
    categories: tuple[Category, ...] = field(default=())


def _phrases(*lines: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(line.split()) for line in lines)


# Someone saying they need help: these win over the offer phrases ("ik kan wel hulp gebruiken").
NEED = _phrases(
    "hulp nodig",
    "help nodig",
    "hulp gebruiken",
    "hulp gezocht",
    "hulp zoeken",
    "zoek hulp",
    "zoek iemand",
    "zoeken iemand",
    "graag hulp",
    "need help",
    "need some help",
    "need someone",
    "looking for help",
    "looking for someone",
    "could use help",
    "could use some help",
    "help needed",
    # Turkish
    "yardım lazım",
    "yardıma ihtiyacım",
    "ihtiyacım var",
    "yardım istiyorum",
    "yardım arıyorum",
    "birini arıyorum",
    # Arabic
    "أحتاج مساعدة",
    "احتاج مساعدة",
    "أحتاج إلى مساعدة",
    "محتاج مساعدة",
    "محتاجة مساعدة",
    "بحاجة إلى مساعدة",
    "أحتاج شخص",
    "أحتاج أحد",
    "أبحث عن شخص",
)
# Asking someone to do something.
ASK = _phrases(
    "kan iemand",
    "kan er iemand",
    "kun je",
    "kunt u",
    "kan je",
    "wie kan",
    "wie wil",
    "wie zou",
    "wie heeft tijd",
    "wie heeft er tijd",
    "heeft er iemand tijd",
    "wie helpt",
    "zou iemand",
    "zou er iemand",
    "is er iemand",
    "iemand die",
    "heeft iemand tijd",
    "heeft iemand zin",
    "wil iemand",
    "wil er iemand",
    "mag ik vragen",
    "help me",
    "help mij",
    "helpen met",
    "hulp bij",
    "hulp met",
    "iemand tijd",
    "can someone",
    "can somebody",
    "can anyone",
    "can anybody",
    "could someone",
    "could somebody",
    "could anyone",
    "could anybody",
    "would someone",
    "would anyone",
    "is anyone",
    "is there anyone",
    "is there someone",
    "anyone able",
    "anyone who",
    "someone who",
    "who can",
    "who could",
    "who would",
    "help with",
    # Turkish
    "kim yardım",
    "kim bana",
    "biri bana",
    "birisi bana",
    "biri beni",
    "kim beni",
    "kimse bana",
    "bana yardım",
    "yardım edebilir",
    "yardımcı olabilir",
    "eder misin",
    "edebilir misin",
    "yapabilir misin",
    "yapabilir mi",
    "götürebilir misin",
    "götürebilir mi",
    "alabilir mi",
    "gelebilir mi",
    "biri var mı",
    # Arabic
    "هل يستطيع أحد",
    "هل يمكن لأحد",
    "هل أحد",
    "من يستطيع",
    "من يقدر",
    "ممكن أحد",
    "ممكن حد",
    "حد يقدر",
    "أحد يستطيع",
    "ساعدني",
    "يساعدني",
    "ممكن مساعدة",
)
# Saying one would like to help.
OFFER = _phrases(
    "ik wil wel",
    "ik wil graag helpen",
    "ik wil helpen",
    "ik help graag",
    "ik help wel",
    "ik kan wel",
    "ik kan helpen",
    "ik kan best",
    "ik wil best",
    "ik bied",
    "bied ik",
    "ik heb tijd",
    "ik heb wel tijd",
    "ik doe graag",
    "ik kook graag",
    "ik rijd graag",
    "rijd graag",
    "graag helpen",
    "willen helpen",
    "ik kan",
    "ik wil iemand",
    "ik wil graag iemand",
    "i could do",
    "i can do some",
    "wil ik wel",
    "kan ik wel",
    "wil graag helpen",
    "i can help",
    "i could help",
    "i'd like to help",
    "i would like to help",
    "i want to help",
    "i'd love to help",
    "happy to help",
    "glad to help",
    "i'm happy to",
    "i am happy to",
    "i can cook",
    "i can drive",
    "i can do",
    "i offer",
    "i have time",
    # Turkish
    "yardım edebilirim",
    "yardım ederim",
    "yardım etmek istiyorum",
    "yardımcı olabilirim",
    "vaktim var",
    "zamanım var",
    "yapabilirim",
    "götürebilirim",
    "pişirebilirim",
    # Arabic
    "أستطيع المساعدة",
    "أستطيع أن أساعد",
    "أقدر أساعد",
    "أريد أن أساعد",
    "أحب أن أساعد",
    "عندي وقت",
    "يمكنني المساعدة",
    "يمكنني أن أساعد",
)
# Words that turn a phrase around: "geen hulp nodig", "niemand".
NOT = frozenset(
    {"geen", "niet", "niemand", "nooit", "no", "not", "don't", "dont", "nobody"}
    | {"değil", "yok", "hiç"}  # Turkish
    | {"لا", "ليس", "لست", "مش"}  # Arabic
)

# Kinds of help, by word; a word ending in "*" is a stem ("boodschappenlijst").
_CATEGORY_WORDS: dict[Category, tuple[str, ...]] = {
    Category.SHOPPING: (
        "boodschap*",
        "supermarkt",
        "winkel*",
        "markt",
        "apotheek",
        "medicijnen",
        "jumbo",
        "heijn",
        "lidl",
        "aldi",
        "groceries",
        "grocery",
        "shopping",
        "supermarket",
        "pharmacy",
        "market",
        "shop",
        # Turkish
        "alışveriş*",
        "alisveris*",
        "market*",
        "eczane*",
        "ilaç*",
        "bakkal*",
        # Arabic
        "تسوق",
        "التسوق",
        "مشتريات",
        "المشتريات",
        "أغراض",
        "الأغراض",
        "سوبرماركت",
        "السوبرماركت",
        "السوق",
        "صيدلية",
        "الصيدلية",
        "دواء",
        "الدواء",
    ),
    Category.MEAL: (
        "koken",
        "kook",
        "kookt",
        "maaltijd*",
        "eten",
        "avondeten",
        "soep",
        "cook",
        "cooking",
        "meal*",
        "dinner",
        "food",
        # Turkish
        "yemek*",
        "çorba*",
        "pişir*",
        # Arabic
        "طعام",
        "الطعام",
        "أكل",
        "وجبة",
        "طبخ",
        "الطبخ",
        "عشاء",
        "غداء",
        "شوربة",
    ),
    Category.COMPANY: (
        "gezelschap",
        "koffie",
        "kopje",
        "praatje",
        "kletsen",
        "wandel*",
        "bezoek*",
        "langskomen",
        "eenzaam",
        "spelletje*",
        "voorlezen",
        "company",
        "coffee",
        "chat",
        "walk",
        "visit",
        "lonely",
        # Turkish
        "sohbet*",
        "kahve*",
        "çay",
        "ziyaret*",
        "yürüyüş*",
        "yalnız*",
        "arkadaşlık",
        # Arabic
        "قهوة",
        "شاي",
        "زيارة",
        "صحبة",
        "دردشة",
        "نزهة",
        "مشي",
        "وحيد",
        "وحيدة",
    ),
    Category.TRANSPORT: (
        "vervoer",
        "rijden",
        "brengen",
        "lift",
        "rit",
        "ritje",
        "ziekenhuis",
        "huisarts",
        "dokter",
        "tandarts",
        "fysio*",
        "ride",
        "drive",
        "hospital",
        "doctor",
        "dentist",
        # Turkish
        "hastane*",
        "doktor*",
        "dişçi*",
        "götür*",
        "ulaşım",
        "araba*",
        # Arabic
        "توصيلة",
        "توصيل",
        "التوصيل",
        "التوصيلة",
        "مستشفى",
        "المستشفى",
        "للمستشفى",
        "طبيب",
        "الطبيب",
        "للطبيب",
        "دكتور",
        "الدكتور",
        "للدكتور",
        "سيارة",
    ),
    Category.CHORE: (
        "klus*",
        "lamp",
        "ophangen",
        "repareren",
        "maken",
        "tuin*",
        "gras",
        "maaien",
        "schilderen",
        "boren",
        "gordijn*",
        "computer",
        "laptop",
        "printer",
        "verhuizen",
        "tillen",
        "sjouwen",
        "kraan",
        "kapot",
        "wasmachine",
        "kliko",
        "container",
        "vuilnis*",
        "plakken",
        "chore*",
        "job*",
        "fix",
        "repair",
        "hang",
        "garden*",
        "lawn",
        "paint",
        "move",
        "carry",
        # Turkish
        "tamir*",
        "lamba*",
        "bahçe*",
        "boya*",
        "bilgisayar*",
        "çamaşır*",
        "musluk*",
        "taşı*",
        # Arabic
        "تصليح",
        "إصلاح",
        "اصلاح",
        "مصباح",
        "لمبة",
        "اللمبة",
        "حديقة",
        "الحديقة",
        "دهان",
        "طلاء",
        "كمبيوتر",
        "الكمبيوتر",
        "حاسوب",
        "حنفية",
        "غسالة",
        "القمامة",
    ),
}
# What opens a sentence and says nothing about the help itself.
_OPENING = frozenset(
    [
        "kan",
        "kun",
        "kunt",
        "kunnen",
        "zou",
        "zouden",
        "wil",
        "wilt",
        "willen",
        "wie",
        "is",
        "er",
        "iemand",
        "die",
        "mij",
        "me",
        "ik",
        "zoek",
        "zoeken",
        "heeft",
        "hebben",
        "tijd",
        "zin",
        "om",
        "graag",
        "wel",
        "eens",
        "even",
        "misschien",
        "alsjeblieft",
        "aub",
        "a.u.b.",
        "helpen",
        "help",
        "hulp",
        "bij",
        "met",
        "nodig",
        "gebruiken",
        "mag",
        "vragen",
        "can",
        "could",
        "would",
        "someone",
        "somebody",
        "anyone",
        "anybody",
        "who",
        "is",
        "there",
        "able",
        "to",
        "me",
        "i",
        "need",
        "looking",
        "for",
        "with",
        "please",
        "some",
        "like",
        "want",
        "i'd",
        "happy",
        "glad",
        "love",
        "offer",
        "am",
        "have",
        "time",
        # Turkish
        "kim",
        "biri",
        "birisi",
        "kimse",
        "bana",
        "beni",
        "ben",
        "yardım",
        "yardıma",
        "yardımcı",
        "edebilir",
        "misin",
        "mi",
        "mı",
        "var",
        "lütfen",
        "lazım",
        "ihtiyacım",
        "olabilir",
        "eder",
        "istiyorum",
        "arıyorum",
        "acaba",
        # Arabic
        "هل",
        "من",
        "أحد",
        "احد",
        "حد",
        "يستطيع",
        "يقدر",
        "ممكن",
        "يمكن",
        "لأحد",
        "أن",
        "ان",
        "يساعدني",
        "ساعدني",
        "مساعدة",
        "المساعدة",
        "أحتاج",
        "احتاج",
        "محتاج",
        "محتاجة",
        "بحاجة",
        "إلى",
        "الى",
        "لي",
        "فضلك",
        "لو",
        "سمحت",
        "أبحث",
        "عن",
        "شخص",
    ]
)
# What closes a Turkish sentence and says nothing about the help itself.
_TRAILING = frozenset(
    {"için", "yardım", "yardıma", "ihtiyacım", "var", "lazım", "mi", "mı", "misin", "lütfen"}
    | {"edebilir", "eder", "istiyorum", "arıyorum", "gelebilir", "yapabilir", "götürebilir"}
    | {"alabilir", "getirebilir", "olabilir"}
)
_FILLER = frozenset(
    {"kan", "kunnen", "zou", "wil", "wel", "eens", "even", "graag", "alsjeblieft", "please"}
    | {"lütfen", "acaba", "فضلك", "لو", "سمحت"}
)
_SMALL = frozenset(["de", "het", "een", "mijn", "my", "the", "a", "doen", "do", "bir", "في", "مع"])
_FIRST_PERSON = frozenset(
    {"mij", "me", "mijn", "m'n", "mn", "ik", "my", "i", "i'm"}
    | {"ben", "bana", "beni", "benim", "benimle", "ihtiyacım"}  # Turkish
    | {"أنا", "انا", "لي", "أحتاج", "احتاج", "عندي"}  # Arabic
    | {"ساعدني", "يساعدني", "تساعدني", "يوصلني", "توصلني", "يأخذني"}
)
_QUESTION = re.compile(r"[?؟]\s*$")
_WORD = re.compile(r"[^\w'’-]+")
_TYPO_CUTOFF = 0.86
_MIN_TYPO_LENGTH = 4


# Short answers to the question the bot just asked.
YES = frozenset(
    [
        "ja",
        "jawel",
        "ok",
        "oké",
        "oke",
        "okay",
        "klopt",
        "goed",
        "prima",
        "graag",
        "akkoord",
        "top",
        "zeker",
        "yes",
        "yep",
        "yeah",
        "sure",
        "right",
        "correct",
    ]
) | {"ja graag", "ja hoor", "ja, graag", "dat klopt", "is goed", "doe maar", "ja, klopt"}
YES |= YES_WORDS
NO = frozenset(["nee", "neen", "nope", "no", "niet"]) | {
    "nee dank je",
    "nee, dank je",
    "nee bedankt",
    "liever niet",
    "no thanks",
    "klopt niet",
}
NO |= NO_WORDS


def short_answer(text: str) -> str:
    """A typed answer as it can be compared with a button's label: "Ja!" -> "ja"."""
    said = without_bidi_marks(text).lower().replace("’", "'")
    return " ".join(said.split()).strip(" .!?؟")


def _split(text: str) -> list[str]:
    return [w for w in _WORD.sub(" ", text.lower().replace("’", "'")).split() if w]


@cache
def _lexicon() -> tuple[str, ...]:
    words = {word for group in (NEED, ASK, OFFER) for phrase in group for word in phrase}
    for stems in _CATEGORY_WORDS.values():
        words.update(stem.rstrip("*") for stem in stems)
    return tuple(sorted(words))


def _corrected(word: str) -> str:
    """A typo of a lexicon word read as that word ("boodschapen", "iemnd"); others as they are."""
    if len(word) < _MIN_TYPO_LENGTH or word in _lexicon() or not word.isalpha():
        return word
    close = difflib.get_close_matches(word, _lexicon(), n=1, cutoff=_TYPO_CUTOFF)
    return close[0] if close and len(close[0]) >= _MIN_TYPO_LENGTH else word


def _find(words: list[str], phrases: tuple[tuple[str, ...], ...]) -> int | None:
    """Where the first of ``phrases`` stands in ``words`` (not right after a "no" word)."""
    best: int | None = None
    for phrase in phrases:
        for start in range(len(words) - len(phrase) + 1):
            if tuple(words[start : start + len(phrase)]) == phrase:
                if start > 0 and words[start - 1] in NOT:
                    continue
                if best is None or start < best:
                    best = start
                break
    return best


def _category_of(word: str) -> Category | None:
    for category, stems in _CATEGORY_WORDS.items():
        for stem in stems:
            if stem.endswith("*"):
                if word.startswith(stem[:-1]):
                    return category
            elif word == stem:
                return category
    return None


def categories_in(words: list[str]) -> tuple[Category, ...]:
    found: list[Category] = []
    for word in words:
        category = _category_of(word)
        if category is not None and category not in found:
            found.append(category)
    return tuple(found)


def _time(
    tokens: list[str], now: datetime, tz: ZoneInfo
) -> tuple[When | None, str, list[str], str]:
    """The time in the words, as typed, the words without it, and a word not understood."""
    cleaned = [token.strip("?!.,;:؟،؛") or token for token in tokens]
    cleaned = [token for token in cleaned if token not in ("?", "!", ".", "؟")]
    try:
        when, rest = find_when(cleaned, now, tz)
    except WhenError as problem:
        return None, "", cleaned, problem.word
    if when is None:
        return None, "", cleaned, ""
    taken = len(cleaned) - len(rest)
    start = next(
        (i for i, (a, b) in enumerate(zip(cleaned, rest, strict=False)) if a != b), len(rest)
    )
    return when, " ".join(cleaned[start : start + taken]), rest, ""


def _what(rest: list[str]) -> str:
    """The words that say what is needed: the opening ("kan iemand mij") and fillers left out.
    Empty when only the kind of help is left ("boodschappen"): that says nothing more."""
    words = list(rest)
    while words and _corrected(words[0].lower()) in _OPENING:
        words = words[1:]
    while words and _corrected(words[-1].lower().strip("?!.,;:؟،")) in _TRAILING:
        words = words[:-1]  # Turkish says it at the end: "... için yardıma ihtiyacım var"
    kept = [word for word in words if word.lower() not in _FILLER]
    said = [_corrected(w) for w in _split(" ".join(kept))]
    if all(_category_of(w) is not None or w in _OPENING or w in _SMALL for w in said):
        return ""
    return " ".join(kept).strip(" ?!.,;:")


def _read(text: str, now: datetime, tz: ZoneInfo) -> tuple[Reading | None, list[str], bool]:
    words = [_corrected(word) for word in _split(text)]
    need = _find(words, NEED)
    offer = _find(words, OFFER)
    ask = _find(words, ASK)
    kind: Kind | None = None
    if need is not None:
        kind = Kind.ASK
    elif offer is not None and (ask is None or offer <= ask) and not NOT & set(words):
        kind = Kind.OFFER
    elif ask is not None:
        kind = Kind.ASK
    categories = categories_in(words)
    if kind is None:
        return None, words, False
    when, when_words, rest, unclear = _time(text.split(), now, tz)
    reading = Reading(
        kind=kind,
        categories=categories if kind is Kind.OFFER else categories[:1],
        when=when,
        when_words=when_words,
        what=_what(rest) if kind is Kind.ASK else "",
        unclear_time=unclear,
    )
    cue = min(i for i in (need, offer, ask) if i is not None)
    return reading, words, cue <= 2


def read_private(text: str, now: datetime, tz: ZoneInfo) -> Reading | None:
    """A message in a private chat with the bot, read as a request or an offer, if it is one.

    A phrase of asking or offering is enough; so is a kind of help ("boodschappen morgen").
    """
    reading, words, _ = _read(text, now, tz)
    if reading is not None:
        return reading
    categories = categories_in(words)
    if not categories or any(word in NOT for word in words):
        return None
    when, when_words, rest, unclear = _time(text.split(), now, tz)
    return Reading(Kind.ASK, categories[:1], when, when_words, _what(rest), unclear)


def read_group(text: str, now: datetime, tz: ZoneInfo) -> Reading | None:
    """A message in the group that clearly asks for help: a question or a "hulp nodig" near
    the start, about a kind of help, not about the past. Everything else is chatter."""
    if len(text) > 300 or text.count("\n") > 3:
        return None  # a story or an announcement, not a quick question
    reading, words, early = _read(text, now, tz)
    if reading is None or reading.kind is not Kind.ASK or not early:
        return None
    if reading.category is None or reading.unclear_time:
        return None
    needs = _find(words, NEED) is not None
    if not needs and not _QUESTION.search(text):
        return None
    if not needs and not _FIRST_PERSON & set(words):
        return None  # "wie wil er straks koffie?" invites; "wie wil mij helpen?" asks
    return reading


def hints(text: str, now: datetime, tz: ZoneInfo) -> Hints:
    """What the bot can say it did understand of a message it cannot act on."""
    when, _, _, _ = _time(text.split(), now, tz)
    return Hints(when, categories_in([_corrected(w) for w in _split(text)]))
