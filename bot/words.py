"""Words people type, in Dutch and English, and how the core shows its records."""

from __future__ import annotations

import difflib
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.numbers import format_currency

from bot.i18n import Catalog
from bot.model import Category, HelpRequest
from bot.when import When, describe_when

CATEGORY_WORDS: dict[str, Category] = {
    "boodschappen": Category.SHOPPING,
    "boodschap": Category.SHOPPING,
    "shopping": Category.SHOPPING,
    "groceries": Category.SHOPPING,
    "maaltijd": Category.MEAL,
    "maaltijden": Category.MEAL,
    "eten": Category.MEAL,
    "meal": Category.MEAL,
    "meals": Category.MEAL,
    "gezelschap": Category.COMPANY,
    "bezoek": Category.COMPANY,
    "company": Category.COMPANY,
    "visit": Category.COMPANY,
    "vervoer": Category.TRANSPORT,
    "lift": Category.TRANSPORT,
    "rit": Category.TRANSPORT,
    "transport": Category.TRANSPORT,
    "ride": Category.TRANSPORT,
    "klusje": Category.CHORE,
    "klusjes": Category.CHORE,
    "klus": Category.CHORE,
    "chore": Category.CHORE,
    "chores": Category.CHORE,
    "job": Category.CHORE,
    "anders": Category.OTHER,
    "iets anders": Category.OTHER,
    "other": Category.OTHER,
}

POSTCODE = re.compile(r"^(\d{4})(?:\s?[a-zA-Z]{2})?$")
AMOUNT = re.compile(r"^(?:€|eur|euro)?\s*(\d{1,6})(?:[.,](\d{1,2}))?\s*(?:€|eur|euro)?$", re.I)


def category_of(word: str) -> Category | None:
    return CATEGORY_WORDS.get(word.lower().strip(",.;:"))


def close_word(word: str, known: list[str]) -> str | None:
    matches = difflib.get_close_matches(word.lower(), known, n=1, cutoff=0.75)
    return matches[0] if matches else None


def postcode_of(word: str) -> str | None:
    match = POSTCODE.match(word.strip(",.;:"))
    return match.group(1) if match else None


def parse_amount(text: str) -> int | None:
    """``"€ 23,40"`` -> 2340 cents; None when it is not an amount."""
    match = AMOUNT.match(text.strip())
    if not match:
        return None
    try:
        euros = Decimal(match.group(1))
        cents = Decimal(match.group(2).ljust(2, "0")) if match.group(2) else Decimal(0)
    except InvalidOperation:
        return None
    return int(euros * 100 + cents)


def money(cents: int, lang: str) -> str:
    # a plain space, so that people can type a button's label as they see it
    return str(format_currency(cents / 100, "EUR", locale=_locale(lang))).replace("\xa0", " ")


def _locale(lang: str) -> str:
    return "nl_NL" if lang == "nl" else "en_GB"


def category_name(catalog: Catalog, lang: str, category: Category) -> str:
    return catalog.text(lang, f"category.{category.value}")


def request_summary(
    catalog: Catalog,
    lang: str,
    request: HelpRequest,
    now: datetime,
    tz_name: str,
    description: str | None = None,
) -> str:
    """One line a person can read: "Boodschappen, morgen (di 24 nov) om 14:00: melk en brood".

    ``description`` replaces the request's own, for the group text (``bot.details``).
    """
    parts = [category_name(catalog, lang, request.category)]
    if request.starts_at and request.ends_at:
        tz = ZoneInfo(tz_name)
        when = When(request.starts_at.astimezone(tz), request.ends_at.astimezone(tz), request.exact)
        parts.append(describe_when(when, now.astimezone(tz), lang))
    if request.place:
        parts.append(request.place)
    return catalog.text(
        lang,
        "request.summary",
        head=", ".join(parts),
        description=request.description if description is None else description,
    )
