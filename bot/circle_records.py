"""Circles ("voorzorgcirkels") as the core sees them: plain data, no storage library.

A circle is a small group of neighbours who agree to be there for each other. Everyone in
it is equal; one or more members are its contact persons. Only its members see who is in
it and what each wrote; organisers see figures only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CircleRole(StrEnum):
    CONTACT = "contact"  # a contact person: decides on requests to join
    MEMBER = "member"


class InviteKind(StrEnum):
    INVITE = "invite"  # a member invited a neighbour
    ASK = "ask"  # a neighbour asked to join an open circle; its contact person decides


class InviteStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # no longer relevant: they joined another circle, it was full


@dataclass(frozen=True, slots=True)
class Circle:
    id: int
    community_id: int
    name: str
    open: bool  # neighbours may ask to join from the list
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CircleMember:
    circle_id: int
    member_id: int
    role: CircleRole
    likes_to_do: str  # what they like to do for others; visible in the circle only
    might_need: str  # what they might need some day; visible in the circle only
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class CircleInvite:
    id: int
    circle_id: int
    member_id: int  # who is invited, or who asks to join
    inviter_id: int | None  # who invited them (None when they asked themselves)
    kind: InviteKind
    status: InviteStatus
    created_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class CirclePartner:
    """A care or welfare organisation linked to a circle: reachable for backing
    ("rugdekking") with a member's consent, seeing nothing else."""

    id: int
    circle_id: int
    name: str
    contact: str  # how to reach the organisation (a phone number, an address)
    created_at: datetime
