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

    def settings(self) -> dict[str, Any]:
        return {
            "categories": [c.value for c in self.categories],
            "helpers_to_ask": self.helpers_to_ask,
            "max_per_week": self.max_per_week,
        }


@dataclass(frozen=True, slots=True)
class CommunitySettings:
    categories: tuple[Category, ...]
    helpers_to_ask: int
    max_per_week: int

    @classmethod
    def of(cls, community: Community, defaults: CommunityDefaults) -> CommunitySettings:
        merged = {**defaults.settings(), **community.settings}
        return cls(
            categories=tuple(Category(c) for c in merged["categories"]),
            helpers_to_ask=int(merged["helpers_to_ask"]),
            max_per_week=int(merged["max_per_week"]),
        )


@dataclass(frozen=True, slots=True)
class CoreConfig:
    community: CommunityDefaults = field(default_factory=CommunityDefaults)
    organisers: frozenset[tuple[str, str]] = frozenset()  # (platform, user id or handle)
    max_text_length: int = 500  # a description of a request
    max_message_length: int = 4000  # anything longer is refused as a whole
