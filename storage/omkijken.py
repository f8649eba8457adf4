"""Queries for omkijken: check-ins, who was asked to look in, the weekly rota, gatherings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.omkijken_records import (
    Answer,
    Checkin,
    CheckinAsk,
    Gathering,
    LookAnswer,
    LookResult,
    OmkijkenPlan,
)
from storage.failures import Classified
from storage.tables import (
    CheckinAskRow,
    CheckinRow,
    GatheringAnswerRow,
    GatheringRow,
    OmkijkenPlanRow,
    RotaRow,
)

plan_t = OmkijkenPlanRow.__table__  # type: ignore[attr-defined]
checkin_t = CheckinRow.__table__  # type: ignore[attr-defined]
checkin_ask_t = CheckinAskRow.__table__  # type: ignore[attr-defined]
rota_t = RotaRow.__table__  # type: ignore[attr-defined]
gathering_t = GatheringRow.__table__  # type: ignore[attr-defined]
gathering_answer_t = GatheringAnswerRow.__table__  # type: ignore[attr-defined]


def plan_of(row: Row[Any]) -> OmkijkenPlan:
    return OmkijkenPlan(
        member_id=row.member_id,
        circle_id=row.circle_id,
        days=tuple(int(d) for d in row.days),
        at=row.at,
        consented_at=row.consented_at,
        paused=bool(row.paused),
        updated_at=row.updated_at,
    )


def checkin_of(row: Row[Any]) -> Checkin:
    return Checkin(
        id=row.id,
        community_id=row.community_id,
        circle_id=row.circle_id,
        member_id=row.member_id,
        asked_at=row.asked_at,
        outbox_id=row.outbox_id,
        answer=Answer(row.answer) if row.answer else None,
        answered_at=row.answered_at,
        missed_at=row.missed_at,
        step=row.step,
        looker_id=row.looker_id,
        looked_at=row.looked_at,
        look_result=LookResult(row.look_result) if row.look_result else None,
    )


def gathering_of(row: Row[Any]) -> Gathering:
    return Gathering(
        row.id,
        row.community_id,
        row.circle_id,
        row.organiser_id,
        row.starts_at,
        row.what,
        row.created_at,
    )


class OmkijkenQueries:
    conn: Classified

    async def _changed(self, statement: Any) -> bool:
        return bool((await self.conn.execute(statement)).rowcount)

    # --- plans ---------------------------------------------------------------------------
    async def omkijken_plan(self, member_id: int) -> OmkijkenPlan | None:
        row = (
            await self.conn.execute(select(plan_t).where(plan_t.c.member_id == member_id))
        ).first()
        return None if row is None else plan_of(row)

    async def save_omkijken_plan(self, plan: OmkijkenPlan) -> None:
        values = {
            "circle_id": plan.circle_id,
            "days": "".join(str(d) for d in sorted(set(plan.days))),
            "at": plan.at,
            "consented_at": plan.consented_at,
            "paused": plan.paused,
            "updated_at": plan.updated_at,
        }
        if not await self._changed(
            update(plan_t).where(plan_t.c.member_id == plan.member_id).values(**values)
        ):
            await self.conn.execute(insert(plan_t).values(member_id=plan.member_id, **values))

    async def omkijken_plans(self, circle_id: int) -> list[OmkijkenPlan]:
        rows = await self.conn.execute(
            select(plan_t).where(plan_t.c.circle_id == circle_id).order_by(plan_t.c.member_id)
        )
        return [plan_of(r) for r in rows]

    async def drop_omkijken_plan(self, member_id: int) -> None:
        await self.conn.execute(delete(plan_t).where(plan_t.c.member_id == member_id))

    # --- check-ins -------------------------------------------------------------------------
    async def add_checkin(
        self, community_id: int, circle_id: int, member_id: int, now: datetime
    ) -> Checkin:
        row = (
            await self.conn.execute(
                insert(checkin_t)
                .values(
                    community_id=community_id,
                    circle_id=circle_id,
                    member_id=member_id,
                    asked_at=now,
                    step=0,
                )
                .returning(*checkin_t.c)
            )
        ).one()
        return checkin_of(row)

    async def checkin(self, checkin_id: int, *, lock: bool = False) -> Checkin | None:
        query = select(checkin_t).where(checkin_t.c.id == checkin_id)
        if lock:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).first()
        return None if row is None else checkin_of(row)

    async def open_checkin(self, member_id: int, since: datetime) -> Checkin | None:
        row = (
            await self.conn.execute(
                select(checkin_t)
                .where(
                    checkin_t.c.member_id == member_id,
                    checkin_t.c.asked_at >= since,
                    checkin_t.c.answer.is_(None),
                )
                .order_by(checkin_t.c.asked_at.desc(), checkin_t.c.id.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else checkin_of(row)

    async def set_checkin_message(self, checkin_id: int, outbox_id: int | None) -> None:
        await self.conn.execute(
            update(checkin_t).where(checkin_t.c.id == checkin_id).values(outbox_id=outbox_id)
        )

    async def answer_checkin(self, checkin_id: int, answer: Answer, now: datetime) -> bool:
        return await self._changed(
            update(checkin_t)
            .where(checkin_t.c.id == checkin_id, checkin_t.c.answer.is_(None))
            .values(answer=answer.value, answered_at=now)
        )

    async def checkin_missed(self, checkin_id: int, now: datetime) -> bool:
        return await self._changed(
            update(checkin_t)
            .where(
                checkin_t.c.id == checkin_id,
                checkin_t.c.answer.is_(None),
                checkin_t.c.missed_at.is_(None),
            )
            .values(missed_at=now)
        )

    async def checkin_step(self, checkin_id: int, step: int) -> bool:
        return await self._changed(
            update(checkin_t)
            .where(checkin_t.c.id == checkin_id, checkin_t.c.step < step)
            .values(step=step)
        )

    async def set_checkin_looker(self, checkin_id: int, looker_id: int, now: datetime) -> bool:
        return await self._changed(
            update(checkin_t)
            .where(checkin_t.c.id == checkin_id, checkin_t.c.looker_id.is_(None))
            .values(looker_id=looker_id, looked_at=now)
        )

    async def set_look_result(self, checkin_id: int, result: LookResult) -> bool:
        return await self._changed(
            update(checkin_t)
            .where(checkin_t.c.id == checkin_id, checkin_t.c.look_result.is_(None))
            .values(look_result=result.value)
        )

    async def add_checkin_ask(
        self, checkin_id: int, member_id: int, step: int, now: datetime
    ) -> bool:
        exists = (
            await self.conn.execute(
                select(checkin_ask_t.c.step).where(
                    checkin_ask_t.c.checkin_id == checkin_id,
                    checkin_ask_t.c.member_id == member_id,
                )
            )
        ).first()
        if exists is not None:
            return False
        await self.conn.execute(
            insert(checkin_ask_t).values(
                checkin_id=checkin_id, member_id=member_id, step=step, asked_at=now
            )
        )
        return True

    async def checkin_asks(self, checkin_id: int) -> list[CheckinAsk]:
        rows = await self.conn.execute(
            select(checkin_ask_t)
            .where(checkin_ask_t.c.checkin_id == checkin_id)
            .order_by(checkin_ask_t.c.step, checkin_ask_t.c.asked_at, checkin_ask_t.c.member_id)
        )
        return [
            CheckinAsk(
                r.checkin_id,
                r.member_id,
                r.step,
                r.asked_at,
                LookAnswer(r.answer) if r.answer else None,
            )
            for r in rows
        ]

    async def answer_checkin_ask(self, checkin_id: int, member_id: int, answer: LookAnswer) -> bool:
        return await self._changed(
            update(checkin_ask_t)
            .where(
                checkin_ask_t.c.checkin_id == checkin_id,
                checkin_ask_t.c.member_id == member_id,
                checkin_ask_t.c.answer.is_(None),
            )
            .values(answer=answer.value)
        )

    async def checkin_figures(self, community_id: int, since: datetime) -> dict[str, int]:
        row = (
            await self.conn.execute(
                select(
                    func.count(),
                    func.count(checkin_t.c.missed_at),
                    func.count(checkin_t.c.looked_at),
                ).where(checkin_t.c.community_id == community_id, checkin_t.c.asked_at >= since)
            )
        ).one()
        return {"asked": int(row[0]), "missed": int(row[1]), "looked_in": int(row[2])}

    async def purge_checkins(self, community_id: int, before: datetime) -> int:
        old = select(checkin_t.c.id).where(
            checkin_t.c.community_id == community_id, checkin_t.c.asked_at < before
        )
        await self.conn.execute(delete(checkin_ask_t).where(checkin_ask_t.c.checkin_id.in_(old)))
        result = await self.conn.execute(
            delete(checkin_t).where(
                checkin_t.c.community_id == community_id, checkin_t.c.asked_at < before
            )
        )
        return int(result.rowcount or 0)

    # --- the rota ------------------------------------------------------------------------
    async def rota(self, circle_id: int, week: str) -> dict[int, int]:
        rows = await self.conn.execute(
            select(rota_t.c.member_id, rota_t.c.buddy_id)
            .where(rota_t.c.circle_id == circle_id, rota_t.c.week == week)
            .order_by(rota_t.c.member_id)
        )
        return {int(r.member_id): int(r.buddy_id) for r in rows}

    async def save_rota(self, circle_id: int, week: str, pairs: dict[int, int]) -> None:
        await self.conn.execute(
            delete(rota_t).where(rota_t.c.circle_id == circle_id, rota_t.c.week == week)
        )
        if pairs:
            await self.conn.execute(
                insert(rota_t),
                [
                    {"circle_id": circle_id, "week": week, "member_id": m, "buddy_id": b}
                    for m, b in sorted(pairs.items())
                ],
            )

    async def create_rota(self, circle_id: int, week: str, pairs: dict[int, int]) -> dict[int, int]:
        # Rows another transaction holds or made are left alone (PostgreSQL waits for it to
        # end first). When any row was theirs, the week is theirs: ours are taken back, so
        # that a week never mixes two makings (a member may have joined in between).
        if pairs:
            insert_ = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
            rows = [
                {"circle_id": circle_id, "week": week, "member_id": m, "buddy_id": b}
                for m, b in sorted(pairs.items())
            ]
            made = [
                int(r.member_id)
                for r in await self.conn.execute(
                    insert_(rota_t)
                    .values(rows)
                    .on_conflict_do_nothing(index_elements=["circle_id", "week", "member_id"])
                    .returning(rota_t.c.member_id)
                )
            ]
            if made and len(made) < len(rows):
                await self.conn.execute(
                    delete(rota_t).where(
                        rota_t.c.circle_id == circle_id,
                        rota_t.c.week == week,
                        rota_t.c.member_id.in_(made),
                    )
                )
        return await self.rota(circle_id, week)

    async def rota_counts(self, circle_id: int, before: str) -> dict[tuple[int, int], int]:
        rows = await self.conn.execute(
            select(rota_t.c.member_id, rota_t.c.buddy_id, func.count())
            .where(rota_t.c.circle_id == circle_id, rota_t.c.week < before)
            .group_by(rota_t.c.member_id, rota_t.c.buddy_id)
        )
        return {(int(r[0]), int(r[1])): int(r[2]) for r in rows}

    # --- gatherings ------------------------------------------------------------------------
    async def add_gathering(
        self,
        community_id: int,
        circle_id: int,
        organiser_id: int,
        starts_at: datetime,
        what: str,
        now: datetime,
    ) -> Gathering:
        row = (
            await self.conn.execute(
                insert(gathering_t)
                .values(
                    community_id=community_id,
                    circle_id=circle_id,
                    organiser_id=organiser_id,
                    starts_at=starts_at,
                    what=what,
                    created_at=now,
                )
                .returning(*gathering_t.c)
            )
        ).one()
        return gathering_of(row)

    async def gathering(self, gathering_id: int) -> Gathering | None:
        row = (
            await self.conn.execute(select(gathering_t).where(gathering_t.c.id == gathering_id))
        ).first()
        return None if row is None else gathering_of(row)

    async def gatherings(self, circle_id: int, after: datetime) -> list[Gathering]:
        rows = await self.conn.execute(
            select(gathering_t)
            .where(gathering_t.c.circle_id == circle_id, gathering_t.c.starts_at > after)
            .order_by(gathering_t.c.starts_at, gathering_t.c.id)
        )
        return [gathering_of(r) for r in rows]

    async def answer_gathering(
        self, gathering_id: int, member_id: int, coming: bool, now: datetime
    ) -> None:
        if not await self._changed(
            update(gathering_answer_t)
            .where(
                gathering_answer_t.c.gathering_id == gathering_id,
                gathering_answer_t.c.member_id == member_id,
            )
            .values(coming=coming, answered_at=now)
        ):
            await self.conn.execute(
                insert(gathering_answer_t).values(
                    gathering_id=gathering_id, member_id=member_id, coming=coming, answered_at=now
                )
            )

    async def gathering_answers(self, gathering_id: int) -> dict[int, bool]:
        rows = await self.conn.execute(
            select(gathering_answer_t.c.member_id, gathering_answer_t.c.coming)
            .where(gathering_answer_t.c.gathering_id == gathering_id)
            .order_by(gathering_answer_t.c.answered_at, gathering_answer_t.c.member_id)
        )
        return {int(r.member_id): bool(r.coming) for r in rows}


def omkijken_records(member_id: int) -> dict[str, Any]:
    """A member's own omkijken data, for /mijngegevens (queries by name)."""
    return {
        "omkijken": select(plan_t).where(plan_t.c.member_id == member_id),
        "checkins": select(checkin_t).where(checkin_t.c.member_id == member_id),
        "checkins_looked_in": select(
            checkin_t.c.id, checkin_t.c.looked_at, checkin_t.c.look_result
        ).where(checkin_t.c.looker_id == member_id),
        "checkins_asked_to_look": select(checkin_ask_t).where(
            checkin_ask_t.c.member_id == member_id
        ),
        "rota": select(rota_t).where(
            (rota_t.c.member_id == member_id) | (rota_t.c.buddy_id == member_id)
        ),
        "gatherings_planned": select(gathering_t).where(gathering_t.c.organiser_id == member_id),
        "gathering_answers": select(gathering_answer_t).where(
            gathering_answer_t.c.member_id == member_id
        ),
    }


