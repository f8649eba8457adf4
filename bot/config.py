"""The core's configuration: plain values, validated by whoever builds them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from bot.model import Category, Community


@dataclass(frozen=True, slots=True)
class CommunitySettings:
    """What each community decides for itself. The values here are the defaults."""

    categories: tuple[Category, ...] = tuple(Category)
    helpers_to_ask: int = 3  # how many helpers are asked privately at once
    max_per_week: int = 3  # default limit on an offer
    max_open_requests: int = 5  # per member at once
    # closing the loop (scheduler): hours unless said otherwise, times as "HH:MM" local
    widen_after_hours: float = 4.0  # no helper yet: to the group, as the requester chose
    organisers_after_hours: float = 24.0  # still no helper: the organisers are asked
    followup_after_hours: float = 1.0  # after the agreed time has ended
    followup_without_time_hours: float = 48.0  # after matching, when no time was agreed
    followup_nudge_hours: float = 24.0  # no answer to the follow-up: one gentle reminder
    followup_close_hours: float = 48.0  # still no answer: closed as unknown
    reminder_evening: str = "19:00"  # the helper's reminder the evening before
    reminder_before_minutes: int = 60  # the helper's reminder before an exact time
    quiet_hours: str = "21:30-08:30"  # nothing that can wait is sent in between
    max_scheduled_per_day: int = 3  # scheduled messages per member per day; more are bundled
    digest_weekday: int = 0  # the organisers' weekly digest: Monday...
    digest_time: str = "09:00"  # ...at nine
    partner_contact: str = ""  # how organisers reach the partner professionals
    # onboarding, moderation and privacy
    house_rules: str = ""  # empty: the standard house rules from the message catalog
    rules_required: bool = True  # accept the house rules before asking or offering
    approve_helpers: bool = False  # an organiser approves each new helper
    vouched_categories: tuple[Category, ...] = ()  # only helpers someone vouched for
    retention_days: int = 90  # texts of closed requests are removed after this many days
    # limits per member, counted over the last 24 hours and the last 7 days (see bot.limits)
    asks_per_day: int = 6  # requests for help placed
    asks_per_week: int = 20
    tables_per_day: int = 2  # meal tables announced (a weekly table counts once)
    tables_per_week: int = 5
    reports_per_day: int = 3  # reports to the organisers
    reports_per_week: int = 10
    # how often one helper is asked "can you help?" in 24 hours; in 7 days: as their offer says
    helper_asks_per_day: int = 3
    # circles of neighbours who look out for each other (see bot.circles)
    circle_size: int = 15  # at most this many members in one circle
    circle_window_hours: float = 2.0  # a circle member's request: first the circle only
    # omkijken in circles: no answer to a check-in within this many hours, the buddy is
    # asked; each further step (next member, contact person and organisers) an hour later
    checkin_answer_hours: float = 2.0
    checkin_step_hours: float = 1.0
    checkin_keep_days: int = 30  # check-ins and their answers are removed after this

    @classmethod
    def of(cls, community: Community, defaults: CommunityDefaults) -> CommunitySettings:
        return defaults.settings.merged(community.settings)

    def merged(self, changes: Mapping[str, Any]) -> CommunitySettings:
        """These settings with a community's own values over them (unknown names ignored)."""
        values = {
            f.name: _like(getattr(self, f.name), changes[f.name])
            for f in fields(self)
            if f.name in changes
        }
        return replace(self, **values)

    def checked(self, changes: Mapping[str, Any]) -> CommunitySettings:
        """These settings with ``changes`` over them, when the limits in them make sense.

        Raises ``ValueError`` naming the setting and what is wrong, in plain words."""
        for name in changes:
            if name in LIMITS_RANGE_NAMES:
                value = changes[name]
                if isinstance(value, bool) or not _whole_number(value):
                    raise ValueError(f"{name} must be a whole number")
        result = self.merged(changes)
        problem = limit_problem(result)
        if problem:
            raise ValueError(problem)
        if result.organisers_after_hours < result.widen_after_hours:
            raise ValueError("organisers_after_hours cannot be less than widen_after_hours")
        return result


# The limits, as (per day, per week) pairs of settings. A new limited action (invitations,
# when they come) needs a pair here and a kind in ``bot.limits``.
LIMIT_PAIRS: tuple[tuple[str, str], ...] = (
    ("asks_per_day", "asks_per_week"),
    ("tables_per_day", "tables_per_week"),
    ("reports_per_day", "reports_per_week"),
)
LIMIT_RANGE = (1, 1000)
LIMITS_RANGE_NAMES = frozenset(
    [name for pair in LIMIT_PAIRS for name in pair] + ["helper_asks_per_day"]
)


def _whole_number(value: Any) -> bool:
    if isinstance(value, int):
        return True
    if isinstance(value, str):
        return value.strip().lstrip("-").isdecimal()
    return isinstance(value, float) and value.is_integer()


def limit_problem(settings: CommunitySettings) -> str | None:
    """What is wrong with the limits of these settings, in plain words; None when nothing."""
    low, high = LIMIT_RANGE
    for name in sorted(LIMITS_RANGE_NAMES):
        value = getattr(settings, name)
        if not low <= value <= high:
            return f"{name} must be between {low} and {high}, not {value}"
    for per_day, per_week in LIMIT_PAIRS:
        if getattr(settings, per_day) > getattr(settings, per_week):
            return f"{per_day} cannot be more than {per_week}"
    return None


def _like(default: object, value: Any) -> Any:
    """A stored value in the type of its default."""
    if isinstance(default, tuple):
        return tuple(Category(v) for v in value)
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, int | float | str):
        return type(default)(value)
    return value


@dataclass(frozen=True, slots=True)
class CommunityDefaults:
    """Defaults for a new community; each community can change its own copy."""

    name: str = "Buurt"
    language: str = "nl"
    timezone: str = "Europe/Amsterdam"
    settings: CommunitySettings = field(default_factory=CommunitySettings)


@dataclass(frozen=True, slots=True)
class CoreConfig:
    community: CommunityDefaults = field(default_factory=CommunityDefaults)
    organisers: frozenset[tuple[str, str]] = frozenset()  # (platform, user id or handle)
    # (platform, user id) of whoever runs the bot: reports about a community's only
    # organiser go there, never to the organiser reported
    operator_contact: tuple[str, str] | None = None
    max_text_length: int = 500  # a description of a request
    max_message_length: int = 4000  # anything longer is refused as a whole
    commands_per_minute: int = 20  # per member; beyond it one notice, then silence
    # where the organisers' web pages are reached (links from /dashboard); None: they are off
    web_base_url: str | None = None
