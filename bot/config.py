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
