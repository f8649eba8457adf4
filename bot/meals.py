"""Shared meal tables ("Aanschuiven"): reading a host's one-line announcement and showing
a table to people."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.errors import UserError
from bot.i18n import Catalog
from bot.model import MealTable, Seat
from bot.when import When, WhenError, describe_when, parse_when
from bot.words import AmbiguousAmount, close_word, money, read_amount

MAX_SEATS = 100
MAX_PLUS = 5
MAX_FIELD = 120
DEFAULT_SIGNUP_BEFORE = timedelta(hours=2)

DIET_WORDS: dict[str, str] = {
    "vegetarisch": "vegetarian",
    "vegetarian": "vegetarian",
    "veggie": "vegetarian",
    "veganistisch": "vegan",
    "vegan": "vegan",
    "halal": "halal",
    "koosjer": "kosher",
    "kosher": "kosher",
    "glutenvrij": "gluten_free",
    "gluten-free": "gluten_free",
    "glutenfree": "gluten_free",
    "lactosevrij": "lactose_free",
    "lactose-free": "lactose_free",
    "lactosefree": "lactose_free",
    "notenvrij": "nut_free",
    "nut-free": "nut_free",
    "nutfree": "nut_free",
    "suikervrij": "sugar_free",
    "sugar-free": "sugar_free",
    # Turkish
    "vejetaryen": "vegetarian",
    "vejeteryan": "vegetarian",
    "helal": "halal",
    "koşer": "kosher",
    "glütensiz": "gluten_free",
    "glutensiz": "gluten_free",
    "laktozsuz": "lactose_free",
    "kuruyemişsiz": "nut_free",
    "şekersiz": "sugar_free",
    # Arabic (one word each; "خالٍ من الغلوتين" is typed as it is shown, see REVIEW.md)
    "نباتي": "vegetarian",
    "نباتية": "vegetarian",
    "فيغان": "vegan",
    "حلال": "halal",
    "كوشر": "kosher",
}
WEEKLY = {"elke", "iedere", "every", "wekelijks", "weekly", "her", "كل"}
FREE = {
    "gratis": "free",
    "free": "free",
    "kosteloos": "free",
    "voor niks": "free",
    "voor niets": "free",
    "for free": "free",
    "free of charge": "free",
    "no charge": "free",
    "vrije gift": "gift",
    "vrije bijdrage": "gift",
    "vrijwillige bijdrage": "gift",
    "vrijwillige gift": "gift",
    "gift": "gift",
    "donatie": "gift",
    "naar draagkracht": "gift",
    "wat je kunt missen": "gift",
    "wat je wilt": "gift",
    "wat je wil": "gift",
    "donation": "gift",
    "by donation": "gift",
    "pay what you can": "gift",
    "pay what you want": "gift",
    "ücretsiz": "free",
    "bedava": "free",
    "bağış": "gift",
    "gönlünden ne koparsa": "gift",
    "istediğin kadar": "gift",
    "مجانا": "free",
    "مجانًا": "free",
    "مجاني": "free",
    "تبرع": "gift",
    "ادفع ما تريد": "gift",
}
# Fields of a one-line /tafel are split on commas and semicolons, but not on the comma
# between euros and cents: "Wijkpaleis, 8 plaatsen, € 2,50, soep" has four fields, and
# "€ 3,-" is one.
FIELDS = re.compile(r"[;؛،]|,(?![\d-])|(?<!\d),")  # with the Arabic comma and semicolon
BARE_NUMBER = re.compile(r"\d+")
SEATS = re.compile(
    r"^(\d+)\s*(plaatsen|plaats|plekken|plek|stoelen|seats|seat|places|people|personen"
    r"|yer|kişilik|kişi|sandalye|أماكن|مكان|مقاعد|مقعد|أشخاص|اشخاص)$"
)
PLUS = re.compile(r"^(?:max(?:imaal)?\s*)?\+\s*(\d)(?:\s*(?:per gast|each|mee))?$")
SIGNUP = re.compile(
    r"^(?:aanmelden|opgeven|inschrijven|sign up|signup|register)\s+"
    r"(?:tot|voor|by|before|until)\s+(.+)$"
)
UNTIL = re.compile(r"^(?:tot en met|t/m|tot|until|till)\s+(.+)$")
ADDRESS = re.compile(r"\d")
DAY_MONTH = re.compile(r"^(\d{1,2})-(\d{1,2})$")


def _when(ctx: Context, words: list[str], part: str) -> When:
    try:
        when, rest = parse_when(words, ctx.local_now(), ctx.tz())
    except WhenError as problem:
        if problem.suggestion:
            raise UserError(
                "table.bad_when_suggest", word=problem.word, suggestion=problem.suggestion
            ) from None
        raise UserError("table.bad_when", word=problem.word, part=part) from None
    if when is None or rest:
        raise UserError("table.bad_when", word=" ".join(words)[:40], part=part)
    return when


def parse_table_line(ctx: Context, text: str) -> dict[str, Any]:
    """What a one-line /tafel says. Unknown pieces are named in the error, never guessed."""
    data: dict[str, Any] = {}
    tokens = text.split()
    if tokens and tokens[0].lower() in WEEKLY:
        data["weekly"] = True
        tokens = tokens[1:]
    try:
        when, tokens = parse_when(tokens, ctx.local_now(), ctx.tz())
    except WhenError as problem:
        if problem.suggestion:
            raise UserError(
                "table.bad_when_suggest", word=problem.word, suggestion=problem.suggestion
            ) from None
        raise UserError(f"when.{problem.reason}", word=problem.word) from None
    if when is not None:
        if not when.exact:
            raise UserError("table.need_time")
        data["starts_at"] = when.start.isoformat()
    rest = " ".join(tokens)
    for segment in (part.strip() for part in FIELDS.split(rest)):
        if segment:
            read_segment(ctx, data, segment)
    return data


def _contribution(ctx: Context, data: dict[str, Any], segment: str, *, asked: bool) -> bool:
    """Read a contribution, if the field is one; a field that could be two things is asked about."""
    low = " ".join(segment.lower().split()).strip(" .!")
    if low in FREE:
        value: dict[str, Any] = {"contribution": FREE[low]}
    else:
        try:
            found = read_amount(segment)
        except AmbiguousAmount as problem:
            choices = " / ".join(money(cents, ctx.lang) for cents in problem.choices)
            raise UserError("table.ambiguous_amount", word=segment[:30], choices=choices) from None
        if found is None:
            return False
        cents, _ = found
        if not asked and BARE_NUMBER.fullmatch(low):  # "8": eight places or eight euros?
            raise UserError("table.bare_number", word=low[:10], amount=money(cents, ctx.lang))
        value = {"contribution_cents": cents}
    if "contribution" in data or "contribution_cents" in data:
        raise UserError("table.two_contributions", word=segment[:30])
    data.update(value)
    return True


def read_segment(
    ctx: Context, data: dict[str, Any], segment: str, *, asked: str | None = None
) -> None:
    """One field of a /tafel line; ``asked`` names the question it answers, if any."""
    low = segment.lower()
    if len(segment) > MAX_FIELD:
        raise UserError("table.part_too_long", limit=MAX_FIELD)
    if match := SEATS.match(low):
        data["seats"] = int(match.group(1))
    elif _contribution(ctx, data, segment, asked=asked == "contribution"):
        pass
    elif all(word in DIET_WORDS for word in low.replace("/", " ").split()):
        data["diets"] = sorted({DIET_WORDS[word] for word in low.replace("/", " ").split()})
    elif match := PLUS.match(low):
        data["max_plus"] = int(match.group(1))
    elif match := SIGNUP.match(low):
        data["signup_until"] = _when(ctx, match.group(1).split(), "signup").start.isoformat()
    elif data.get("weekly") and (match := UNTIL.match(low)):
        # "tot 10-12" is a date here, not ten to twelve o'clock
        words = [DAY_MONTH.sub(r"\1/\2", w) for w in match.group(1).split()]
        data["weekly_until"] = _when(ctx, words, "until").end.isoformat()
    elif "place" not in data:
        data["place"] = segment
    elif "address" not in data and "menu" not in data and ADDRESS.search(segment):
        data["address"] = segment
    elif "menu" not in data:
        data["menu"] = segment
    else:
        diet = close_word(low, list(DIET_WORDS))
        if diet:
            raise UserError("table.unknown_diet", word=segment[:30], suggestion=diet)
        raise UserError("table.unknown_part", word=segment[:40])


def check_table(ctx: Context, data: dict[str, Any]) -> None:
    """What a host cannot mean: a past moment, no seats or a whole hall, a late deadline."""
    starts = datetime.fromisoformat(data["starts_at"]) if "starts_at" in data else None
    if starts is not None and starts <= ctx.now:
        raise UserError("table.past")
    if "seats" in data and not 1 <= data["seats"] <= MAX_SEATS:
        raise UserError("table.bad_seats", max=MAX_SEATS)
    if data.get("max_plus", 1) > MAX_PLUS:
        raise UserError("table.bad_plus", max=MAX_PLUS)
    if starts is not None and "signup_until" in data:
        deadline = datetime.fromisoformat(data["signup_until"])
        if deadline > starts:
            raise UserError("table.deadline_after_meal")
        if deadline <= ctx.now:
            raise UserError("table.deadline_past")
    until = datetime.fromisoformat(data["weekly_until"]) if "weekly_until" in data else None
    if starts is not None and until is not None and until <= starts:
        raise UserError("table.until_before_start")


def contribution_text(catalog: Catalog, lang: str, data_or_value: str) -> str:
    if data_or_value in ("free", "gift"):
        return catalog.text(lang, f"table.contribution_{data_or_value}")
    return data_or_value


def diets_text(catalog: Catalog, lang: str, diets: tuple[str, ...] | list[str]) -> str:
    return ", ".join(catalog.text(lang, f"diet.{d}") for d in diets)


def when_text(table: MealTable, now: datetime, tz_name: str, lang: str) -> str:
    tz = ZoneInfo(tz_name)
    start = table.starts_at.astimezone(tz)
    return describe_when(When(start, start + timedelta(hours=2), True), now.astimezone(tz), lang)


def table_text(
    catalog: Catalog, lang: str, table: MealTable, host: str, now: datetime, tz_name: str
) -> str:
    """The announcement as people see it, with the seats left right now."""
    tz = ZoneInfo(tz_name)
    parts = {
        "place": table.place + (f", {table.address}" if table.address else ""),
        "when": when_text(table, now, tz_name, lang),
        "menu": table.menu or catalog.text(lang, "table.menu_surprise"),
        "diets": f" ({diets_text(catalog, lang, table.diets)})" if table.diets else "",
        "contribution": contribution_text(catalog, lang, table.contribution),
        "host": host,
        "seats_line": seats_line(catalog, lang, table),
        "deadline": table.signup_until.astimezone(tz).strftime("%d-%m %H:%M"),
    }
    text = catalog.text(lang, "table.announcement", **parts)
    if table.weekly_until is not None or table.series_id is not None:
        text += "\n" + catalog.text(lang, "table.weekly_note")
    return text


def seats_line(catalog: Catalog, lang: str, table: MealTable) -> str:
    """ "Nog 3 van de 8 plaatsen vrij." or, when none is left, that it is full."""
    if table.left <= 0:
        return catalog.text(lang, "table.full_note")
    return catalog.text(lang, "table.seats_left", left=table.left, seats=table.seats)


def diet_summary(catalog: Catalog, lang: str, seats: list[Seat]) -> str:
    """ "vegetarisch (2 gasten), notenallergie (1 gast)": each guest's wishes, counted."""
    counted: Counter[str] = Counter()
    for seat in seats:
        for wish in re.split(r",|/|\ben\b|\band\b", seat.diet.lower()):
            wish = wish.strip(" .")
            if wish:
                counted[
                    catalog.text(lang, f"diet.{DIET_WORDS[wish]}") if wish in DIET_WORDS else wish
                ] += 1
    return ", ".join(
        catalog.text(lang, "table.diet_one" if n == 1 else "table.diet_many", wish=wish, n=n)
        for wish, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    )
