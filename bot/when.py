"""Times and availabilities as people type them in one-line commands.

``parse_when`` reads a moment or a window ("morgen 14:00", "donderdagmiddag", "deze week")
and ``parse_availability`` a weekly availability ("ma-vr middag", "za zo ochtend") from the
start of a command's words, and both hand back the words they did not use. Dutch and English
are understood side by side. The current moment is always passed in: nothing here reads the
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
    _tzinfo(now)  # a naive moment cannot be placed in time
    local_now = now.astimezone(tz)
    if (week := _week_window(tokens, local_now, tz)) is not None:
        return week.value, week.rest
    years = range(local_now.year - 1, local_now.year + 4)
    expression = _expression(tokens, years)
    if expression is None:
        if tokens and (suggestion := _closest(_norm(tokens[0]), _when_words())) is not None:
            raise WhenError(tokens[0], "unknown_day", suggestion)
        return None, list(tokens)
    typed = " ".join(tokens[: len(tokens) - len(expression.rest)])
    return _resolve(expression.value, local_now, tz, typed), expression.rest


def parse_availability(tokens: Sequence[str]) -> tuple[Availability | None, list[str]]:
    """Read days and parts of the day from the start of ``tokens``, as many as there are.

    Returns ``(None, tokens)`` when the words do not start with any.
    """
    found: Availability | None = None
    rest = list(tokens)
    while True:
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
    return f"{label} {start:%H:%M}–{until}"


def describe_availability(av: Availability, locale: str) -> str:
    """A short, plain description: "ma–vr, middag", "za en zo, ochtend", "elke dag"."""
    language = _language(locale)
    words = _WORDS[language]
    if _unless_all(av.days, _ALL_DAYS):
        days = _and_list(_day_runs(av.days, language), words.and_)
    else:
        days = words.any_day
    if not _unless_all(av.parts, _ALL_PARTS):
        return days
    parts = _and_list([words.parts[part] for part in DayPart if part in av.parts], words.and_)
    return f"{days}, {parts}"


# Words -----------------------------------------------------------------------------------

_LANGUAGES = ("nl", "en")
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
_PART_PHRASES: dict[tuple[str, ...], DayPart] = {
    **{(word,): part for word, part in _PART_WORDS.items()},
    **{("'s", word): part for word, part in _S_PART_WORDS.items()},
    **{("'s" + word,): part for word, part in _S_PART_WORDS.items()},
}
_COMPOUND_PARTS = {  # donderdagmiddag, zondagmorgen, morgenavond
    "ochtend": DayPart.MORNING,
    "morgen": DayPart.MORNING,
    "middag": DayPart.AFTERNOON,
    "avond": DayPart.EVENING,
}
_EXTRA_WEEKDAYS = {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}
_EXTRA_MONTHS = {"sept": 9}
_NEXT = {"volgende", "komende", "aanstaande", "deze", "next", "this", "coming"}
_AT = {"om", "at", "rond", "around"}
_BETWEEN = {"van", "from", "tussen", "between"}
_DASHES = {"-", "–"}
_UNTIL = _DASHES | {"tot", "to", "until", "till"}
_AND = {"en", "and", "&", "+"}
_EVERY = {"elke", "iedere", "every"}
_HOUR_UNITS = {"uur", "u"}
_MERIDIEMS = {"am", "pm"}
_THROUGH = dict.fromkeys(  # "ma t/m vr", "ma tot en met vr", "mon through fri"
    [
        ("tot", "en", "met"),
        *((word,) for word in ("t/m", "tm", "tot", "-", "–")),
        *((word,) for word in ("to", "through", "thru", "till", "until")),
    ],
    True,
)

_Week: TypeAlias = Literal["this_week", "next_week", "weekend"]
_WEEK_PHRASES: dict[tuple[str, ...], _Week] = {
    ("deze", "week"): "this_week",
    ("this", "week"): "this_week",
    ("volgende", "week"): "next_week",
    ("komende", "week"): "next_week",
    ("next", "week"): "next_week",
    ("dit", "weekend"): "weekend",
    ("komend", "weekend"): "weekend",
    ("this", "weekend"): "weekend",
    ("weekend",): "weekend",
}

_WEEKEND = frozenset({5, 6})
_WEEKDAYS = frozenset(range(5))
_AVAILABILITY_WORDS: dict[tuple[str, ...], Availability] = {
    **dict.fromkeys(
        [("elke", "dag"), ("iedere", "dag"), ("every", "day"), ("dagelijks",), ("daily",)],
        Availability(_ALL_DAYS),
    ),
    **dict.fromkeys(
        [("altijd",), ("always",), ("anytime",), ("any", "time")],
        Availability(_ALL_DAYS, _ALL_PARTS),
    ),
    **dict.fromkeys(
        [("weekend",), ("weekends",), ("in", "het", "weekend"), ("in", "the", "weekend")],
        Availability(_WEEKEND),
    ),
    **dict.fromkeys(
        [("doordeweeks",), ("door", "de", "week"), ("werkdagen",), ("weekdagen",), ("weekdays",)],
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
        }.items()
    },
}

_Language: TypeAlias = Literal["nl", "en"]


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
    words = dict(_EXTRA_WEEKDAYS)
    for language in _LANGUAGES:
        for width in _WIDTHS:
            names = _day_names(width, language)
            words |= {name.lower(): weekday for weekday, name in enumerate(names)}
    return words


@cache
def _month_words() -> dict[str, int]:
    words = dict(_EXTRA_MONTHS)
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


@dataclass(frozen=True, slots=True)
class _Date:
    day: int
    month: int
    year: int | None = None  # None: the next such date
    weekday: int | None = None  # the weekday written with it, which must agree


_DaySpec: TypeAlias = _Relative | _Weekday | _Date


@dataclass(frozen=True, slots=True)
class _DayWord:
    day: _DaySpec
    part: DayPart | None = None


@cache
def _day_phrases() -> dict[tuple[str, ...], _DayWord]:
    phrases: dict[tuple[str, ...], _DayWord] = {
        ("day", "after", "tomorrow"): _DayWord(_Relative(2)),
        ("this", "morning"): _DayWord(_Relative(0), DayPart.MORNING),
        ("this", "afternoon"): _DayWord(_Relative(0), DayPart.AFTERNOON),
        ("this", "evening"): _DayWord(_Relative(0), DayPart.EVENING),
    }
    phrases |= {(word,): _DayWord(_Relative(days)) for word, days in _RELATIVE_DAYS.items()}
    phrases |= {(word,): _DayWord(_Relative(0), part) for word, part in _TODAY_PARTS.items()}
    phrases |= {(word,): _DayWord(_Weekday(weekday)) for word, weekday in _weekday_words().items()}
    prefixes: dict[str, _DaySpec] = {"morgen": _Relative(1), "overmorgen": _Relative(2)}
    prefixes |= {name: _Weekday(weekday) for weekday, name in enumerate(_day_names("wide", "nl"))}
    for prefix, day in prefixes.items():
        for suffix, part in _COMPOUND_PARTS.items():
            if not prefix.endswith(suffix):  # "morgenmorgen" is no word
                phrases[(prefix + suffix,)] = _DayWord(day, part)
    return phrases


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
    for phrase, day_word in _day_phrases().items():
        day, part = day_word.day, day_word.part
        if isinstance(day, _Weekday) and part is not None:  # "zaterdagochtend"
            phrases[phrase] = Availability(frozenset({day.weekday}), frozenset({part}))
    return phrases


# Reading words ---------------------------------------------------------------------------

_LONGEST_PHRASE = 4
_SHORTEST_GUESS = 4  # shorter words are too ambiguous to guess at ("dit", "zon", "doe")
_GUESS_CUTOFF = 0.75


def _norm(token: str) -> str:
    return token.lower().replace("’", "'").strip(",;:!?").rstrip(".")


def _match_phrase(tokens: Sequence[str], phrases: Mapping[tuple[str, ...], T]) -> Parsed[T] | None:
    """The longest phrase the tokens start with."""
    words = tuple(_norm(token) for token in tokens[:_LONGEST_PHRASE])
    for length in range(len(words), 0, -1):
        if (value := phrases.get(words[:length])) is not None:
            return Parsed(value, list(tokens[length:]))
    return None


def _closest(word: str, known: Iterable[str]) -> str | None:
    """The known word that ``word`` is most likely a typo of, if any is close enough."""
    if len(word) < _SHORTEST_GUESS or not word.isalpha():
        return None
    candidates = [candidate for candidate in known if len(candidate) >= _SHORTEST_GUESS]
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=_GUESS_CUTOFF)
    return matches[0] if matches else None


# Times of day ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Span:
    """Part of a day as offsets from midnight; without an end it is an exact time."""

    start: timedelta
    end: timedelta | None = None


_CLOCK = re.compile(r"(?P<hour>\d{1,2})(?:[:.hu](?P<minute>\d{2}))?(?P<suffix>u|h|uur|am|pm)?")
_MALFORMED_CLOCK = re.compile(r"\d+:\d*(?:u|h|uur|am|pm)?|\d+(?:[.hu]\d{2})?(?:u|h|uur|am|pm)")
_RANGE = re.compile(r"([^-–]+)[-–]([^-–]+)")


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
    """Whether "10-12" reads as hours; otherwise it is a date ("24-11")."""
    return 0 <= first < last <= 24


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


def _clock(
    tokens: Sequence[str], *, bare_ok: bool, is_end: bool = False
) -> Parsed[timedelta] | None:
    """A clock time in one or two words: "14:00", "14 uur", "2 pm"."""
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
    return None if value is None else Parsed(value, list(tokens[used:]))


def _span(start: timedelta, end: timedelta, typed: str) -> _Span:
    if end <= start:
        raise WhenError(typed, "bad_time")
    return _Span(start, end)


def _range_word(token: str) -> _Span | None:
    """A range of hours in one word: "10-12", "10:00-12:00", "10-12u"."""
    match = _RANGE.fullmatch(_norm(token))
    if match is None:
        return None
    first, last = match.groups()
    if first.isdecimal() and last.isdecimal() and not _is_hour_range(int(first), int(last)):
        return None
    start = _clock_value(first, token, bare_ok=True)
    end = _clock_value(last, token, bare_ok=True, is_end=True)
    if start is None or end is None:
        return None
    return _span(start, end, token)


def _range_end(
    tokens: Sequence[str], start: Parsed[timedelta], connectors: set[str]
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
    spaced_dash = len(tokens) > 2 and _norm(tokens[1]) in _DASHES  # "10 - 12"
    start = _clock(tokens, bare_ok=bare_ok or spaced_dash)
    if start is None:
        return None
    return _range_end(tokens, start, _UNTIL) or Parsed(_Span(start.value), start.rest)


def _time_of_day(tokens: Sequence[str]) -> Parsed[_Span] | None:
    """A part of the day, a clock time or a range of hours."""
    if (part := _match_phrase(tokens, _PART_PHRASES)) is not None:
        return Parsed(_part_span(part.value), part.rest)
    if not tokens:
        return None
    word = _norm(tokens[0])
    if word in _AT:  # "om 14:00", "at 2pm"
        return _clock_or_range(tokens[1:], bare_ok=True)
    if word in _BETWEEN:  # "van 10 tot 12", "between 10 and 12"
        start = _clock(tokens[1:], bare_ok=True)
        return None if start is None else _range_end(tokens, start, _UNTIL | _AND)
    return _clock_or_range(tokens, bare_ok=False)


# Days ------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC_DATE = re.compile(r"(\d{1,2})([-/])(\d{1,2})(?:\2(\d{4}|\d{2}))?")
_DAY_NUMBER = re.compile(r"(\d{1,2})(?:e|ste|de|st|nd|rd|th)?")


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
    if match := _ISO_DATE.fullmatch(word):
        iso_year, iso_month, iso_day = map(int, match.groups())
        return Parsed(_Date(iso_day, iso_month, iso_year), list(rest))
    if match := _NUMERIC_DATE.fullmatch(word):
        day_text, separator, month_text, year_text = match.groups()
        day, month = int(day_text), int(month_text)
        if year_text is None and separator == "-" and _is_hour_range(day, month):
            return None
        year = None if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
        return Parsed(_Date(day, month, year), list(rest))
    months = _month_words()
    if (number := _DAY_NUMBER.fullmatch(word)) and rest:
        month_word = _norm(rest[0])
        if month_word in months:
            return _with_year(_Date(int(number[1]), months[month_word]), rest[1:], years)
        if (suggestion := _closest(month_word, months)) is not None:
            raise WhenError(rest[0], "bad_date", suggestion)
    if word in months and rest and (number := _DAY_NUMBER.fullmatch(_norm(rest[0]))):
        return _with_year(_Date(int(number[1]), months[word]), rest[1:], years)
    return None


def _day(tokens: Sequence[str], years: range) -> Parsed[_DayWord] | None:
    """A day, maybe with a part of it: "morgen", "za", "donderdagmiddag", "do 26 nov"."""
    phrases = _day_phrases()
    if len(tokens) > 1 and _norm(tokens[0]) in _NEXT:  # "volgende vrijdag", "this friday"
        following = phrases.get((_norm(tokens[1]),))
        if following is not None and isinstance(following.day, _Weekday):
            tokens = tokens[1:]
    found = _match_phrase(tokens, phrases)
    if found is None:
        dated = _date(tokens, years)
        return None if dated is None else Parsed(_DayWord(dated.value), dated.rest)
    day = found.value.day
    if isinstance(day, _Weekday) and (dated := _date(found.rest, years)) is not None:
        with_weekday = replace(dated.value, weekday=day.weekday)
        return Parsed(_DayWord(with_weekday, found.value.part), dated.rest)
    return found


@dataclass(frozen=True, slots=True)
class _Expression:
    day: _DaySpec | None  # None: today
    span: _Span | None  # None: the whole day


def _expression(tokens: Sequence[str], years: range) -> Parsed[_Expression] | None:
    day = _day(tokens, years)
    rest = list(tokens) if day is None else day.rest
    span = None if day is None or day.value.part is None else _part_span(day.value.part)
    if (clock := _time_of_day(rest)) is not None:
        span, rest = clock.value, clock.rest
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
            day = day.replace(year=today.year + 1)
    except ValueError:
        raise WhenError(typed, "bad_date") from None
    if spec.weekday is not None and day.weekday() != spec.weekday:
        raise WhenError(typed, "bad_date")
    return day


def _resolve(expression: _Expression, now: datetime, tz: tzinfo, typed: str) -> When:
    today = now.date()
    spec, span = expression.day, expression.span or _whole_day()
    exact = span.end is None
    if isinstance(spec, _Date):
        day = _calendar_day(spec, today, typed)
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

    if phrase.value == "this_week":
        start, end = now, midnight(7)
    elif phrase.value == "next_week":
        start, end = midnight(7), midnight(14)
    else:
        start, end = max(now, midnight(5), key=_utc), midnight(7)
    return Parsed(When(start, end, exact=False), phrase.rest)


# Availability ----------------------------------------------------------------------------

_DAY_TO_DAY = re.compile(r"([a-z]+)[-–]([a-z]+)")


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
    if word in _EVERY and rest and (weekday := weekdays.get(_norm(rest[0]))) is not None:
        return Parsed(Availability(frozenset({weekday})), list(rest[1:]))  # "elke do"
    if (days := _days_in_word(word)) is not None:
        return Parsed(Availability(days), list(rest))
    return _match_phrase(tokens, _availability_phrases())


def _unless_all(chosen: frozenset[T], everything: frozenset[T]) -> frozenset[T]:
    """Choosing everything is the same as not narrowing down: keep that one way, empty."""
    return frozenset() if chosen >= everything else chosen


# Describing ------------------------------------------------------------------------------


def _language(locale: str) -> _Language:
    return "nl" if locale.replace("-", "_").split("_")[0].lower() == "nl" else "en"


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


def _and_list(items: Sequence[str], and_: str) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {and_} {items[-1]}"
