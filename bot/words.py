"""Words people type, in Dutch and English, and how the core shows its records."""

from __future__ import annotations

import difflib
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.numbers import format_currency

from bot.i18n import Catalog
from bot.model import Category, HelpRequest
from bot.when import When, describe_when

# The largest number a record (a request, a table) can have: what a PostgreSQL integer
# column holds. Anything larger is no record's number, however it is typed.
MAX_RECORD_NUMBER = 2**31 - 1


def record_number(text: str) -> int | None:
    """The number of a record as people type it, ``12`` or ``#12``; None when the text is
    not one: not plain digits 0-9, or too large to be the number of anything."""
    digits = text.strip().removeprefix("#").strip()
    if not (digits.isascii() and digits.isdecimal()) or len(digits) > 10:
        return None
    number = int(digits)
    return number if 1 <= number <= MAX_RECORD_NUMBER else None


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
    "something else": Category.OTHER,
    "other": Category.OTHER,
    # Turkish
    "alışveriş": Category.SHOPPING,
    "alisveris": Category.SHOPPING,
    "market": Category.SHOPPING,
    "yemek": Category.MEAL,
    "arkadaşlık": Category.COMPANY,
    "arkadaslik": Category.COMPANY,
    "ziyaret": Category.COMPANY,
    "sohbet": Category.COMPANY,
    "ulaşım": Category.TRANSPORT,
    "ulasim": Category.TRANSPORT,
    "yolculuk": Category.TRANSPORT,
    "iş": Category.CHORE,
    "tamir": Category.CHORE,
    "tamirat": Category.CHORE,
    "küçük iş": Category.CHORE,
    "başka bir şey": Category.OTHER,
    "başka": Category.OTHER,
    "diğer": Category.OTHER,
    # Arabic
    "تسوق": Category.SHOPPING,
    "التسوق": Category.SHOPPING,
    "مشتريات": Category.SHOPPING,
    "المشتريات": Category.SHOPPING,
    "وجبة": Category.MEAL,
    "طعام": Category.MEAL,
    "الطعام": Category.MEAL,
    "أكل": Category.MEAL,
    "اكل": Category.MEAL,
    "صحبة": Category.COMPANY,
    "زيارة": Category.COMPANY,
    "توصيلة": Category.TRANSPORT,
    "توصيل": Category.TRANSPORT,
    "مواصلات": Category.TRANSPORT,
    "نقل": Category.TRANSPORT,
    "تصليح": Category.CHORE,
    "إصلاح": Category.CHORE,
    "اصلاح": Category.CHORE,
    "شغلة": Category.CHORE,
    "عمل صغير": Category.CHORE,
    "وجبة طعام": Category.MEAL,
    "شيء آخر": Category.OTHER,
    "آخر": Category.OTHER,
    "اخر": Category.OTHER,
}

# Yes and no in Turkish and Arabic, for every typed answer to a yes-or-no question; the
# Dutch and English words stand with each question (bot.understand, the handlers).
YES_WORDS = frozenset(
    {
        "evet",
        "evet lütfen",
        "olur",
        "tamam",
        "peki",
        "doğru",
        "kabul",
        "نعم",
        "نعم من فضلك",
        "نعم، من فضلك",
        "أجل",
        "اجل",
        "أيوه",
        "ايوه",
        "حسنا",
        "حسنًا",
        "طيب",
        "موافق",
        "صحيح",
    }
)
NO_WORDS = frozenset(
    {
        "hayır",
        "hayir",
        "yok",
        "gerek yok",
        "hayır teşekkürler",
        "hayır, teşekkürler",
        "istemiyorum",
        "لا",
        "كلا",
        "لا شكرا",
        "لا شكرًا",
        "لا، شكرًا",
    }
)

# The names of the languages the bot speaks, as people type them after /taal.
LANGUAGE_WORDS: dict[str, str] = {
    "nederlands": "nl",
    "dutch": "nl",
    "felemenkçe": "nl",
    "hollandaca": "nl",
    "الهولندية": "nl",
    "engels": "en",
    "english": "en",
    "ingilizce": "en",
    "الإنجليزية": "en",
    "الانجليزية": "en",
    "turks": "tr",
    "turkish": "tr",
    "türkçe": "tr",
    "turkce": "tr",
    "التركية": "tr",
    "arabisch": "ar",
    "arabic": "ar",
    "arapça": "ar",
    "arapca": "ar",
    "العربية": "ar",
    "عربي": "ar",
}


def language_code(word: str) -> str:
    """The code of a language as typed: "Türkçe" -> "tr", "ar" -> "ar"; others as they are."""
    said = word.strip().casefold().replace("i\u0307", "i")  # "İngilizce" casefolds with a dot
    return LANGUAGE_WORDS.get(said, said)


POSTCODE = re.compile(r"^(\d{4})(?:\s?[a-zA-Z]{2})?$")


def category_of(word: str) -> Category | None:
    return CATEGORY_WORDS.get(word.lower().strip(",.;:،؛"))


