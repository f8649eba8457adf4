"""The core's records: plain data, no storage library."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    SHOPPING = "shopping"
    MEAL = "meal"
    COMPANY = "company"
    TRANSPORT = "transport"
    CHORE = "chore"
    OTHER = "other"


class Visibility(StrEnum):
    NAMED = "named"  # posted in the group with my name, if it comes to that
    ANONYMOUS = "anonymous"  # posted in the group without my name
    HELPERS = "helpers"  # never in the group: only helpers who are asked see it


class RequestStatus(StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    DONE = "done"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"  # nobody answered the follow-up: closed, outcome unknown
    REFERRED = "referred"  # passed on to a partner professional, with consent
    HIDDEN = "hidden"  # taken down by an organiser


class ProposalStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TAKEN = "taken"  # someone else accepted first
    WITHDRAWN = "withdrawn"  # the request was cancelled


class MemberStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # by an organiser: cannot ask or offer for now
    BLOCKED = "blocked"  # by an organiser: the bot no longer helps them


class HelperStatus(StrEnum):
    NONE = "none"  # no approval needed, or never offered
    PENDING = "pending"  # waiting for an organiser's approval
    APPROVED = "approved"
    REFUSED = "refused"


class Role(StrEnum):
    RESIDENT = "resident"
    ORGANISER = "organiser"


@dataclass(frozen=True, slots=True)
class Community:
    id: int
    name: str
    language: str
    timezone: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    display_name: str
    language: str | None
    created_at: datetime
    contact_id: int | None = None  # an organiser who speaks for them (no phone of their own)
    erased: bool = False


@dataclass(frozen=True, slots=True)
class Identity:
    member_id: int
    platform: str
    user_id: str
    handle: str | None
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class Membership:
    member_id: int
    community_id: int
    role: Role
    left_at: datetime | None
    status: MemberStatus = MemberStatus.ACTIVE
    helper_status: HelperStatus = HelperStatus.NONE
    rules_accepted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GroupChat:
    platform: str
    chat_id: str
    community_id: int
    title: str


@dataclass(frozen=True, slots=True)
class SenderRows:
    """What an event needs to know about who sent it, read at once: their identity on the
    platform, their member, their memberships (oldest first) with those communities, and
    the group chat the event came from (when asked for one and it is linked)."""

    identity: Identity | None
    member: Member | None
    memberships: tuple[Membership, ...] = ()
    communities: dict[int, Community] = field(default_factory=dict)
    group: GroupChat | None = None


@dataclass(frozen=True, slots=True)
class HelpRequest:
    id: int
    community_id: int
    requester_id: int
    category: Category
    starts_at: datetime | None
    ends_at: datetime | None
    exact: bool
    place: str | None
    description: str
    group_text: str | None  # what others see before someone said yes (bot.details)
    visibility: Visibility
    advance: bool
    status: RequestStatus
    helper_id: int | None
    created_at: datetime
    matched_at: datetime | None
    closed_at: datetime | None
    group_posts: tuple[int, ...]  # outbox ids of the request's posts in group chats

    @property
    def posted_in_group(self) -> bool:
        return bool(self.group_posts)


@dataclass(frozen=True, slots=True)
class NewRequest:
    community_id: int
    requester_id: int
    category: Category
    starts_at: datetime | None
    ends_at: datetime | None
    exact: bool
    place: str | None
    description: str
    visibility: Visibility
    advance: bool
    group_text: str | None = None


@dataclass(frozen=True, slots=True)
class Offer:
    id: int
    community_id: int
    member_id: int
    categories: frozenset[Category]
    days: frozenset[int]
    parts: frozenset[str]
    area: str | None
    max_per_week: int
    paused: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewOffer:
    community_id: int
    member_id: int
    categories: frozenset[Category]
    days: frozenset[int]
    parts: frozenset[str]
    area: str | None
    max_per_week: int


def postcode_number(place: str | None) -> int | None:
    """The four digits of a Dutch postcode that starts a place ("3021", "3021 AB"), if any."""
    if place is None or len(place) < 4 or not place[:4].isdecimal():
        return None
    return int(place[:4])


@dataclass(frozen=True, slots=True)
class OfferSearch:
    """Which offers could fit a request: the storage filters, the core ranks."""

    community_id: int
    category: Category
    requester_id: int  # never asked to help themselves
    slots: int | None  # the request's time as slots of the week; None: any time
    unasked_for: int | None  # leave out helpers already asked about this request
    near: int | None  # the request's postcode number, for the nearest offers first


@dataclass(frozen=True, slots=True)
class Proposal:
    id: int
    request_id: int
    helper_id: int
    status: ProposalStatus
    outbox_id: int | None


@dataclass(frozen=True, slots=True)
class Expense:
    id: int
    request_id: int
    amount_cents: int
    recorded_at: datetime
    repaid_at: datetime | None


@dataclass(frozen=True, slots=True)
class Draft:
    """A guided conversation in progress: what has been said so far and what comes next."""

    member_id: int
    kind: str
    step: str
    data: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Report:
    id: int
    community_id: int
    reporter_id: int
    request_id: int | None
    member_id: int | None
    reason: str
    created_at: datetime
    handled_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    community_id: int
    actor_id: int | None
    action: str
    subject: str  # ids only, never personal text
    created_at: datetime


class TableStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"
    DONE = "done"  # the meal has been


class SeatStatus(StrEnum):
    SEATED = "seated"
    WAITING = "waiting"  # on the waiting list, in order of ``position``
    OFFERED = "offered"  # a seat came free and is offered until ``offered_until``
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class NewMealTable:
    community_id: int
    host_id: int
    place: str
    address: str | None
    starts_at: datetime
    seats: int
    contribution: str
    menu: str
    diets: tuple[str, ...]
    signup_until: datetime
    max_plus: int
    weekly_until: datetime | None  # None: a single meal; else weekly until this moment
    series_id: int | None = None  # the first table of a weekly series


@dataclass(frozen=True, slots=True)
class MealTable:
    id: int
    community_id: int
    host_id: int
    place: str
    address: str | None
    starts_at: datetime
    seats: int
    contribution: str
    menu: str
    diets: tuple[str, ...]
    signup_until: datetime
    max_plus: int
    weekly_until: datetime | None
    series_id: int | None
    status: TableStatus
    created_at: datetime
    group_posts: tuple[int, ...]
    taken: int  # seats taken by seated guests and the people they bring
    outcome: str | None  # how it went, in the host's words

    @property
    def left(self) -> int:
        return max(0, self.seats - self.taken)


@dataclass(frozen=True, slots=True)
class Seat:
    id: int
    table_id: int
    member_id: int
    plus: int
    diet: str
    status: SeatStatus
    position: int
    created_at: datetime
    offered_until: datetime | None


@dataclass(frozen=True, slots=True)
class WebSession:
    """An organiser signed in on the web pages, for one community, until ``expires_at``."""

    member_id: int
    community_id: int
    csrf_token: str
    expires_at: datetime
