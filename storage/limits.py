"""Queries for the limits (``bot.limits``): counted actions and the notices given."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from storage.failures import Classified
from storage.rows import limit_notice_t, limit_use_t, member_t

_IN_CHUNK = 500


class LimitQueries:
    conn: Classified

    async def limit_uses(
        self, kind: str, member_ids: Sequence[int], since: datetime, *, lock: bool = False
    ) -> dict[int, list[datetime]]:
        ids = sorted(set(member_ids))
        if lock:
            # The members' counts stay theirs until the transaction ends (PostgreSQL; SQLite
            # writes one at a time). NO KEY UPDATE: others may still refer to the member.
            await self.conn.execute(
                select(member_t.c.id)
                .where(member_t.c.id.in_(ids))
                .order_by(member_t.c.id)
                .with_for_update(key_share=True)
            )
        found: dict[int, list[datetime]] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            rows = await self.conn.execute(
                select(limit_use_t.c.member_id, limit_use_t.c.at)
                .where(
                    limit_use_t.c.member_id.in_(ids[start : start + _IN_CHUNK]),
                    limit_use_t.c.kind == kind,
                    limit_use_t.c.at >= since,
                )
                .order_by(limit_use_t.c.member_id, limit_use_t.c.at)
            )
            for member_id, at in rows:
                found.setdefault(member_id, []).append(at)
        return found

    async def add_limit_use(self, member_id: int, kind: str, now: datetime) -> None:
        await self.conn.execute(insert(limit_use_t).values(member_id=member_id, kind=kind, at=now))

    async def limit_notice(self, member_id: int, kind: str) -> datetime | None:
        row = (
            await self.conn.execute(
                select(limit_notice_t.c.until).where(
                    limit_notice_t.c.member_id == member_id, limit_notice_t.c.kind == kind
                )
            )
        ).first()
        return None if row is None else row.until

    async def set_limit_notice(self, member_id: int, kind: str, until: datetime) -> None:
        done = await self.conn.execute(
            update(limit_notice_t)
            .where(limit_notice_t.c.member_id == member_id, limit_notice_t.c.kind == kind)
            .values(until=until)
        )
        if done.rowcount == 0:
            await self.conn.execute(
                insert(limit_notice_t).values(member_id=member_id, kind=kind, until=until)
            )

    async def forget_limit_uses(self, before: datetime) -> int:
        await self.conn.execute(delete(limit_notice_t).where(limit_notice_t.c.until < before))
        done = await self.conn.execute(delete(limit_use_t).where(limit_use_t.c.at < before))
        return int(done.rowcount)
