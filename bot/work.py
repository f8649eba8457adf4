"""Due work as the core sees it: what should happen, for whom, and when.

The ``due_work`` table is the source of truth. A row is either about one member (a message
to them: a reminder, a follow-up question, an organiser's alert, a digest), or about a
community or request as a whole (widening a request, closing it as unknown, fanning out an
escalation). Plain data; no storage library.
"""

from __future__ import annotations

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
