"""The storage contract, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.model import Category, NewOffer, NewRequest, RequestStatus, Role, Visibility
from bot.types import Button, ChatKind
from storage.engine import current_revisions
from storage.sql import SqlStore

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def seed(store: SqlStore) -> tuple[int, int, int]:
    """A community with a requester and a helper; returns their ids."""
    async with store.transaction() as tx:
        community = await tx.create_community("Buurt", "nl", "Europe/Amsterdam", {})
        fatima = await tx.create_member("Fatima", None, NOW)
        kees = await tx.create_member("Kees", "en", NOW)
        for member in (fatima, kees):
            await tx.add_identity(member.id, "console", member.display_name.lower(), None, NOW)
            await tx.join(member.id, community.id, Role.RESIDENT, NOW)
    return community.id, fatima.id, kees.id


def new_request(community_id: int, requester_id: int) -> NewRequest:
    return NewRequest(
        community_id=community_id,
        requester_id=requester_id,
        category=Category.SHOPPING,
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=1, hours=1),
        exact=True,
        place="3021",
        description="melk en brood",
        visibility=Visibility.ANONYMOUS,
        advance=True,
    )


async def test_migrations_are_applied_and_idempotent(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        assert await current_revisions(store.engine)
        again = await SqlStore.open(database_url)
        await again.close()
    finally:
        await store.close()


async def test_inbox_remembers_each_event_once(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        async with store.transaction() as tx:
            assert await tx.remember_event("telegram", "1", NOW)
            assert not await tx.remember_event("telegram", "1", NOW)
            assert await tx.remember_event("matrix", "1", NOW)
    finally:
        await store.close()


async def test_a_rolled_back_transaction_leaves_nothing(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        try:
            async with store.transaction() as tx:
                await tx.remember_event("telegram", "42", NOW)
                await tx.create_community("Half", "nl", "Europe/Amsterdam", {})
                raise RuntimeError("crash in the middle")
        except RuntimeError:
            pass
        async with store.transaction() as tx:
            assert await tx.communities() == []
            assert await tx.remember_event("telegram", "42", NOW)
    finally:
        await store.close()


async def test_requests_round_trip_and_claim_once(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, fatima, kees = await seed(store)
        async with store.transaction() as tx:
            request = await tx.add_request(new_request(community, fatima), NOW)
        async with store.transaction() as tx:
            loaded = await tx.request(request.id)
            assert loaded == request
            assert loaded.starts_at == NOW + timedelta(days=1)
            assert loaded.starts_at.tzinfo is not None
            assert await tx.claim_request(request.id, kees, NOW)
            assert not await tx.claim_request(request.id, kees, NOW)
            assert await tx.close_request(request.id, RequestStatus.DONE, NOW)
            assert not await tx.close_request(request.id, RequestStatus.CANCELLED, NOW)
            assert await tx.helped_before([kees], fatima) == {kees: 1}
            assert await tx.helps_since([kees], NOW - timedelta(days=7)) == {kees: 1}
    finally:
        await store.close()


async def test_offers_are_found_by_category(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, fatima, kees = await seed(store)
        async with store.transaction() as tx:
            offer = await tx.add_offer(
                NewOffer(
                    community_id=community,
                    member_id=kees,
                    categories=frozenset({Category.SHOPPING, Category.TRANSPORT}),
                    days=frozenset({0, 1, 2, 3, 4}),
                    parts=frozenset({"afternoon"}),
                    area="3021",
                    max_per_week=2,
                ),
                NOW,
            )
            assert [o.id for o in await tx.active_offers(community, Category.SHOPPING, fatima)] == [
                offer.id
            ]
            assert await tx.active_offers(community, Category.MEAL, fatima) == []
            assert await tx.active_offers(community, Category.SHOPPING, kees) == []
            await tx.set_offer_paused(offer.id, True)
            assert await tx.active_offers(community, Category.SHOPPING, fatima) == []
            await tx.set_offer_paused(offer.id, False)
            await tx.leave(kees, community, NOW)
            assert await tx.active_offers(community, Category.SHOPPING, fatima) == []
    finally:
        await store.close()


async def test_outbox_delivery_bookkeeping(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        _, fatima, _ = await seed(store)
        async with store.transaction() as tx:
            first = await tx.enqueue(
                platform="telegram",
                chat_id="1",
                kind=ChatKind.PRIVATE,
                member_id=fatima,
                text="hallo",
                buttons=((Button("Ja", "a:1"), Button("Nee", "a:2")),),
                edit_of=None,
                attachment=("export.csv", b"a,b\n"),
                now=NOW,
            )
            edit = await tx.enqueue(
                platform="telegram",
                chat_id="1",
                kind=ChatKind.PRIVATE,
                member_id=fatima,
                text="hallo\n\n✔",
                buttons=(),
                edit_of=first,
                attachment=None,
                now=NOW,
            )
        due = await store.due("telegram", NOW, 10)
        assert [d.outbox_id for d in due] == [first]  # the edit waits for its message
        assert due[0].buttons == ((Button("Ja", "a:1"), Button("Nee", "a:2")),)
        assert due[0].attachment == ("export.csv", b"a,b\n")
        await store.mark_sent(first, "m-77", NOW)
        due = await store.due("telegram", NOW, 10)
        assert [(d.outbox_id, d.edit_message_ref) for d in due] == [(edit, "m-77")]
        await store.postpone(edit, NOW + timedelta(seconds=30))
        assert await store.due("telegram", NOW, 10) == []
        assert len(await store.due("telegram", NOW + timedelta(seconds=31), 10)) == 1
        async with store.transaction() as tx:
            found = await tx.outbox_row_by_ref("telegram", "m-77")
            assert found is not None and found.outbox_id == first
            assert await tx.park_waiting(edit)
            assert await tx.waiting_count("telegram", "1") == 1
        assert await store.due("telegram", NOW + timedelta(minutes=5), 10) == []
        async with store.transaction() as tx:
            assert await tx.release_waiting("telegram", "1") == 1
        assert len(await store.due("telegram", NOW + timedelta(minutes=5), 10)) == 1
    finally:
        await store.close()


async def test_two_simultaneous_claims_give_one_winner(database_url: str) -> None:
    """Two connections race for one request: exactly one gets it."""
    store = await SqlStore.open(database_url)
    other = await SqlStore.open(database_url, run_migrations=False)
    try:
        community, fatima, kees = await seed(store)
        async with store.transaction() as tx:
            helper = await tx.create_member("Piet", None, NOW)
            request = await tx.add_request(new_request(community, fatima), NOW)

        async def claim(on: SqlStore, member: int) -> bool:
            async with on.transaction() as tx:
                won = await tx.claim_request(request.id, member, NOW)
                await asyncio.sleep(0.05)  # hold the transaction open while the other tries
                return won

        results = await asyncio.gather(claim(store, kees), claim(other, helper.id))
        assert sorted(results) == [False, True]
        async with store.transaction() as tx:
            loaded = await tx.request(request.id)
            assert loaded is not None
            assert loaded.helper_id == (kees if results[0] else helper.id)
    finally:
        await other.close()
        await store.close()


async def test_cursor_and_drafts(database_url: str) -> None:
    from bot.model import Draft

    store = await SqlStore.open(database_url)
    try:
        _, fatima, _ = await seed(store)
        async with store.transaction() as tx:
            assert await tx.get_cursor("matrix.next_batch") is None
            await tx.set_cursor("matrix.next_batch", "s1")
            await tx.set_cursor("matrix.next_batch", "s2")
            await tx.save_draft(Draft(fatima, "ask", "when", {"category": "shopping"}, NOW))
        async with store.transaction() as tx:
            assert await tx.get_cursor("matrix.next_batch") == "s2"
            draft = await tx.draft(fatima)
            assert draft is not None and draft.data == {"category": "shopping"}
            await tx.drop_draft(fatima)
            assert await tx.draft(fatima) is None
    finally:
        await store.close()


async def test_migrations_match_the_tables(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    store = await SqlStore.open(database_url)
    try:
        async with store.engine.connect() as conn:
            drift = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
            )
        assert drift == []
    finally:
        await store.close()
