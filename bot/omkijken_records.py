"""Omkijken as the core sees it: check-ins, the weekly rota and gatherings of a circle.
Plain data, no storage library."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Answer(StrEnum):
    """What a member answered to "gaat alles goed?"."""

    GOOD = "good"
    HELP = "help"  # could use some help: a request to the circle
    CALL = "call"  # please call me: the buddy is asked to


class LookAnswer(StrEnum):
    LOOK = "look"  # "Ik ga even kijken"
    CANNOT = "cannot"  # "Ik kan nu niet"


class LookResult(StrEnum):
    """How it was, as told by whoever looked in."""

    GOOD = "good"
    HELP = "help"  # something was needed
    NOBODY = "nobody"  # nobody opened or answered


@dataclass(frozen=True, slots=True)
class OmkijkenPlan:
    member_id: int
    circle_id: int
    days: tuple[int, ...]  # weekdays of the check-in, Monday is 0; empty: none
    at: str  # local time of day, "10:00"
    consented_at: datetime | None  # None: explained, not agreed yet (not active)
    paused: bool  # away for now: not in the rota, no check-ins
    updated_at: datetime

    @property
    def active(self) -> bool:
        return bool(self.days) and self.consented_at is not None and not self.paused


@dataclass(frozen=True, slots=True)
class Checkin:
    id: int
    community_id: int
    circle_id: int
    member_id: int
    asked_at: datetime
    outbox_id: int | None
    answer: Answer | None
    answered_at: datetime | None
    missed_at: datetime | None
    step: int
    looker_id: int | None
    looked_at: datetime | None
    look_result: LookResult | None


@dataclass(frozen=True, slots=True)
class CheckinAsk:
    checkin_id: int
    member_id: int
    step: int
    asked_at: datetime
    answer: LookAnswer | None


@dataclass(frozen=True, slots=True)
class Gathering:
    id: int
    community_id: int
    circle_id: int
    organiser_id: int | None
    starts_at: datetime
    what: str
    created_at: datetime
