"""The core's configuration: plain values, validated by whoever builds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.model import Category, Community


@dataclass(frozen=True, slots=True)
class CommunityDefaults:
    """Defaults for a new community; each community can change its own copy."""

    name: str = "Buurt"
    language: str = "nl"
    timezone: str = "Europe/Amsterdam"
    categories: tuple[Category, ...] = tuple(Category)
    helpers_to_ask: int = 3  # how many helpers are asked privately at once
    max_per_week: int = 3  # default limit on an offer
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

    def settings(self) -> dict[str, Any]:
        return {
            "categories": [c.value for c in self.categories],
            "helpers_to_ask": self.helpers_to_ask,
            "max_per_week": self.max_per_week,
            **{name: getattr(self, name) for name in SCHEDULE_SETTINGS},
        }


@dataclass(frozen=True, slots=True)
class CommunitySettings:
    categories: tuple[Category, ...]
    helpers_to_ask: int
    max_per_week: int
    widen_after_hours: float = 4.0
    organisers_after_hours: float = 24.0
    followup_after_hours: float = 1.0
    followup_without_time_hours: float = 48.0
    followup_nudge_hours: float = 24.0
    followup_close_hours: float = 48.0
    reminder_evening: str = "19:00"
    reminder_before_minutes: int = 60
    quiet_hours: str = "21:30-08:30"
    max_scheduled_per_day: int = 3
    digest_weekday: int = 0
    digest_time: str = "09:00"
    partner_contact: str = ""

    @classmethod
    def of(cls, community: Community, defaults: CommunityDefaults) -> CommunitySettings:
        merged = {**defaults.settings(), **community.settings}
        return cls(
            categories=tuple(Category(c) for c in merged["categories"]),
            helpers_to_ask=int(merged["helpers_to_ask"]),
            max_per_week=int(merged["max_per_week"]),
            **{name: type(getattr(defaults, name))(merged[name]) for name in SCHEDULE_SETTINGS},
        )


# The community settings the scheduler reads (names of fields above).
SCHEDULE_SETTINGS = (
    "widen_after_hours",
    "organisers_after_hours",
    "followup_after_hours",
    "followup_without_time_hours",
    "followup_nudge_hours",
    "followup_close_hours",
    "reminder_evening",
    "reminder_before_minutes",
    "quiet_hours",
    "max_scheduled_per_day",
    "digest_weekday",
    "digest_time",
    "partner_contact",
)


@dataclass(frozen=True, slots=True)
class CoreConfig:
    community: CommunityDefaults = field(default_factory=CommunityDefaults)
    organisers: frozenset[tuple[str, str]] = frozenset()  # (platform, user id or handle)
    max_text_length: int = 500  # a description of a request
    max_message_length: int = 4000  # anything longer is refused as a whole
