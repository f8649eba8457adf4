"""The schema. Alembic migrations in ``storage/migrations`` create exactly these tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _when(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


class CommunityRow(SQLModel, table=True):
    __tablename__ = "community"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    language: str = "nl"
    timezone: str = "Europe/Amsterdam"
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class GroupChatRow(SQLModel, table=True):
    __tablename__ = "group_chat"
    platform: str = Field(primary_key=True)
    chat_id: str = Field(primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    title: str = ""


class MemberRow(SQLModel, table=True):
    __tablename__ = "member"
    id: int | None = Field(default=None, primary_key=True)
    display_name: str
    language: str | None = None
    created_at: datetime = _when()
    contact_id: int | None = Field(default=None, foreign_key="member.id")
    erased_at: datetime | None = _when(nullable=True)


class IdentityRow(SQLModel, table=True):
    __tablename__ = "identity"
    platform: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    handle: str | None = None
    last_seen_at: datetime = _when()


class MembershipRow(SQLModel, table=True):
    __tablename__ = "membership"
    # a community's members and organisers (the primary key starts with the member)
    __table_args__ = (Index("ix_membership_community", "community_id", "role"),)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    community_id: int = Field(foreign_key="community.id", primary_key=True)
    role: str = "resident"
    joined_at: datetime = _when()
    left_at: datetime | None = _when(nullable=True)
    status: str = "active"
    helper_status: str = "none"
    rules_accepted_at: datetime | None = _when(nullable=True)


class HelpRequestRow(SQLModel, table=True):
    __tablename__ = "help_request"
    __table_args__ = (
        Index("ix_help_request_status", "community_id", "status"),
        Index("ix_help_request_matched", "matched_at", "helper_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    requester_id: int = Field(foreign_key="member.id", index=True)
    category: str
    starts_at: datetime | None = _when(nullable=True)
    ends_at: datetime | None = _when(nullable=True)
    exact: bool = False
    place: str | None = None
    description: str
    # what may be shown before someone said yes: the description with personal details
    # replaced, or the asker's own text for the group; None for requests from before 0012
    group_text: str | None = None
    visibility: str
    advance: bool = False
    status: str = "open"
    helper_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    created_at: datetime = _when()
    matched_at: datetime | None = _when(nullable=True)
    closed_at: datetime | None = _when(nullable=True)
    group_posts: str = ""  # comma-separated outbox ids of its posts in group chats


class OfferRow(SQLModel, table=True):
    __tablename__ = "offer"
    __table_args__ = (Index("ix_offer_community", "community_id", "paused"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    categories: str  # comma-separated Category values
    days: str = ""  # comma-separated weekday numbers, empty = every day
    parts: str = ""  # comma-separated day parts, empty = any time
    area: str | None = None
    max_per_week: int = 3
    paused: bool = False
    created_at: datetime = _when()


class OfferKindRow(SQLModel, table=True):
    """One row per kind of help an offer gives, for finding the nearest fitting offers."""

    __tablename__ = "offer_kind"
    __table_args__ = (
        Index("ix_offer_kind_near", "community_id", "category", "area_number", "member_id"),
        Index("ix_offer_kind_member", "community_id", "category", "member_id"),
    )
    offer_id: int = Field(foreign_key="offer.id", primary_key=True)
    category: str = Field(primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    member_id: int = Field(foreign_key="member.id")
    area_number: int | None = None  # the postcode's digits, when the area is one
    slots: int  # the week's slots the offer covers (``Availability.slots``)


class ProposalRow(SQLModel, table=True):
    __tablename__ = "proposal"
    __table_args__ = (UniqueConstraint("request_id", "helper_id"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="help_request.id", index=True)
    helper_id: int = Field(foreign_key="member.id")
    status: str = "pending"
    outbox_id: int | None = None
    created_at: datetime = _when()


class ExpenseRow(SQLModel, table=True):
    __tablename__ = "expense"
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="help_request.id", index=True)
    amount_cents: int
    recorded_at: datetime = _when()
    repaid_at: datetime | None = _when(nullable=True)


class DraftRow(SQLModel, table=True):
    __tablename__ = "draft"
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    kind: str
    step: str
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _when()


class InboxRow(SQLModel, table=True):
    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_received", "received_at"),)  # retention
    platform: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    received_at: datetime = _when()


class CursorRow(SQLModel, table=True):
    __tablename__ = "cursor"
    name: str = Field(primary_key=True)
    value: str


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "platform", "status", "not_before"),
        Index("ix_outbox_ref", "platform", "message_ref"),
        Index("ix_outbox_chat", "platform", "chat_id", "status"),
        Index("ix_outbox_edit_of", "edit_of"),
        Index("ix_outbox_sent", "status", "sent_at"),  # retention
    )
    id: int | None = Field(default=None, primary_key=True)
    platform: str
    chat_id: str
    kind: str
    member_id: int | None = Field(default=None, foreign_key="member.id")
    text: str
    buttons: list[list[list[str]]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    edit_of: int | None = None
    attachment_name: str | None = None
    attachment: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    status: str = "pending"  # pending | waiting | sent | failed
    attempts: int = 0
    created_at: datetime = _when()
    not_before: datetime = _when()
    sent_at: datetime | None = _when(nullable=True)
    message_ref: str | None = None
    error: str | None = None
    # Not a message: take the member's message with this platform id out of the group.
    delete_ref: str | None = None
    # A private message to someone the group was already told, without a name, how to
    # open a private chat: when it cannot be delivered, the group hears nothing of it.
    discreet: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # The sender that has taken the row to send it, until ``lease_until``; a sender that
    # died mid-send holds it no longer than that. Marking it sent asks for the same sender.
    claimed_by: str | None = None
    lease_until: datetime | None = _when(nullable=True)
    # A text too long for one message goes out in parts, in order; this many of them the
    # platform has taken. A sender that takes the row over goes on from the next part.
    parts_sent: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=sql_text("0"))
    )


class OutboxAboutRow(SQLModel, table=True):
    """Whose personal data a message carries, besides the member it is sent to: a
    requester quoted to a helper, a guest named to a host. Erasure finds them here."""

    __tablename__ = "outbox_about"
    outbox_id: int = Field(foreign_key="outbox.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)


class DueWorkRow(SQLModel, table=True):
    """What the bot must do when, for whom; the scheduler's source of truth."""

    __tablename__ = "due_work"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_due_work_dedupe_key"),
        # pending, unclaimed work in due order: claiming, and when the next is due
        Index("ix_due_work_claimable", "done_at", "cancelled_at", "claimed_at", "due_at"),
        Index("ix_due_work_subject", "subject_id", "kind"),
        # a member's pending work in due order, and what was done for them lately
        Index("ix_due_work_for_member", "member_id", "done_at", "cancelled_at", "due_at"),
        Index("ix_due_work_kind", "kind", "community_id", "done_at", "cancelled_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str
    dedupe_key: str | None = None
    community_id: int = Field(foreign_key="community.id")
    subject_id: int | None = None  # the help request it is about, if any
    member_id: int | None = Field(default=None, foreign_key="member.id")
    urgent: bool = False
    due_at: datetime = _when()
    created_at: datetime = _when()
    claimed_at: datetime | None = _when(nullable=True)
    claimed_by: str | None = None
    done_at: datetime | None = _when(nullable=True)
    cancelled_at: datetime | None = _when(nullable=True)
    outcome: str | None = None  # sent | bundled | done | skipped | failed
    outbox_id: int | None = None  # the message it was sent in
    attempts: int = 0
    error: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ReferralRow(SQLModel, table=True):
    """An organiser's wish to refer a request to a partner professional, and the answer."""

    __tablename__ = "referral"
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="help_request.id", index=True)
    organiser_id: int = Field(foreign_key="member.id")
    asked_at: datetime = _when()
    answered_at: datetime | None = _when(nullable=True)
    consent: bool | None = None