async def forget_in_omkijken(conn: Classified, member_id: int) -> None:
    """Erasure: their plan, their check-ins and answers, who they were asked about or
    looked in on, their place in the rota, their answers to gatherings and what they
    wrote about one. A gathering they planned stays for the others, without them."""
    mine = select(checkin_t.c.id).where(checkin_t.c.member_id == member_id)
    await conn.execute(delete(checkin_ask_t).where(checkin_ask_t.c.checkin_id.in_(mine)))
    await conn.execute(delete(checkin_ask_t).where(checkin_ask_t.c.member_id == member_id))
    await conn.execute(delete(checkin_t).where(checkin_t.c.member_id == member_id))
    await conn.execute(
        update(checkin_t)
        .where(checkin_t.c.looker_id == member_id)
        .values(looker_id=None, look_result=None)
    )
    await conn.execute(delete(plan_t).where(plan_t.c.member_id == member_id))
    await conn.execute(
        delete(rota_t).where((rota_t.c.member_id == member_id) | (rota_t.c.buddy_id == member_id))
    )
    await conn.execute(
        delete(gathering_answer_t).where(gathering_answer_t.c.member_id == member_id)
    )
    await conn.execute(
        update(gathering_t)
        .where(gathering_t.c.organiser_id == member_id)
        .values(organiser_id=None, what="")
    )


async def forget_circle_omkijken(conn: Classified, circle_id: int) -> None:
    """A circle that is gone takes its rota, check-ins, plans and gatherings with it."""
    gone = select(checkin_t.c.id).where(checkin_t.c.circle_id == circle_id)
    await conn.execute(delete(checkin_ask_t).where(checkin_ask_t.c.checkin_id.in_(gone)))
    await conn.execute(delete(checkin_t).where(checkin_t.c.circle_id == circle_id))
    await conn.execute(delete(plan_t).where(plan_t.c.circle_id == circle_id))
    await conn.execute(delete(rota_t).where(rota_t.c.circle_id == circle_id))
    held = select(gathering_t.c.id).where(gathering_t.c.circle_id == circle_id)
    await conn.execute(
        delete(gathering_answer_t).where(gathering_answer_t.c.gathering_id.in_(held))
    )
    await conn.execute(delete(gathering_t).where(gathering_t.c.circle_id == circle_id))


__all__ = ["OmkijkenQueries", "forget_circle_omkijken", "forget_in_omkijken", "omkijken_records"]
