"""What the scheduled work around a meal table does when it comes due: reminders to guests
and host, the check two days before, closing the table afterwards and planning next
week's, and the end of the time a free seat is held. Planned by ``bot.tablework``."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot import tablework
from bot.config import CommunitySettings
from bot.context import Context
from bot.matching import contact_line
from bot.meals import when_text
from bot.mealtables import announce, guest_list, guests_named, offer_free_seats, refresh_posts
from bot.model import MealTable, NewMealTable, SeatStatus, TableStatus
from bot.work import DueWork, NewWork, Notice, Outcome, WorkKind
from bot.workkinds import WorkKinds


async def notice_for(ctx: Context, work: DueWork) -> Notice | None:
    """What a table reminder says to one member, or None when it no longer applies."""
    assert work.member_id is not None and work.subject_id is not None
    table = await ctx.tx.meal_table(work.subject_id)
    if table is None or table.status is TableStatus.CANCELLED:
        return None
    community = await ctx.tx.community(table.community_id)
    lang = await ctx.language_of(work.member_id)
    when = when_text(table, ctx.now, community.timezone, lang)
    place = table.place + (f", {table.address}" if table.address else "")
    if work.kind in (WorkKind.TABLE_GUEST_DAY, WorkKind.TABLE_GUEST_SOON):
        seat = await ctx.tx.seat(table.id, work.member_id)
        if seat is None or seat.status is not SeatStatus.SEATED or ctx.now >= table.starts_at:
            return None
        key = "table.remind_day" if work.kind is WorkKind.TABLE_GUEST_DAY else "table.remind_soon"
        return Notice(
            key,
            {
                "place": place,
                "when": when,
                "host": await ctx.name_of(table.host_id),
                "nr": table.id,
            },
            [[("button.cannot_come", f"unseat:{table.id}")]],
            f"#{table.id}",
            about=(table.host_id,),
        )
    if work.kind is WorkKind.TABLE_HOST_EVENING:
        return Notice(
            "table.remind_host",
            {"place": place, "when": when, "guests": await guest_list(ctx, table, lang)},
            about=tuple(await guests_named(ctx, table)),
        )
    if work.kind is WorkKind.TABLE_HOST_AFTER:
        return Notice(
            "table.how_did_it_go",
            {"place": place, "taken": table.taken},
            [
                [
                    ("button.went_well", f"howwent:{table.id}:good"),
                    ("button.went_mixed", f"howwent:{table.id}:mixed"),
                ]
            ],
        )
    if work.kind is WorkKind.TABLE_LOW_ALERT:
        if table.taken * 3 >= table.seats:
            return None
        return Notice(
            "table.low_alert",
            {
                "place": place,
                "when": when,
                "host": await ctx.name_of(table.host_id),
                "taken": table.taken,
                "seats": table.seats,
                "contact": await contact_line(ctx, table.host_id, lang),
            },
            about=(table.host_id,),
        )
    return None


async def _fan_out(
    ctx: Context, work: DueWork, members: list[int], kind: WorkKind, urgent: bool
) -> None:
    for member_id in members:
        await ctx.tx.schedule_work(
            NewWork(
                kind=kind,
                community_id=work.community_id,
                subject_id=work.subject_id,
                member_id=member_id,
                due_at=ctx.now,
                urgent=urgent,
                dedupe_key=f"{kind.value}:{work.id}:{member_id}",
            ),
            ctx.now,
        )


async def _open_table(ctx: Context, work: DueWork) -> MealTable | None:
    assert work.subject_id is not None
    table = await ctx.tx.meal_table(work.subject_id)
    return table if table is not None and table.status is TableStatus.OPEN else None


async def day_before(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome:
    table = await _open_table(ctx, work)
    if table is None:
        return Outcome.SKIPPED
    guests = [s.member_id for s in await ctx.tx.seats(table.id, [SeatStatus.SEATED])]
    await _fan_out(ctx, work, guests, WorkKind.TABLE_GUEST_DAY, False)
    await _fan_out(ctx, work, [table.host_id], WorkKind.TABLE_HOST_EVENING, False)
    return Outcome.DONE


async def soon(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome:
    table = await _open_table(ctx, work)
    if table is None:
        return Outcome.SKIPPED
    guests = [s.member_id for s in await ctx.tx.seats(table.id, [SeatStatus.SEATED])]
    await _fan_out(ctx, work, guests, WorkKind.TABLE_GUEST_SOON, True)
    await refresh_posts(ctx, table.id)  # sign-up has closed by now: the button goes
    return Outcome.DONE


async def check_low(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome:
    table = await _open_table(ctx, work)
    if table is None or table.taken * 3 >= table.seats:
        return Outcome.SKIPPED
    organisers = await ctx.tx.organisers(table.community_id)
    await _fan_out(ctx, work, organisers, WorkKind.TABLE_LOW_ALERT, False)
    return Outcome.DONE


async def after(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome:
    table = await _open_table(ctx, work)
    if table is None:
        return Outcome.SKIPPED
    await ctx.tx.close_table(table.id, TableStatus.DONE)
    for seat in await ctx.tx.seats(table.id, [SeatStatus.WAITING, SeatStatus.OFFERED]):
        await ctx.tx.update_seat(seat.id, status=SeatStatus.CANCELLED, offered_until=None)
    await refresh_posts(ctx, table.id)
    await _fan_out(ctx, work, [table.host_id], WorkKind.TABLE_HOST_AFTER, False)
    await next_week(ctx, table)
    return Outcome.DONE


async def next_week(ctx: Context, table: MealTable) -> None:
    """A weekly table gets its next occurrence, the same in every way, a week later."""
    if table.weekly_until is None:
        return
    tz = ZoneInfo((await ctx.tx.community(table.community_id)).timezone)
    local = table.starts_at.astimezone(tz)
    # a week later on the wall clock, also across a change to or from summer time
    starts = (local.replace(tzinfo=None) + timedelta(weeks=1)).replace(tzinfo=tz)
    if starts > table.weekly_until:
        return
    shift = starts - table.starts_at
    following = await ctx.tx.add_table(
        NewMealTable(
            community_id=table.community_id,
            host_id=table.host_id,
            place=table.place,
            address=table.address,
            starts_at=starts,
            seats=table.seats,
            contribution=table.contribution,
            menu=table.menu,
            diets=table.diets,
            signup_until=table.signup_until + shift,
            max_plus=table.max_plus,
            weekly_until=table.weekly_until,
            series_id=table.series_id or table.id,
        ),
        ctx.now,
    )
    await announce(ctx, following)
    await tablework.table_planned(ctx, following)


async def offer_ended(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome:
    seat = await ctx.tx.seat_by_id(int(work.payload.get("seat", 0)))
    if seat is None or seat.status is not SeatStatus.OFFERED:
        return Outcome.SKIPPED
    if seat.offered_until is None or seat.offered_until.isoformat() != work.payload.get("until"):
        return Outcome.SKIPPED
    await ctx.tx.update_seat(seat.id, status=SeatStatus.CANCELLED, offered_until=None)
    await ctx.tell(seat.member_id, "seat.offer_expired")
    await offer_free_seats(ctx, seat.table_id)
    await refresh_posts(ctx, seat.table_id)
    return Outcome.DONE


def register_work(kinds: WorkKinds) -> None:
    kinds.job(WorkKind.TABLE_DAY_BEFORE, day_before)
    kinds.job(WorkKind.TABLE_SOON, soon)
    kinds.job(WorkKind.TABLE_CHECK_LOW, check_low)
    kinds.job(WorkKind.TABLE_AFTER, after)
    kinds.job(WorkKind.SEAT_OFFER_END, offer_ended)
    for kind in (
        WorkKind.TABLE_GUEST_DAY,
        WorkKind.TABLE_GUEST_SOON,
        WorkKind.TABLE_HOST_EVENING,
        WorkKind.TABLE_HOST_AFTER,
        WorkKind.TABLE_LOW_ALERT,
    ):
        kinds.message(kind, notice_for)
