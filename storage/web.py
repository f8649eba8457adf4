"""Queries for the organisers' web pages: one-time login links and sessions, by hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from bot.model import WebSession
from storage.failures import Classified
from storage.rows import web_login_t, web_session_t


class WebQueries:
    conn: Classified

    async def add_web_login(
        self, token_hash: str, member_id: int, community_id: int, now: datetime, until: datetime
    ) -> None:
        await self.conn.execute(
            insert(web_login_t).values(
                token_hash=token_hash,
                member_id=member_id,
                community_id=community_id,
                created_at=now,
                expires_at=until,
            )
        )

    async def use_web_login(self, token_hash: str, now: datetime) -> tuple[int, int] | None:
        row = (
            await self.conn.execute(
                update(web_login_t)
                .where(
                    web_login_t.c.token_hash == token_hash,
                    web_login_t.c.used_at.is_(None),
                    web_login_t.c.expires_at > now,
                )
                .values(used_at=now)
                .returning(web_login_t.c.member_id, web_login_t.c.community_id)
            )
        ).first()
        return (row.member_id, row.community_id) if row is not None else None

    async def add_web_session(
        self,
        token_hash: str,
        member_id: int,
        community_id: int,
        csrf_token: str,
        now: datetime,
        until: datetime,
    ) -> None:
        await self.conn.execute(
            insert(web_session_t).values(
                token_hash=token_hash,
                member_id=member_id,
                community_id=community_id,
                csrf_token=csrf_token,
                created_at=now,
                expires_at=until,
            )
        )

    async def web_session(self, token_hash: str, now: datetime) -> WebSession | None:
        row = (
            await self.conn.execute(
                select(web_session_t).where(
                    web_session_t.c.token_hash == token_hash,
                    web_session_t.c.ended_at.is_(None),
                    web_session_t.c.expires_at > now,
                )
            )
        ).first()
        if row is None:
            return None
        return WebSession(row.member_id, row.community_id, row.csrf_token, row.expires_at)

    async def end_web_session(self, token_hash: str, now: datetime) -> None:
        await self.conn.execute(
            update(web_session_t)
            .where(web_session_t.c.token_hash == token_hash, web_session_t.c.ended_at.is_(None))
            .values(ended_at=now)
        )
