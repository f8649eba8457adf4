"""The storage contract, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.model import (
    Category,
    NewOffer,
    NewRequest,
    Offer,
    OfferSearch,
    RequestStatus,
    Role,
    Visibility,
)
from bot.types import Button, ChatKind, Delivery
from bot.when import When, window_slots
from bot.work import NewWork, WorkKind
from storage.engine import current_revisions
from storage.sql import SqlStore

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
AMS = ZoneInfo("Europe/Amsterdam")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


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
            assert await tx.helpers_of(fatima) == {kees: 1}
            assert await tx.helpers_of(kees) == {}
            assert await tx.helps_since(NOW - timedelta(days=7)) == {kees: 1}
            assert await tx.helps_since(NOW + timedelta(seconds=1)) == {}
    finally:
        await store.close()


def search(
    community: int, requester: int, category: Category = Category.SHOPPING, **rest: Any
) -> OfferSearch:
    fields: dict[str, Any] = {"slots": None, "unasked_for": None, "near": None} | rest
    return OfferSearch(community_id=community, category=category, requester_id=requester, **fields)


async def test_offers_are_found_by_kind_time_and_membership(database_url: str) -> None:
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
            idle = NOW - timedelta(days=30)
            tuesday_afternoon = window_slots(
                When(at("2026-11-24 14:00"), at("2026-11-24 15:00"), exact=True)
            )
            saturday = window_slots(When(at("2026-11-28 14:00"), at("2026-11-28 15:00"), True))

            async def found(**rest: Any) -> list[int]:
                wanted = search(community, fatima, **rest)
                near = [o.id for o in await tx.offers_near(wanted, idle, 10)]
                assert near == [o.id for o in await tx.offers_for(wanted, [kees, fatima])]
                return near

            assert await found() == [offer.id]
            assert await found(category=Category.TRANSPORT, near=3000) == [offer.id]
            assert await found(slots=tuesday_afternoon, near=3050) == [offer.id]
            assert await found(slots=saturday) == []
            assert await found(category=Category.MEAL) == []
            assert await tx.offers_near(search(community, kees), idle, 10) == []
            await tx.set_offer_paused(offer.id, True)
            assert await found() == []
            await tx.set_offer_paused(offer.id, False)
            request = await tx.add_request(new_request(community, fatima), NOW)
            await tx.add_proposal(request.id, kees, NOW)
            assert await found(unasked_for=request.id) == []
            await tx.leave(kees, community, NOW)
            assert await found() == []
    finally:
        await store.close()


async def test_offers_near_walk_out_from_the_postcode(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, fatima, _ = await seed(store)
        areas = ["3010", "3030", "3020", None, "3020", "3040", "3000", None, "3021"]
        async with store.transaction() as tx:
            helpers: dict[int, str | None] = {}
            for number, area in enumerate(areas):
                member = await tx.create_member(f"Helper {number}", None, NOW)
                await tx.join(member.id, community, Role.RESIDENT, NOW)
                await tx.add_offer(
                    NewOffer(
                        community_id=community,
                        member_id=member.id,
                        categories=frozenset({Category.SHOPPING}),
                        days=frozenset(),
                        parts=frozenset(),
                        area=area,
                        max_per_week=3,
                    ),
                    NOW,
                )
                helpers[member.id] = area
            busy = next(m for m, area in helpers.items() if area == "3030")
            taken = await tx.add_request(new_request(community, fatima), NOW)
            assert await tx.claim_request(taken.id, busy, NOW - timedelta(days=3))
            idle = NOW - timedelta(days=30)
            wanted = search(community, fatima, near=3021)

            def areas_of(offers: list[Offer]) -> list[str | None]:
                return [helpers[o.member_id] for o in offers]

            # above (nearest first), below (nearest first), without a postcode; "3030" helped lately
            assert areas_of(await tx.offers_near(wanted, idle, 10)) == [
                "3021",
                "3040",
                "3020",
                "3020",
                "3010",
                "3000",
                None,
                None,
            ]
            assert areas_of(await tx.offers_near(wanted, idle, 1)) == ["3021", "3020", None]
            # without a postcode to start from: in the order of the members
            assert areas_of(await tx.offers_near(search(community, fatima), idle, 3)) == [
                "3010",
                "3020",
                None,
            ]
            everyone = await tx.offers_near(search(community, fatima), NOW + timedelta(days=1), 20)
            assert [o.member_id for o in everyone] == sorted(helpers)
    finally:
        await store.close()


async def claim(store: SqlStore, now: datetime, worker: str = "me") -> list[Delivery]:
    return await store.claim("telegram", now, 10, worker, now + timedelta(minutes=1))


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
        due = await claim(store, NOW)
        assert [d.outbox_id for d in due] == [first]  # the edit waits for its message
        assert due[0].buttons == ((Button("Ja", "a:1"), Button("Nee", "a:2")),)
        assert due[0].attachment == ("export.csv", b"a,b\n")
        assert await store.mark_sent(first, "m-77", NOW, "me")
        due = await claim(store, NOW)
        assert [(d.outbox_id, d.edit_message_ref) for d in due] == [(edit, "m-77")]
        await store.postpone(edit, NOW + timedelta(seconds=30), "me")
        assert await claim(store, NOW) == []
        assert len(await claim(store, NOW + timedelta(seconds=31))) == 1
        await store.release([edit], "me")
        async with store.transaction() as tx:
            found = await tx.outbox_row_by_ref("telegram", "m-77")
            assert found is not None and found.outbox_id == first
            assert await tx.park_waiting(edit)
            assert await tx.waiting_count("telegram", "1") == 1
        assert await claim(store, NOW + timedelta(minutes=5)) == []
        async with store.transaction() as tx:
            assert await tx.release_waiting("telegram", "1") == 1
        assert len(await claim(store, NOW + timedelta(minutes=5))) == 1
    finally:
        await store.close()


async def _queue(store: SqlStore, texts: list[str], chat: str = "1") -> list[int]:
    async with store.transaction() as tx:
        return [
            await tx.enqueue(
                platform="telegram",
                chat_id=chat,
                kind=ChatKind.PRIVATE,
                member_id=None,
                text=text,
                buttons=(),
                edit_of=None,
                attachment=None,
                now=NOW,
            )
            for text in texts
        ]


async def test_an_outbox_row_is_sent_by_the_sender_that_claimed_it(database_url: str) -> None:
    """A second sender in another process gets nothing while the lease lasts, takes the
    row when it has run out (the first died mid-send), and the first cannot mark it."""
    store = await SqlStore.open(database_url)
    other = await SqlStore.open(database_url, run_migrations=False)
    try:
        [row] = await _queue(store, ["hallo"])
        assert [d.outbox_id for d in await claim(store, NOW, "first")] == [row]
        assert await claim(other, NOW + timedelta(seconds=59), "second") == []
        taken = await claim(other, NOW + timedelta(seconds=61), "second")
        assert [d.outbox_id for d in taken] == [row]
        # the first comes back after its lease: its mark and its postponement change nothing
        assert not await store.mark_sent(row, "m-1", NOW + timedelta(seconds=62), "first")
        await store.postpone(row, NOW + timedelta(hours=1), "first")
        await store.mark_failed(row, "refused", NOW, "first")
        assert await other.mark_sent(row, "m-2", NOW + timedelta(seconds=62), "second")
        assert not await other.mark_sent(row, "m-3", NOW + timedelta(seconds=63), "second")
        async with store.transaction() as tx:
            sent = await tx.outbox_row_by_ref("telegram", "m-2")
        assert sent is not None and sent.outbox_id == row and sent.attempts == 1
        assert await claim(store, NOW + timedelta(hours=2), "first") == []
    finally:
        await other.close()
        await store.close()


async def test_a_chat_waits_behind_its_row_claimed_elsewhere(database_url: str) -> None:
    """Another sender takes nothing of a chat whose earlier row is being sent, so that a
    chat's messages keep their order; rows given back are due at once."""
    store = await SqlStore.open(database_url)
    try:
        first, second = await _queue(store, ["een", "twee"])
        [third] = await _queue(store, ["drie"], chat="2")
        mine = await store.claim("telegram", NOW, 1, "first", NOW + timedelta(minutes=1))
        assert [d.outbox_id for d in mine] == [first]
        assert [d.outbox_id for d in await claim(store, NOW, "second")] == [third]
        await store.release([first], "second")  # not the second's to give back
        assert await claim(store, NOW, "second") == []
        await store.release([first], "first")
        assert [d.outbox_id for d in await claim(store, NOW, "second")] == [first, second]
        extended = await store.extend_lease(
            [first, second, third], "second", NOW + timedelta(minutes=5)
        )
        assert extended == {first, second, third}
        assert await store.extend_lease([first], "first", NOW + timedelta(minutes=9)) == set()
        assert await claim(store, NOW + timedelta(minutes=2), "first") == []
        assert len(await claim(store, NOW + timedelta(minutes=6), "first")) == 3
        assert await store.release_all("telegram") == 3
        assert len(await claim(store, NOW, "third")) == 3
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