def category_at(tokens: list[str]) -> tuple[Category | None, list[str]]:
    """The kind of help the words start with, in one word or a few as the buttons say it
    ("iets anders", "küçük iş", "عمل صغير"), and the words after it."""
    for length in (3, 2, 1):
        if len(tokens) >= length and (found := category_of(" ".join(tokens[:length]))):
            return found, tokens[length:]
    return None, tokens


def close_word(word: str, known: list[str]) -> str | None:
    matches = difflib.get_close_matches(word.lower(), known, n=1, cutoff=0.75)
    return matches[0] if matches else None


def postcode_of(word: str) -> str | None:
    match = POSTCODE.match(word.strip(",.;:"))
    return match.group(1) if match else None


class AmbiguousAmount(Exception):
    """An amount that can be read in more than one way: "1.250", "€ 2 of € 3"."""

    def __init__(self, text: str, choices: list[int]) -> None:
        super().__init__(f"ambiguous amount: {text!r}")
        self.text = text
        self.choices = choices  # in cents, the readings that make sense


_CURRENCY = ("€", "eur", "euro", "euros", "euro's", "eu", "eyro")
_PER_HEAD = re.compile(
    r"\s*(?:p\.?\s?p\.?|per\s+(?:persoon|person|stuk|gast|guest|keer)|each|pp|de\s+man)$"
)
_WHOLE = re.compile(r"[.,]-{1,2}$")  # "€ 3,-"
_DIGITS = re.compile(
    r"(?P<int>\d{1,6})(?:[.,](?P<dec>\d{1,2}))?"
    r"|(?P<nl>\d{1,3}(?:\.\d{3})+)(?:,(?P<nldec>\d{1,2}))?"
    r"|(?P<en>\d{1,3}(?:,\d{3})+)\.(?P<endec>\d{1,2})",  # "1,250.00"; "2,505" is no amount
    re.ASCII,
)
_SPOKEN = re.compile(r"(?P<whole>\S+) (?:euro|eur|€) (?P<cents>\S+)")


def _words(text: str) -> list[str]:
    return text.split()


_UNITS_NL = _words("een twee drie vier vijf zes zeven acht negen")
_TEENS_NL = _words("tien elf twaalf dertien veertien vijftien zestien zeventien achttien negentien")
_TENS_NL = _words("twintig dertig veertig vijftig zestig zeventig tachtig negentig")
_UNITS_EN = _words("one two three four five six seven eight nine")
_TEENS_EN = _words(
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
)
_TENS_EN = _words("twenty thirty forty fifty sixty seventy eighty ninety")


def _number_words() -> dict[str, int]:
    words: dict[str, int] = {"één": 1, "nul": 0, "zero": 0}
    for units, teens, tens, joiner in (
        (_UNITS_NL, _TEENS_NL, _TENS_NL, "en"),
        (_UNITS_EN, _TEENS_EN, _TENS_EN, "-"),
    ):
        words |= {word: n for n, word in enumerate(units, 1)}
        words |= {word: n for n, word in enumerate(teens, 10)}
        for ten, tens_word in enumerate(tens, 2):
            words[tens_word] = ten * 10
            for unit, unit_word in enumerate(units, 1):
                glue = "ën" if joiner == "en" and unit_word.endswith("e") else joiner
                words[unit_word + glue + tens_word] = ten * 10 + unit  # vijfentwintig
                words[unit_word + "en" + tens_word] = ten * 10 + unit  # drieentwintig
                if joiner == "-":
                    words[tens_word + "-" + unit_word] = ten * 10 + unit  # twenty-five
    return words


NUMBER_WORDS = _number_words()


def _strip_currency(text: str) -> tuple[str, bool]:
    """The text without a currency sign or word before or after it, and whether it had one."""
    had = False
    for word in sorted(_CURRENCY, key=len, reverse=True):
        if text.startswith(word) and (word == "€" or not text[len(word) : len(word) + 1].isalpha()):
            text, had = text[len(word) :].strip(), True
            break
    for word in sorted(_CURRENCY, key=len, reverse=True):
        if text.endswith(word) and (word == "€" or not text[: -len(word)][-1:].isalpha()):
            text, had = text[: -len(word)].strip(), True
            break
    return text, had


def _cents(whole: str, decimals: str | None) -> int:
    return int(whole) * 100 + (int(decimals.ljust(2, "0")) if decimals else 0)


