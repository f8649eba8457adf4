"""The storage contract for omkijken (plans, check-ins, the rota, gatherings), run on SQLite
and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.model import Role
from bot.omkijken_records import Answer, LookAnswer, LookResult, OmkijkenPlan
from storage.sql import SqlStore

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def seed(store: SqlStore) -> tuple[int, int, list[int]]:
    async with store.transaction() as tx:
        community = await tx.create_community("Buurt", "nl", "Europe/Amsterdam", {})
        ids = []
        for name in ("Els", "Kees", "Piet"):
            member = await tx.create_member(name, None, NOW)
            await tx.join(member.id, community.id, Role.RESIDENT, NOW)
            ids.append(member.id)
        circle = await tx.create_circle(community.id, "Kerklaan", ids[0], NOW)
        for member_id in ids[1:]:
            await tx.add_circle_member(circle.id, member_id, NOW, 15)
    return community.id, circle.id, ids


async def test_a_plan_is_saved_replaced_and_dropped(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        _, circle, (els, kees, _) = await seed(store)
        plan = OmkijkenPlan(els, circle, (4, 0, 2), "09:30", None, False, NOW)
        async with store.transaction() as tx:
            assert await tx.omkijken_plan(els) is None
            await tx.save_omkijken_plan(plan)
            await tx.save_omkijken_plan(OmkijkenPlan(kees, circle, (), "", None, True, NOW))
        async with store.transaction() as tx:
            saved = await tx.omkijken_plan(els)
            assert saved is not None and saved.days == (0, 2, 4) and not saved.active
            agreed = OmkijkenPlan(els, circle, (0, 2, 4), "09:30", NOW, False, NOW)
            await tx.save_omkijken_plan(agreed)
            assert await tx.omkijken_plan(els) == agreed and agreed.active
            assert [p.member_id for p in await tx.omkijken_plans(circle)] == [els, kees]
            await tx.drop_omkijken_plan(kees)
            assert [p.member_id for p in await tx.omkijken_plans(circle)] == [els]
    finally:
        await store.close()


async def test_a_check_in_is_answered_once_and_its_asking_goes_step_by_step(
    database_url: str,
) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, circle, (els, kees, piet) = await seed(store)
        async with store.transaction() as tx:
            checkin = await tx.add_checkin(community, circle, els, NOW)
            await tx.set_checkin_message(checkin.id, None)
            assert await tx.open_checkin(els, NOW - timedelta(hours=1)) == checkin
            assert await tx.open_checkin(els, NOW + timedelta(minutes=1)) is None
            assert await tx.checkin_missed(checkin.id, NOW + timedelta(hours=2))
            assert not await tx.checkin_missed(checkin.id, NOW + timedelta(hours=3))
            assert await tx.checkin_step(checkin.id, 1)
            assert not await tx.checkin_step(checkin.id, 1)  # never the same step twice
            assert await tx.add_checkin_ask(checkin.id, kees, 1, NOW)
            assert not await tx.add_checkin_ask(checkin.id, kees, 2, NOW)
            assert await tx.checkin_step(checkin.id, 2)
            assert await tx.add_checkin_ask(checkin.id, piet, 2, NOW)
            assert await tx.answer_checkin_ask(checkin.id, kees, LookAnswer.CANNOT)
            assert not await tx.answer_checkin_ask(checkin.id, kees, LookAnswer.LOOK)
            assert not await tx.answer_checkin_ask(checkin.id, els, LookAnswer.LOOK)  # not asked
            assert await tx.set_checkin_looker(checkin.id, piet, NOW)
            assert not await tx.set_checkin_looker(checkin.id, kees, NOW)
            assert await tx.set_look_result(checkin.id, LookResult.GOOD)
            assert not await tx.set_look_result(checkin.id, LookResult.NOBODY)
            assert await tx.answer_checkin(checkin.id, Answer.GOOD, NOW)
            assert not await tx.answer_checkin(checkin.id, Answer.CALL, NOW)
        async with store.transaction() as tx:
            row = await tx.checkin(checkin.id, lock=True)
            assert row is not None
            assert (row.answer, row.step, row.looker_id, row.look_result) == (
                Answer.GOOD,
                2,
                piet,
                LookResult.GOOD,
            )
            asks = await tx.checkin_asks(checkin.id)
            assert [(a.member_id, a.step, a.answer) for a in asks] == [
                (kees, 1, LookAnswer.CANNOT),
                (piet, 2, None),
            ]
            assert await tx.checkin_figures(community, NOW - timedelta(days=7)) == {
                "asked": 1,
                "missed": 1,
                "looked_in": 1,
            }
            assert await tx.purge_checkins(community, NOW) == 0
            assert await tx.purge_checkins(community, NOW + timedelta(days=1)) == 1
            assert await tx.checkin(checkin.id) is None
            assert await tx.checkin_asks(checkin.id) == []
    finally:
        await store.close()


async def test_the_rota_of_a_week_and_the_pairs_before_it(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        _, circle, (els, kees, piet) = await seed(store)
        async with store.transaction() as tx:
            assert await tx.rota(circle, "2026-11-23") == {}
            await tx.save_rota(circle, "2026-11-16", {els: kees, kees: piet, piet: els})
            await tx.save_rota(circle, "2026-11-23", {els: piet, piet: els})
            await tx.save_rota(circle, "2026-11-23", {els: kees, kees: els})  # replaced
        async with store.transaction() as tx:
            assert await tx.rota(circle, "2026-11-23") == {els: kees, kees: els}
            assert await tx.rota_counts(circle, "2026-11-23") == {
                (els, kees): 1,
                (kees, piet): 1,
                (piet, els): 1,
            }
            assert len(await tx.rota_counts(circle, "2026-11-30")) == 4
    finally:
        await store.close()


async def test_a_gathering_and_who_comes(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        community, circle, (els, kees, piet) = await seed(store)
        starts = NOW + timedelta(days=5)
        async with store.transaction() as tx:
            gathering = await tx.add_gathering(community, circle, els, starts, "koffie", NOW)
            await tx.answer_gathering(gathering.id, kees, True, NOW)
            await tx.answer_gathering(gathering.id, piet, True, NOW + timedelta(minutes=1))
            await tx.answer_gathering(gathering.id, piet, False, NOW + timedelta(minutes=2))
        async with store.transaction() as tx:
            assert await tx.gathering(gathering.id) == gathering
            assert await tx.gathering(gathering.id + 1) is None
            assert await tx.gatherings(circle, NOW) == [gathering]
            assert await tx.gatherings(circle, starts) == []
            assert await tx.gathering_answers(gathering.id) == {kees: True, piet: False}
    finally:
        await store.close()
