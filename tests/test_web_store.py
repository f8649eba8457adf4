"""The web sign-in tables behind the storage port, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

from bot import weblogin
from bot.model import Role
from storage.sql import SqlStore
from tests.test_store import at, seed


async def test_a_login_link_is_used_once_and_only_while_it_is_valid(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, anna, _ = await seed(store)
        now = at("2026-11-23 09:00")
        async with store.transaction() as tx:
            await tx.add_web_login("one", anna, community, now, now + timedelta(minutes=15))
            await tx.add_web_login("two", anna, community, now, now + timedelta(minutes=15))
        async with store.transaction() as tx:
            assert await tx.use_web_login("one", now + timedelta(minutes=1)) == (anna, community)
            assert await tx.use_web_login("one", now + timedelta(minutes=2)) is None
            assert await tx.use_web_login("two", now + timedelta(minutes=15)) is None  # too late
            assert await tx.use_web_login("unknown", now) is None
    finally:
        await store.close()


async def test_two_who_open_the_same_link_at_once_get_one_session(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, anna, _ = await seed(store)
        now = at("2026-11-23 09:00")
        async with store.transaction() as tx:
            await tx.set_role(anna, community, Role.ORGANISER)
            token = await weblogin.new_login(tx, anna, community, now)
        assert token is not None

        async def open_it() -> object:
            async with store.transaction() as tx:
                return await weblogin.start_session(tx, token, now + timedelta(minutes=1))

        results = await asyncio.gather(open_it(), open_it(), return_exceptions=True)
        assert sum(1 for r in results if isinstance(r, tuple)) == 1
    finally:
        await store.close()


async def test_a_session_lasts_until_it_ends_or_expires(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, anna, kees = await seed(store)
        now = at("2026-11-23 09:00")
        until = now + timedelta(hours=12)
        async with store.transaction() as tx:
            await tx.add_web_session("s1", anna, community, "csrf1", now, until)
            await tx.add_web_session("s2", kees, community, "csrf2", now, until)
        async with store.transaction() as tx:
            session = await tx.web_session("s1", now + timedelta(hours=1))
            assert session is not None
            assert (session.member_id, session.community_id) == (anna, community)
            assert session.csrf_token == "csrf1" and session.expires_at == until
            assert await tx.web_session("s1", until) is None
            await tx.end_web_session("s2", now + timedelta(hours=1))
            assert await tx.web_session("s2", now + timedelta(hours=1)) is None
            assert await tx.web_session("nothing", now) is None
            records = await tx.member_records(anna)
            assert [r["created_at"] for r in records["web_sessions"]] == [
                now.astimezone(UTC).isoformat()
            ]
            assert "token_hash" not in records["web_sessions"][0]
            await tx.erase_member(anna, now + timedelta(hours=2))
            assert await tx.web_session("s1", now + timedelta(hours=2)) is None
            assert (await tx.member_records(anna))["web_sessions"] == []
            # retention: what expired before the moment goes (only Kees's is left)
            assert (await tx.purge_personal(community, until))["web sessions"] == 0
            purged = await tx.purge_personal(community, until + timedelta(minutes=1))
            assert purged["web sessions"] == 1
            assert (await tx.member_records(kees))["web_sessions"] == []
    finally:
        await store.close()