def read_amount(text: str) -> tuple[int, bool] | None:
    """An amount as people write it, in cents, and whether a currency was written with it.

    "€ 2,50", "2,50", "2.50", "€2", "€ 3,-", "3 euro p.p.", "twee euro", "twee euro vijftig".
    None when it is no amount. Raises ``AmbiguousAmount`` for "1.250" (one euro and a quarter,
    or twelve hundred and fifty?).
    """
    low = " ".join(text.lower().replace("\xa0", " ").split()).strip(" .!;:")
    low = _PER_HEAD.sub("", low).strip()
    low, currency = _strip_currency(low)
    low = _WHOLE.sub("", low).strip()
    if match := _DIGITS.fullmatch(low):
        if match["int"] is not None:
            return _cents(match["int"], match["dec"]), currency
        # "1.250,00" or "1,250.00": nobody writes three decimals, so these are thousands
        grouped, decimals = match["nl"], match["nldec"]
        if grouped is None:
            grouped, decimals = match["en"], match["endec"]
        return _cents(re.sub(r"\D", "", grouped), decimals), currency
    if spoken := _SPOKEN.fullmatch(low):  # "twee euro vijftig", "2 euro 50"
        whole, cents = spoken["whole"], spoken["cents"]
        euros = int(whole) if whole.isdecimal() else NUMBER_WORDS.get(whole)
        small = int(cents) if cents.isdecimal() and len(cents) == 2 else NUMBER_WORDS.get(cents)
        if euros is not None and small is not None and small < 100:
            return euros * 100 + small, True
        return None
    words = low.split()
    if currency and words and all(word in NUMBER_WORDS for word in words) and len(words) <= 2:
        # "twee euro", and "twee euro vijftig" read with the currency word taken out
        return NUMBER_WORDS[words[0]] * 100 + (
            NUMBER_WORDS[words[1]] if len(words) > 1 else 0
        ), True
    return None


def parse_amount(text: str) -> int | None:
    """``"€ 23,40"`` -> 2340 cents; None when it is not an amount (see ``read_amount``)."""
    found = read_amount(text)
    return None if found is None else found[0]


def find_amount(text: str) -> int | None:
    """The one amount in a sentence: "ik heb € 12,50 betaald" -> 1250.

    An amount with a currency or with cents counts before a bare number ("12,50 voor 3
    pakken melk"). Raises ``AmbiguousAmount`` when two amounts could be meant.
    """
    whole = read_amount(text)
    if whole is not None:
        return whole[0]
    tokens = text.split()
    strong: list[int] = []
    bare: list[int] = []  # a bare number counts only first: "12 voor de melk", not "3 pakken"
    index = 0
    while index < len(tokens):
        for length in (3, 2, 1):  # "€ 12,50", "12 euro", "twee euro vijftig"
            piece = " ".join(tokens[index : index + length])
            found = read_amount(piece) if index + length <= len(tokens) else None
            if found is not None:
                cents, currency = found
                if currency or not piece.strip(" .!").isdecimal():
                    strong.append(cents)
                else:
                    bare.append(cents if index == 0 else -cents)
                index += length
                break
        else:
            index += 1
    if not strong and bare and bare[0] > 0 and len(bare) > 1:  # "23 40"
        raise AmbiguousAmount(text, sorted({abs(cents) for cents in bare}))
    chosen = strong or [cents for cents in bare if cents > 0]
    if len(set(chosen)) > 1:
        raise AmbiguousAmount(text, sorted(set(chosen)))
    return chosen[0] if chosen else None


def money(cents: int, lang: str) -> str:
    # a plain space, so that people can type a button's label as they see it
    return str(format_currency(cents / 100, "EUR", locale=_locale(lang))).replace("\xa0", " ")


def _locale(lang: str) -> str:
    # Turkish and Arabic neighbours in the Netherlands see euros as the shops write them.
    return "en_GB" if lang == "en" else "nl_NL"


def category_name(catalog: Catalog, lang: str, category: Category) -> str:
    return catalog.text(lang, f"category.{category.value}")


def request_summary(
    catalog: Catalog,
    lang: str,
    request: HelpRequest,
    now: datetime,
    tz_name: str,
    description: str | None = None,
    written_in: str | None = None,
) -> str:
    """One line a person can read: "Boodschappen, morgen (di 24 nov) om 14:00: melk en brood".

    ``description`` replaces the request's own, for the group text (``bot.details``). The
    description stays in the asker's own words; ``written_in`` is the asker's language, and
    where it is not the reader's the words are marked with it: "süt ve ekmek (in het Turks)".
    """
    parts = [category_name(catalog, lang, request.category)]
    if request.starts_at and request.ends_at:
        tz = ZoneInfo(tz_name)
        when = When(request.starts_at.astimezone(tz), request.ends_at.astimezone(tz), request.exact)
        parts.append(describe_when(when, now.astimezone(tz), lang))
    if request.place:
        parts.append(request.place)
    text = request.description if description is None else description
    comma = catalog.text(lang, "list.comma")
    if not text:  # a request placed with buttons only, without a description
        return comma.join(parts)
    if (
        written_in is not None
        and written_in != lang
        and catalog.has(lang, f"language.in_{written_in}")
    ):
        language = catalog.text(lang, f"language.in_{written_in}")
        text = catalog.text(lang, "request.written_in", text=text, language=language)
    return catalog.text(lang, "request.summary", head=comma.join(parts), description=text)
