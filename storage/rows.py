"""Table handles and conversions between database rows and the core's records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row

from bot.model import (
    Category,
    Community,
    Expense,
    HelperStatus,
    HelpRequest,
    Identity,
    Member,
    Membership,
    MemberStatus,
    Offer,
    Proposal,
    ProposalStatus,
    RequestStatus,
    Role,
    Visibility,
    postcode_number,
)
from bot.types import Button, ChatKind, Delivery
from bot.when import Availability, DayPart
from bot.work import DueWork, Referral, WorkKind
from storage.tables import (
    AuditRow,
    CommunityRow,
    CursorRow,
    DraftRow,
    DueWorkRow,
    ExpenseRow,
    GroupChatRow,
    HelpRequestRow,
    IdentityRow,
    InboxRow,
    LimitNoticeRow,
    LimitUseRow,
    MealTableRow,
    MemberRow,
    MemberSettingsRow,
    MembershipRow,
    OfferKindRow,
    OfferRow,
    OutboxAboutRow,
    OutboxRow,
    ProposalRow,
    ReferralRow,
    ReportRow,
    SeatRow,
    VouchRow,
    WebLoginRow,
    WebSessionRow,
)

community_t = CommunityRow.__table__  # type: ignore[attr-defined]
group_chat_t = GroupChatRow.__table__  # type: ignore[attr-defined]
member_t = MemberRow.__table__  # type: ignore[attr-defined]
identity_t = IdentityRow.__table__  # type: ignore[attr-defined]
membership_t = MembershipRow.__table__  # type: ignore[attr-defined]
request_t = HelpRequestRow.__table__  # type: ignore[attr-defined]
offer_t = OfferRow.__table__  # type: ignore[attr-defined]
offer_kind_t = OfferKindRow.__table__  # type: ignore[attr-defined]
proposal_t = ProposalRow.__table__  # type: ignore[attr-defined]
expense_t = ExpenseRow.__table__  # type: ignore[attr-defined]
draft_t = DraftRow.__table__  # type: ignore[attr-defined]
inbox_t = InboxRow.__table__  # type: ignore[attr-defined]
cursor_t = CursorRow.__table__  # type: ignore[attr-defined]
outbox_t = OutboxRow.__table__  # type: ignore[attr-defined]
outbox_about_t = OutboxAboutRow.__table__  # type: ignore[attr-defined]
due_t = DueWorkRow.__table__  # type: ignore[attr-defined]
referral_t = ReferralRow.__table__  # type: ignore[attr-defined]
member_settings_t = MemberSettingsRow.__table__  # type: ignore[attr-defined]
audit_t = AuditRow.__table__  # type: ignore[attr-defined]
report_t = ReportRow.__table__  # type: ignore[attr-defined]
vouch_t = VouchRow.__table__  # type: ignore[attr-defined]
meal_table_t = MealTableRow.__table__  # type: ignore[attr-defined]
seat_t = SeatRow.__table__  # type: ignore[attr-defined]
limit_use_t = LimitUseRow.__table__  # type: ignore[attr-defined]
limit_notice_t = LimitNoticeRow.__table__  # type: ignore[attr-defined]
web_login_t = WebLoginRow.__table__  # type: ignore[attr-defined]
web_session_t = WebSessionRow.__table__  # type: ignore[attr-defined]

OPEN_OR_MATCHED = (RequestStatus.OPEN.value, RequestStatus.MATCHED.value)


def join_csv(values: Iterable[object]) -> str:
    return ",".join(sorted(str(v) for v in values))


def split_csv(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def community_of(row: Row[Any]) -> Community:
    return Community(row.id, row.name, row.language, row.timezone, dict(row.settings or {}))


def member_of(row: Row[Any]) -> Member:
    return Member(
        row.id,
        row.display_name,
        row.language,
        row.created_at,
        contact_id=row.contact_id,
        erased=row.erased_at is not None,
    )


def membership_of(row: Row[Any]) -> Membership:
    return Membership(
        row.member_id,
        row.community_id,
        Role(row.role),
        row.left_at,
        status=MemberStatus(row.status),
        helper_status=HelperStatus(row.helper_status),
        rules_accepted_at=row.rules_accepted_at,
    )


def identity_of(row: Row[Any]) -> Identity:
    return Identity(row.member_id, row.platform, row.user_id, row.handle, row.last_seen_at)


def request_of(row: Row[Any]) -> HelpRequest:
    return HelpRequest(
        id=row.id,
        community_id=row.community_id,
        requester_id=row.requester_id,
        category=Category(row.category),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        exact=row.exact,
        place=row.place,
        description=row.description,
        group_text=row.group_text,
        visibility=Visibility(row.visibility),
        advance=row.advance,
        status=RequestStatus(row.status),
        helper_id=row.helper_id,
        created_at=row.created_at,
        matched_at=row.matched_at,
        closed_at=row.closed_at,
        group_posts=tuple(int(i) for i in split_csv(row.group_posts)),
    )


def offer_kind_rows(
    offer_id: int,
    community_id: int,
    member_id: int,
    categories: Iterable[str],
    days: Iterable[int],
    parts: Iterable[str],
    area: str | None,
) -> list[dict[str, Any]]:
    """The ``offer_kind`` rows of one offer: one per kind of help, with place and time."""
    slots = Availability(frozenset(days), frozenset(DayPart(p) for p in parts)).slots()
    return [
        {
            "offer_id": offer_id,
            "category": category,
            "community_id": community_id,
            "member_id": member_id,
            "area_number": postcode_number(area),
            "slots": slots,
        }
        for category in sorted(categories)
    ]


def offer_of(row: Row[Any]) -> Offer:
    return Offer(
        id=row.id,
        community_id=row.community_id,
        member_id=row.member_id,
        categories=frozenset(Category(c) for c in split_csv(row.categories)),
        days=frozenset(int(d) for d in split_csv(row.days)),
        parts=frozenset(split_csv(row.parts)),
        area=row.area,
        max_per_week=row.max_per_week,
        paused=row.paused,
        created_at=row.created_at,
    )


def proposal_of(row: Row[Any]) -> Proposal:
    return Proposal(
        row.id, row.request_id, row.helper_id, ProposalStatus(row.status), row.outbox_id
    )


def expense_of(row: Row[Any]) -> Expense:
    return Expense(row.id, row.request_id, row.amount_cents, row.recorded_at, row.repaid_at)


def work_of(row: Row[Any]) -> DueWork:
    return DueWork(
        id=row.id,
        kind=WorkKind(row.kind),
        community_id=row.community_id,
        subject_id=row.subject_id,
        member_id=row.member_id,
        urgent=row.urgent,
        due_at=row.due_at,
        created_at=row.created_at,
        claimed_at=row.claimed_at,
        done_at=row.done_at,
        cancelled_at=row.cancelled_at,
        outcome=row.outcome,
        outbox_id=row.outbox_id,
        attempts=row.attempts,
        payload=dict(row.payload or {}),
    )


def referral_of(row: Row[Any]) -> Referral:
    return Referral(
        row.id, row.request_id, row.organiser_id, row.asked_at, row.answered_at, row.consent
    )


def buttons_to_json(buttons: tuple[tuple[Button, ...], ...]) -> list[list[list[str]]]:
    return [[[b.label, b.action] for b in row] for row in buttons]


def buttons_from_json(data: list[list[list[str]]]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(Button(label, action) for label, action in row) for row in data)


def delivery_of(
    row: Row[Any], edit_ref: str | None = None, edit_parts: int | None = None
) -> Delivery:
    attachment = (
        (row.attachment_name, bytes(row.attachment)) if row.attachment_name is not None else None
    )
    return Delivery(
        outbox_id=row.id,
        platform=row.platform,
        chat_id=row.chat_id,
        kind=ChatKind(row.kind),
        text=row.text,
        buttons=buttons_from_json(row.buttons),
        edit_of=row.edit_of,
        edit_message_ref=edit_ref,
        member_id=row.member_id,
        attachment=attachment,
        attempts=row.attempts,
        delete_ref=row.delete_ref,
        discreet=bool(row.discreet),
        parts_sent=int(row.parts_sent),
        edited_parts_before=int(edit_parts or 0),
    )
