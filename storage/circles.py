"""Queries for circles of neighbours ("voorzorgcirkels"), their members, invitations and
partners."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update

from bot.circle_records import (
    Circle,
    CircleInvite,
    CircleMember,
    CirclePartner,
    CircleRole,
    InviteKind,
    InviteStatus,
)
from storage.failures import Classified
from storage.omkijken import forget_circle_omkijken
from storage.tables import CircleInviteRow, CircleMemberRow, CirclePartnerRow, CircleRow

circle_t = CircleRow.__table__  # type: ignore[attr-defined]
circle_member_t = CircleMemberRow.__table__  # type: ignore[attr-defined]
circle_invite_t = CircleInviteRow.__table__  # type: ignore[attr-defined]
circle_partner_t = CirclePartnerRow.__table__  # type: ignore[attr-defined]


def circle_of(row: Row[Any]) -> Circle:
    return Circle(row.id, row.community_id, row.name, bool(row.open), row.created_at)


def circle_member_of(row: Row[Any]) -> CircleMember:
    return CircleMember(
        circle_id=row.circle_id,
        member_id=row.member_id,
        role=CircleRole(row.role),
        likes_to_do=row.likes_to_do,
        might_need=row.might_need,
        joined_at=row.joined_at,
    )


def invite_of(row: Row[Any]) -> CircleInvite:
    return CircleInvite(
        id=row.id,
        circle_id=row.circle_id,
        member_id=row.member_id,
        inviter_id=row.inviter_id,
        kind=InviteKind(row.kind),
        status=InviteStatus(row.status),
        created_at=row.created_at,
        answered_at=row.answered_at,
    )


def partner_of(row: Row[Any]) -> CirclePartner:
    return CirclePartner(row.id, row.circle_id, row.name, row.contact, row.created_at)


class CircleQueries:
    conn: Classified

    async def create_circle(
        self, community_id: int, name: str, founder_id: int, now: datetime, *, open: bool = True
    ) -> Circle:
        row = (
            await self.conn.execute(
                insert(circle_t)
                .values(community_id=community_id, name=name, open=open, created_at=now)
                .returning(*circle_t.c)
            )
        ).one()
        await self.conn.execute(
            insert(circle_member_t).values(
                circle_id=row.id,
                member_id=founder_id,
                role=CircleRole.CONTACT.value,
                likes_to_do="",
                might_need="",
                joined_at=now,
            )
        )
        return circle_of(row)

    async def circle(self, circle_id: int, *, lock: bool = False) -> Circle | None:
        query = select(circle_t).where(circle_t.c.id == circle_id)
        if lock:  # one join at a time per circle (PostgreSQL; SQLite writes one at a time)
            query = query.with_for_update()
        row = (await self.conn.execute(query)).first()
        return None if row is None else circle_of(row)

    async def circles(self, community_id: int) -> list[Circle]:
        rows = await self.conn.execute(
            select(circle_t).where(circle_t.c.community_id == community_id).order_by(circle_t.c.id)
        )
        return [circle_of(r) for r in rows]

    async def circle_sizes(self, community_id: int) -> dict[int, int]:
        rows = await self.conn.execute(
            select(circle_member_t.c.circle_id, func.count())
            .join(circle_t, circle_t.c.id == circle_member_t.c.circle_id)
            .where(circle_t.c.community_id == community_id)
            .group_by(circle_member_t.c.circle_id)
        )
        return {int(r[0]): int(r[1]) for r in rows}

    async def circle_of_member(self, member_id: int, community_id: int) -> Circle | None:
        row = (
            await self.conn.execute(
                select(circle_t)
                .join(circle_member_t, circle_member_t.c.circle_id == circle_t.c.id)
                .where(
                    circle_member_t.c.member_id == member_id,
                    circle_t.c.community_id == community_id,
                )
                .order_by(circle_t.c.id)
            )
        ).first()
        return None if row is None else circle_of(row)

    async def circle_members(self, circle_id: int) -> list[CircleMember]:
        rows = await self.conn.execute(
            select(circle_member_t)
            .where(circle_member_t.c.circle_id == circle_id)
            .order_by(circle_member_t.c.joined_at, circle_member_t.c.member_id)
        )
        return [circle_member_of(r) for r in rows]

    async def add_circle_member(
        self, circle_id: int, member_id: int, now: datetime, limit: int
    ) -> CircleMember | None:
        """Add a member while fewer than ``limit`` are in it, decided under the circle's
        lock; None when it is full. A member already in it is returned as they are."""
        await self.circle(circle_id, lock=True)
        found = (
            await self.conn.execute(
                select(circle_member_t).where(
                    circle_member_t.c.circle_id == circle_id,
                    circle_member_t.c.member_id == member_id,
                )
            )
        ).first()
        if found is not None:
            return circle_member_of(found)
        count = (
            await self.conn.execute(
                select(func.count()).where(circle_member_t.c.circle_id == circle_id)
            )
        ).scalar_one()
        if int(count) >= limit:
            return None
        row = (
            await self.conn.execute(
                insert(circle_member_t)
                .values(
                    circle_id=circle_id,
                    member_id=member_id,
                    role=CircleRole.MEMBER.value,
                    likes_to_do="",
                    might_need="",
                    joined_at=now,
                )
                .returning(*circle_member_t.c)
            )
        ).one()
        return circle_member_of(row)

    async def remove_circle_member(self, circle_id: int, member_id: int) -> bool:
        done = await self.conn.execute(
            delete(circle_member_t).where(
                circle_member_t.c.circle_id == circle_id, circle_member_t.c.member_id == member_id
            )
        )
        return int(done.rowcount) == 1

    async def remove_circle(self, circle_id: int) -> None:
        """A circle nobody is in any more: gone, with its invitations and partners."""
        await _remove_circle(self.conn, circle_id)

    async def set_circle_role(self, circle_id: int, member_id: int, role: CircleRole) -> bool:
        done = await self.conn.execute(
            update(circle_member_t)
            .where(
                circle_member_t.c.circle_id == circle_id, circle_member_t.c.member_id == member_id
            )
            .values(role=CircleRole(role).value)
        )
        return int(done.rowcount) == 1

    async def set_circle_answers(
        self,
        circle_id: int,
        member_id: int,
        *,
        likes_to_do: str | None = None,
        might_need: str | None = None,
    ) -> None:
        values = {
            name: value
            for name, value in (("likes_to_do", likes_to_do), ("might_need", might_need))
            if value is not None
        }
        if values:
            await self.conn.execute(
                update(circle_member_t)
                .where(
                    circle_member_t.c.circle_id == circle_id,
                    circle_member_t.c.member_id == member_id,
                )
                .values(**values)
            )

    async def set_circle_open(self, circle_id: int, open: bool) -> None:
        await self.conn.execute(
            update(circle_t).where(circle_t.c.id == circle_id).values(open=open)
        )

    # --- invitations and requests to join -------------------------------------------------
    async def add_circle_invite(
        self,
        circle_id: int,
        member_id: int,
        inviter_id: int | None,
        kind: InviteKind,
        now: datetime,
    ) -> CircleInvite:
        row = (
            await self.conn.execute(
                insert(circle_invite_t)
                .values(
                    circle_id=circle_id,
                    member_id=member_id,
                    inviter_id=inviter_id,
                    kind=InviteKind(kind).value,
                    status=InviteStatus.PENDING.value,
                    created_at=now,
                    answered_at=None,
                )
                .returning(*circle_invite_t.c)
            )
        ).one()
        return invite_of(row)

    async def circle_invite(self, invite_id: int) -> CircleInvite | None:
        row = (
            await self.conn.execute(
                select(circle_invite_t).where(circle_invite_t.c.id == invite_id)
            )
        ).first()
        return None if row is None else invite_of(row)

    async def circle_invites(
        self,
        *,
        circle_id: int | None = None,
        member_id: int | None = None,
        statuses: Iterable[InviteStatus] = (InviteStatus.PENDING,),
    ) -> list[CircleInvite]:
        """Invitations to a circle, or of a member (to any circle), oldest first."""
        query = select(circle_invite_t).where(
            circle_invite_t.c.status.in_([InviteStatus(s).value for s in statuses])
        )
        if circle_id is not None:
            query = query.where(circle_invite_t.c.circle_id == circle_id)
        if member_id is not None:
            query = query.where(circle_invite_t.c.member_id == member_id)
        rows = await self.conn.execute(query.order_by(circle_invite_t.c.id))
        return [invite_of(r) for r in rows]

    async def answer_circle_invite(
        self, invite_id: int, status: InviteStatus, now: datetime
    ) -> bool:
        """Move a pending invitation to ``status``; False when it was answered before."""
        done = await self.conn.execute(
            update(circle_invite_t)
            .where(
                circle_invite_t.c.id == invite_id,
                circle_invite_t.c.status == InviteStatus.PENDING.value,
            )
            .values(status=InviteStatus(status).value, answered_at=now)
        )
        return int(done.rowcount) == 1

    # --- partners ---------------------------------------------------------------------------
    async def add_circle_partner(
        self, circle_id: int, name: str, contact: str, now: datetime
    ) -> CirclePartner:
        row = (
            await self.conn.execute(
                insert(circle_partner_t)
                .values(circle_id=circle_id, name=name, contact=contact, created_at=now)
                .returning(*circle_partner_t.c)
            )
        ).one()
        return partner_of(row)

    async def circle_partners(self, circle_id: int) -> list[CirclePartner]:
        rows = await self.conn.execute(
            select(circle_partner_t)
            .where(circle_partner_t.c.circle_id == circle_id)
            .order_by(circle_partner_t.c.id)
        )
        return [partner_of(r) for r in rows]

    async def remove_circle_partner(self, partner_id: int) -> bool:
        done = await self.conn.execute(
            delete(circle_partner_t).where(circle_partner_t.c.id == partner_id)
        )
        return int(done.rowcount) == 1

    # --- figures for organisers, and a member's own data ---------------------------------
    async def circle_figures(self, community_id: int) -> dict[str, int]:
        """How many circles and circle members a community has; no names."""
        circles = (
            await self.conn.execute(
                select(func.count()).where(circle_t.c.community_id == community_id)
            )
        ).scalar_one()
        members = (
            await self.conn.execute(
                select(func.count())
                .select_from(circle_member_t)
                .join(circle_t, circle_t.c.id == circle_member_t.c.circle_id)
                .where(circle_t.c.community_id == community_id)
            )
        ).scalar_one()
        partners = (
            await self.conn.execute(
                select(func.count())
                .select_from(circle_partner_t)
                .join(circle_t, circle_t.c.id == circle_partner_t.c.circle_id)
                .where(circle_t.c.community_id == community_id)
            )
        ).scalar_one()
        return {"circles": int(circles), "members": int(members), "partners": int(partners)}


async def forget_in_circles(conn: Classified, member_id: int) -> None:
    """Erasure: out of every circle, every invitation to or by them gone; a circle left
    without members goes too (with its name, partners and invitations)."""
    circle_ids = [
        int(r.circle_id)
        for r in await conn.execute(
            select(circle_member_t.c.circle_id).where(circle_member_t.c.member_id == member_id)
        )
    ]
    await conn.execute(
        delete(circle_invite_t).where(
            (circle_invite_t.c.member_id == member_id) | (circle_invite_t.c.inviter_id == member_id)
        )
    )
    await conn.execute(delete(circle_member_t).where(circle_member_t.c.member_id == member_id))
    for circle_id in circle_ids:
        left = (
            await conn.execute(select(func.count()).where(circle_member_t.c.circle_id == circle_id))
        ).scalar_one()
        if int(left) == 0:
            await _remove_circle(conn, circle_id)


async def _remove_circle(conn: Classified, circle_id: int) -> None:
    await forget_circle_omkijken(conn, circle_id)
    for table in (circle_invite_t, circle_partner_t, circle_member_t):
        await conn.execute(delete(table).where(table.c.circle_id == circle_id))
    await conn.execute(delete(circle_t).where(circle_t.c.id == circle_id))