class MemberSettingsRow(SQLModel, table=True):
    """A member's own settings (quiet hours), over the community's."""

    __tablename__ = "member_settings"
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class VouchRow(SQLModel, table=True):
    """Someone vouches for a helper, for categories that need a vouched helper."""

    __tablename__ = "vouch"
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    community_id: int = Field(foreign_key="community.id", primary_key=True)
    voucher_id: int = Field(foreign_key="member.id", primary_key=True)
    created_at: datetime = _when()


class ReportRow(SQLModel, table=True):
    """A member reports a request or a person; only organisers see it."""

    __tablename__ = "report"
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    reporter_id: int = Field(foreign_key="member.id")
    request_id: int | None = Field(default=None, foreign_key="help_request.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")
    reason: str = ""
    created_at: datetime = _when()
    handled_at: datetime | None = _when(nullable=True)


class AuditRow(SQLModel, table=True):
    """What organisers did, for accountability. Ids only, never personal text."""

    __tablename__ = "audit"
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    action: str
    subject: str = ""
    created_at: datetime = _when()


class MealTableRow(SQLModel, table=True):
    """An "Aanschuiven" table: a meal anyone in the neighbourhood can join."""

    __tablename__ = "meal_table"
    __table_args__ = (Index("ix_meal_table_when", "community_id", "status", "starts_at"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    host_id: int = Field(foreign_key="member.id", index=True)
    place: str
    address: str | None = None
    starts_at: datetime = _when()
    seats: int
    contribution: str = ""
    menu: str = ""
    diets: str = ""  # comma-separated diet tags
    signup_until: datetime = _when()
    max_plus: int = 1
    weekly_until: datetime | None = _when(nullable=True)
    series_id: int | None = Field(default=None, index=True)
    status: str = "open"
    created_at: datetime = _when()
    group_posts: str = ""  # comma-separated outbox ids of its announcements
    outcome: str | None = None


class SeatRow(SQLModel, table=True):
    """A guest at a table, or on its waiting list."""

    __tablename__ = "seat"
    __table_args__ = (
        UniqueConstraint("table_id", "member_id"),
        Index("ix_seat_table", "table_id", "status", "position"),
    )
    id: int | None = Field(default=None, primary_key=True)
    table_id: int = Field(foreign_key="meal_table.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    plus: int = 0
    diet: str = ""
    status: str = "seated"
    position: int = 0
    created_at: datetime = _when()
    offered_until: datetime | None = _when(nullable=True)


class LimitUseRow(SQLModel, table=True):
    """One counted action of a member (a request, a table, a report) or one time a helper
    was asked, for the limits in ``bot.limits``. Kept for a week, then removed."""

    __tablename__ = "limit_use"
    __table_args__ = (Index("ix_limit_use_member", "member_id", "kind", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    kind: str
    at: datetime = _when(index=True)


class LimitNoticeRow(SQLModel, table=True):
    """A member was told they reached a limit; not again before ``until``."""

    __tablename__ = "limit_notice"
    __table_args__ = (Index("ix_limit_notice_until", "until"),)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    kind: str = Field(primary_key=True)
    until: datetime = _when()


class CircleRow(SQLModel, table=True):
    """A circle of neighbours who look out for each other ("voorzorgcirkel")."""

    __tablename__ = "circle"
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    name: str
    open: bool = True  # neighbours may ask to join from the list
    created_at: datetime = _when()


class CircleMemberRow(SQLModel, table=True):
    """A member of a circle, with what they like to do and might need (circle only)."""

    __tablename__ = "circle_member"
    circle_id: int = Field(foreign_key="circle.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)
    role: str = "member"  # contact | member
    likes_to_do: str = ""
    might_need: str = ""
    joined_at: datetime = _when()


class CircleInviteRow(SQLModel, table=True):
    """An invitation to a circle, or a neighbour's wish to join one."""

    __tablename__ = "circle_invite"
    __table_args__ = (Index("ix_circle_invite_circle", "circle_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circle.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    inviter_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    kind: str = "invite"  # invite | ask
    status: str = "pending"  # pending | accepted | declined | withdrawn
    created_at: datetime = _when()
    answered_at: datetime | None = _when(nullable=True)


class CirclePartnerRow(SQLModel, table=True):
    """A care or welfare organisation linked to a circle, for backing ("rugdekking")."""

    __tablename__ = "circle_partner"
    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circle.id", index=True)
    name: str
    contact: str = ""
    created_at: datetime = _when()


# --- omkijken: check-ins, the weekly rota, gatherings (see bot.omkijken) -------------------
class OmkijkenPlanRow(SQLModel, table=True):
    """A circle member's check-in ("gaat alles goed?") and whether they take part this week."""

    __tablename__ = "omkijken_plan"
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    circle_id: int = Field(index=True)
    days: str = ""  # weekdays of the check-in, "0246" (Monday is 0); empty: no check-in
    at: str = ""  # local time of the check-in, "10:00"
    consented_at: datetime | None = _when(nullable=True)  # agreed to who is asked, and when
    paused: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))
    updated_at: datetime = _when()


class CheckinRow(SQLModel, table=True):
    """One check-in: asked, answered or missed, and who looked in afterwards."""

    __tablename__ = "checkin"
    # the nightly clean-up and the organisers' figures look by community and time
    __table_args__ = (Index("ix_checkin_community_asked", "community_id", "asked_at"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    circle_id: int = Field(index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    asked_at: datetime = _when()
    outbox_id: int | None = None  # the question, to show the answer under it
    answer: str | None = None  # good | help | call; never shown to organisers
    answered_at: datetime | None = _when(nullable=True)
    missed_at: datetime | None = _when(nullable=True)
    step: int = 0  # how far the asking went: 1 buddy, 2 next member, 3 contact persons
    looker_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    looked_at: datetime | None = _when(nullable=True)
    look_result: str | None = None  # good | help | nobody


class CheckinAskRow(SQLModel, table=True):
    """Someone asked to look in after a missed check-in, and what they said."""

    __tablename__ = "checkin_ask"
    checkin_id: int = Field(foreign_key="checkin.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)
    step: int
    asked_at: datetime = _when()
    answer: str | None = None  # look | cannot


class RotaRow(SQLModel, table=True):
    """Who looks after whom in a circle in one week (the week starts on ``week``)."""

    __tablename__ = "rota"
    circle_id: int = Field(primary_key=True)
    week: str = Field(primary_key=True)  # the Monday, "2026-11-23"
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)
    buddy_id: int = Field(foreign_key="member.id", index=True)


class GatheringRow(SQLModel, table=True):
    """A circle's get-together: coffee on Saturday at Els's."""

    __tablename__ = "gathering"
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    circle_id: int = Field(index=True)
    organiser_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    starts_at: datetime = _when()
    what: str = ""
    created_at: datetime = _when()


class GatheringAnswerRow(SQLModel, table=True):
    __tablename__ = "gathering_answer"
    gathering_id: int = Field(foreign_key="gathering.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)
    coming: bool = Field(sa_column=Column(Boolean, nullable=False))
    answered_at: datetime = _when()


class WebLoginRow(SQLModel, table=True):
    """A one-time link to the organisers' web pages, asked for with /dashboard in a chat.
    Only a hash of its token is kept; it is good once, for a short while."""

    __tablename__ = "web_login"
    __table_args__ = (Index("ix_web_login_expiry", "community_id", "expires_at"),)
    token_hash: str = Field(primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    community_id: int = Field(foreign_key="community.id")
    created_at: datetime = _when()
    expires_at: datetime = _when()
    used_at: datetime | None = _when(nullable=True)


class WebSessionRow(SQLModel, table=True):
    """An organiser signed in on the web; the cookie holds the token, this only its hash."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_expiry", "community_id", "expires_at"),)
    token_hash: str = Field(primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    community_id: int = Field(foreign_key="community.id")
    csrf_token: str
    created_at: datetime = _when()
    expires_at: datetime = _when()
    ended_at: datetime | None = _when(nullable=True)