async def test_due_work_of_some_kinds_is_left_to_another_claimer(database_url: str) -> None:
    """A process that does not lead claims, and waits for, no nightly job."""
    store = await SqlStore.open(database_url)
    try:
        community, fatima, _ = await seed(store)
        async with store.transaction() as tx:
            request = await tx.add_request(new_request(community, fatima), NOW)
            await tx.schedule_work(
                NewWork(WorkKind.RETENTION, community, NOW - timedelta(hours=2)), NOW
            )
            await tx.schedule_work(
                NewWork(WorkKind.WIDEN, community, NOW - timedelta(hours=1), subject_id=request.id),
                NOW,
            )
        nightly = {WorkKind.RETENTION, WorkKind.DIGEST}
        async with store.transaction() as tx:
            assert await tx.next_due_at() == NOW - timedelta(hours=2)
            assert await tx.next_due_at(skip=nightly) == NOW - timedelta(hours=1)
            claimed = await tx.claim_due_work(NOW, "follower", skip=nightly)
            assert claimed is not None and claimed.kind is WorkKind.WIDEN
            await tx.finish_work(claimed.id, NOW, "done")
        async with store.transaction() as tx:
            assert await tx.claim_due_work(NOW, "follower", skip=nightly) is None
            assert await tx.next_due_at(skip=nightly) is None
            claimed = await tx.claim_due_work(NOW, "leader")
            assert claimed is not None and claimed.kind is WorkKind.RETENTION
    finally:
        await store.close()


async def test_the_parts_of_a_long_text_are_counted_by_their_sender_only(
    database_url: str,
) -> None:
    store = await SqlStore.open(database_url)
    try:
        async with store.transaction() as tx:
            row = await tx.enqueue(
                platform="console",
                chat_id="fatima",
                kind=ChatKind.PRIVATE,
                member_id=None,
                text="lang " * 2000,
                buttons=(),
                edit_of=None,
                attachment=None,
                now=NOW,
            )
        until = NOW + timedelta(seconds=10)
        [claimed] = await store.claim("console", NOW, 10, "one", until)
        assert claimed.parts_sent == 0
        assert await store.mark_part_sent(row, 0, "one")
        assert not await store.mark_part_sent(row, 0, "one")  # that part is counted already
        assert not await store.mark_part_sent(row, 1, "two")  # not the other sender's row
        await store.postpone(row, NOW, "one")
        [again] = await store.claim("console", NOW, 10, "two", until)
        assert again.parts_sent == 1  # the next sender goes on from the second part
    finally:
        await store.close()
