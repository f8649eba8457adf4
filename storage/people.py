"""Queries for organisers, moderation and privacy: roles, reports, the audit log, a
member's own data and erasing it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from bot.circle_records import InviteStatus
from bot.model import (
    AuditEntry,
    HelperStatus,
    HelpRequest,
    Member,
    Membership,
    MemberStatus,
    Offer,
    Report,
    RequestStatus,
    Role,
)
from bot.types import ChatKind
from storage.circles import circle_invite_t, circle_member_t, circle_t, forget_in_circles
from storage.failures import Classified
from storage.omkijken import forget_in_omkijken, omkijken_records
from storage.rows import (
    audit_t,
    cursor_t,
    draft_t,
    due_t,
    expense_t,
    group_chat_t,
    identity_t,
    inbox_t,
    limit_notice_t,
    limit_use_t,
    meal_table_t,
    member_of,
    member_settings_t,
    member_t,
    membership_of,
    membership_t,
    offer_kind_t,
    offer_of,
    offer_t,
    outbox_about_t,
    outbox_t,
    proposal_t,
    report_t,
    request_of,
    request_t,
    seat_t,
    vouch_t,
    web_login_t,
    web_session_t,
)

# A channel's note about a private chat whose member was forgotten: still a private chat,
# of nobody known.
FORGOTTEN = "-"

CLOSED = [
    RequestStatus.DONE.value,
    RequestStatus.CANCELLED.value,
    RequestStatus.UNKNOWN.value,
    RequestStatus.REFERRED.value,
    RequestStatus.HIDDEN.value,
]


def _report(row: Any) -> Report:
    return Report(
        row.id,
        row.community_id,
        row.reporter_id,
        row.request_id,
        row.member_id,
        row.reason,
        row.created_at,
        row.handled_at,
    )


def _plain(row: Any) -> dict[str, Any]:
    """A row as plain JSON-friendly values."""
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in row._mapping.items()
        if not isinstance(value, bytes)
    }


class PeopleQueries:
    conn: Classified

    def _forget_read(self) -> None:
        """Forget the people and communities this transaction has read (see ``SqlTx``)."""

    # --- roles and standing ---------------------------------------------------------------
    async def _set_membership(self, member_id: int, community_id: int, **values: Any) -> None:
        self._forget_read()
        await self.conn.execute(
            update(membership_t)
            .where(
                membership_t.c.member_id == member_id,
                membership_t.c.community_id == community_id,
            )
            .values(**values)
        )

    async def accept_rules(self, member_id: int, community_id: int, now: datetime) -> None:
        await self._set_membership(member_id, community_id, rules_accepted_at=now)

    async def set_member_status(
        self, member_id: int, community_id: int, status: MemberStatus
    ) -> None:
        await self._set_membership(member_id, community_id, status=status.value)

    async def set_helper_status(
        self, member_id: int, community_id: int, status: HelperStatus
    ) -> None:
        await self._set_membership(member_id, community_id, helper_status=status.value)

    async def set_role(self, member_id: int, community_id: int, role: Role) -> None:
        await self._set_membership(member_id, community_id, role=role.value)

    async def add_vouch(
        self, member_id: int, community_id: int, voucher_id: int, now: datetime
    ) -> list[int]:
        """Record a vouch (once per voucher); returns everyone who vouched so far."""
        if voucher_id not in await self.vouchers(member_id, community_id):
            await self.conn.execute(
                insert(vouch_t).values(
                    member_id=member_id,
                    community_id=community_id,
                    voucher_id=voucher_id,
                    created_at=now,
                )
            )
        return await self.vouchers(member_id, community_id)

    async def vouchers(self, member_id: int, community_id: int) -> list[int]:
        rows = await self.conn.execute(
            select(vouch_t.c.voucher_id)
            .where(vouch_t.c.member_id == member_id, vouch_t.c.community_id == community_id)
            .order_by(vouch_t.c.voucher_id)
        )
        return [r.voucher_id for r in rows]

    async def find_members(self, community_id: int, who: str) -> list[Member]:
        """Members of the community known by this handle ("@kees") or name ("Kees")."""
        wanted = who.strip().lower()
        handle = wanted if wanted.startswith("@") else f"@{wanted}"
        rows = await self.conn.execute(
            select(member_t)
            .distinct()
            .join(membership_t, membership_t.c.member_id == member_t.c.id)
            .outerjoin(identity_t, identity_t.c.member_id == member_t.c.id)
            .where(
                membership_t.c.community_id == community_id,
                member_t.c.erased_at.is_(None),
                or_(
                    func.lower(identity_t.c.handle) == handle,
                    func.lower(member_t.c.display_name) == wanted.lstrip("@"),
                ),
            )
            .order_by(member_t.c.id)
        )
        return [member_of(r) for r in rows]

    async def create_proxy_member(
        self, display_name: str, contact_id: int, community_id: int, now: datetime
    ) -> Member:
        """A neighbour without a phone, reached through an organiser."""
        row = (
            await self.conn.execute(
                insert(member_t)
                .values(display_name=display_name, contact_id=contact_id, created_at=now)
                .returning(*member_t.c)
            )
        ).one()
        await self.conn.execute(
            insert(membership_t).values(
                member_id=row.id,
                community_id=community_id,
                role=Role.RESIDENT.value,
                joined_at=now,
                status=MemberStatus.ACTIVE.value,
                helper_status=HelperStatus.NONE.value,
                rules_accepted_at=now,
            )
        )
        return member_of(row)

    async def members_of(self, community_id: int) -> list[tuple[Member, Membership]]:
        rows = await self.conn.execute(
            select(member_t, membership_t)
            .join(membership_t, membership_t.c.member_id == member_t.c.id)
            .where(membership_t.c.community_id == community_id)
            .order_by(member_t.c.id)
        )
        return [(member_of(r), membership_of(r)) for r in rows]

    # --- reports and the audit log ----------------------------------------------------------
    async def add_report(
        self,
        community_id: int,
        reporter_id: int,
        request_id: int | None,
        member_id: int | None,
        reason: str,
        now: datetime,
    ) -> Report:
        row = (
            await self.conn.execute(
                insert(report_t)
                .values(
                    community_id=community_id,
                    reporter_id=reporter_id,
                    request_id=request_id,
                    member_id=member_id,
                    reason=reason,
                    created_at=now,
                )
                .returning(*report_t.c)
            )
        ).one()
        return _report(row)

    async def reports(self, community_id: int, *, open_only: bool = True) -> list[Report]:
        query = select(report_t).where(report_t.c.community_id == community_id)
        if open_only:
            query = query.where(report_t.c.handled_at.is_(None))
        rows = await self.conn.execute(query.order_by(report_t.c.id))
        return [_report(r) for r in rows]

    async def add_audit(
        self, community_id: int, actor_id: int | None, action: str, subject: str, now: datetime
    ) -> None:
        await self.conn.execute(
            insert(audit_t).values(
                community_id=community_id,
                actor_id=actor_id,
                action=action,
                subject=subject,
                created_at=now,
            )
        )

    async def audit_log(self, community_id: int, limit: int = 50) -> list[AuditEntry]:
        rows = await self.conn.execute(
            select(audit_t)
            .where(audit_t.c.community_id == community_id)
            .order_by(audit_t.c.id.desc())
            .limit(limit)
        )
        return [
            AuditEntry(r.id, r.community_id, r.actor_id, r.action, r.subject, r.created_at)
            for r in rows
        ]

    # --- a community's records, for organisers ---------------------------------------------
    async def community_requests(
        self,
        community_id: int,
        statuses: Iterable[RequestStatus] | None = None,
        since: datetime | None = None,
    ) -> list[HelpRequest]:
        query = select(request_t).where(request_t.c.community_id == community_id)
        if statuses is not None:
            query = query.where(request_t.c.status.in_([s.value for s in statuses]))
        if since is not None:
            query = query.where(request_t.c.created_at >= since)
        rows = await self.conn.execute(query.order_by(request_t.c.created_at, request_t.c.id))
        return [request_of(r) for r in rows]

    async def community_offers(self, community_id: int) -> list[Offer]:
        rows = await self.conn.execute(
            select(offer_t).where(offer_t.c.community_id == community_id).order_by(offer_t.c.id)
        )
        return [offer_of(r) for r in rows]

    # --- a member's own data ---------------------------------------------------------------
    async def member_records(self, member_id: int) -> dict[str, list[dict[str, Any]]]:
        """Everything stored about one member, table by table, as plain values."""
        queries = {
            "member": select(member_t).where(member_t.c.id == member_id),
            "identities": select(identity_t).where(identity_t.c.member_id == member_id),
            "memberships": select(membership_t).where(membership_t.c.member_id == member_id),
            "requests": select(request_t).where(request_t.c.requester_id == member_id),
            "helped_with": select(request_t).where(request_t.c.helper_id == member_id),
            "offers": select(offer_t).where(offer_t.c.member_id == member_id),
            "proposals": select(proposal_t).where(proposal_t.c.helper_id == member_id),
            "expenses": select(expense_t)
            .join(request_t, request_t.c.id == expense_t.c.request_id)
            .where(or_(request_t.c.requester_id == member_id, request_t.c.helper_id == member_id)),
            "reports_made": select(report_t).where(report_t.c.reporter_id == member_id),
            "seats": select(seat_t).where(seat_t.c.member_id == member_id),
            "tables_hosted": select(meal_table_t).where(meal_table_t.c.host_id == member_id),
            "settings": select(member_settings_t).where(member_settings_t.c.member_id == member_id),
            "vouches": select(vouch_t).where(vouch_t.c.member_id == member_id),
            "limits": select(limit_use_t).where(limit_use_t.c.member_id == member_id),
            "circles": select(circle_member_t).where(circle_member_t.c.member_id == member_id),
            "circle_invites": select(circle_invite_t).where(
                or_(
                    circle_invite_t.c.member_id == member_id,
                    circle_invite_t.c.inviter_id == member_id,
                )
            ),
            **omkijken_records(member_id),
            "web_sessions": select(
                web_session_t.c.community_id,
                web_session_t.c.created_at,
                web_session_t.c.expires_at,
                web_session_t.c.ended_at,
            ).where(web_session_t.c.member_id == member_id),
        }
        result: dict[str, list[dict[str, Any]]] = {}
        for name, query in queries.items():
            result[name] = [_plain(r) for r in await self.conn.execute(query)]
        return result

    async def erase_member(self, member_id: int, now: datetime) -> list[int]:
        """Forget a person, by reference only: who they are, what they wrote, and every
        message to them or marked as being about them. Nobody else's texts are searched
        or touched. Anonymous counts remain (rows keep their ids, without text)."""
        me = member_id
        identities = (
            await self.conn.execute(
                select(identity_t.c.platform, identity_t.c.user_id).where(
                    identity_t.c.member_id == me
                )
            )
        ).all()

        # what they wrote, and what others wrote about them
        await self.conn.execute(
            update(request_t)
            .where(request_t.c.requester_id == me)
            .values(description="", group_text=None, place=None)
        )
        await self.conn.execute(delete(offer_kind_t).where(offer_kind_t.c.member_id == me))
        await self.conn.execute(delete(offer_t).where(offer_t.c.member_id == me))
        await self.conn.execute(delete(draft_t).where(draft_t.c.member_id == me))
        await self.conn.execute(delete(vouch_t).where(vouch_t.c.member_id == me))
        await self.conn.execute(
            delete(member_settings_t).where(member_settings_t.c.member_id == me)
        )
        # when they asked, announced, reported or were asked (the limits)
        await self.conn.execute(delete(limit_use_t).where(limit_use_t.c.member_id == me))
        await self.conn.execute(delete(limit_notice_t).where(limit_notice_t.c.member_id == me))
        # signed in on the organisers' web pages: those sessions and links end here
        await self.conn.execute(delete(web_session_t).where(web_session_t.c.member_id == me))
        await self.conn.execute(delete(web_login_t).where(web_login_t.c.member_id == me))
        await self.conn.execute(
            update(report_t)
            .where(or_(report_t.c.reporter_id == me, report_t.c.member_id == me))
            .values(reason="")
        )
        await self.conn.execute(update(seat_t).where(seat_t.c.member_id == me).values(diet=""))
        await forget_in_omkijken(self.conn, me)
        await forget_in_circles(self.conn, me)
        await self.conn.execute(
            update(meal_table_t)
            .where(meal_table_t.c.host_id == me)
            .values(place="", address=None, menu="")
        )

        # messages to them, in their private chats, or about them
        to_them = or_(
            func.coalesce(outbox_t.c.member_id, 0) == me,  # group posts have none
            *(
                and_(
                    outbox_t.c.platform == i.platform,
                    outbox_t.c.chat_id == i.user_id,
                    outbox_t.c.kind == ChatKind.PRIVATE.value,
                )
                for i in identities
            ),
        )
        about_them = outbox_t.c.id.in_(
            select(outbox_about_t.c.outbox_id).where(outbox_about_t.c.member_id == me)
        )
        seen_by_others = (
            await self.conn.execute(
                select(outbox_t.c.id)
                .where(
                    about_them,
                    ~to_them,
                    outbox_t.c.status == "sent",
                    outbox_t.c.edit_of.is_(None),
                    outbox_t.c.message_ref.is_not(None),
                )
                .order_by(outbox_t.c.id)
            )
        ).all()
        unsent = select(outbox_t.c.id).where(
            or_(to_them, about_them), outbox_t.c.status.in_(("pending", "waiting"))
        )
        unsent_ids = [r.id for r in await self.conn.execute(unsent)]
        if unsent_ids:
            await self.conn.execute(
                delete(outbox_about_t).where(outbox_about_t.c.outbox_id.in_(unsent_ids))
            )
            await self.conn.execute(
                update(proposal_t)
                .where(proposal_t.c.outbox_id.in_(unsent_ids))
                .values(outbox_id=None)
            )
            await self.conn.execute(delete(outbox_t).where(outbox_t.c.id.in_(unsent_ids)))
        await self.conn.execute(
            update(outbox_t)
            .where(or_(to_them, about_them))
            .values(text="", buttons=[], attachment=None, attachment_name=None)
        )
        await self.conn.execute(update(outbox_t).where(to_them).values(chat_id=""))
        await self.conn.execute(delete(outbox_about_t).where(outbox_about_t.c.member_id == me))

        # what a channel keeps about their private chat: named by or holding their id
        for i in identities:
            mine = cursor_t.c.name.startswith(f"{i.platform}.", autoescape=True)
            await self.conn.execute(
                delete(cursor_t).where(
                    mine, cursor_t.c.name.endswith(f".{i.user_id}", autoescape=True)
                )
            )
            await self.conn.execute(
                update(cursor_t).where(mine, cursor_t.c.value == i.user_id).values(value=FORGOTTEN)
            )

        # work that would still reach them
        await self.conn.execute(
            update(due_t)
            .where(due_t.c.member_id == me, due_t.c.done_at.is_(None))
            .values(cancelled_at=now)
        )
        await self.conn.execute(
            update(due_t).where(due_t.c.member_id == me).values(payload={}, error=None)
        )

        # who they are
        self._forget_read()
        await self.conn.execute(delete(identity_t).where(identity_t.c.member_id == me))
        await self.conn.execute(
            update(member_t)
            .where(member_t.c.id == me)
            .values(display_name="", language=None, contact_id=None, erased_at=now)
        )
        await self.conn.execute(
            update(membership_t)
            .where(membership_t.c.member_id == me)
            .values(left_at=now, role=Role.RESIDENT.value)
        )
        return [r.id for r in seen_by_others]

    async def purge_personal(self, community_id: int, before: datetime) -> dict[str, int]:
        """Retention for everything personal of a community older than ``before``."""
        members = select(membership_t.c.member_id).where(
            membership_t.c.community_id == community_id
        )
        groups = select(group_chat_t.c.chat_id).where(group_chat_t.c.community_id == community_id)
        editing = outbox_t.alias("editing")
        old_messages = select(outbox_t.c.id).where(
            # sent and failed rows always have ``sent_at`` (both marks write it): an index
            # range of the old ones, not a read of the whole outbox
            outbox_t.c.status.in_(("sent", "failed")),
            outbox_t.c.sent_at < before,
            or_(
                outbox_t.c.member_id.in_(members),
                and_(outbox_t.c.kind == ChatKind.GROUP.value, outbox_t.c.chat_id.in_(groups)),
            ),
            # an edit still waiting to be sent needs the message it edits
            ~select(editing.c.id)
            .where(editing.c.edit_of == outbox_t.c.id, editing.c.status.in_(("pending", "waiting")))
            .exists(),
        )
        old_ids = [r.id for r in await self.conn.execute(old_messages)]
        for first in range(0, len(old_ids), 500):
            chunk = old_ids[first : first + 500]
            await self.conn.execute(
                delete(outbox_about_t).where(outbox_about_t.c.outbox_id.in_(chunk))
            )
            await self.conn.execute(delete(outbox_t).where(outbox_t.c.id.in_(chunk)))
        closed = select(request_t.c.id).where(
            request_t.c.community_id == community_id,
            request_t.c.status.in_(CLOSED),
            request_t.c.closed_at < before,
        )
        proposals = await self.conn.execute(
            delete(proposal_t).where(proposal_t.c.request_id.in_(closed))
        )
        past_tables = select(meal_table_t.c.id).where(
            meal_table_t.c.community_id == community_id, meal_table_t.c.starts_at < before
        )
        seats = await self.conn.execute(delete(seat_t).where(seat_t.c.table_id.in_(past_tables)))
        await self.conn.execute(
            update(meal_table_t)
            .where(meal_table_t.c.id.in_(past_tables), meal_table_t.c.address.is_not(None))
            .values(address=None)
        )
        reports = await self.conn.execute(
            delete(report_t).where(
                report_t.c.community_id == community_id, report_t.c.created_at < before
            )
        )
        audit = await self.conn.execute(
            update(audit_t)
            .where(
                audit_t.c.community_id == community_id,
                audit_t.c.created_at < before,
                or_(audit_t.c.subject != "", audit_t.c.actor_id.is_not(None)),
            )
            .values(subject="", actor_id=None)
        )
        drafts = await self.conn.execute(
            delete(draft_t).where(draft_t.c.member_id.in_(members), draft_t.c.updated_at < before)
        )
        inbox = await self.conn.execute(delete(inbox_t).where(inbox_t.c.received_at < before))
        await self.conn.execute(
            delete(web_login_t).where(
                web_login_t.c.community_id == community_id, web_login_t.c.expires_at < before
            )
        )
        sessions = await self.conn.execute(
            delete(web_session_t).where(
                web_session_t.c.community_id == community_id, web_session_t.c.expires_at < before
            )
        )
        # answered invitations and requests to join (a pending one is still a question)
        circles = select(circle_t.c.id).where(circle_t.c.community_id == community_id)
        invites = await self.conn.execute(
            delete(circle_invite_t).where(
                circle_invite_t.c.circle_id.in_(circles),
                circle_invite_t.c.status != InviteStatus.PENDING.value,
                circle_invite_t.c.answered_at < before,
            )
        )
        return {
            "messages": len(old_ids),
            "proposals": int(proposals.rowcount),
            "seats": int(seats.rowcount),
            "reports": int(reports.rowcount),
            "audit": int(audit.rowcount),
            "drafts": int(drafts.rowcount),
            "inbox": int(inbox.rowcount),
            "web sessions": int(sessions.rowcount),
            "circle invites": int(invites.rowcount),
        }

    async def purge_closed_texts(self, community_id: int, closed_before: datetime) -> int:
        """Remove the texts of requests closed before a moment (retention)."""
        done = await self.conn.execute(
            update(request_t)
            .where(
                request_t.c.community_id == community_id,
                request_t.c.status.in_(CLOSED),
                request_t.c.closed_at < closed_before,
                or_(request_t.c.description != "", request_t.c.place.is_not(None)),
            )
            .values(description="", group_text=None, place=None)
        )
        return int(done.rowcount)
