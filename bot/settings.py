"""The settings a community decides for itself: what each one is, and how it is typed.

The operator's configuration gives the defaults (``bot.config.CommunitySettings``); a
community's own values are stored with the community and laid over them. This schema says,
for every setting organisers may change, what kind of value it takes, in which unit, within
which range, and how it is read from what someone types ("2 uur", "2u", "22:00-8:00",
"ja"). Its plain description is in the message catalogs (``setting.<name>``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import time
from enum import StrEnum
from typing import Any

from bot.config import LIMIT_PAIRS, CommunitySettings
from bot.errors import UserError
from bot.i18n import Catalog
from bot.model import Category
from bot.words import NO_WORDS, YES_WORDS, category_name, category_of, close_word

MAX_RULES = 2000  # characters of house rules
MIN_RETENTION_DAYS = 2  # texts of closed requests are kept at least this long
DEFAULT_WORDS = ("standaard", "default", "terug", "standart", "الأصل")


class Kind(StrEnum):
    HOURS = "hours"  # a length of time in hours (fractions allowed): "2", "2 uur", "90 min"
    DAYS = "days"  # a whole number of days: "90", "90 dagen", "12 weken"
    COUNT = "count"  # a whole number: "3"
    TIMES = "times"  # from one time of day to another, or off: "22:00-8:00", "uit"
    YES_NO = "yes_no"  # "ja" or "nee"
    TEXT = "text"  # free text; "standaard" goes back to the standard text
    KINDS = "kinds"  # kinds of help: "gezelschap vervoer", "geen"


UNITS = {Kind.HOURS: "hours", Kind.DAYS: "days"}


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting a community may change. ``name`` is its field in ``CommunitySettings``;
    ``nl`` and ``en`` are the names people type; the description is ``setting.<name>``."""

    name: str
    nl: str
    en: str
    kind: Kind
    low: float | None = None  # the allowed range, in the unit of the kind
    high: float | None = None

    @property
    def unit(self) -> str:
        """ "hours", "days" or "" (a count, a text, a choice)."""
        return UNITS.get(self.kind, "")

    @property
    def description_key(self) -> str:
        return f"setting.{self.name}"

    def typed_name(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


SCHEMA: tuple[Setting, ...] = (
    Setting("house_rules", "huisregels", "house_rules", Kind.TEXT, 0, MAX_RULES),
    Setting("rules_required", "huisregels_eerst", "rules_first", Kind.YES_NO),
    Setting("widen_after_hours", "verbreden_na", "widen_after", Kind.HOURS, 0.25, 168),
    Setting("organisers_after_hours", "organisatoren_na", "organisers_after", Kind.HOURS, 1, 336),
    Setting("followup_after_hours", "navragen_na", "follow_up_after", Kind.HOURS, 0.25, 72),
    Setting(
        "followup_without_time_hours",
        "navragen_zonder_tijd",
        "follow_up_without_time",
        Kind.HOURS,
        1,
        336,
    ),
    Setting("followup_nudge_hours", "herinneren_na", "remind_after", Kind.HOURS, 1, 168),
    Setting("followup_close_hours", "sluiten_na", "close_after", Kind.HOURS, 1, 336),
    Setting("quiet_hours", "stille_uren", "quiet_hours", Kind.TIMES),
    Setting("helpers_to_ask", "helpers_tegelijk", "helpers_at_once", Kind.COUNT, 1, 20),
    Setting("max_open_requests", "open_vragen", "open_requests", Kind.COUNT, 1, 50),
    Setting("asks_per_day", "vragen_per_dag", "requests_per_day", Kind.COUNT, 1, 1000),
    Setting("asks_per_week", "vragen_per_week", "requests_per_week", Kind.COUNT, 1, 1000),
    Setting("tables_per_day", "tafels_per_dag", "tables_per_day", Kind.COUNT, 1, 1000),
    Setting("tables_per_week", "tafels_per_week", "tables_per_week", Kind.COUNT, 1, 1000),
    Setting("reports_per_day", "meldingen_per_dag", "reports_per_day", Kind.COUNT, 1, 1000),
    Setting("reports_per_week", "meldingen_per_week", "reports_per_week", Kind.COUNT, 1, 1000),
    Setting(
        "helper_asks_per_day", "helper_vragen_per_dag", "helper_asks_per_day", Kind.COUNT, 1, 1000
    ),
    Setting("approve_helpers", "helpers_goedkeuren", "approve_helpers", Kind.YES_NO),
    Setting("vouched_categories", "borg_nodig", "vouch_needed", Kind.KINDS),
    Setting("retention_days", "bewaren", "keep_days", Kind.DAYS, MIN_RETENTION_DAYS, 3650),
    Setting("circle_size", "cirkel_grootte", "circle_size", Kind.COUNT, 2, 50),
    Setting("circle_window_hours", "kring_venster", "circle_window", Kind.HOURS, 0.5, 24),
    Setting("checkin_answer_hours", "omkijken_wachten", "checkin_wait", Kind.HOURS, 0.5, 24),
    Setting("checkin_step_hours", "omkijken_stap", "checkin_step", Kind.HOURS, 0.25, 12),
    Setting("checkin_keep_days", "omkijken_bewaren", "checkin_keep_days", Kind.DAYS, 1, 365),
)
BY_NAME: dict[str, Setting] = {s.name: s for s in SCHEMA}
_TYPED: dict[str, Setting] = {
    key: s for s in SCHEMA for key in (s.name, s.nl, s.en, s.nl.replace("_", ""))
}
_DEFAULTS = CommunitySettings()
assert all(s.name in {f.name for f in fields(CommunitySettings)} for s in SCHEMA)


def is_name(typed: str) -> bool:
    return re.sub(r"[\s\-]+", "_", typed.strip().lower()) in _TYPED


def find(typed: str, lang: str = "nl") -> Setting:
    """The setting someone named ("verbreden_na", "verbreden-na", "widen after")."""
    key = re.sub(r"[\s\-]+", "_", typed.strip().lower())
    found = _TYPED.get(key)
    if found is not None:
        return found
    guess = close_word(key, list(_TYPED))
    if guess is not None:
        name = _TYPED[guess].typed_name(lang)
        raise UserError("settings.unknown_guess", name=typed[:40], guess=name)
    raise UserError("settings.unknown", name=typed[:40])


# --- times of day ---------------------------------------------------------------------------
def parse_clock(text: str) -> time | None:
    """``"19:00"`` -> 19:00; None when it is not a time of day."""
    hours, sep, minutes = text.strip().replace(".", ":").partition(":")
    if not hours.isdecimal() or (sep and not minutes.isdecimal()):
        return None
    hour, minute = int(hours), int(minutes or 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def parse_hours(text: str) -> tuple[time, time] | None:
    """``"21:30-08:30"`` -> (21:30, 08:30); None for "off" or anything unreadable."""
    first, sep, last = text.replace(" ", "").replace("–", "-").partition("-")
    start, end = parse_clock(first), parse_clock(last)
    if not sep or start is None or end is None or start == end:
        return None
    return start, end


# --- reading what was typed -----------------------------------------------------------------
_NUMBER = r"(\d+(?:[.,]\d+)?)"
# Units as the values are shown in every language, so that they can be typed back: Dutch,
# English, then Turkish and Arabic.
_HOURS = ("", "u", "uur", "uren", "h", "hr", "hrs", "hour", "hours", "saat", "sa", "ساعة", "ساعات")
_MINUTES = ("m", "min", "mins", "minuut", "minuten", "minute", "minutes", "dakika", "dk")
_DAYS = ("d", "dag", "dagen", "day", "days", "gün", "يوم", "أيام", "ايام")
_WEEKS = ("w", "wk", "week", "weken", "weeks", "hafta", "أسبوع", "أسابيع")
_HOUR_UNITS = {
    **dict.fromkeys(_HOURS, 1.0),
    **dict.fromkeys((*_MINUTES, "دقيقة", "دقائق"), 1 / 60),
    **dict.fromkeys(_DAYS, 24.0),
    **dict.fromkeys(_WEEKS, 168.0),
}
_DAY_UNITS = {
    **dict.fromkeys(("", *_DAYS), 1),
    **dict.fromkeys(_WEEKS, 7),
}
_WORD_NUMBERS = {
    **{w: "1" for w in ("een", "één", "one", "a", "an")},
    **{w: "0.5" for w in ("half", "halve")},
    "anderhalf": "1.5",
    "anderhalve": "1.5",
    **{
        word: str(n)
        for n, words in enumerate(
            [
                ("twee", "two"),
                ("drie", "three"),
                ("vier", "four"),
                ("vijf", "five"),
                ("zes", "six"),
                ("zeven", "seven"),
                ("acht", "eight"),
                ("negen", "nine"),
                ("tien", "ten"),
                ("elf", "eleven"),
                ("twaalf", "twelve"),
            ],
            start=2,
        )
        for word in words
    },
}
_PHRASES = {  # said in words: "een half uur", "een kwartier", "half an hour"
    "kwartier": "15 min",
    "een kwartier": "15 min",
    "a quarter of an hour": "15 min",
    "half an hour": "30 min",
    "an hour and a half": "1.5 hour",
}
_YES = ("ja", "yes", "aan", "on", "j", "y", "true", "waar", "açık", *YES_WORDS)
_NO = ("nee", "no", "uit", "off", "n", "false", "niet", "kapalı", "متوقف", *NO_WORDS)
_OFF = ("uit", "off", "geen", "none", "nooit", "never", "kapalı", "متوقف")
_NONE = ("geen", "none", "niets", "nothing", "-", "hiçbiri", "لا شيء")


def _amount(text: str, units: Mapping[str, float]) -> float | None:
    lowered = " ".join(text.lower().split())
    words = _PHRASES.get(lowered, lowered).split()
    if len(words) > 2 and words[0] in ("een", "a", "an") and words[1] in _WORD_NUMBERS:
        words = words[1:]  # "een half uur"
    if words and words[0] in _WORD_NUMBERS:
        words[0] = _WORD_NUMBERS[words[0]]
    found = re.fullmatch(_NUMBER + r"\s*([^\W\d_]*)", " ".join(words))
    if found is None or found[2] not in units:
        return None
    return float(found[1].replace(",", ".")) * units[found[2]]


def _in_range(setting: Setting, value: float, typed: str, catalog: Catalog, lang: str) -> None:
    assert setting.low is not None and setting.high is not None
    if not setting.low <= value <= setting.high:
        low, high = bounds(catalog, lang, setting)
        raise UserError(
            "settings.out_of_range", name=setting.typed_name(lang), value=typed, low=low, high=high
        )


def bounds(catalog: Catalog, lang: str, setting: Setting) -> tuple[str, str]:
    """The allowed range in words ("15 minuten", "7 dagen"); ("", "") when there is none."""
    if setting.low is None or setting.high is None:
        return "", ""
    return shown(catalog, lang, setting, setting.low), shown(catalog, lang, setting, setting.high)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _clock_range(text: str) -> str | None:
    """ "22:00-8:00", "22u-8u", "van 22 tot 8" -> "22:00-08:00"; None when unreadable."""
    cleaned = text.lower().strip()
    cleaned = re.sub(r"^(van|from)\s+", "", cleaned)
    cleaned = re.sub(r"\s+(tot|to|until|till)\s+", "-", cleaned)
    cleaned = re.sub(r"(\d)\s*[uh]\s*(\d\d)\b", r"\1:\2", cleaned)  # 7u30
    cleaned = re.sub(r"(?<=\d)\s*(uur|u|h)\b", "", cleaned)
    hours = parse_hours(cleaned)
    if hours is None:
        return None
    return f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"


def parse(setting: Setting, typed: str, catalog: Catalog, lang: str) -> Any:
    """The value typed for ``setting``, in the form it is stored in (JSON); raises
    ``UserError`` naming what is wrong, in plain words."""
    text = " ".join(typed.split())
    lowered = text.lower()
    if not text:
        raise UserError("settings.value_missing", name=setting.typed_name(lang))
    if setting.kind is Kind.HOURS:
        hours = _amount(text, _HOUR_UNITS)
        if hours is None:
            raise UserError("settings.bad_hours", name=setting.typed_name(lang), text=text[:40])
        _in_range(setting, hours, text[:40], catalog, lang)
        return round(hours, 4)
    if setting.kind in (Kind.DAYS, Kind.COUNT):
        amount = _amount(text, _DAY_UNITS if setting.kind is Kind.DAYS else {"": 1})
        if amount is None or not amount.is_integer():
            key = f"settings.bad_{setting.kind.value}"
            raise UserError(key, name=setting.typed_name(lang), text=text[:40])
        _in_range(setting, amount, text[:40], catalog, lang)
        return int(amount)
    if setting.kind is Kind.TIMES:
        if lowered in _OFF:
            return "off"
        times = _clock_range(text)
        if times is None:
            raise UserError("settings.bad_times", name=setting.typed_name(lang), text=text[:40])
        return times
    if setting.kind is Kind.YES_NO:
        if lowered in _YES:
            return True
        if lowered in _NO:
            return False
        raise UserError("settings.bad_yes_no", name=setting.typed_name(lang), text=text[:40])
    if setting.kind is Kind.KINDS:
        if lowered in _NONE:
            return []
        chosen: list[str] = []
        for word in re.split(r"[\s,;/]+|\ben\b|\band\b", lowered):
            if not word:
                continue
            category = category_of(word)
            if category is None:
                raise UserError("settings.bad_kind", word=word[:30])
            if category.value not in chosen:
                chosen.append(category.value)
        return chosen
    # text: what organisers wrote, line breaks kept
    if len(typed.strip()) > MAX_RULES:
        raise UserError("settings.too_long", limit=MAX_RULES)
    return typed.strip()


def problem(settings: CommunitySettings, lang: str) -> UserError | None:
    """What does not fit together in these settings, as an answer; None when all is well."""
    for per_day, per_week in LIMIT_PAIRS:
        if getattr(settings, per_day) > getattr(settings, per_week):
            return UserError(
                "settings.day_over_week",
                day=BY_NAME[per_day].typed_name(lang),
                week=BY_NAME[per_week].typed_name(lang),
            )
    if settings.organisers_after_hours < settings.widen_after_hours:
        return UserError(
            "settings.organisers_before_widen",
            organisers=BY_NAME["organisers_after_hours"].typed_name(lang),
            widen=BY_NAME["widen_after_hours"].typed_name(lang),
        )
    return None


# --- showing a value ----------------------------------------------------------------------------
def value_of(settings: CommunitySettings, setting: Setting) -> Any:
    return getattr(settings, setting.name)


def stored_form(value: Any) -> Any:
    """A setting's value as it is kept with the community (JSON)."""
    if isinstance(value, tuple):
        return [v.value if isinstance(v, Category) else v for v in value]
    return value


def shown(catalog: Catalog, lang: str, setting: Setting, value: Any) -> str:
    """A value in words, the way it can be typed back."""
    if setting.kind is Kind.HOURS:
        hours = float(value)
        if hours < 1:
            return catalog.text(lang, "settings.unit_minutes", n=_number(round(hours * 60, 1)))
        key = "settings.unit_hour" if hours == 1 else "settings.unit_hours"
        number = _number(round(hours, 2))
        return catalog.text(lang, key, n=number.replace(".", ",") if lang == "nl" else number)
    if setting.kind is Kind.DAYS:
        key = "settings.unit_day" if int(value) == 1 else "settings.unit_days"
        return catalog.text(lang, key, n=int(value))
    if setting.kind is Kind.COUNT:
        return str(int(value))
    if setting.kind is Kind.YES_NO:
        return catalog.text(lang, "settings.yes" if value else "settings.no")
    if setting.kind is Kind.TIMES:
        if parse_hours(str(value)) is None:
            return catalog.text(lang, "settings.off")
        return str(value)
    if setting.kind is Kind.KINDS:
        kinds = [Category(v) for v in value]
        if not kinds:
            return catalog.text(lang, "settings.none")
        return ", ".join(category_name(catalog, lang, k).lower() for k in kinds)
    text = str(value)
    return f"“{text}”" if text else catalog.text(lang, "settings.standard_text")


def audit_form(setting: Setting, value: Any) -> str:
    """A value as the audit log keeps it, the same in every language: short, on one line."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in stored_form(tuple(value))) or "-"
    text = " ".join(str(value).split())
    if not text:
        return "-"
    if setting.kind is not Kind.TEXT:
        return text
    return f"“{text}”" if len(text) <= 60 else f"“{text[:59]}…”"


def defaults() -> CommunitySettings:
    """The code's own defaults (the operator's configuration may change them)."""
    return _DEFAULTS
