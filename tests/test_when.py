from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.when import (
    DAY_PARTS,
    Availability,
    DayPart,
    When,
    WhenError,
    describe_availability,
    describe_when,
    find_when,
    parse_availability,
    parse_when,
    window_slots,
)

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=AMS)  # a Monday morning

MORNING, AFTERNOON, EVENING = DayPart.MORNING, DayPart.AFTERNOON, DayPart.EVENING
WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})


def at(text: str) -> datetime:
    """A wall-clock time in Amsterdam: "2026-11-24 14:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


def when(text: str, now: datetime = NOW) -> When:
    """Parse a whole text that is only a time expression."""
    parsed, rest = parse_when(text.split(), now, AMS)
    assert parsed is not None, text
    assert rest == [], text
    return parsed


def error(text: str, now: datetime = NOW) -> WhenError:
    with pytest.raises(WhenError) as caught:
        parse_when(text.split(), now, AMS)
    return caught.value


def window(av: Availability | None) -> tuple[frozenset[int], frozenset[DayPart]]:
    assert av is not None
    return av.days, av.parts


def test_day_parts_have_the_agreed_defaults() -> None:
    assert {part: (start.hour, end.hour) for part, (start, end) in DAY_PARTS.items()} == {
        MORNING: (8, 12),
        AFTERNOON: (12, 17),
        EVENING: (17, 21),
    }


# parse_when: what is understood ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("14:00", "2026-11-23 14:00"),
        ("14.00", "2026-11-23 14:00"),
        ("14u", "2026-11-23 14:00"),
        ("14h", "2026-11-23 14:00"),
        ("14 uur", "2026-11-23 14:00"),
        ("14:00 uur", "2026-11-23 14:00"),
        ("14u30", "2026-11-23 14:30"),
        ("9:30", "2026-11-23 09:30"),
        ("2pm", "2026-11-23 14:00"),
        ("2 pm", "2026-11-23 14:00"),
        ("11am", "2026-11-23 11:00"),
        ("12pm", "2026-11-23 12:00"),
        ("om 14:00", "2026-11-23 14:00"),
        ("om 14", "2026-11-23 14:00"),
        ("at 2pm", "2026-11-23 14:00"),
        ("morgen 14:00", "2026-11-24 14:00"),
        ("morgen om 14:00", "2026-11-24 14:00"),
        ("tomorrow at 2pm", "2026-11-24 14:00"),
        ("om 14:00 morgen", "2026-11-24 14:00"),
        ("vandaag 17:30", "2026-11-23 17:30"),
        ("today 17:30", "2026-11-23 17:30"),
        ("overmorgen 10u", "2026-11-25 10:00"),
        ("day after tomorrow 10:00", "2026-11-25 10:00"),
        ("za 10:00", "2026-11-28 10:00"),
        ("zaterdag om 10 uur", "2026-11-28 10:00"),
        ("sat 10:00", "2026-11-28 10:00"),
        ("Saturday 10am", "2026-11-28 10:00"),
        ("vr 9:30", "2026-11-27 09:30"),
        ("thurs 15:00", "2026-11-26 15:00"),
        ("volgende vrijdag 11:00", "2026-11-27 11:00"),
        ("next friday 11:00", "2026-11-27 11:00"),
        ("donderdagmiddag 15:00", "2026-11-26 15:00"),
        ("24-11 14:00", "2026-11-24 14:00"),
        ("24 nov om 14:00", "2026-11-24 14:00"),
        ("2026-12-01 14:00", "2026-12-01 14:00"),
        ("1 april 10:00", "2027-04-01 10:00"),
    ],
)
def test_reads_clock_times(text: str, start: str) -> None:
    parsed = when(text)
    assert parsed.exact
    assert parsed.start == at(start)
    assert parsed.end == at(start) + timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        # a day with neither time nor part: 08:00-21:00, from now if it is today
        ("vandaag", "2026-11-23 09:00", "2026-11-23 21:00"),
        ("today", "2026-11-23 09:00", "2026-11-23 21:00"),
        ("morgen", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("Tomorrow", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("overmorgen", "2026-11-25 08:00", "2026-11-25 21:00"),
        ("day after tomorrow", "2026-11-25 08:00", "2026-11-25 21:00"),
        ("di", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("woensdag", "2026-11-25 08:00", "2026-11-25 21:00"),
        ("wed", "2026-11-25 08:00", "2026-11-25 21:00"),
        ("Thursday", "2026-11-26 08:00", "2026-11-26 21:00"),
        ("zo", "2026-11-29 08:00", "2026-11-29 21:00"),
        ("sun", "2026-11-29 08:00", "2026-11-29 21:00"),
        ("deze zondag", "2026-11-29 08:00", "2026-11-29 21:00"),
        # compounds and separate day parts
        ("donderdagmiddag", "2026-11-26 12:00", "2026-11-26 17:00"),
        ("morgenochtend", "2026-11-24 08:00", "2026-11-24 12:00"),
        ("morgenavond", "2026-11-24 17:00", "2026-11-24 21:00"),
        ("zaterdagavond", "2026-11-28 17:00", "2026-11-28 21:00"),
        ("vrijdagochtend", "2026-11-27 08:00", "2026-11-27 12:00"),
        ("zondagmorgen", "2026-11-29 08:00", "2026-11-29 12:00"),
        ("overmorgenmiddag", "2026-11-25 12:00", "2026-11-25 17:00"),
        ("donderdag middag", "2026-11-26 12:00", "2026-11-26 17:00"),
        ("morgen middag", "2026-11-24 12:00", "2026-11-24 17:00"),
        ("tomorrow afternoon", "2026-11-24 12:00", "2026-11-24 17:00"),
        ("thursday evening", "2026-11-26 17:00", "2026-11-26 21:00"),
        ("za 's ochtends", "2026-11-28 08:00", "2026-11-28 12:00"),
        # parts alone are today's; a part that has begun runs from now
        ("ochtend", "2026-11-23 09:00", "2026-11-23 12:00"),
        ("morning", "2026-11-23 09:00", "2026-11-23 12:00"),
        ("middag", "2026-11-23 12:00", "2026-11-23 17:00"),
        ("afternoon", "2026-11-23 12:00", "2026-11-23 17:00"),
        ("avond", "2026-11-23 17:00", "2026-11-23 21:00"),
        ("evening", "2026-11-23 17:00", "2026-11-23 21:00"),
        ("'s middags", "2026-11-23 12:00", "2026-11-23 17:00"),
        ("’s avonds", "2026-11-23 17:00", "2026-11-23 21:00"),
        ("vanochtend", "2026-11-23 09:00", "2026-11-23 12:00"),
        ("vanmorgen", "2026-11-23 09:00", "2026-11-23 12:00"),
        ("vanmiddag", "2026-11-23 12:00", "2026-11-23 17:00"),
        ("vanavond", "2026-11-23 17:00", "2026-11-23 21:00"),
        ("tonight", "2026-11-23 17:00", "2026-11-23 21:00"),
        ("this afternoon", "2026-11-23 12:00", "2026-11-23 17:00"),
        # ranges of hours
        ("10-12", "2026-11-23 10:00", "2026-11-23 12:00"),
        ("10:00-12:00", "2026-11-23 10:00", "2026-11-23 12:00"),
        ("10-12u", "2026-11-23 10:00", "2026-11-23 12:00"),
        ("10–12 uur", "2026-11-23 10:00", "2026-11-23 12:00"),
        ("9:30-11", "2026-11-23 09:30", "2026-11-23 11:00"),
        ("morgen 10 - 12", "2026-11-24 10:00", "2026-11-24 12:00"),
        ("morgen 10:00 tot 12:00", "2026-11-24 10:00", "2026-11-24 12:00"),
        ("morgen van 10 tot 12 uur", "2026-11-24 10:00", "2026-11-24 12:00"),
        ("tussen 10 en 12", "2026-11-23 10:00", "2026-11-23 12:00"),
        ("tomorrow between 10 and 12", "2026-11-24 10:00", "2026-11-24 12:00"),
        ("from 2pm to 4pm", "2026-11-23 14:00", "2026-11-23 16:00"),
        ("vr 22-24", "2026-11-27 22:00", "2026-11-28 00:00"),
        ("vandaag 8-12", "2026-11-23 09:00", "2026-11-23 12:00"),
        # dates: the next such date, today included
        ("24-11", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("24/11", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("24 nov", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("24 nov.", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("24 november", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("24 November 2026", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("24/11/2026", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("24-11-26", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("nov 24", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("November 24th", "2026-11-24 08:00", "2026-11-24 21:00"),
        ("23-11", "2026-11-23 09:00", "2026-11-23 21:00"),
        ("5 dec middag", "2026-12-05 12:00", "2026-12-05 17:00"),
        ("12-3", "2027-03-12 08:00", "2027-03-12 21:00"),
        ("5/1", "2027-01-05 08:00", "2027-01-05 21:00"),
        ("3 mrt", "2027-03-03 08:00", "2027-03-03 21:00"),
        ("do 26 nov", "2026-11-26 08:00", "2026-11-26 21:00"),
        ("donderdagmiddag 26 nov", "2026-11-26 12:00", "2026-11-26 17:00"),
        ("Thursday, 26 November", "2026-11-26 08:00", "2026-11-26 21:00"),
        # weeks and weekends
        ("deze week", "2026-11-23 09:00", "2026-11-30 00:00"),
        ("this week", "2026-11-23 09:00", "2026-11-30 00:00"),
        ("volgende week", "2026-11-30 00:00", "2026-12-07 00:00"),
        ("next week", "2026-11-30 00:00", "2026-12-07 00:00"),
        ("dit weekend", "2026-11-28 00:00", "2026-11-30 00:00"),
        ("this weekend", "2026-11-28 00:00", "2026-11-30 00:00"),
        ("weekend", "2026-11-28 00:00", "2026-11-30 00:00"),
    ],
)
def test_reads_windows(text: str, start: str, end: str) -> None:
    parsed = when(text)
    assert not parsed.exact
    assert (parsed.start, parsed.end) == (at(start), at(end))


def test_results_are_in_the_given_time_zone_whatever_zone_now_is_in() -> None:
    parsed = when("morgen 14:00", now=NOW.astimezone(UTC))
    assert parsed.start.tzinfo is AMS
    assert parsed.start.isoformat() == "2026-11-24T14:00:00+01:00"


# parse_when: which day is meant ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("ma", "2026-11-30 08:00"),  # a bare weekday is never today
        ("maandag 08:00", "2026-11-30 08:00"),  # today's 08:00 has passed
        ("ma 10:00", "2026-11-23 10:00"),  # today's 10:00 is ahead
        ("ma middag", "2026-11-23 12:00"),
        ("maandagochtend", "2026-11-23 09:00"),  # begun, not over: the rest of it
        ("maandagavond", "2026-11-23 17:00"),
    ],
)
def test_a_weekday_means_today_only_while_its_time_is_ahead(text: str, start: str) -> None:
    assert when(text).start == at(start)


def test_weekend_window_starts_now_once_the_weekend_has_begun() -> None:
    saturday = at("2026-11-28 15:00")
    parsed = when("dit weekend", now=saturday)
    assert (parsed.start, parsed.end) == (saturday, at("2026-11-30 00:00"))


def test_this_week_on_a_sunday_runs_to_midnight() -> None:
    sunday = at("2026-11-29 20:00")
    assert when("deze week", now=sunday).end == at("2026-11-30 00:00")


def test_a_year_is_only_taken_when_it_is_near() -> None:
    parsed, rest = parse_when(["24", "nov", "3021", "koffie"], NOW, AMS)
    assert parsed is not None
    assert parsed.start == at("2026-11-24 08:00")
    assert rest == ["3021", "koffie"]


# parse_when: the rest of the words ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "rest"),
    [
        ("morgen 14:00 melk en brood", "2026-11-24 14:00", ["melk", "en", "brood"]),
        (
            "donderdagmiddag 3021 even een kop koffie samen",
            "2026-11-26 12:00",
            ["3021", "even", "een", "kop", "koffie", "samen"],
        ),
        ("za 10:00 naar het ziekenhuis", "2026-11-28 10:00", ["naar", "het", "ziekenhuis"]),
        ("Morgen 14:00 Melk, Brood", "2026-11-24 14:00", ["Melk,", "Brood"]),
        ("morgen om de hoek", "2026-11-24 08:00", ["om", "de", "hoek"]),
        ("morgen 14:00 tot ziens", "2026-11-24 14:00", ["tot", "ziens"]),
        ("deze week 3021", "2026-11-23 09:00", ["3021"]),
        ("middag soep", "2026-11-23 12:00", ["soep"]),
    ],
)
def test_hands_back_the_words_after_the_time(text: str, start: str, rest: list[str]) -> None:
    parsed, left = parse_when(text.split(), NOW, AMS)
    assert parsed is not None
    assert parsed.start == at(start)
    assert left == rest


@pytest.mark.parametrize(
    "text",
    [
        "",
        "melk en brood",
        "3021 even koffie",
        "om de hoek",
        "at the hospital",
        "van de markt",
        "dit is dringend",  # "dit" is too short to guess at
        "zon",
        "vrij",
        "2.5 kilo aardappelen",
        "elke do",
    ],
)
def test_words_that_are_no_time_are_left_alone(text: str) -> None:
    assert parse_when(text.split(), NOW, AMS) == (None, text.split())


# parse_when: what cannot be understood ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "word", "suggestion"),
    [
        ("morgn 14:00 melk", "morgn", "morgen"),
        ("Morgn", "Morgn", "morgen"),
        ("dondredag", "dondredag", "donderdag"),
        ("dondredagmiddag 3021", "dondredagmiddag", "donderdagmiddag"),
        ("zatredag", "zatredag", "zaterdag"),
        ("tomorow", "tomorow", "tomorrow"),
        ("thursdy", "thursdy", "thursday"),
        ("vanavnd", "vanavnd", "vanavond"),
        ("middg", "middg", "middag"),
    ],
)
def test_a_near_miss_of_a_day_word_is_named_with_a_suggestion(
    text: str, word: str, suggestion: str
) -> None:
    failure = error(text)
    assert (failure.reason, failure.word, failure.suggestion) == ("unknown_day", word, suggestion)
    assert suggestion in str(failure)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("25:00", "25:00"),
        ("14.75", "14.75"),
        ("9:5", "9:5"),
        ("24:00", "24:00"),
        ("morgen 25u", "25u"),
        ("13pm", "13pm"),
        ("om 14:60", "14:60"),
        ("10:00-25:00", "10:00-25:00"),
        ("morgen 12:00 tot 10:00", "12:00 tot 10:00"),
        ("morgen voor 00:00", "voor 00:00"),
    ],
)
def test_a_malformed_time_is_an_error(text: str, word: str) -> None:
    failure = error(text)
    assert (failure.reason, failure.word, failure.suggestion) == ("bad_time", word, None)


@pytest.mark.parametrize(
    ("text", "word", "suggestion"),
    [
        ("31 nov", "31 nov", None),
        ("31-11", "31-11", None),
        ("30/2", "30/2", None),
        ("24-13", "24-13", None),
        ("vr 26 nov", "vr 26 nov", None),  # 26 November is a Thursday
        ("24 novmber", "novmber", "november"),
        ("3 decmber 14:00", "decmber", "december"),
    ],
)
def test_an_impossible_date_is_an_error(text: str, word: str, suggestion: str | None) -> None:
    failure = error(text)
    assert (failure.reason, failure.word, failure.suggestion) == ("bad_date", word, suggestion)


@pytest.mark.parametrize(
    ("text", "now"),
    [
        ("08:00", NOW),
        ("vandaag 8:30", NOW),
        ("vandaag 7-9", NOW),
        ("vanochtend", at("2026-11-23 12:00")),
        ("middag", at("2026-11-23 17:00")),
        ("vandaag", at("2026-11-23 21:30")),
        ("today 2pm", at("2026-11-23 15:00")),
        ("24 nov 2025", NOW),
        ("23-11-2026 8:00", NOW),
        ("12-10", NOW),  # October, six weeks ago: not next year's
        ("20 november", NOW),
    ],
)
def test_a_time_that_has_passed_is_an_error(text: str, now: datetime) -> None:
    failure = error(text, now=now)
    assert (failure.reason, failure.word, failure.suggestion) == ("past", text, None)


def test_now_itself_is_not_past() -> None:
    assert when("09:00").start == NOW


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_when(["morgen"], datetime(2026, 11, 23, 9, 0), AMS)


# parse_when: daylight saving time --------------------------------------------------------

BEFORE_SPRING = at("2027-03-26 09:00")  # a Friday; clocks go forward on Sunday 28 March 02:00
BEFORE_AUTUMN = at("2026-10-23 09:00")  # a Friday; clocks go back on Sunday 25 October 03:00


def hours(start: datetime, end: datetime) -> float:
    return (end.astimezone(UTC) - start.astimezone(UTC)) / timedelta(hours=1)


def test_a_day_after_the_spring_change_keeps_its_wall_clock_time() -> None:
    parsed = when("maandag 14:00", now=BEFORE_SPRING)
    assert parsed.start.isoformat() == "2027-03-29T14:00:00+02:00"
    assert parsed.end.isoformat() == "2027-03-29T15:00:00+02:00"


def test_a_date_after_the_spring_change_keeps_its_wall_clock_time() -> None:
    parsed = when("2 april 10:00")  # said in November, for next spring
    assert parsed.start.isoformat() == "2027-04-02T10:00:00+02:00"


def test_an_exact_time_lasts_one_real_hour_across_the_spring_change() -> None:
    parsed = when("zondag 01:30", now=BEFORE_SPRING)
    assert parsed.start.isoformat() == "2027-03-28T01:30:00+01:00"
    assert parsed.end.isoformat() == "2027-03-28T03:30:00+02:00"
    assert hours(parsed.start, parsed.end) == 1


def test_a_time_skipped_by_the_spring_change_moves_forward() -> None:
    assert when("zondag 02:30", now=BEFORE_SPRING).start.isoformat() == "2027-03-28T03:30:00+02:00"


def test_an_exact_time_lasts_one_real_hour_across_the_autumn_change() -> None:
    parsed = when("zondag 02:30", now=BEFORE_AUTUMN)
    assert parsed.start.isoformat() == "2026-10-25T02:30:00+02:00"
    assert parsed.end.isoformat() == "2026-10-25T02:30:00+01:00"
    assert hours(parsed.start, parsed.end) == 1


def test_weeks_and_weekends_follow_the_wall_clock_across_the_spring_change() -> None:
    weekend = when("dit weekend", now=BEFORE_SPRING)
    assert weekend.end.isoformat() == "2027-03-29T00:00:00+02:00"
    assert hours(weekend.start, weekend.end) == 47
    next_week = when("volgende week", now=BEFORE_SPRING)
    assert next_week.start.isoformat() == "2027-03-29T00:00:00+02:00"
    assert next_week.end.isoformat() == "2027-04-05T00:00:00+02:00"


# parse_availability ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days", "parts"),
    [
        ("ma-vr middag", WEEKDAYS, {AFTERNOON}),
        ("ma–vr", WEEKDAYS, set()),
        ("Mon-Fri", WEEKDAYS, set()),
        ("maandag-vrijdag", WEEKDAYS, set()),
        ("ma t/m vr", WEEKDAYS, set()),
        ("ma tot en met vr avond", WEEKDAYS, {EVENING}),
        ("mon to fri", WEEKDAYS, set()),
        ("ma - wo", {0, 1, 2}, set()),
        ("vr-ma", {4, 5, 6, 0}, set()),
        ("za zo ochtend", WEEKEND, {MORNING}),
        ("za en zo", WEEKEND, set()),
        ("sat, sun", WEEKEND, set()),
        ("ma,wo,vr", {0, 2, 4}, set()),
        ("za/zo", WEEKEND, set()),
        ("weekend", WEEKEND, set()),
        ("weekends", WEEKEND, set()),
        ("in het weekend", WEEKEND, set()),
        ("doordeweeks", WEEKDAYS, set()),
        ("door de week avond", WEEKDAYS, {EVENING}),
        ("weekdays", WEEKDAYS, set()),
        ("elke do", {3}, set()),
        ("every tuesday", {1}, set()),
        ("saturdays", {5}, set()),
        ("zaterdagochtend", {5}, {MORNING}),
        ("elke dag middag", set(), {AFTERNOON}),
        ("every day", set(), set()),
        ("dagelijks", set(), set()),
        ("altijd", set(), set()),
        ("anytime", set(), set()),
        ("any time", set(), set()),
        ("ochtend", set(), {MORNING}),
        ("mornings", set(), {MORNING}),
        ("'s avonds", set(), {EVENING}),
        ("ochtend en avond", set(), {MORNING, EVENING}),
        ("morning and afternoon", set(), {MORNING, AFTERNOON}),
        ("ochtend middag avond", set(), set()),  # all parts: any time
        ("ma-vr weekend", set(), set()),  # all days: every day
        ("Middag ZA", {5}, {AFTERNOON}),
    ],
)
def test_reads_availability(text: str, days: set[int], parts: set[DayPart]) -> None:
    av, rest = parse_availability(text.split())
    assert window(av) == (frozenset(days), frozenset(parts))
    assert rest == []


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("za zo ochtend 3021", ["3021"]),
        ("ma-vr middag boormachine en ladder", ["boormachine", "en", "ladder"]),
        ("za en", ["en"]),
        ("weekend 3021", ["3021"]),
    ],
)
def test_availability_hands_back_the_words_after_it(text: str, rest: list[str]) -> None:
    av, left = parse_availability(text.split())
    assert av is not None
    assert left == rest


@pytest.mark.parametrize("text", ["", "3021 ma-vr", "melk", "morgen", "mandag", "t/m vr"])
def test_words_that_are_no_availability_are_left_alone(text: str) -> None:
    assert parse_availability(text.split()) == (None, text.split())


# Availability.covers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("availability", "text", "covered"),
    [
        (Availability(), "morgen 14:00", True),
        (Availability(), "zo 23:30", True),  # any time of day, not only 08-21
        (Availability(WEEKDAYS), "morgen 14:00", True),
        (Availability(WEEKDAYS), "za 10:00", False),
        (Availability(WEEKDAYS, frozenset({AFTERNOON})), "morgen 14:00", True),
        (Availability(WEEKDAYS, frozenset({AFTERNOON})), "morgen 11:00", False),
        (Availability(WEEKDAYS, frozenset({AFTERNOON})), "morgen 11:30", True),  # until 12:30
        (Availability(WEEKDAYS, frozenset({AFTERNOON})), "morgen 17:00", False),
        (Availability(WEEKDAYS, frozenset({AFTERNOON})), "donderdagmiddag", True),
        (Availability(WEEKDAYS, frozenset({AFTERNOON})), "morgenochtend", False),
        (Availability(WEEKDAYS, frozenset({AFTERNOON})), "morgen", True),
        (Availability(WEEKDAYS, frozenset({AFTERNOON})), "dit weekend", False),
        (Availability(WEEKEND, frozenset({MORNING})), "dit weekend", True),
        (Availability(WEEKEND, frozenset({MORNING})), "deze week", True),
        (Availability(WEEKEND, frozenset({MORNING})), "za 10-12", True),
        (Availability(WEEKEND, frozenset({MORNING})), "zaterdagavond", False),
        (Availability(WEEKEND, frozenset({MORNING})), "vr 22-24", False),
        (Availability(frozenset({1}), frozenset({EVENING})), "volgende week", True),
        (Availability(frozenset({0}), frozenset({MORNING})), "vanmiddag", False),
        (Availability(frozenset({0}), frozenset({MORNING})), "vandaag", True),  # 09:00-12:00
        (Availability(parts=frozenset({EVENING})), "deze week", True),
        (Availability(parts=frozenset({EVENING})), "morgenochtend", False),
    ],
)
def test_covers(availability: Availability, text: str, covered: bool) -> None:
    assert availability.covers(when(text)) is covered


def test_covers_judges_the_day_in_the_time_zone_of_the_window() -> None:
    # Saturday 00:30 in Amsterdam is still Friday in UTC
    saturday_night = When(at("2026-11-28 00:30"), at("2026-11-28 01:30"), exact=True)
    assert Availability(frozenset({5})).covers(saturday_night)
    assert not Availability(frozenset({4})).covers(saturday_night)


def test_covers_a_window_whose_end_is_in_another_zone() -> None:
    evening = When(at("2026-11-24 18:00"), at("2026-11-24 20:00").astimezone(UTC), exact=False)
    assert Availability(WEEKDAYS, frozenset({EVENING})).covers(evening)
    assert not Availability(WEEKDAYS, frozenset({MORNING})).covers(evening)


def test_when_refuses_naive_or_empty_windows() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        When(datetime(2026, 11, 24, 14), datetime(2026, 11, 24, 15), exact=True)
    with pytest.raises(ValueError, match="end after"):
        When(at("2026-11-24 14:00"), at("2026-11-24 14:00"), exact=True)


# describe_when ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dutch", "english"),
    [
        ("morgen 14:00", "morgen (di 24 nov) om 14:00", "tomorrow (Tue 24 Nov) at 14:00"),
        ("14:00", "vandaag (ma 23 nov) om 14:00", "today (Mon 23 Nov) at 14:00"),
        ("za 10:00", "zaterdag 28 nov om 10:00", "Saturday 28 Nov at 10:00"),
        ("donderdagmiddag", "donderdagmiddag 26 nov", "Thursday afternoon 26 Nov"),
        ("zondagmorgen", "zondagochtend 29 nov", "Sunday morning 29 Nov"),
        ("morgenavond", "morgenavond (di 24 nov)", "tomorrow evening (Tue 24 Nov)"),
        ("vanmiddag", "vanmiddag (ma 23 nov)", "this afternoon (Mon 23 Nov)"),
        ("vanochtend", "vanochtend (ma 23 nov)", "this morning (Mon 23 Nov)"),
        ("morgen", "morgen (di 24 nov)", "tomorrow (Tue 24 Nov)"),
        ("vandaag", "vandaag (ma 23 nov)", "today (Mon 23 Nov)"),
        ("vr", "vrijdag 27 nov", "Friday 27 Nov"),
        ("morgen 10-12", "morgen (di 24 nov) 10:00–12:00", "tomorrow (Tue 24 Nov) 10:00–12:00"),
        ("vr 22-24", "vrijdag 27 nov 22:00–24:00", "Friday 27 Nov 22:00–24:00"),
        ("5/1 9:00", "dinsdag 5 jan 2027 om 09:00", "Tuesday 5 Jan 2027 at 09:00"),
        (
            "deze week",
            "deze week (ma 23 nov – zo 29 nov)",
            "this week (Mon 23 Nov – Sun 29 Nov)",
        ),
        (
            "volgende week",
            "volgende week (ma 30 nov – zo 6 dec)",
            "next week (Mon 30 Nov – Sun 6 Dec)",
        ),
        (
            "dit weekend",
            "dit weekend (za 28 nov – zo 29 nov)",
            "this weekend (Sat 28 Nov – Sun 29 Nov)",
        ),
    ],
)
def test_describe_when(text: str, dutch: str, english: str) -> None:
    parsed = when(text)
    assert describe_when(parsed, NOW, "nl") == dutch
    assert describe_when(parsed, NOW, "en") == english


def test_describe_when_accepts_regional_locales() -> None:
    parsed = when("morgen 14:00")
    assert describe_when(parsed, NOW, "nl_BE") == "morgen (di 24 nov) om 14:00"
    assert describe_when(parsed, NOW, "en-GB") == "tomorrow (Tue 24 Nov) at 14:00"


def test_describe_when_of_a_window_begun_today_names_what_is_left() -> None:
    evening = at("2026-11-23 18:15")
    assert describe_when(when("vandaag", now=evening), evening, "nl") == "vanavond (ma 23 nov)"
    afternoon = at("2026-11-23 13:00")
    assert describe_when(when("vandaag", now=afternoon), afternoon, "en") == "today (Mon 23 Nov)"


def test_describe_when_of_an_unnamed_span_of_days() -> None:
    span = When(at("2026-11-24 08:00"), at("2026-11-26 21:00"), exact=False)
    assert describe_when(span, NOW, "nl") == "di 24 nov – do 26 nov"


# describe_availability -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("availability", "dutch", "english"),
    [
        (Availability(WEEKDAYS, frozenset({AFTERNOON})), "ma–vr, middag", "Mon–Fri, afternoon"),
        (Availability(WEEKEND, frozenset({MORNING})), "za en zo, ochtend", "Sat and Sun, morning"),
        (Availability(), "elke dag", "any day"),
        (Availability(parts=frozenset({EVENING})), "elke dag, avond", "any day, evening"),
        (Availability(frozenset({0, 2, 4})), "ma, wo en vr", "Mon, Wed and Fri"),
        (Availability(frozenset({0, 1, 2, 4})), "ma–wo en vr", "Mon–Wed and Fri"),
        (Availability(frozenset({3})), "do", "Thu"),
        (
            Availability(frozenset({0}), frozenset({MORNING, EVENING})),
            "ma, ochtend en avond",
            "Mon, morning and evening",
        ),
        (Availability(frozenset(range(7)), frozenset(DayPart)), "elke dag", "any day"),
    ],
)
def test_describe_availability(availability: Availability, dutch: str, english: str) -> None:
    assert describe_availability(availability, "nl") == dutch
    assert describe_availability(availability, "en") == english


def test_describe_availability_of_what_was_typed() -> None:
    av, _ = parse_availability(["za", "zo", "ochtend", "3021"])
    assert av is not None
    assert describe_availability(av, "nl") == "za en zo, ochtend"


# --- slots: what the database uses to find offers that fit a time -----------------------
availabilities = st.builds(
    Availability,
    st.frozensets(st.integers(0, 6)),
    st.frozensets(st.sampled_from(list(DayPart))),
)
# Windows from a few minutes to three days, around both clock changes of 2026 and beyond.
windows = st.builds(
    lambda start, minutes, exact: When(
        start, (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(AMS), exact
    ),
    st.datetimes(
        min_value=datetime(2026, 3, 27), max_value=datetime(2026, 11, 2), timezones=st.just(AMS)
    ),
    st.integers(1, 3 * 24 * 60),
    st.booleans(),
)


@settings(max_examples=3000, deadline=None)
@given(availabilities, windows)
def test_slots_agree_with_covers(availability: Availability, window: When) -> None:
    assert availability.covers(window) == bool(availability.slots() & window_slots(window))


@pytest.mark.parametrize(
    ("text", "covered", "not_covered"),
    [
        (
            "morgen 14:00",
            Availability(frozenset({1}), frozenset({AFTERNOON})),
            Availability(frozenset({1}), frozenset({MORNING})),
        ),
        (
            "zo 23:30",
            Availability(frozenset({6})),
            Availability(frozenset({6}), frozenset({EVENING})),
        ),
        (
            "donderdagmiddag",
            Availability(parts=frozenset({AFTERNOON})),
            Availability(frozenset({2})),
        ),
    ],
)
def test_slots_of_typed_times(text: str, covered: Availability, not_covered: Availability) -> None:
    slots = window_slots(when(text))
    assert covered.slots() & slots
    assert not not_covered.slots() & slots


# As people say it: weeks ahead, hours said without morning or afternoon ------------------


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("om 2 uur", "2026-11-23 14:00"),  # nobody asks a neighbour for 2 at night
        ("morgen om 8 uur", "2026-11-24 08:00"),  # eight: as likely morning as evening
        ("morgenavond om 8", "2026-11-24 20:00"),
        ("morgen om 8 uur 's avonds", "2026-11-24 20:00"),
        ("'s ochtends om 10", "2026-11-23 10:00"),
        ("om half drie", "2026-11-23 14:30"),
        ("om half een", "2026-11-23 12:30"),
        ("om kwart voor drie", "2026-11-23 14:45"),
        ("om 03:00 morgen", "2026-11-24 03:00"),  # written with a leading zero: as written
    ],
)
def test_an_hour_is_read_with_the_part_of_the_day_it_is_said_in(text: str, start: str) -> None:
    assert when(text).start == at(start)


def test_eight_oclock_has_passed_today_so_it_is_refused() -> None:
    assert error("om 8 uur").reason == "past"


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("3-12", "2026-12-03 08:00", "2026-12-03 21:00"),  # three at night to noon: a date
        ("10-12", "2026-11-23 10:00", "2026-11-23 12:00"),  # ten to twelve: hours
        ("2-4", "2026-11-23 14:00", "2026-11-23 16:00"),
        ("volgende week dinsdag", "2026-12-01 08:00", "2026-12-01 21:00"),
        ("dinsdag volgende week", "2026-12-01 08:00", "2026-12-01 21:00"),
        ("dinsdag over een week", "2026-12-01 08:00", "2026-12-01 21:00"),
        ("over twee dagen", "2026-11-25 08:00", "2026-11-25 21:00"),
        ("na het weekend", "2026-11-30 00:00", "2026-12-02 00:00"),
        ("eind van de week", "2026-11-26 00:00", "2026-11-28 00:00"),
    ],
)
def test_days_and_weeks_as_people_say_them(text: str, start: str, end: str) -> None:
    parsed = when(text)
    assert (parsed.start, parsed.end) == (at(start), at(end))


def test_a_date_followed_by_a_time_is_a_date() -> None:
    assert when("10-12 14:00").start == at("2026-12-10 14:00")


def test_the_week_after_from_a_sunday() -> None:
    sunday = at("2026-11-29 10:00")
    assert when("volgende week dinsdag", now=sunday).start == at("2026-12-01 08:00")
    assert when("dinsdag over een week", now=sunday).start == at("2026-12-08 08:00")


def test_end_of_the_week_said_in_the_weekend_is_what_is_left_of_it() -> None:
    saturday = at("2026-11-28 11:00")
    parsed = when("eind van de week", now=saturday)
    assert (parsed.start, parsed.end) == (saturday, at("2026-11-30 00:00"))


@pytest.mark.parametrize(
    "text", ["gisteren", "vorige week maandag", "maandag vorige week", "last friday", "20-11"]
)
def test_past_days_are_refused_as_past(text: str) -> None:
    failure = error(text)
    assert (failure.reason, failure.word) == ("past", text)


@pytest.mark.parametrize("text", ["zo snel mogelijk", "do the shopping", "sun cream"])
def test_a_short_day_name_that_is_an_everyday_word_is_no_day(text: str) -> None:
    assert parse_when(text.split(), NOW, AMS) == (None, text.split())


@pytest.mark.parametrize(
    ("text", "start", "rest"),
    [
        ("hulp bij de computer donderdag", "2026-11-26 08:00", "hulp bij de computer"),
        ("lamp ophangen op zaterdag om 11 uur", "2026-11-28 11:00", "lamp ophangen"),
        ("graag iets aan het eind van de week", "2026-11-26 00:00", "graag iets"),
        (
            "Mijn zoon komt zondagmiddag, wie bakt er",
            "2026-11-29 12:00",
            "Mijn zoon komt wie bakt er",
        ),
        (
            "sinds gisteren kapot, morgen kijken?",
            "2026-11-24 08:00",
            "sinds gisteren kapot, kijken?",
        ),
    ],
)
def test_find_when_finds_a_time_further_on(text: str, start: str, rest: str) -> None:
    found, left = find_when(text.split(), NOW, AMS)
    assert found is not None and found.start == at(start)
    assert " ".join(left) == rest


@pytest.mark.parametrize(
    "text",
    [
        "zo snel mogelijk graag",
        "praten over vroeger",
        "waar komt hij vandaan",
        "koken voor 2-3 mensen",
    ],
)
def test_find_when_leaves_sentences_without_a_time_alone(text: str) -> None:
    assert find_when(text.split(), NOW, AMS) == (None, text.split())


def test_find_when_names_a_long_near_miss_further_on() -> None:
    with pytest.raises(WhenError) as caught:
        find_when(["hulp", "op", "dondedag"], NOW, AMS)
    assert (caught.value.word, caught.value.suggestion) == ("dondedag", "donderdag")


@pytest.mark.parametrize(
    ("text", "days", "parts"),
    [
        ("elke dinsdagmiddag", {1}, {AFTERNOON}),
        ("iedere woensdag", {2}, set()),
        ("op zaterdag en zondag", WEEKEND, set()),
        ("'s zaterdags", {5}, set()),
        ("elke week op vrijdagochtend", {4}, {MORNING}),
    ],
)
def test_recurring_forms_in_offers(text: str, days: set[int], parts: set[DayPart]) -> None:
    av, rest = parse_availability(text.split())
    assert window(av) == (frozenset(days), frozenset(parts))
    assert rest == []


def test_weekly_alone_is_no_availability() -> None:
    assert parse_availability(["wekelijks"]) == (None, ["wekelijks"])


_VOCABULARY = [
    "morgen", "dinsdag", "di", "zo", "volgende", "week", "over", "twee", "dagen", "om", "2",
    "uur", "half", "drie", "'s", "middags", "gisteren", "vorige", "na", "het", "weekend",
    "3-12", "10-12", "14:00", "melk", "en", "brood", "hulp", "bij", "de", "computer", "op",
    "eind", "van", "tot", "voor", "3", "december", "dondredag", "zat", "€", "2,50", "a.s.",
    "00:00", "24:00", "13", "avond", "'s avonds", "vanaf", "kwart", "1-3", "22-24", "pm",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_VOCABULARY), max_size=10))
def test_find_when_only_takes_words_away(words: list[str]) -> None:
    """Whatever is typed: a time and the other words in their order, or a named problem."""
    try:
        found, rest = find_when(words, NOW, AMS)
    except WhenError as problem:
        assert problem.word
        return
    remaining = iter(words)
    assert all(word in remaining for word in rest)  # a subsequence: nothing made up
    if found is None:
        assert rest == words
