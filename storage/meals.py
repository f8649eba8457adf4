"""Queries for "Aanschuiven" tables and their seats."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update

from bot.model import MealTable, NewMealTable, Seat, SeatStatus, TableStatus
from storage.failures import Classified
from storage.rows import join_csv, seat_t, split_csv
from storage.rows import meal_table_t as table_t

# Seats that count against the table: taken, or held for someone from the waiting list.
HOLDING = (SeatStatus.SEATED.value, SeatStatus.OFFERED.value)

_taken = (
    select(func.coalesce(func.sum(1 + seat_t.c.plus), 0))
    .where(seat_t.c.table_id == table_t.c.id, seat_t.c.status.in_(HOLDING))
    .correlate(table_t)
    .scalar_subquery()
    .label("taken")
)


def table_of(row: Row[Any]) -> MealTable:
    return MealTable(
        id=row.id,
        community_id=row.community_id,
        host_id=row.host_id,
        place=row.place,
        address=row.address,
        starts_at=row.starts_at,
        seats=row.seats,
        contribution=row.contribution,
        menu=row.menu,
        diets=tuple(split_csv(row.diets)),
        signup_until=row.signup_until,
        max_plus=row.max_plus,
        weekly_until=row.weekly_until,
        series_id=row.series_id,
        status=TableStatus(row.status),
        created_at=row.created_at,
        group_posts=tuple(int(i) for i in split_csv(row.group_posts)),
        taken=int(row.taken),
        outcome=row.outcome,
    )


def seat_of(row: Row[Any]) -> Seat:
    return Seat(
        id=row.id,
        table_id=row.table_id,
        member_id=row.member_id,
        plus=row.plus,
        diet=row.diet,
        status=SeatStatus(row.status),
        position=row.position,
        created_at=row.created_at,
        offered_until=row.offered_until,
    )


class MealQueries:
    conn: Classified

    async def add_table(self, new: NewMealTable, now: datetime) -> MealTable:
        row = (
            await self.conn.execute(
                insert(table_t)
                .values(
                    community_id=new.community_id,
                    host_id=new.host_id,
                    place=new.place,
                    address=new.address,
                    starts_at=new.starts_at,
                    seats=new.seats,
                    contribution=new.contribution,
                    menu=new.menu,
                    diets=join_csv(new.diets),
                    signup_until=new.signup_until,
                    max_plus=new.max_plus,
                    weekly_until=new.weekly_until,
                    series_id=new.series_id,
                    status=TableStatus.OPEN.value,
                    created_at=now,
                )
                .returning(table_t.c.id)
            )
        ).one()
        if new.series_id is None and new.weekly_until is not None:
            await self.conn.execute(
                update(table_t).where(table_t.c.id == row.id).values(series_id=row.id)
            )
        found = await self.meal_table(row.id)
        assert found is not None
        return found

    async def meal_table(self, table_id: int, *, lock: bool = False) -> MealTable | None:
        """A table with its seats taken; ``lock`` holds it until the transaction ends."""
        query = select(table_t, _taken).where(table_t.c.id == table_id)
        if lock:
            # one seat claim at a time per table (PostgreSQL; SQLite writes one at a time)
            await self.conn.execute(
                select(table_t.c.id).where(table_t.c.id == table_id).with_for_update()
            )
        row = (await self.conn.execute(query)).first()
        return None if row is None else table_of(row)

    async def upcoming_tables(
        self, community_id: int, since: datetime, until: datetime
    ) -> list[MealTable]:
        rows = await self.conn.execute(
            select(table_t, _taken)
            .where(
                table_t.c.community_id == community_id,
                table_t.c.status == TableStatus.OPEN.value,
                table_t.c.starts_at >= since,
                table_t.c.starts_at < until,
            )
            .order_by(table_t.c.starts_at, table_t.c.id)
        )
        return [table_of(r) for r in rows]

    async def tables_hosted_by(self, member_id: int, since: datetime) -> list[MealTable]:
        rows = await self.conn.execute(
            select(table_t, _taken)
            .where(
                table_t.c.host_id == member_id,
                table_t.c.status == TableStatus.OPEN.value,
                table_t.c.starts_at >= since,
            )
            .order_by(table_t.c.starts_at, table_t.c.id)
        )
        return [table_of(r) for r in rows]

    async def tables_between(
        self, community_id: int, since: datetime, until: datetime
    ) -> list[MealTable]:
        """Every table (in any state) starting in a period: for figures and the digest."""
        rows = await self.conn.execute(
            select(table_t, _taken)
            .where(
                table_t.c.community_id == community_id,
                table_t.c.starts_at >= since,
                table_t.c.starts_at < until,
            )
            .order_by(table_t.c.starts_at, table_t.c.id)
        )
        return [table_of(r) for r in rows]

    async def set_table_posts(self, table_id: int, outbox_ids: Iterable[int]) -> None:
        await self.conn.execute(
            update(table_t).where(table_t.c.id == table_id).values(group_posts=join_csv(outbox_ids))
        )

    async def close_table(self, table_id: int, status: TableStatus) -> bool:
        done = await self.conn.execute(
            update(table_t)
            .where(table_t.c.id == table_id, table_t.c.status == TableStatus.OPEN.value)
            .values(status=status.value)
        )
        return done.rowcount == 1

    async def set_table_outcome(self, table_id: int, outcome: str) -> None:
        await self.conn.execute(
            update(table_t).where(table_t.c.id == table_id).values(outcome=outcome)
        )

    async def seats(self, table_id: int, statuses: Iterable[SeatStatus]) -> list[Seat]:
        rows = await self.conn.execute(
            select(seat_t)
            .where(seat_t.c.table_id == table_id, seat_t.c.status.in_([s.value for s in statuses]))
            .order_by(seat_t.c.position, seat_t.c.id)
        )
        return [seat_of(r) for r in rows]

    async def seat(self, table_id: int, member_id: int) -> Seat | None:
        row = (
            await self.conn.execute(
                select(seat_t).where(seat_t.c.table_id == table_id, seat_t.c.member_id == member_id)
            )
        ).first()
        return None if row is None else seat_of(row)

    async def seat_by_id(self, seat_id: int) -> Seat | None:
        row = (await self.conn.execute(select(seat_t).where(seat_t.c.id == seat_id))).first()
        return None if row is None else seat_of(row)

    async def take_seat(self, table_id: int, member_id: int, now: datetime) -> Seat:
        """A seat if one is left, else a place at the end of the waiting list. Decided under
        the table's lock, so ten people pressing for the last seat give exactly one guest."""
        table = await self.meal_table(table_id, lock=True)
        assert table is not None
        last = (
            await self.conn.execute(
                select(func.coalesce(func.max(seat_t.c.position), 0)).where(
                    seat_t.c.table_id == table_id
                )
            )
        ).scalar_one()
        status = SeatStatus.SEATED if table.left >= 1 else SeatStatus.WAITING
        values = {
            "plus": 0,
            "diet": "",
            "status": status.value,
            "position": int(last) + 1,
            "created_at": now,
            "offered_until": None,
        }
        existing = await self.seat(table_id, member_id)
        if existing is None:
            await self.conn.execute(
                insert(seat_t).values(table_id=table_id, member_id=member_id, **values)
            )
        else:  # they cancelled earlier and come back: to the end of the line
            await self.conn.execute(
                update(seat_t).where(seat_t.c.id == existing.id).values(**values)
            )
        seat = await self.seat(table_id, member_id)
        assert seat is not None
        return seat

    async def update_seat(self, seat_id: int, **values: Any) -> None:
        if "status" in values:
            values["status"] = SeatStatus(values["status"]).value
        await self.conn.execute(update(seat_t).where(seat_t.c.id == seat_id).values(**values))

    async def seats_of_member(
        self, member_id: int, statuses: Iterable[SeatStatus]
    ) -> list[tuple[Seat, MealTable]]:
        rows = await self.conn.execute(
            select(seat_t.c.id.label("seat_id"), table_t.c.id.label("table_id"))
            .join(table_t, table_t.c.id == seat_t.c.table_id)
            .where(
                seat_t.c.member_id == member_id, seat_t.c.status.in_([s.value for s in statuses])
            )
            .order_by(table_t.c.starts_at)
        )
        found = []
        for row in rows.all():
            seat = await self.seat_by_id(row.seat_id)
            table = await self.meal_table(row.table_id)
            assert seat is not None and table is not None
            found.append((seat, table))
        return found
