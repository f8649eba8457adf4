"""When things happen around a meal table: reminders, the check two days before, the
next week's table, and the time a free seat is held for someone from the waiting list.

Scheduled in the transaction that creates or changes the table; done by the due-work
runner (``bot.duework``), which does what ``bot.tablejobs`` registered for each kind.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import CommunitySettings
from bot.context import Context
from bot.model import MealTable
from bot.work import NewWork, WorkKind

WEEKLY_HORIZON_WEEKS = 12  # a weekly table without an end date runs this long
GUEST_SOON = timedelta(hours=2)
AFTER_MEAL = timedelta(hours=3)
LOW_CHECK = timedelta(days=2)
TABLE_KINDS = tuple(k for k in WorkKind if k.value.startswith(("table_", "seat_")))


def _evening_before(table: MealTable, settings: CommunitySettings, tz: str) -> datetime | None:
    hour, _, minute = settings.reminder_evening.partition(":")
    if not (hour.isdecimal() and minute.isdecimal()):
        return None
    day_before = table.starts_at.astimezone(ZoneInfo(tz)) - timedelta(days=1)
    return day_before.replace(hour=int(hour), minute=int(minute), second=0, microsecond=0)


async def table_planned(ctx: Context, table: MealTable) -> None:
    """A new table: plan its reminders, the check two days before, and what comes after."""
    community = await ctx.tx.community(table.community_id)
    settings = CommunitySettings.of(community, ctx.config.community)
    plan: list[tuple[WorkKind, datetime, bool]] = [
        (WorkKind.TABLE_SOON, table.starts_at - GUEST_SOON, True),
        (WorkKind.TABLE_CHECK_LOW, table.starts_at - LOW_CHECK, False),
        (WorkKind.TABLE_AFTER, table.starts_at + AFTER_MEAL, False),
    ]
    evening = _evening_before(table, settings, community.timezone)
    if evening is not None:
        plan.append((WorkKind.TABLE_DAY_BEFORE, evening, False))
    for kind, due_at, urgent in plan:
        if due_at <= ctx.now and kind is not WorkKind.TABLE_AFTER:
            continue  # a table announced at short notice skips what is already past
        await ctx.tx.schedule_work(
            NewWork(
                kind=kind,
                community_id=community.id,
                subject_id=table.id,
                due_at=due_at,
                urgent=urgent,
                dedupe_key=f"{kind.value}:{table.id}",
            ),
            ctx.now,
        )


async def offer_made(ctx: Context, table: MealTable, seat_id: int, until: datetime) -> None:
    await ctx.tx.schedule_work(
        NewWork(
            kind=WorkKind.SEAT_OFFER_END,
            community_id=table.community_id,
            subject_id=table.id,
            due_at=until,
            urgent=True,
            payload={"seat": seat_id, "until": until.isoformat()},
            dedupe_key=f"{WorkKind.SEAT_OFFER_END.value}:{seat_id}:{until.isoformat()}",
        ),
        ctx.now,
    )


async def table_closed(ctx: Context, table_id: int) -> None:
    """Called off: nothing about the table may run any more."""
    await ctx.tx.cancel_work(table_id, TABLE_KINDS, ctx.now)
