"""Due work as the core sees it: what should happen, for whom, and when.

The ``due_work`` table is the source of truth. A row is either about one member (a message
to them: a reminder, a follow-up question, an organiser's alert, a digest), or about a
community or request as a whole (widening a request, closing it as unknown, fanning out an
escalation). Plain data; no storage library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class WorkKind(StrEnum):
    # messages to one member (``member_id`` is set)
    REMIND_EVENING = "remind_evening"  # the helper, the evening before
    REMIND_HOUR = "remind_hour"  # the helper, shortly before an exact time (urgent)
    FOLLOWUP = "followup"  # requester and helper: how did it go?
    FOLLOWUP_NUDGE = "followup_nudge"  # one gentle reminder of that question
    CLOSED_UNKNOWN = "closed_unknown"  # nobody answered: we closed it
    ORGANISER_ALERT = "organiser_alert"  # an organiser: nobody has picked this up
    DIGEST_NOTICE = "digest_notice"  # an organiser: the weekly digest
    # work on a request or a community (``member_id`` is empty)
    WIDEN = "widen"  # nobody said yes yet: go to the group as the requester chose
    ESCALATE = "escalate"  # still nobody: alert every organiser
    FOLLOWUP_CLOSE = "followup_close"  # no answer to the follow-up: close as unknown
    DIGEST = "digest"  # the weekly digest is due: one notice per organiser, and the next
    RETENTION = "retention"  # nightly: texts of long-closed requests are removed
    CIRCLE_WINDOW = "circle_window"  # a circle member's request: the circle had its turn
    # meal tables (``subject_id`` is the table)
    TABLE_GUEST_DAY = "table_guest_day"  # a guest, the evening before
    TABLE_GUEST_SOON = "table_guest_soon"  # a guest, two hours before (urgent)
    TABLE_HOST_EVENING = "table_host_evening"  # the host, the evening before: who comes
    TABLE_HOST_AFTER = "table_host_after"  # the host, after the meal: how did it go?
    TABLE_LOW_ALERT = "table_low_alert"  # an organiser: few seats taken two days before
    TABLE_DAY_BEFORE = "table_day_before"  # fan out the evening-before reminders
    TABLE_SOON = "table_soon"  # fan out the reminders shortly before
    TABLE_CHECK_LOW = "table_check_low"  # two days before: are enough seats taken?
    TABLE_AFTER = "table_after"  # the meal has been: close it, ask the host, plan the next
    SEAT_OFFER_END = "seat_offer_end"  # a free seat offered to the waiting list: time is up
    # omkijken in circles (``subject_id``: the member for a check-in, else the check-in)
    CHECKIN = "checkin"  # "gaat alles goed?" to a member, at the time they chose
    CHECKIN_STEP = "checkin_step"  # no answer: the next people are asked to look in
    CHECKIN_AFTER = "checkin_after"  # whoever looked in: how was it? (a message)
    ROTA = "rota"  # weekly: this week's pairs are made, and each buddy is to be told
    ROTA_NOTICE = "rota_notice"  # one buddy: whom they look after this week (a message)
    # gatherings of a circle (``subject_id`` is the gathering)
    GATHERING_DAY_BEFORE = "gathering_day_before"  # fan out the reminders the day before
    GATHERING_REMIND = "gathering_remind"  # one member: tomorrow (a message)


class Outcome(StrEnum):
    SENT = "sent"  # a message of its own
    BUNDLED = "bundled"  # part of one message with others (the daily limit)
    DONE = "done"  # work without a message of its own
    SKIPPED = "skipped"  # no longer relevant when it came due
    FAILED = "failed"  # kept failing; given up


@dataclass(frozen=True, slots=True)
class NewWork:
    kind: WorkKind
    community_id: int
    due_at: datetime
    subject_id: int | None = None  # the help request it is about, if any
    member_id: int | None = None  # the member it is for, if it is a message
    urgent: bool = False  # urgent work ignores quiet hours and the daily limit
    payload: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None  # scheduling the same key twice is a no-op


@dataclass(frozen=True, slots=True)
class DueWork:
    id: int
    kind: WorkKind
    community_id: int
    subject_id: int | None
    member_id: int | None
    urgent: bool
    due_at: datetime
    created_at: datetime
    claimed_at: datetime | None
    done_at: datetime | None
    cancelled_at: datetime | None
    outcome: str | None
    outbox_id: int | None
    attempts: int
    payload: dict[str, Any]

    @property
    def pending(self) -> bool:
        return self.done_at is None and self.cancelled_at is None


@dataclass(frozen=True, slots=True)
class Referral:
    """An organiser wants to pass a request on to a partner professional ("rugdekking").

    Nothing is passed on until the requester has said yes (``consent``)."""

    id: int
    request_id: int
    organiser_id: int
    asked_at: datetime
    answered_at: datetime | None
    consent: bool | None


@dataclass(frozen=True, slots=True)
class Notice:
    """One message for one member, before it is sent (alone or in a bundle)."""

    key: str
    params: dict[str, object] = field(default_factory=dict)
    buttons: Sequence[Sequence[tuple[str, str]]] = ()
    tag: str = ""  # added to button labels in a bundle: "Gelukt #3"
    about: tuple[int, ...] = ()  # members whose personal data it shows, besides its recipient
