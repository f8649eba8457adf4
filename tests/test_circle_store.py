"""The storage contract for circles, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.circle_records import CircleRole, InviteKind, InviteStatus
from bot.model import Role
from storage.sql import SqlStore

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def seed(store: SqlStore, names: tuple[str, ...]) -> tuple[int, list[int]]:
    async with store.transaction() as tx:
        community = await tx.create_community("Buurt", "nl", "Europe/Amsterdam", {})
        ids = []
        for name in names:
            member = await tx.create_member(name, None, NOW)
            await tx.join(member.id, community.id, Role.RESIDENT, NOW)
            ids.append(member.id)
    return community.id, ids


async def test_a_circle_starts_with_its_founder_as_contact(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, (els, kees, _) = await seed(store, ("Els", "Kees", "Piet"))
        async with store.transaction() as tx:
            circle = await tx.create_circle(community, "Kerklaan", els, NOW)
            assert circle.name == "Kerklaan" and circle.open
            assert await tx.circle(circle.id) == circle
            assert await tx.circles(community) == [circle]
            members = await tx.circle_members(circle.id)
            assert [(m.member_id, m.role) for m in members] == [(els, CircleRole.CONTACT)]
            assert await tx.circle_of_member(els, community) == circle
            assert await tx.circle_of_member(kees, community) is None
            assert await tx.circle_sizes(community) == {circle.id: 1}
            assert await tx.circle(circle.id + 100) is None
    finally:
        await store.close()


async def test_members_join_up_to_the_limit_and_leave(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, (els, kees, piet) = await seed(store, ("Els", "Kees", "Piet"))
        async with store.transaction() as tx:
            circle = await tx.create_circle(community, "Kerklaan", els, NOW)
            joined = await tx.add_circle_member(circle.id, kees, NOW + timedelta(hours=1), 2)
            assert joined is not None and joined.role is CircleRole.MEMBER
            assert await tx.add_circle_member(circle.id, piet, NOW, 2) is None  # full
            again = await tx.add_circle_member(circle.id, kees, NOW, 2)  # already in it
            assert again == joined
            await tx.set_circle_answers(circle.id, kees, likes_to_do="boodschappen")
            await tx.set_circle_answers(circle.id, kees, might_need="een lift")
            assert await tx.set_circle_role(circle.id, kees, CircleRole.CONTACT)
            await tx.set_circle_open(circle.id, False)
        async with store.transaction() as tx:
            members = await tx.circle_members(circle.id)
            assert [m.member_id for m in members] == [els, kees]
            assert (members[1].likes_to_do, members[1].might_need) == ("boodschappen", "een lift")
            assert members[1].role is CircleRole.CONTACT
            found = await tx.circle(circle.id)
            assert found is not None and not found.open
            assert await tx.remove_circle_member(circle.id, kees)
            assert not await tx.remove_circle_member(circle.id, kees)
            assert [m.member_id for m in await tx.circle_members(circle.id)] == [els]
            await tx.remove_circle(circle.id)
            assert await tx.circle(circle.id) is None
            assert await tx.circles(community) == []
    finally:
        await store.close()


async def test_the_last_place_goes_to_one_of_two_at_the_same_time(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, (els, kees, piet) = await seed(store, ("Els", "Kees", "Piet"))
        async with store.transaction() as tx:
            circle = await tx.create_circle(community, "Kerklaan", els, NOW)

        async def join(member_id: int) -> bool:
            async with store.transaction() as tx:
                return await tx.add_circle_member(circle.id, member_id, NOW, 2) is not None

        results = await asyncio.gather(join(kees), join(piet))
        assert sorted(results) == [False, True]
        async with store.transaction() as tx:
            assert len(await tx.circle_members(circle.id)) == 2
    finally:
        await store.close()


async def test_invitations_are_answered_once(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, (els, kees, piet) = await seed(store, ("Els", "Kees", "Piet"))
        async with store.transaction() as tx:
            circle = await tx.create_circle(community, "Kerklaan", els, NOW)
            invite = await tx.add_circle_invite(circle.id, kees, els, InviteKind.INVITE, NOW)
            ask = await tx.add_circle_invite(circle.id, piet, None, InviteKind.ASK, NOW)
            assert invite.status is InviteStatus.PENDING and invite.inviter_id == els
            assert ask.kind is InviteKind.ASK and ask.inviter_id is None
            assert await tx.circle_invite(invite.id) == invite
            assert await tx.circle_invites(circle_id=circle.id) == [invite, ask]
            assert await tx.circle_invites(member_id=kees) == [invite]
            assert await tx.answer_circle_invite(invite.id, InviteStatus.ACCEPTED, NOW)
            assert not await tx.answer_circle_invite(invite.id, InviteStatus.DECLINED, NOW)
            assert await tx.circle_invites(circle_id=circle.id) == [ask]
            answered = await tx.circle_invites(
                member_id=kees, statuses=(InviteStatus.ACCEPTED, InviteStatus.DECLINED)
            )
            assert [(i.status, i.answered_at) for i in answered] == [(InviteStatus.ACCEPTED, NOW)]
            assert await tx.circle_invite(ask.id + 100) is None
    finally:
        await store.close()


async def test_partners_and_figures(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, (els, kees, piet) = await seed(store, ("Els", "Kees", "Piet"))
        async with store.transaction() as tx:
            first = await tx.create_circle(community, "Kerklaan", els, NOW)
            second = await tx.create_circle(community, "Dorpsstraat", piet, NOW, open=False)
            await tx.add_circle_member(first.id, kees, NOW, 15)
            partner = await tx.add_circle_partner(first.id, "Welzijn Oegstgeest", "071 123", NOW)
            assert await tx.circle_partners(first.id) == [partner]
            assert await tx.circle_partners(second.id) == []
            assert await tx.circle_figures(community) == {
                "circles": 2,
                "members": 3,
                "partners": 1,
            }
            assert await tx.remove_circle_partner(partner.id)
            assert not await tx.remove_circle_partner(partner.id)
            assert await tx.circle_sizes(community) == {first.id: 2, second.id: 1}
    finally:
        await store.close()


async def test_a_member_s_circle_data_is_theirs_and_goes_with_them(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, (els, kees, piet) = await seed(store, ("Els", "Kees", "Piet"))
        async with store.transaction() as tx:
            shared = await tx.create_circle(community, "Kerklaan", els, NOW)
            alone = await tx.create_circle(community, "Achterom", kees, NOW)
            await tx.add_circle_member(shared.id, piet, NOW, 15)
            await tx.set_circle_answers(shared.id, piet, likes_to_do="fietsen maken")
            await tx.add_circle_invite(shared.id, kees, piet, InviteKind.INVITE, NOW)
            await tx.add_circle_partner(alone.id, "Welzijn", "", NOW)
            records = await tx.member_records(piet)
            assert [r["likes_to_do"] for r in records["circles"]] == ["fietsen maken"]
            assert [r["inviter_id"] for r in records["circle_invites"]] == [piet]
            await tx.erase_member(piet, NOW)
            await tx.erase_member(kees, NOW)
        async with store.transaction() as tx:
            assert [m.member_id for m in await tx.circle_members(shared.id)] == [els]
            assert await tx.circle_invites(circle_id=shared.id) == []
            assert await tx.circle(alone.id) is None  # nobody left in it
            assert (await tx.member_records(piet))["circles"] == []
    finally:
        await store.close()
