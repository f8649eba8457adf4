"""Times and availabilities as people type them in one-line commands.

``parse_when`` reads a moment or a window ("morgen 14:00", "donderdagmiddag", "deze week")
and ``parse_availability`` a weekly availability ("ma-vr middag", "za zo ochtend") from the
start of a command's words, and both hand back the words they did not use. Dutch and English
are understood side by side, and the everyday Turkish and Arabic words for days, parts of the
day and weeks too (``_TR_AR_*``). The current moment is always passed in: nothing here reads the
wall clock. Dates are built on the wall clock of the given time zone, so days and weeks stay
right across daylight saving changes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import cache
from typing import Generic, Literal, TypeAlias, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import get_day_names, get_month_names

T = TypeVar("T")


class DayPart(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"


DAY_PARTS: dict[DayPart, tuple[time, time]] = {
    DayPart.MORNING: (time(8), time(12)),
    DayPart.AFTERNOON: (time(12), time(17)),
    DayPart.EVENING: (time(17), time(21)),
}

# The slots of a day for ``Availability.slots``: each part of the day, then the rest.
_SLOTS: tuple[tuple[DayPart, ...], ...] = (
    (DayPart.MORNING,),
    (DayPart.AFTERNOON,),
    (DayPart.EVENING,),
    (),
)

_EXACT_LENGTH = timedelta(hours=1)
_INSTANT = timedelta(microseconds=1)
_ALL_DAYS = frozenset(range(7))
_ALL_PARTS = frozenset(DayPart)


@dataclass(frozen=True, slots=True)
class When:
    """A moment (``exact``) or a window in which something should happen."""

    start: datetime  # timezone-aware
    end: datetime  # exclusive; an exact time is given an hour
    exact: bool

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("When needs timezone-aware datetimes")
        if _utc(self.end) <= _utc(self.start):
            raise ValueError("When must end after it starts")


@dataclass(frozen=True, slots=True)
class Availability:
    """When someone can help, week after week."""

    days: frozenset[int] = frozenset()  # 0 = Monday .. 6 = Sunday; empty: every day
    parts: frozenset[DayPart] = frozenset()  # empty: any time of day

    def covers(self, when: When) -> bool:
        """Whether the window of ``when`` overlaps one of these days within one of these parts."""
        tz = _tzinfo(when.start)
        window = when.start, when.end.astimezone(tz)
        spans = [_part_span(part) for part in self.parts] or [_Span(timedelta(), timedelta(days=1))]
        return any(
            _overlap(window, _window(day, span, tz))
            for day in _days_touched(*window)
            if not self.days or day.weekday() in self.days
            for span in spans
        )

    def __or__(self, other: Availability) -> Availability:
        return Availability(self.days | other.days, self.parts | other.parts)

    def slots(self) -> int:
        """The week's slots this availability covers, as bits (see ``window_slots``).

        ``covers(when)`` holds exactly when ``slots() & window_slots(when)`` is not zero, so
        a database can hold one number per offer and find the offers that fit a time.
        """
        days = self.days or _ALL_DAYS
        slots = [_SLOTS.index((part,)) for part in self.parts] or range(len(_SLOTS))
        return sum(1 << (day * len(_SLOTS) + slot) for day in days for slot in slots)


def window_slots(when: When) -> int:
    """The slots of the week the window touches: one bit per day and part of the day.

    Bit ``day * 4 + slot``, with slots morning, afternoon, evening and the rest of the day.
    """
    tz = _tzinfo(when.start)
    window = when.start, when.end.astimezone(tz)
    mask = 0
    for day in _days_touched(*window):
        for slot, parts in enumerate(_SLOTS):
            spans = [_part_span(part) for part in parts] if parts else _night_spans()
            if any(_overlap(window, _window(day, span, tz)) for span in spans):
                mask |= 1 << (day.weekday() * len(_SLOTS) + slot)
    return mask


WhenErrorReason: TypeAlias = Literal["unknown_day", "bad_time", "past", "bad_date"]


class WhenError(Exception):
    """Something that looked like a time but could not be understood."""

    def __init__(self, word: str, reason: WhenErrorReason, suggestion: str | None = None) -> None:
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        super().__init__(f"{reason}: {word!r}{hint}")
        self.word = word  # as the person typed it
        self.reason: WhenErrorReason = reason
        self.suggestion = suggestion  # the closest known word, if any is close


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    """What was read from the start of some words, and the words after it."""

    value: T
    rest: list[str]


# Public entry points --------------------------------------------------------------------


def parse_when(tokens: Sequence[str], now: datetime, tz: ZoneInfo) -> tuple[When | None, list[str]]:
    """Read a time expression from the start of ``tokens``.

    Returns ``(None, tokens)`` when the words do not start with one. Raises ``WhenError``
    when the first word is a near miss of a day word ("morgn"), when a clock time or date is
    malformed ("25:00", "31 nov"), or when the moment has already passed.
    """
    found = _read_when(tokens, now, tz)
    if found is not None:
        return found.value, found.rest
    if tokens and (suggestion := _closest(_norm(tokens[0]), _when_words())) is not None:
        raise WhenError(tokens[0], "unknown_day", suggestion)
    return None, list(tokens)


def find_when(tokens: Sequence[str], now: datetime, tz: ZoneInfo) -> tuple[When | None, list[str]]:
    """Find a time expression at the start of ``tokens`` or further on, as people write it.

    "hulp bij de computer donderdag" reads as Thursday with "hulp bij de computer" left.
    Further on, only words that are clearly about time count: a whole day name, a date with
    a month name, a clock time with a colon or "uur"; "zo", "di" or a bare number do not.
    Returns the words without the time expression. Raises ``WhenError`` as ``parse_when``
    does, and for a moment in the past wherever it stands.
    """
    tokens = [piece for token in tokens for piece in _COMMA_JOINED.split(token) if piece]
    tokens = _and_split(tokens)
    # A past day next to a future one ("sinds gisteren kapot, kan iemand morgen?") tells a
    # story: the future one is meant. A past day alone is refused.
    past: WhenError | None = None
    past_end = 0  # the words up to here belong to that past day
    try:
        when, rest = parse_when(tokens, now, tz)
    except WhenError as problem:
        if problem.reason != "past":
            raise
        past, past_end = problem, len(problem.word.split())
    else:
        if when is not None:
            return when, rest
    for index in range(max(1, past_end), len(tokens)):
        word = _norm(tokens[index])
        if index < past_end or (word not in _strong_words() and not _STRONG_TOKEN.fullmatch(word)):
            continue
        for start in range(max(index - 2, past_end, 0), index + 1):  # "aan het eind", "op za"
            try:
                found = _read_when(tokens[start:], now, tz)
            except WhenError as problem:
                if start < index:
                    continue  # the words before it are no time: "14.75 euro morgen"
                if problem.reason != "past":
                    raise
                past = past or problem
                past_end = start + len(problem.word.split())
                break
            if found is not None and len(tokens) - len(found.rest) > index:
                return found.value, [*tokens[:start], *found.rest]
    if past is not None:
        raise past
    for token in tokens[1:]:  # "hulp op dondedag": a long word very close to a day
        word = _norm(token)
        if len(word) < _LONG_GUESS or word in _strong_words():
            continue
        if (guess := _closest(word, _when_words(), cutoff=_LONG_CUTOFF)) is not None:
            raise WhenError(token, "unknown_day", guess)
    return None, list(tokens)


def _read_when(tokens: Sequence[str], now: datetime, tz: ZoneInfo) -> Parsed[When] | None:
    _tzinfo(now)  # a naive moment cannot be placed in time
    local_now = now.astimezone(tz)
    if (past := _match_phrase(tokens, _past_phrases())) is not None:
        raise WhenError(" ".join(tokens[: len(tokens) - len(past.rest)]), "past")
    years = range(local_now.year - 1, local_now.year + 4)
    expression = _expression(tokens, years)
    if expression is None:
        return _week_window(tokens, local_now, tz)
    typed = " ".join(tokens[: len(tokens) - len(expression.rest)])
    return Parsed(_resolve(expression.value, local_now, tz, typed), expression.rest)


def parse_availability(tokens: Sequence[str]) -> tuple[Availability | None, list[str]]:
    """Read days and parts of the day from the start of ``tokens``, as many as there are.

    Returns ``(None, tokens)`` when the words do not start with any.
    """
    found: Availability | None = None
    rest = _and_split(tokens)
    while True:
        if (weekly := _match_phrase(rest, _WEEKLY)) is not None:  # an offer is weekly anyway
            rest = weekly.rest
            continue
        item = _availability_item(rest)
        if item is None and found is not None and rest and _norm(rest[0]) in _AND:
            item = _availability_item(rest[1:])  # "za en zo", "ochtend and evening"
        if item is None:
            break
        found = item.value if found is None else found | item.value
        rest = item.rest
    if found is None:
        return None, list(tokens)
    days, parts = _unless_all(found.days, _ALL_DAYS), _unless_all(found.parts, _ALL_PARTS)
    return Availability(days, parts), rest


def describe_when(when: When, now: datetime, locale: str) -> str:
    """A short, plain description: "morgen (di 24 nov) om 14:00", "donderdagmiddag 26 nov"."""
    language = _language(locale)
    words = _WORDS[language]
    tz = _tzinfo(when.start)
    start, end = when.start, when.end.astimezone(tz)
    today = now.astimezone(tz).date()
    day = start.date()
    if (end - _INSTANT).date() != day:
        return _describe_days(start, end, today, language)
    label = _day_label(day, today, language)
    if when.exact:
        return f"{label} {words.at} {start:%H:%M}"
    begun_earlier = start == now  # a window that started before now was cut off at now
    for part, (part_start, part_end) in DAY_PARTS.items():
        if end.time() == part_end and (
            start.time() == part_start or (begun_earlier and part_start < start.time() < part_end)
        ):
            return _part_label(day, part, today, language)
    day_start, day_end = _whole_day_times()
    if end.time() == day_end and (start.time() == day_start or begun_earlier):
        return label
    until = "24:00" if end.time() == time() else f"{end:%H:%M}"
    return f"{label} {_times(f'{start:%H:%M}–{until}', language)}"


def describe_availability(av: Availability, locale: str) -> str:
    """A short, plain description: "ma–vr, middag", "za en zo, ochtend", "elke dag"."""
    language = _language(locale)
    words = _WORDS[language]
    if _unless_all(av.days, _ALL_DAYS):
        days = _and_list(_day_runs(av.days, language), words)
    else:
        days = words.any_day
    if not _unless_all(av.parts, _ALL_PARTS):
        return days
    parts = _and_list([words.parts[part] for part in DayPart if part in av.parts], words)
    return f"{days}{words.comma}{parts}"


# Words -----------------------------------------------------------------------------------

# Turkish and Arabic, in one place: days, parts of the day, weeks, as people type them (with
# and without Turkish letters and Arabic hamza or tanween). Babel's abbreviations are left
# out: Turkish "per", "sal", "ara" are everyday words.
_TR_AR_WEEKDAYS = {
    **dict.fromkeys(["pazartesi", "pzt", "pts"], 0),
    **dict.fromkeys(["salı", "sali"], 1),
    **dict.fromkeys(["çarşamba", "carsamba", "çar", "çrş"], 2),
    **dict.fromkeys(["perşembe", "persembe", "prş", "prs"], 3),
    **dict.fromkeys(["cuma"], 4),
    **dict.fromkeys(["cumartesi", "cmt", "ctesi"], 5),
    **dict.fromkeys(["pazar", "paz"], 6),
    **dict.fromkeys(["الاثنين", "الإثنين", "اثنين", "الأثنين"], 0),
    **dict.fromkeys(["الثلاثاء", "ثلاثاء", "الثلاثا"], 1),
    **dict.fromkeys(["الأربعاء", "الاربعاء", "أربعاء", "اربعاء"], 2),
    **dict.fromkeys(["الخميس", "خميس"], 3),
    **dict.fromkeys(["الجمعة", "الجمعه", "جمعة"], 4),
    **dict.fromkeys(["السبت", "سبت"], 5),
    **dict.fromkeys(["الأحد", "الاحد"], 6),
}
_TR_SHORT_DAYS = {"pzt", "pts", "çar", "çrş", "prş", "prs", "cmt", "ctesi", "paz"}
_TR_AR_MONTHS = {
    **{
        name: month
        for month, names in enumerate(
            [
                ("ocak", "يناير", "كانون الثاني"),
                ("şubat", "subat", "فبراير"),
                ("mart", "مارس"),
                ("nisan", "أبريل", "ابريل"),
                ("mayıs", "mayis", "مايو"),
                ("haziran", "يونيو"),
                ("temmuz", "يوليو"),
                ("ağustos", "agustos", "أغسطس", "اغسطس"),
                ("eylül", "eylul", "سبتمبر"),
                ("ekim", "أكتوبر", "اكتوبر"),
                ("kasım", "kasim", "نوفمبر"),
                ("aralık", "aralik", "ديسمبر"),
            ],
            start=1,
        )
        for name in names
        if " " not in name
    },
}
_TR_AR_RELATIVE_DAYS = {
    ("bugün",): 0,
    ("bugun",): 0,
    ("yarın",): 1,
    ("yarin",): 1,
    ("öbür", "gün"): 2,
    ("öbürgün",): 2,
    ("yarından", "sonra"): 2,
    ("اليوم",): 0,
    ("غدا",): 1,
    ("غدًا",): 1,
    ("غداً",): 1,
    ("بكرة",): 1,
    ("بكره",): 1,
    ("بعد", "غد"): 2,
    ("بعد", "الغد"): 2,
    ("بعد", "بكرة"): 2,
}
_TR_AR_PARTS: dict[tuple[str, ...], DayPart] = {
    **dict.fromkeys(
        [("sabah",), ("sabahı",), ("sabahleyin",), ("sabahtan",), ("öğleden", "önce")],
        DayPart.MORNING,
    ),
    **dict.fromkeys(
        [("öğleden", "sonra"), ("ogleden", "sonra"), ("öğlen",), ("öğle",), ("öğleyin",)],
        DayPart.AFTERNOON,
    ),
    **dict.fromkeys([("akşam",), ("aksam",), ("akşamı",), ("akşamleyin",)], DayPart.EVENING),
    **dict.fromkeys(
        [("صباحا",), ("صباحًا",), ("صباحاً",), ("الصباح",), ("الصبح",), ("في", "الصباح")],
        DayPart.MORNING,
    ),
    **dict.fromkeys(
        [("ظهرا",), ("ظهرًا",), ("الظهر",), ("بعد", "الظهر"), ("العصر",), ("عصرا",)],
        DayPart.AFTERNOON,
    ),
    **dict.fromkeys(
        [("مساء",), ("مساءً",), ("مساءا",), ("المساء",), ("في", "المساء")], DayPart.EVENING
    ),
}
_TR_AR_PART_PLURALS = {
    "sabahları": DayPart.MORNING,
    "öğleden sonraları": DayPart.AFTERNOON,
    "akşamları": DayPart.EVENING,
}
_TR_AR_TODAY_PARTS: dict[tuple[str, ...], DayPart] = {
    ("bu", "sabah"): DayPart.MORNING,
    ("bu", "öğleden", "sonra"): DayPart.AFTERNOON,
    ("bu", "akşam"): DayPart.EVENING,
    ("bu", "aksam"): DayPart.EVENING,
    ("bu", "gece"): DayPart.EVENING,
    ("هذا", "الصباح"): DayPart.MORNING,
    ("هذا", "المساء"): DayPart.EVENING,
    ("الليلة",): DayPart.EVENING,
}
_TR_AR_WEEKS: dict[tuple[str, ...], _Week] = {
    ("bu", "hafta"): "this_week",
    ("gelecek", "hafta"): "next_week",
    ("önümüzdeki", "hafta"): "next_week",
    ("haftaya",): "next_week",
    ("hafta", "sonu"): "weekend",
    ("bu", "hafta", "sonu"): "weekend",
    ("haftasonu",): "weekend",
    ("هذا", "الأسبوع"): "this_week",
    ("هذا", "الاسبوع"): "this_week",
    ("الأسبوع", "القادم"): "next_week",
    ("الاسبوع", "القادم"): "next_week",
    ("الأسبوع", "الجاي"): "next_week",
    ("نهاية", "الأسبوع"): "weekend",
    ("نهاية", "الاسبوع"): "weekend",
    ("عطلة", "نهاية", "الأسبوع"): "weekend",
    ("الويكند",): "weekend",
}
_TR_AR_EVERY_DAY = [("her", "gün"), ("her", "gun"), ("hergün",), ("كل", "يوم"), ("يوميا",)]
_TR_AR_ALWAYS = [("her", "zaman"), ("دائما",), ("دائمًا",), ("أي", "وقت"), ("في", "أي", "وقت")]
_TR_AR_WEEKEND = [("hafta", "sonları"), ("haftasonları",), ("عطلة", "الأسبوع")]
_TR_AR_WEEKDAYS_ONLY = [
    ("hafta", "içi"),
    ("hafta", "ici"),
    ("haftaiçi",),
    ("أيام", "الأسبوع"),
    ("أيام", "العمل"),
]
_TR_AR_WEEKLY = [("her", "hafta"), ("haftalık",), ("كل", "أسبوع"), ("كل", "اسبوع"), ("أسبوعيا",)]
_TR_AR_AT = {"saat", "الساعة", "الساعه", "ساعة"}
_TR_AR_AND = {"ve", "و"}
_TR_AR_EVERY = {"her", "كل"}
_TR_AR_THROUGH = {"إلى", "الى", "حتى"}
_TR_AR_NEXT = {"bu", "gelecek", "önümüzdeki"}
_TR_AR_NEXT_AFTER = {"القادم", "القادمة", "الجاي"}  # Arabic says it after the day
_TR_AR_PAST = ("dün", "dun", "أمس", "امس", "البارحة", "الأمس")
_TR_AR_LAST = ("geçen", "gecen")

_LANGUAGES = ("nl", "en")  # the languages whose day and month names Babel gives
_Width: TypeAlias = Literal["wide", "abbreviated"]
_WIDTHS: tuple[_Width, ...] = ("wide", "abbreviated")
_RELATIVE_DAYS = {"vandaag": 0, "today": 0, "morgen": 1, "tomorrow": 1, "overmorgen": 2}
_TODAY_PARTS = {
    "vanochtend": DayPart.MORNING,
    "vanmorgen": DayPart.MORNING,
    "vanmiddag": DayPart.AFTERNOON,
    "vanavond": DayPart.EVENING,
    "tonight": DayPart.EVENING,
}
_PART_WORDS = {
    "ochtend": DayPart.MORNING,
    "morning": DayPart.MORNING,
    "middag": DayPart.AFTERNOON,
    "afternoon": DayPart.AFTERNOON,
    "avond": DayPart.EVENING,
    "evening": DayPart.EVENING,
}
_S_PART_WORDS = {  # 's ochtends, 's middags
    "ochtends": DayPart.MORNING,
    "morgens": DayPart.MORNING,
    "middags": DayPart.AFTERNOON,
    "avonds": DayPart.EVENING,
}
_IN_THE = (("in", "de"), ("in", "the"))
_PART_PHRASES: dict[tuple[str, ...], DayPart] = {
    **{(word,): part for word, part in _PART_WORDS.items()},
    **{("'s", word): part for word, part in _S_PART_WORDS.items()},
    **{("'s" + word,): part for word, part in _S_PART_WORDS.items()},
    **{("s" + word,): part for word, part in _S_PART_WORDS.items()},  # "smiddags"
    **{(*lead, word): part for lead in _IN_THE for word, part in _PART_WORDS.items()},
    ("in", "de", "morgen"): DayPart.MORNING,
    ("voormiddag",): DayPart.MORNING,
    ("namiddag",): DayPart.AFTERNOON,
    **_TR_AR_PARTS,
}
_COMPOUND_PARTS = {  # donderdagmiddag, zondagmorgen, morgenavond
    "ochtend": DayPart.MORNING,
    "morgen": DayPart.MORNING,
    "middag": DayPart.AFTERNOON,
    "avond": DayPart.EVENING,
}
_EXTRA_WEEKDAYS = {"tues": 1, "weds": 2, "thur": 3, "thurs": 3, "woe": 2, "zat": 5}
_EXTRA_MONTHS = {"sept": 9}
_NEXT = {
    "volgende",
    "komende",
    "aankomende",
    "aanstaande",
    "a.s",
    "deze",
    "next",
    "this",
    "coming",
}
_NEXT |= _TR_AR_NEXT
_NEXT_AFTER = {"aanstaande", "a.s", "as", *_TR_AR_NEXT_AFTER}  # "zaterdag a.s."
_ON = {"op", "on", "يوم"}  # "op zaterdag", "يوم السبت"
# Short day names that are everyday words too ("zo snel mogelijk", "do the shopping"): a day
# only with a time or part of the day after them, or alone.
_AMBIGUOUS_DAYS = {"zo", "do", "sat", "sun", "wed", "zat"}
_COMMA_JOINED = re.compile(r"(?<=[^\d\s],)(?=\S)|(?<=,)(?=[^\d\s])")
_AT = {"om", "at", "rond", "around", "omstreeks", "tegen", *_TR_AR_AT}
_BETWEEN = {"van", "from", "tussen", "between"}
_DASHES = {"-", "–"}
_UNTIL = _DASHES | {"tot", "to", "until", "till"}
_AND = {"en", "and", "&", "+", *_TR_AR_AND}
_EVERY = {"elke", "iedere", "every", "each", *_TR_AR_EVERY}
_WEEKLY = dict.fromkeys(
    [
        ("elke", "week"),
        ("iedere", "week"),
        ("wekelijks",),
        ("every", "week"),
        ("each", "week"),
        ("weekly",),
        ("per", "week"),
        *_TR_AR_WEEKLY,
    ],
    True,
)
_HOUR_UNITS = {"uur", "u", "o'clock", "oclock"}
_NUMBER_WORDS = {
    **{
        word: n
        for n, word in enumerate(
            [
                "een",
                "twee",
                "drie",
                "vier",
                "vijf",
                "zes",
                "zeven",
                "acht",
                "negen",
                "tien",
                "elf",
                "twaalf",
            ],
            1,
        )
    },
    **{
        word: n
        for n, word in enumerate(
            [
                "one",
                "two",
                "three",
                "four",
                "five",
                "six",
                "seven",
                "eight",
                "nine",
                "ten",
                "eleven",
                "twelve",
            ],
            1,
        )
    },
    "één": 1,
    "a": 1,
    "an": 1,
}
_MERIDIEMS = {"am", "pm"}
_THROUGH = dict.fromkeys(  # "ma t/m vr", "ma tot en met vr", "mon through fri"
    [
        ("tot", "en", "met"),
        *((word,) for word in ("t/m", "tm", "tot", "-", "–")),
        *((word,) for word in ("to", "through", "thru", "till", "until")),
        *((word,) for word in _TR_AR_THROUGH),
    ],
    True,
)

_Week: TypeAlias = Literal[
    "this_week", "next_week", "weekend", "after_weekend", "end_of_week", "end_of_next_week"
]
_NEXT_WEEK = (("volgende", "week"), ("komende", "week"), ("aankomende", "week"), ("next", "week"))
_END = (
    ("eind",),
    ("einde",),
    ("het", "eind"),
    ("het", "einde"),
    ("aan", "het", "eind"),
    ("aan", "het", "einde"),
)
_WEEK_PHRASES: dict[tuple[str, ...], _Week] = {
    ("deze", "week"): "this_week",
    ("this", "week"): "this_week",
    **dict.fromkeys(_NEXT_WEEK, "next_week"),
    ("dit", "weekend"): "weekend",
    ("komend", "weekend"): "weekend",
    ("this", "weekend"): "weekend",
    ("weekend",): "weekend",
    ("in", "het", "weekend"): "weekend",
    ("in", "the", "weekend"): "weekend",
    ("na", "het", "weekend"): "after_weekend",
    ("after", "the", "weekend"): "after_weekend",
    ("begin", "volgende", "week"): "after_weekend",
    ("begin", "van", "volgende", "week"): "after_weekend",
    ("early", "next", "week"): "after_weekend",
    ("start", "of", "next", "week"): "after_weekend",
    **{(*end, *week): "end_of_week" for end in _END for week in (("van", "de", "week"),)},
    **{(*end, "deze", "week"): "end_of_week" for end in _END},
    **{(*end, "van", "deze", "week"): "end_of_week" for end in _END[:2]},
    ("end", "of", "the", "week"): "end_of_week",
    ("end", "of", "this", "week"): "end_of_week",
    ("at", "the", "end", "of", "the", "week"): "end_of_week",
    ("later", "deze", "week"): "end_of_week",
    ("later", "this", "week"): "end_of_week",
    **{(*end, "volgende", "week"): "end_of_next_week" for end in _END},
    ("end", "of", "next", "week"): "end_of_next_week",
    **_TR_AR_WEEKS,
}

_WEEKEND = frozenset({5, 6})
_WEEKDAYS = frozenset(range(5))
_AVAILABILITY_WORDS: dict[tuple[str, ...], Availability] = {
    **dict.fromkeys(
        [
            ("elke", "dag"),
            ("iedere", "dag"),
            ("every", "day"),
            ("dagelijks",),
            ("daily",),
            *_TR_AR_EVERY_DAY,
        ],
        Availability(_ALL_DAYS),
    ),
    **dict.fromkeys(
        [("altijd",), ("always",), ("anytime",), ("any", "time"), *_TR_AR_ALWAYS],
        Availability(_ALL_DAYS, _ALL_PARTS),
    ),
    **dict.fromkeys(
        [
            ("weekend",),
            ("weekends",),
            ("in", "het", "weekend"),
            ("in", "the", "weekend"),
            *(phrase for phrase, week in _TR_AR_WEEKS.items() if week == "weekend"),
            *_TR_AR_WEEKEND,
        ],
        Availability(_WEEKEND),
    ),
    **dict.fromkeys(
        [
            ("doordeweeks",),
            ("door", "de", "week"),
            ("werkdagen",),
            ("weekdagen",),
            ("weekdays",),
            *_TR_AR_WEEKDAYS_ONLY,
        ],
        Availability(_WEEKDAYS),
    ),
    **{phrase: Availability(parts=frozenset({part})) for phrase, part in _PART_PHRASES.items()},
    **{
        (plural,): Availability(parts=frozenset({part}))
        for plural, part in {
            "ochtenden": DayPart.MORNING,
            "middagen": DayPart.AFTERNOON,
            "avonden": DayPart.EVENING,
            "mornings": DayPart.MORNING,
            "afternoons": DayPart.AFTERNOON,
            "evenings": DayPart.EVENING,
            **_TR_AR_PART_PLURALS,
        }.items()
    },
}

_Language: TypeAlias = Literal["nl", "en", "tr", "ar"]


@dataclass(frozen=True, slots=True)
class _Words:
    today: str
    tomorrow: str
    at: str
    and_: str
    any_day: str
    this_week: str
    next_week: str
    this_weekend: str
    parts: Mapping[DayPart, str]
    today_part: str  # formatted with {part}
    tomorrow_part: str
    weekday_part: str  # formatted with {weekday} and {part}
    comma: str = ", "
    and_gap: str = " "  # Arabic writes "and" against the word after it: "السبت والأحد"


_WORDS: dict[_Language, _Words] = {
    "nl": _Words(
        today="vandaag",
        tomorrow="morgen",
        at="om",
        and_="en",
        any_day="elke dag",
        this_week="deze week",
        next_week="volgende week",
        this_weekend="dit weekend",
        parts={DayPart.MORNING: "ochtend", DayPart.AFTERNOON: "middag", DayPart.EVENING: "avond"},
        today_part="van{part}",
        tomorrow_part="morgen{part}",
        weekday_part="{weekday}{part}",
    ),
    "en": _Words(
        today="today",
        tomorrow="tomorrow",
        at="at",
        and_="and",
        any_day="any day",
        this_week="this week",
        next_week="next week",
        this_weekend="this weekend",
        parts={
            DayPart.MORNING: "morning",
            DayPart.AFTERNOON: "afternoon",
            DayPart.EVENING: "evening",
        },
        today_part="this {part}",
        tomorrow_part="tomorrow {part}",
        weekday_part="{weekday} {part}",
    ),
    "tr": _Words(
        today="bugün",
        tomorrow="yarın",
        at="saat",
        and_="ve",
        any_day="her gün",
        this_week="bu hafta",
        next_week="gelecek hafta",
        this_weekend="bu hafta sonu",
        parts={
            DayPart.MORNING: "sabah",
            DayPart.AFTERNOON: "öğleden sonra",
            DayPart.EVENING: "akşam",
        },
        today_part="bu {part}",
        tomorrow_part="yarın {part}",
        weekday_part="{weekday} {part}",
    ),
    "ar": _Words(
        today="اليوم",
        tomorrow="غدًا",
        at="الساعة",
        and_="و",
        any_day="كل يوم",
        this_week="هذا الأسبوع",
        next_week="الأسبوع القادم",
        this_weekend="نهاية هذا الأسبوع",
        parts={
            DayPart.MORNING: "صباحًا",
            DayPart.AFTERNOON: "بعد الظهر",
            DayPart.EVENING: "مساءً",
        },
        today_part="اليوم {part}",
        tomorrow_part="غدًا {part}",
        weekday_part="{weekday} {part}",
        comma="، ",
        and_gap="",
    ),
}


@cache
def _day_names(width: _Width, language: str) -> tuple[str, ...]:
    """Monday first, as the locale writes them."""
    names = get_day_names(width, locale=language)
    return tuple(str(names[weekday]) for weekday in range(7))


@cache
def _month_names(width: _Width, language: str) -> tuple[str, ...]:
    """January first, as the locale writes them."""
    names = get_month_names(width, locale=language)
    return tuple(str(names[month]) for month in range(1, 13))


@cache
def _weekday_words() -> dict[str, int]:
    words = dict(_EXTRA_WEEKDAYS) | _TR_AR_WEEKDAYS
    for language in _LANGUAGES:
        for width in _WIDTHS:
            names = _day_names(width, language)
            words |= {name.lower(): weekday for weekday, name in enumerate(names)}
    return words


@cache
def _month_words() -> dict[str, int]:
    words = dict(_EXTRA_MONTHS) | _TR_AR_MONTHS
    for language in _LANGUAGES:
        for width in _WIDTHS:
            names = _month_names(width, language)
            words |= {name.lower(): month for month, name in enumerate(names, start=1)}
    return words


# How a day was named, before it is pinned to a date.


@dataclass(frozen=True, slots=True)
class _Relative:
    days: int  # from today


@dataclass(frozen=True, slots=True)
class _Weekday:
    weekday: int  # the next such day
    weeks: int = 0  # and then so many weeks later: "dinsdag over een week"


@dataclass(frozen=True, slots=True)
class _WeekOf:
    weekday: int  # this day of the week ...
    weeks: int  # ... so many calendar weeks after this one: "volgende week dinsdag"


@dataclass(frozen=True, slots=True)
class _Date:
    day: int
    month: int
    year: int | None = None  # None: the next such date
    weekday: int | None = None  # the weekday written with it, which must agree


_DaySpec: TypeAlias = _Relative | _Weekday | _WeekOf | _Date


@dataclass(frozen=True, slots=True)
class _DayWord:
    day: _DaySpec
    part: DayPart | None = None


@cache
def _day_phrases() -> dict[tuple[str, ...], _DayWord]:
    phrases: dict[tuple[str, ...], _DayWord] = {
        ("day", "after", "tomorrow"): _DayWord(_Relative(2)),
        ("the", "day", "after", "tomorrow"): _DayWord(_Relative(2)),
        ("this", "morning"): _DayWord(_Relative(0), DayPart.MORNING),
        ("this", "afternoon"): _DayWord(_Relative(0), DayPart.AFTERNOON),
        ("this", "evening"): _DayWord(_Relative(0), DayPart.EVENING),
        ("morgenvroeg",): _DayWord(_Relative(1), DayPart.MORNING),
        ("morgen", "vroeg"): _DayWord(_Relative(1), DayPart.MORNING),
    }
    phrases |= {(word,): _DayWord(_Relative(days)) for word, days in _RELATIVE_DAYS.items()}
    phrases |= {words: _DayWord(_Relative(days)) for words, days in _TR_AR_RELATIVE_DAYS.items()}
    phrases |= {(word,): _DayWord(_Relative(0), part) for word, part in _TODAY_PARTS.items()}
    phrases |= {words: _DayWord(_Relative(0), part) for words, part in _TR_AR_TODAY_PARTS.items()}
    phrases |= {(word,): _DayWord(_Weekday(weekday)) for word, weekday in _weekday_words().items()}
    prefixes: dict[str, _DaySpec] = {"morgen": _Relative(1), "overmorgen": _Relative(2)}
    prefixes |= {name: _Weekday(weekday) for weekday, name in enumerate(_day_names("wide", "nl"))}
    for prefix, day in prefixes.items():
        for suffix, part in _COMPOUND_PARTS.items():
            if not prefix.endswith(suffix):  # "morgenmorgen" is no word
                phrases[(prefix + suffix,)] = _DayWord(day, part)
    return phrases


_PAST_WORDS = (
    "gisteren",
    "gister",
    "eergisteren",
    "gisteravond",
    "gistermiddag",
    "gisterochtend",
    "gistermorgen",
    "gisternacht",
    "yesterday",
    *_TR_AR_PAST,
)
_LAST = ("vorige", "vorig", "afgelopen", "last", "past", *_TR_AR_LAST)
_STRONG_TOKEN = re.compile(r"\d{1,2}[:.]\d{2}(?:u|uur|h)?|\d{1,2}(?:u|uur|am|pm)|\d{1,2}/\d{1,2}")


@cache
def _past_phrases() -> dict[tuple[str, ...], bool]:
    """What is already over: "gisteren", "vorige week maandag", "last Tuesday"."""
    phrases: dict[tuple[str, ...], bool] = {(word,): True for word in _PAST_WORDS}
    phrases[("last", "night")] = True
    days = [phrase for phrase, day in _day_phrases().items() if isinstance(day.day, _Weekday)]
    for last in _LAST:
        for thing in ("week", "weekend", "maand", "month", "hafta", "ay"):
            phrases[(last, thing)] = True
            phrases |= dict.fromkeys(((last, thing, *day) for day in days), True)
        phrases |= dict.fromkeys(((last, *day) for day in days), True)
    for day in days:
        phrases |= dict.fromkeys(((*day, last, "week") for last in _LAST), True)
    return phrases


@cache
def _strong_words() -> frozenset[str]:
    """Single words that mean a time wherever they stand in a sentence."""
    short = {
        name.lower() for language in _LANGUAGES for name in _day_names("abbreviated", language)
    }
    short |= set(_EXTRA_WEEKDAYS) | _TR_SHORT_DAYS
    words = {phrase[0] for phrase in _day_phrases() if len(phrase) == 1} - short
    words |= {phrase[0] for phrase in _past_phrases() if len(phrase) == 1}
    words |= {word for word in _month_words() if len(word) > 3} - {"mei", "may", "maart", "march"}
    words |= {"'s" + word for word in _S_PART_WORDS} | {"'s", "weekend", "volgende", "komende"}
    words |= {"next", "over", "eind", "einde", "end", "na", "after", "begin"}
    return frozenset(words)


@cache
def _when_words() -> tuple[str, ...]:
    """The single words a near miss is compared with."""
    phrases = [*_day_phrases(), *_PART_PHRASES, *_WEEK_PHRASES]
    return tuple(phrase[0] for phrase in phrases if len(phrase) == 1)


@cache
def _availability_phrases() -> dict[tuple[str, ...], Availability]:
    phrases = dict(_AVAILABILITY_WORDS)
    for word, weekday in _weekday_words().items():
        phrases[(word,)] = Availability(frozenset({weekday}))
    for weekday, name in enumerate(_day_names("wide", "en")):
        phrases[(name.lower() + "s",)] = Availability(frozenset({weekday}))  # "saturdays"
    for weekday, name in enumerate(_day_names("wide", "nl")):
        one_day = Availability(frozenset({weekday}))
        for said in ((name + "en",), (name + "s",), ("'s", name + "s"), ("'s" + name + "s",)):
            phrases[said] = one_day  # "zaterdagen", "'s zaterdags"
    for phrase, day_word in _day_phrases().items():
        day, part = day_word.day, day_word.part
        if isinstance(day, _Weekday) and part is not None:  # "zaterdagochtend"
            phrases[phrase] = Availability(frozenset({day.weekday}), frozenset({part}))
    return phrases


# Reading words ---------------------------------------------------------------------------

_LONGEST_PHRASE = 6
_SHORTEST_GUESS = 4  # shorter words are too ambiguous to guess at ("dit", "zon", "doe")
_GUESS_CUTOFF = 0.75
# Further on in a sentence only long words very close to a day word are asked about:
# "dondedag" is, "vandaan" (0.86 from "vandaag") is not.
_LONG_GUESS = 7
_LONG_CUTOFF = 0.88


# Arabic-Indic and Persian digits, as an Arabic keyboard types them, read as 0-9.
_WESTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _and_split(tokens: Sequence[str]) -> list[str]:
    """Arabic writes "and" against the next word: "والأحد" is read as "و الأحد" when the
    word after it is a day, a month or a part of the day."""
    known = _weekday_words().keys() | _month_words().keys() | {p[0] for p in _PART_PHRASES}
    split: list[str] = []
    for token in tokens:
        if token.startswith("و") and _norm(token[1:]) in known:
            split.extend(("و", token[1:]))
        else:
            split.append(token)
    return split


def _norm(token: str) -> str:
    word = token.lower().replace("’", "'").replace("`", "'").strip(',;:!?()"،؛؟').rstrip(".")
    word = word.translate(_WESTERN_DIGITS)  # "١٤:٠٠" is 14:00
    if word.startswith("s'") and len(word) > 2:  # "s'middags" for "'smiddags"
        word = "'s" + word[2:]
    return word


def _match_phrase(tokens: Sequence[str], phrases: Mapping[tuple[str, ...], T]) -> Parsed[T] | None:
    """The longest phrase the tokens start with."""
    words = tuple(_norm(token) for token in tokens[:_LONGEST_PHRASE])
    for length in range(len(words), 0, -1):
        if (value := phrases.get(words[:length])) is not None:
            return Parsed(value, list(tokens[length:]))
    return None


def _closest(word: str, known: Iterable[str], cutoff: float = _GUESS_CUTOFF) -> str | None:
    """The known word that ``word`` is most likely a typo of, if any is close enough."""
    if len(word) < _SHORTEST_GUESS or not word.isalpha():
        return None
    candidates = [candidate for candidate in known if len(candidate) >= _SHORTEST_GUESS]
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
    return matches[0] if matches else None


# Times of day ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Span:
    """Part of a day as offsets from midnight; without an end it is an exact time."""

    start: timedelta
    end: timedelta | None = None
    plain: bool = False  # the start is a bare 1 to 11 o'clock: morning or afternoon unsaid


_CLOCK = re.compile(r"(?P<hour>\d{1,2})(?:[:.hu](?P<minute>\d{2}))?(?P<suffix>u|h|uur|am|pm)?")
_MALFORMED_CLOCK = re.compile(r"\d+:\d*(?:u|h|uur|am|pm)?|\d+(?:[.hu]\d{2})?(?:u|h|uur|am|pm)")
# "2", "2:30", "8 uur", but not "10:00": morning or afternoon left unsaid
_PLAIN_HOUR = re.compile(r"(?:[1-6](?:[:.hu]\d{2})?|[7-9]|1[01])(?:u|h|uur)?")
_RANGE = re.compile(r"([^-–]+)[-–]([^-–]+)")
_NOON = timedelta(hours=12)
_AFTER = {"na", "vanaf", "after"}  # "na 2 uur": from then until the evening
_BEFORE = {"voor", "vóór", "before", "uiterlijk"}  # "voor 12 uur": from the morning until then
_HALF = {"half"}  # "half drie" is 2:30
_QUARTER = {"kwart", "quarter"}
_PAST_HOUR = {"over", "past"}
_TO_HOUR = {"voor", "to"}


def _offset(moment: time) -> timedelta:
    return timedelta(hours=moment.hour, minutes=moment.minute)


def _part_span(part: DayPart) -> _Span:
    start, end = DAY_PARTS[part]
    return _Span(_offset(start), _offset(end))


def _night_spans() -> tuple[_Span, _Span]:
    """The hours outside every part of the day: before the morning and after the evening."""
    return (
        _Span(timedelta(), _offset(DAY_PARTS[DayPart.MORNING][0])),
        _Span(_offset(DAY_PARTS[DayPart.EVENING][1]), timedelta(days=1)),
    )


def _whole_day_times() -> tuple[time, time]:
    return DAY_PARTS[DayPart.MORNING][0], DAY_PARTS[DayPart.EVENING][1]


def _whole_day() -> _Span:
    start, end = _whole_day_times()
    return _Span(_offset(start), _offset(end))


def _is_hour_range(first: int, last: int) -> bool:
    """Whether "10-12" or "2-4" reads as hours; otherwise it is a date ("24-11", "3-12").

    Nobody asks for help from 3 at night until noon: a range that starts before six and ends
    after it is a date.
    """
    return 0 <= first < last <= 24 and (first >= 6 or last <= 6)


def _clock_value(word: str, typed: str, *, bare_ok: bool, is_end: bool = False) -> timedelta | None:
    """A clock time in one word: "14:00", "14.00", "14u", "9:30", "2pm"; "14" when ``bare_ok``."""
    match = _CLOCK.fullmatch(word)
    if match is None:
        if _MALFORMED_CLOCK.fullmatch(word):
            raise WhenError(typed, "bad_time")
        return None
    minute_text, suffix = match["minute"], match["suffix"]
    if minute_text is None and suffix is None and not bare_ok:
        return None
    hour, minute = int(match["hour"]), int(minute_text or 0)
    if suffix in _MERIDIEMS:
        if not 1 <= hour <= 12:
            raise WhenError(typed, "bad_time")
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if minute > 59 or hour > 24 or (hour == 24 and (minute or not is_end)):
        raise WhenError(typed, "bad_time")
    return timedelta(hours=hour, minutes=minute)


def _hour_word(word: str) -> int | None:
    """An hour from 1 to 12 in digits or words: "3", "drie", "three"."""
    if word.isdecimal() and len(word) <= 2 and 1 <= int(word) <= 12:
        return int(word)
    return _NUMBER_WORDS.get(word) if word not in ("a", "an") else None


def _spoken_clock(tokens: Sequence[str], *, bare_ok: bool) -> Parsed[_Span] | None:
    """A time as it is said: "half drie", "kwart over twee", "drie uur", "half past two"."""
    words = [_norm(token) for token in tokens[:4]] + ["", "", "", ""]
    first, second, third, fourth = words[:4]
    hour: int | None
    minutes = 0
    if (first, second, third) == ("een", "uur", "of"):  # "een uur of twee": about two
        hour, used = _hour_word(fourth), 4
    elif first in _HALF and (hour := _hour_word(second)) is not None:
        hour, minutes, used = hour - 1, 30, 2  # Dutch: "half drie" is half an hour before three
    elif (first, second) == ("half", "past"):
        hour, minutes, used = _hour_word(third), 30, 3
    elif first in _QUARTER and second in _PAST_HOUR | _TO_HOUR:
        hour, used = _hour_word(third), 3
        minutes = 15 if second in _PAST_HOUR else -15
    elif not first.isdecimal() and (hour := _hour_word(first)) is not None:
        used = 1
        if not bare_ok and (second not in _HOUR_UNITS or first in ("een", "één", "one")):
            return None  # "een uur" is as often an hour long as one o'clock
    else:
        return None
    if hour is None:
        return None
    if words[used] in _HOUR_UNITS:
        used += 1
    value = timedelta(hours=hour, minutes=minutes)
    if value < timedelta(hours=1):  # "half een" is half past twelve
        value += _NOON
    plain = timedelta(hours=1) <= value < _NOON
    return Parsed(_Span(value, plain=plain), list(tokens[used:]))


def _clock(tokens: Sequence[str], *, bare_ok: bool, is_end: bool = False) -> Parsed[_Span] | None:
    """A clock time in one or more words: "14:00", "14 uur", "2 pm", "half drie"."""
    if not tokens:
        return None
    word = _norm(tokens[0])
    unit = _norm(tokens[1]) if len(tokens) > 1 else ""
    if unit in _MERIDIEMS:
        value = _clock_value(word + unit, " ".join(tokens[:2]), bare_ok=True, is_end=is_end)
        used = 2
    elif unit in _HOUR_UNITS:
        value = _clock_value(word, " ".join(tokens[:2]), bare_ok=True, is_end=is_end)
        used = 2
    else:
        value = _clock_value(word, tokens[0], bare_ok=bare_ok, is_end=is_end)
        used = 1
    if value is None:
        return _spoken_clock(tokens, bare_ok=bare_ok)
    plain = unit not in _MERIDIEMS and _PLAIN_HOUR.fullmatch(word) is not None
    return Parsed(_Span(value, plain=plain), list(tokens[used:]))


def _span(start: _Span, end: _Span, typed: str) -> _Span:
    """From one clock time to another; "10 tot 2" runs to two in the afternoon."""
    until = end.start
    if until <= start.start and end.plain and start.start < until + _NOON <= timedelta(days=1):
        until += _NOON
    if until <= start.start:
        raise WhenError(typed, "bad_time")
    return _Span(start.start, until, plain=start.plain and end.plain)


def _range_word(token: str) -> _Span | None:
    """A range of hours in one word: "10-12", "10:00-12:00", "10-12u"."""
    match = _RANGE.fullmatch(_norm(token))
    if match is None:
        return None
    first, last = match.groups()
    if len(first) > 5 or len(last) > 7:  # longer than "10:00" and "12:00uur": no hours
        return None
    last_hour = re.fullmatch(r"(\d+)(?:u|h|uur)?", last)  # "10-12", "10-12u"
    if first.isdecimal() and last_hour and not _is_hour_range(int(first), int(last_hour[1])):
        return None
    start = _clock_value(first, token, bare_ok=True)
    end = _clock_value(last, token, bare_ok=True, is_end=True)
    if start is None or end is None:
        return None
    plain_start = _PLAIN_HOUR.fullmatch(first) is not None
    plain_end = _PLAIN_HOUR.fullmatch(last) is not None
    return _span(_Span(start, plain=plain_start), _Span(end, plain=plain_end), token)


def _range_end(
    tokens: Sequence[str], start: Parsed[_Span], connectors: set[str]
) -> Parsed[_Span] | None:
    """The end of a range whose start has been read: "... tot 12", "... - 12:00"."""
    if not start.rest or _norm(start.rest[0]) not in connectors:
        return None
    end = _clock(start.rest[1:], bare_ok=True, is_end=True)
    if end is None:
        return None
    typed = " ".join(tokens[: len(tokens) - len(end.rest)])
    return Parsed(_span(start.value, end.value, typed), end.rest)


def _clock_or_range(tokens: Sequence[str], *, bare_ok: bool) -> Parsed[_Span] | None:
    if not tokens:
        return None
    if (span := _range_word(tokens[0])) is not None:
        rest = tokens[1:]
        if rest and _norm(rest[0]) in _HOUR_UNITS:
            rest = rest[1:]
        return Parsed(span, list(rest))
    spaced = len(tokens) > 2 and _norm(tokens[1]) in _UNTIL  # "10 - 12", "10 tot 2"
    start = _clock(tokens, bare_ok=bare_ok or spaced)
    if start is None:
        return None
    ranged = _range_end(tokens, start, _UNTIL)
    if ranged is None and not bare_ok and _clock(tokens, bare_ok=False) is None:
        return None  # "2 tot ziens" is no time
    return ranged or start


def _clock_phrase(tokens: Sequence[str]) -> Parsed[_Span] | None:
    """A clock time or a range of hours: "om 14:00", "10-12", "van 10 tot 12"."""
    if not tokens:
        return None
    word = _norm(tokens[0])
    if word in _AT:  # "om 14:00", "at 2pm"
        return _clock_or_range(tokens[1:], bare_ok=True)
    if word in _BETWEEN:  # "van 10 tot 12", "between 10 and 12"
        start = _clock(tokens[1:], bare_ok=True)
        return None if start is None else _range_end(tokens, start, _UNTIL | _AND)
    if word in _AFTER | _BEFORE and (moment := _clock(tokens[1:], bare_ok=False)) is not None:
        day_start, day_end = (_offset(moment) for moment in _whole_day_times())
        at = _in_part(moment.value, None).start  # "na 2 uur": from two in the afternoon
        if word in _AFTER:
            return Parsed(_Span(at, max(day_end, at + _EXACT_LENGTH)), moment.rest)
        begin = max(min(day_start, at - _EXACT_LENGTH), timedelta())
        if at <= begin:  # "voor 00:00"
            raise WhenError(" ".join(tokens[: len(tokens) - len(moment.rest)]), "bad_time")
        return Parsed(_Span(begin, at), moment.rest)
    return _clock_or_range(tokens, bare_ok=False)


def _in_part(span: _Span, part: DayPart | None) -> _Span:
    """A clock time read with the part of the day said with it: "morgenavond om 8" is 20:00.

    Without a part of the day, a bare one to six o'clock is in the afternoon: nobody asks a
    neighbour for help at three at night.
    """
    if not span.plain or span.start >= _NOON:
        return span
    if part in (DayPart.AFTERNOON, DayPart.EVENING):
        shift = True
    elif part is None:
        shift = timedelta(hours=1) <= span.start < timedelta(hours=7)
    else:
        shift = False
    if not shift:
        return span
    end = span.end + _NOON if span.end is not None and span.end <= _NOON else span.end
    if end is not None and end <= span.start + _NOON:  # "'s avonds van 10 tot 13": as written
        return span
    return _Span(span.start + _NOON, end)


# Days ------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC_DATE = re.compile(r"(\d{1,2})([-/])(\d{1,2})(?:\2(\d{4}|\d{2}))?")
_DAY_NUMBER = re.compile(r"(\d{1,2})(?:e|ste|de|st|nd|rd|th)?")
_IN = {"over", "in"}
_DAY_UNITS = {"dag": 1, "dagen": 1, "day": 1, "days": 1, "week": 7, "weken": 7, "weeks": 7}


def _with_year(date_: _Date, tokens: Sequence[str], years: range) -> Parsed[_Date]:
    """Take a year after a written date, but only a likely one: "24 nov 3021" ends in a postcode."""
    word = _norm(tokens[0]) if tokens else ""
    if len(word) == 4 and word.isdecimal() and int(word) in years:
        return Parsed(replace(date_, year=int(word)), list(tokens[1:]))
    return Parsed(date_, list(tokens))


def _date(tokens: Sequence[str], years: range) -> Parsed[_Date] | None:
    """A date: "24-11", "24/11/2026", "2026-11-24", "24 nov", "24 november 2026", "nov 24"."""
    if not tokens:
        return None
    word, rest = _norm(tokens[0]), tokens[1:]
    if word in ("the", "de") and rest and _DAY_NUMBER.fullmatch(_norm(rest[0])):
        return _date(rest, years)  # "the 3rd of December", "de 3e december"
    if match := _ISO_DATE.fullmatch(word):
        iso_year, iso_month, iso_day = map(int, match.groups())
        return Parsed(_Date(iso_day, iso_month, iso_year), list(rest))
    if match := _NUMERIC_DATE.fullmatch(word):
        day_text, separator, month_text, year_text = match.groups()
        day, month = int(day_text), int(month_text)
        hours = year_text is None and separator == "-" and _is_hour_range(day, month)
        if hours and not _clock(rest, bare_ok=False):  # "10-12 14:00" is a date with a time
            return None
        year = None if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
        return Parsed(_Date(day, month, year), list(rest))
    months = _month_words()
    if (number := _DAY_NUMBER.fullmatch(word)) and len(rest) > 1 and _norm(rest[0]) == "of":
        rest = rest[1:]  # "3rd of December"
    if (number := _DAY_NUMBER.fullmatch(word)) and rest:
        month_word = _norm(rest[0])
        if month_word in months:
            return _with_year(_Date(int(number[1]), months[month_word]), rest[1:], years)
        if (suggestion := _closest(month_word, months)) is not None:
            raise WhenError(rest[0], "bad_date", suggestion)
    if word in months and rest and (number := _DAY_NUMBER.fullmatch(_norm(rest[0]))):
        return _with_year(_Date(int(number[1]), months[word]), rest[1:], years)
    return None


def _count(tokens: Sequence[str]) -> Parsed[int] | None:
    """A small number in digits or words: "2", "twee", "a"."""
    if not tokens:
        return None
    word = _norm(tokens[0])
    if word.isdecimal() and len(word) <= 2 and int(word) > 0:
        return Parsed(int(word), list(tokens[1:]))
    if word in _NUMBER_WORDS:
        return Parsed(_NUMBER_WORDS[word], list(tokens[1:]))
    return None


def _days_ahead(tokens: Sequence[str]) -> Parsed[int] | None:
    """ "over twee dagen", "in 3 days", "over een week": so many days from now."""
    if not tokens or _norm(tokens[0]) not in _IN:
        return None
    count = _count(tokens[1:])
    if count is None or not count.rest:
        return None
    unit = _DAY_UNITS.get(_norm(count.rest[0]))
    return None if unit is None else Parsed(count.value * unit, count.rest[1:])


def _weekday_word(tokens: Sequence[str]) -> Parsed[_DayWord] | None:
    found = _match_phrase(tokens, _day_phrases())
    if found is None or not isinstance(found.value.day, _Weekday):
        return None
    return found


def _later_weeks(day: _DayWord, tokens: Sequence[str]) -> Parsed[_DayWord]:
    """What may follow a day: "dinsdag volgende week", "dinsdag over een week", "zaterdag a.s."."""
    spec, rest = day.day, list(tokens)
    if rest and _norm(rest[0]) in _NEXT_AFTER and isinstance(spec, _Weekday):
        rest = rest[1:]
    if isinstance(spec, _Weekday) and (week := _match_phrase(rest, _NEXT_WEEK_WORDS)):
        return Parsed(_DayWord(_WeekOf(spec.weekday, 1), day.part), week.rest)
    ahead = _days_ahead(rest)
    if ahead is not None and isinstance(spec, _Relative):  # "vandaag over een week"
        return Parsed(_DayWord(_Relative(spec.days + ahead.value), day.part), ahead.rest)
    if ahead is not None and isinstance(spec, _Weekday) and ahead.value % 7 == 0:
        return Parsed(_DayWord(_Weekday(spec.weekday, ahead.value // 7), day.part), ahead.rest)
    return Parsed(day, rest)


_NEXT_WEEK_WORDS: dict[tuple[str, ...], bool] = dict.fromkeys(_NEXT_WEEK, True)


def _day(tokens: Sequence[str], years: range) -> Parsed[_DayWord] | None:
    """A day, maybe with a part of it: "morgen", "za", "donderdagmiddag", "do 26 nov"."""
    if len(tokens) > 1 and _norm(tokens[0]) in _ON:  # "op dinsdag", "on Friday", "op 3 dec"
        found = _day(tokens[1:], years)
        if found is not None:
            return found
    if (ahead := _days_ahead(tokens)) is not None:  # "over twee dagen"
        return Parsed(_DayWord(_Relative(ahead.value)), ahead.rest)
    if (week := _match_phrase(tokens, _NEXT_WEEK_WORDS)) is not None:  # "volgende week dinsdag"
        weekday = _weekday_word(week.rest)
        if weekday is None:
            return None
        spec = weekday.value.day
        assert isinstance(spec, _Weekday)
        return Parsed(_DayWord(_WeekOf(spec.weekday, 1), weekday.value.part), weekday.rest)
    next_day = len(tokens) > 1 and _norm(tokens[0]) in _NEXT  # "volgende vrijdag", "this friday"
    if next_day and _weekday_word(tokens[1:2]) is not None:
        tokens = tokens[1:]
    found = _match_phrase(tokens, _day_phrases())
    if found is not None and _norm(tokens[0]) in _AMBIGUOUS_DAYS and found.rest:
        after = found.rest
        timed = _clock_phrase(after) is not None or _date(after, years) is not None
        if not timed and _match_phrase(after, _PART_PHRASES) is None:
            found = None  # "zo snel mogelijk", "do the shopping"
    if found is None:
        dated = _date(tokens, years)
        return None if dated is None else Parsed(_DayWord(dated.value), dated.rest)
    day = found.value.day
    if isinstance(day, _Weekday) and (dated := _date(found.rest, years)) is not None:
        with_weekday = replace(dated.value, weekday=day.weekday)
        return Parsed(_DayWord(with_weekday, found.value.part), dated.rest)
    return _later_weeks(found.value, found.rest)


@dataclass(frozen=True, slots=True)
class _Expression:
    day: _DaySpec | None  # None: today
    span: _Span | None  # None: the whole day


def _expression(tokens: Sequence[str], years: range) -> Parsed[_Expression] | None:
    day = _day(tokens, years)
    rest = list(tokens) if day is None else day.rest
    part = None if day is None else day.value.part
    if (said := _match_phrase(rest, _PART_PHRASES)) is not None:  # "morgen 's middags"
        part, rest = said.value, said.rest
    span = None if part is None else _part_span(part)
    if (clock := _clock_phrase(rest)) is not None:
        rest = clock.rest
        if part is None and (after := _match_phrase(rest, _PART_PHRASES)) is not None:
            part, rest = after.value, after.rest  # "om 8 uur 's avonds"
        span = _in_part(clock.value, part)
    if day is not None:
        return Parsed(_Expression(day.value.day, span), rest)
    if span is None:
        return None
    later = _day(rest, years)  # "14:00 morgen"
    if later is not None and later.value.part is None:
        return Parsed(_Expression(later.value.day, span), later.rest)
    return Parsed(_Expression(None, span), rest)


# Pinning to the calendar -----------------------------------------------------------------


def _tzinfo(moment: datetime) -> tzinfo:
    if moment.tzinfo is None:
        raise ValueError("a timezone-aware datetime is needed")
    return moment.tzinfo


def _local(day: date, offset: timedelta, tz: tzinfo) -> datetime:
    """``offset`` after midnight on ``day`` by the wall clock.

    A wall time skipped when the clocks go forward moves on by the hour that was skipped.
    """
    wall = datetime.combine(day, time(), tzinfo=tz) + offset
    return wall.astimezone(UTC).astimezone(tz)


def _window(day: date, span: _Span, tz: tzinfo) -> tuple[datetime, datetime]:
    start = _local(day, span.start, tz)
    if span.end is None:  # an hour of real time, also across a clock change
        return start, (start.astimezone(UTC) + _EXACT_LENGTH).astimezone(tz)
    return start, _local(day, span.end, tz)


def _utc(moment: datetime) -> datetime:
    """For comparing: aware datetimes that share a tzinfo compare by the wall clock."""
    return moment.astimezone(UTC)


def _is_ahead(window: tuple[datetime, datetime], exact: bool, now: datetime) -> bool:
    start, end = window
    return _utc(start) >= _utc(now) if exact else _utc(end) > _utc(now)


def _overlap(first: tuple[datetime, datetime], second: tuple[datetime, datetime]) -> bool:
    return _utc(first[0]) < _utc(second[1]) and _utc(second[0]) < _utc(first[1])


def _days_touched(start: datetime, end: datetime) -> Iterator[date]:
    day, last = start.date(), (end - _INSTANT).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _calendar_day(spec: _Date, today: date, typed: str) -> date:
    try:
        day = date(spec.year or today.year, spec.month, spec.day)
        if spec.year is None and day < today:
            if today - day <= _RECENTLY:  # "20 nov" on the 23rd is not next year's
                raise WhenError(typed, "past")
            day = day.replace(year=today.year + 1)
    except ValueError:
        raise WhenError(typed, "bad_date") from None
    if spec.weekday is not None and day.weekday() != spec.weekday:
        raise WhenError(typed, "bad_date")
    return day


_RECENTLY = timedelta(days=90)


def _resolve(expression: _Expression, now: datetime, tz: tzinfo, typed: str) -> When:
    today = now.date()
    spec, span = expression.day, expression.span or _whole_day()
    exact = span.end is None
    if isinstance(spec, _Date):
        day = _calendar_day(spec, today, typed)
    elif isinstance(spec, _WeekOf):
        monday = today - timedelta(days=today.weekday())
        day = monday + timedelta(days=7 * spec.weeks + spec.weekday)
    elif isinstance(spec, _Weekday) and spec.weeks:  # "dinsdag over een week": from today on
        day = today + timedelta(days=(spec.weekday - today.weekday()) % 7 + 7 * spec.weeks)
    elif isinstance(spec, _Weekday):
        day = today + timedelta(days=(spec.weekday - today.weekday()) % 7)
        # today counts only for a time or part of the day that is still ahead
        if day == today and (
            expression.span is None or not _is_ahead(_window(day, span, tz), exact, now)
        ):
            day += timedelta(days=7)
    else:
        day = today + timedelta(days=0 if spec is None else spec.days)
    start, end = _window(day, span, tz)
    if not _is_ahead((start, end), exact, now):
        raise WhenError(typed, "past")
    if not exact and _utc(start) < _utc(now):
        start = now  # the part of the window that is still ahead
    return When(start, end, exact)


def _week_window(tokens: Sequence[str], now: datetime, tz: tzinfo) -> Parsed[When] | None:
    """Weeks and weekends: "deze week" (from now), "volgende week", "dit weekend".

    Weeks run from Monday to Sunday, midnight to midnight.
    """
    phrase = _match_phrase(tokens, _WEEK_PHRASES)
    if phrase is None:
        return None
    monday = now.date() - timedelta(days=now.weekday())

    def midnight(days_after_monday: int) -> datetime:
        return _local(monday + timedelta(days=days_after_monday), timedelta(), tz)

    rest = phrase.rest
    if phrase.value == "this_week":
        start, end = now, midnight(7)
    elif phrase.value == "next_week":
        start, end = midnight(7), midnight(14)
    elif phrase.value == "after_weekend":  # Monday and Tuesday after it
        start, end = midnight(7), midnight(9)
    elif phrase.value == "end_of_next_week":  # Thursday and Friday
        start, end = midnight(10), midnight(12)
    elif phrase.value == "end_of_week":
        start, end = max(now, midnight(3), key=_utc), midnight(5)
        if _utc(end) <= _utc(now):  # said in the weekend: what is left of the week
            end = midnight(7)
    else:
        start, end = max(now, midnight(5), key=_utc), midnight(7)
    return Parsed(When(start, end, exact=False), rest)


# Availability ----------------------------------------------------------------------------

_DAY_TO_DAY = re.compile(r"([^\W\d_]+)[-–]([^\W\d_]+)")  # letters of any script


def _day_range(first: int, last: int) -> frozenset[int]:
    """From ``first`` through ``last``, round the end of the week if need be ("vr-ma")."""
    return frozenset((first + step) % 7 for step in range((last - first) % 7 + 1))


def _days_in_word(word: str) -> frozenset[int] | None:
    """Several days in one word: "ma-vr", "ma,wo,vr", "za/zo"."""
    weekdays = _weekday_words()
    if match := _DAY_TO_DAY.fullmatch(word):
        first, last = weekdays.get(match[1]), weekdays.get(match[2])
        return None if first is None or last is None else _day_range(first, last)
    names = re.split(r"[,/]", word)
    if len(names) > 1 and all(name in weekdays for name in names):
        return frozenset(weekdays[name] for name in names)
    return None


def _availability_item(tokens: Sequence[str]) -> Parsed[Availability] | None:
    if not tokens:
        return None
    weekdays = _weekday_words()
    word, rest = _norm(tokens[0]), tokens[1:]
    first = weekdays.get(word)
    if first is not None and (through := _match_phrase(rest, _THROUGH)) is not None:  # "ma t/m vr"
        last = weekdays.get(_norm(through.rest[0])) if through.rest else None
        if last is not None:
            return Parsed(Availability(_day_range(first, last)), through.rest[1:])
    if (
        (word in _EVERY or word in _ON)  # "elke do", "iedere dinsdagmiddag", "op za"
        and rest
        and (following := _match_phrase(rest, _availability_phrases())) is not None
    ):
        return following
    if (days := _days_in_word(word)) is not None:
        return Parsed(Availability(days), list(rest))
    return _match_phrase(tokens, _availability_phrases())


def _unless_all(chosen: frozenset[T], everything: frozenset[T]) -> frozenset[T]:
    """Choosing everything is the same as not narrowing down: keep that one way, empty."""
    return frozenset() if chosen >= everything else chosen


# Describing ------------------------------------------------------------------------------


def _language(locale: str) -> _Language:
    short = locale.replace("-", "_").split("_")[0].lower()
    for language in _WORDS:
        if language == short:
            return language
    return "en"


def _times(text: str, language: _Language) -> str:
    """Clock times in Arabic text set apart left to right, so "14:00–16:00" is not turned
    around (see bot.i18n)."""
    return f"\u2068{text}\u2069" if language == "ar" else text


def _year_suffix(day: date, today: date) -> str:
    return "" if day.year == today.year else f" {day.year}"


def _day_month(day: date, today: date, language: _Language) -> str:
    month = _month_names("abbreviated", language)[day.month - 1]
    return f"{day.day} {month}{_year_suffix(day, today)}"


def _short_date(day: date, today: date, language: _Language) -> str:
    """A date in short: "di 24 nov", "Tue 24 Nov"."""
    weekday = _day_names("abbreviated", language)[day.weekday()]
    return f"{weekday} {_day_month(day, today, language)}"


def _day_label(day: date, today: date, language: _Language) -> str:
    """A day by name: "morgen (di 24 nov)", "donderdag 26 nov"."""
    words = _WORDS[language]
    offset = (day - today).days
    if offset in (0, 1):
        relative = words.today if offset == 0 else words.tomorrow
        return f"{relative} ({_short_date(day, today, language)})"
    weekday = _day_names("wide", language)[day.weekday()]
    return f"{weekday} {_day_month(day, today, language)}"


def _part_label(day: date, part: DayPart, today: date, language: _Language) -> str:
    """Part of a day by name: "vanmiddag (ma 23 nov)", "donderdagmiddag 26 nov"."""
    words = _WORDS[language]
    offset = (day - today).days
    if offset in (0, 1):
        template = words.today_part if offset == 0 else words.tomorrow_part
        return f"{template.format(part=words.parts[part])} ({_short_date(day, today, language)})"
    weekday = _day_names("wide", language)[day.weekday()]
    label = words.weekday_part.format(weekday=weekday, part=words.parts[part])
    return f"{label} {_day_month(day, today, language)}"


def _describe_days(start: datetime, end: datetime, today: date, language: _Language) -> str:
    """A window of several days: "volgende week (ma 30 nov – zo 6 dec)"."""
    words = _WORDS[language]
    tz = _tzinfo(start)
    monday = today - timedelta(days=today.weekday())
    next_monday = _local(monday + timedelta(days=7), timedelta(), tz)
    label = None
    if start == next_monday and end == _local(monday + timedelta(days=14), timedelta(), tz):
        label = words.next_week
    elif end == next_monday:
        label = words.this_weekend if start.weekday() in _WEEKEND else words.this_week
    first = _short_date(start.date(), today, language)
    last = _short_date((end - _INSTANT).date(), today, language)
    return f"{first} – {last}" if label is None else f"{label} ({first} – {last})"


def _day_runs(days: Iterable[int], language: _Language) -> list[str]:
    """Days in week order, three or more in a row as one: "ma–vr", "za", "zo"."""
    names = _day_names("abbreviated", language)
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    items: list[str] = []
    for run in runs:
        if len(run) >= 3:
            items.append(f"{names[run[0]]}–{names[run[-1]]}")
        else:
            items.extend(names[day] for day in run)
    return items


def _and_list(items: Sequence[str], words: _Words) -> str:
    if len(items) == 1:
        return items[0]
    return f"{words.comma.join(items[:-1])} {words.and_}{words.and_gap}{items[-1]}"


def short_date(day: date, today: date, locale: str) -> str:
    """A day in short, for a button: "wo 25 nov", "Wed 25 Nov"."""
    return _short_date(day, today, _language(locale))


def day_name(day: date, today: date, locale: str) -> str:
    """A day by name: "morgen (di 24 nov)", "vrijdag 27 nov"."""
    return _day_label(day, today, _language(locale))
