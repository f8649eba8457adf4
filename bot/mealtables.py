"""Aanschuiven, the meal domain: announcing a table, taking and giving up seats, the
waiting list, the guest list and calling a table off.

The chat commands and buttons are in ``bot.handlers.tables``; what happens when a
table's scheduled work comes due is in ``bot.tablejobs``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot import limits, tablework
from bot.context import ButtonRows, Context, Literal
from bot.errors import UserError
from bot.meals import (
    DEFAULT_SIGNUP_BEFORE,
    check_table,
    diet_summary,
    table_text,
    when_text,
)
from bot.model import Draft, MealTable, NewMealTable, Seat, SeatStatus, TableStatus
from bot.words import money, record_number

KIND = "table"
SEAT_KIND = "seat"
HOLDING = (SeatStatus.SEATED, SeatStatus.OFFERED)
ACTIVE_SEATS = (SeatStatus.SEATED, SeatStatus.OFFERED, SeatStatus.WAITING)
UPCOMING_DAYS = 7
OFFER_HOURS = 2
MAX_DIET = 100


def contribution_of(data: dict[str, Any]) -> str | None:
    if "contribution" in data:
        return str(data["contribution"])
    if "contribution_cents" in data:
        return f"eur:{int(data['contribution_cents'])}"
    return None


def show_contribution(ctx: Context, value: str, lang: str) -> str:
    if value.startswith("eur:"):
        return money(int(value[4:]), lang)
    return (
        ctx.catalog.text(lang, f"table.contribution_{value}")
        if value in ("free", "gift")
        else value
    )


async def announcement(ctx: Context, table: MealTable, lang: str) -> str:
    community = await ctx.tx.community(table.community_id)
    shown = table if not table.contribution else _with_contribution(ctx, table, lang)
    shown = _menu_for_group(ctx, shown, lang)
    return table_text(
        ctx.catalog, lang, shown, await ctx.name_of(table.host_id), ctx.now, community.timezone
    )


def _menu_for_group(ctx: Context, table: MealTable, lang: str) -> MealTable:
    """No phone numbers, names or health words in the menu the group reads (bot.details).

    The place and address are the host's to announce: guests have to find the table.
    """
    return replace(table, menu=ctx.screened(lang, table.menu).text) if table.menu else table


def _with_contribution(ctx: Context, table: MealTable, lang: str) -> MealTable:
    return replace(table, contribution=show_contribution(ctx, table.contribution, lang))


async def refresh_posts(ctx: Context, table_id: int) -> None:
    """Edit the table's announcements to show the seats left (or that it is off)."""
    table = await ctx.tx.meal_table(table_id)
    if table is None:
        return
    community = await ctx.tx.community(table.community_id)
    text = await announcement(ctx, table, community.language)
    open_for_seats = table.status is TableStatus.OPEN and ctx.now < table.signup_until
    if table.status is TableStatus.CANCELLED:
        text += "\n" + ctx.catalog.text(community.language, "table.cancelled_note")
    for outbox_id in table.group_posts:
        await ctx.edit(outbox_id, text, keep_buttons=open_for_seats)


# --- announcing --------------------------------------------------------------------------
def next_step(data: dict[str, Any]) -> str:
    if "starts_at" not in data:
        return "when"
    if "place" not in data:
        return "place"
    if "seats" not in data:
        return "seats"
    if contribution_of(data) is None:
        return "contribution"
    if "menu" not in data:
        return "menu"
    if data.get("guided") and "diets" not in data:
        return "diets"
    if data.get("guided"):
        return "confirm"
    return "post"


async def continue_table(ctx: Context, data: dict[str, Any]) -> None:
    check_table(ctx, data)
    step = next_step(data)
    me = ctx.member.id
    if step == "post":
        if await limits.reached(ctx, limits.Kind.TABLE):
            return
        await ctx.tx.drop_draft(me)
        await post_table(ctx, data)
        return
    await ctx.tx.save_draft(Draft(me, KIND, step, data, ctx.now))
    stop = [("button.stop", "tbl:stop")]
    asks: dict[str, tuple[str, ButtonRows]] = {
        "when": ("table.ask_when", [stop]),
        "place": ("table.ask_place", [stop]),
        "seats": (
            "table.ask_seats",
            [[(Literal(str(n)), f"tbl:seats:{n}") for n in (4, 6, 8, 10, 12)], stop],
        ),
        "contribution": (
            "table.ask_contribution",
            [
                [
                    ("table.contribution_free", "tbl:contrib:free"),
                    ("table.contribution_gift", "tbl:contrib:gift"),
                ],
                stop,
            ],
        ),
        "menu": ("table.ask_menu", [[("table.menu_surprise", "tbl:menu:surprise")], stop]),
        "diets": ("table.ask_diets", [[("table.no_diets", "tbl:diets:none")], stop]),
    }
    if step == "confirm":
        preview = _preview(ctx, data)
        await ctx.tell(
            me,
            "table.confirm",
            buttons=[[("button.announce", "tbl:post"), ("button.stop", "tbl:stop")]],
            preview=preview,
        )
        return
    key, buttons = asks[step]
    await ctx.tell(me, key, buttons=buttons)


def _preview(ctx: Context, data: dict[str, Any]) -> str:
    table = _table_from(ctx, data, table_id=0)
    community = ctx.need_community()
    shown = _menu_for_group(ctx, _with_contribution(ctx, table, ctx.lang), ctx.lang)
    return table_text(
        ctx.catalog, ctx.lang, shown, ctx.member.display_name, ctx.now, community.timezone
    )


def _table_from(ctx: Context, data: dict[str, Any], table_id: int) -> MealTable:
    new = _new_table(ctx, data)
    return MealTable(
        id=table_id,
        community_id=new.community_id,
        host_id=new.host_id,
        place=new.place,
        address=new.address,
        starts_at=new.starts_at,
        seats=new.seats,
        contribution=new.contribution,
        menu=new.menu,
        diets=new.diets,
        signup_until=new.signup_until,
        max_plus=new.max_plus,
        weekly_until=new.weekly_until,
        series_id=None,
        status=TableStatus.OPEN,
        created_at=ctx.now,
        group_posts=(),
        taken=0,
        outcome=None,
    )


def _new_table(ctx: Context, data: dict[str, Any]) -> NewMealTable:
    starts = datetime.fromisoformat(data["starts_at"])
    signup = (
        datetime.fromisoformat(data["signup_until"])
        if "signup_until" in data
        else max(ctx.now, starts - DEFAULT_SIGNUP_BEFORE)
    )
    weekly_until = None
    if data.get("weekly"):
        weekly_until = (
            datetime.fromisoformat(data["weekly_until"])
            if "weekly_until" in data
            else starts + timedelta(weeks=tablework.WEEKLY_HORIZON_WEEKS)
        )
    contribution = contribution_of(data)
    assert contribution is not None
    return NewMealTable(
        community_id=ctx.need_community().id,
        host_id=ctx.member.id,
        place=str(data["place"]),
        address=data.get("address"),
        starts_at=starts,
        seats=int(data["seats"]),
        contribution=contribution,
        menu="" if data.get("menu") == "surprise" else str(data["menu"]),
        diets=tuple(data.get("diets") or ()),
        signup_until=signup,
        max_plus=int(data.get("max_plus", 1)),
        weekly_until=weekly_until,
    )


async def post_table(ctx: Context, data: dict[str, Any]) -> MealTable:
    table = await ctx.tx.add_table(_new_table(ctx, data), ctx.now)
    await limits.count(ctx, limits.Kind.TABLE)
    await announce(ctx, table)
    await ctx.tell(ctx.member.id, "table.posted", nr=table.id)
    await tablework.table_planned(ctx, table)
    return table


async def announce(ctx: Context, table: MealTable) -> None:
    community = await ctx.tx.community(table.community_id)
    text = await announcement(ctx, table, community.language)
    posted = await ctx.post_text_in_group(
        community, text, [[("button.take_seat", f"seat:{table.id}")]], (table.host_id,)
    )
    await ctx.tx.set_table_posts(table.id, posted)


async def table_numbered(ctx: Context, text: str) -> MealTable:
    number = record_number(text)
    if number is None:
        raise UserError("table.number", text=text.strip()[:24])
    table = await ctx.tx.meal_table(number)
    if table is None or table.community_id != ctx.need_community().id:
        raise UserError("table.gone")
    return table


# --- seats -------------------------------------------------------------------------------
def bookable(ctx: Context, table: MealTable) -> None:
    if table.status is TableStatus.CANCELLED:
        raise UserError("table.is_cancelled")
    if table.status is TableStatus.DONE or table.starts_at <= ctx.now:
        raise UserError("table.is_over")
    if ctx.now >= table.signup_until:
        raise UserError("table.signup_closed")


async def take_seat(ctx: Context, table: MealTable) -> None:
    bookable(ctx, table)
    if table.host_id == ctx.member.id:
        raise UserError("seat.own_table")
    existing = await ctx.tx.seat(table.id, ctx.member.id)
    if existing is not None and existing.status in HOLDING:
        raise UserError("seat.already", place=table.place)
    if existing is not None and existing.status is SeatStatus.WAITING:
        raise UserError("seat.already_waiting", place=await waiting_place(ctx, existing))
    seat = await ctx.tx.take_seat(table.id, ctx.member.id, ctx.now)
    community = await ctx.tx.community(table.community_id)
    when = when_text(table, ctx.now, community.timezone, ctx.lang)
    if seat.status is SeatStatus.WAITING:
        await ctx.tell(
            ctx.member.id,
            "seat.waiting",
            concerning=(table.host_id,),
            place=table.place,
            when=when,
            position=await waiting_place(ctx, seat),
        )
        return
    await seated(ctx, table, seat, when)
    await refresh_posts(ctx, table.id)


async def seated(ctx: Context, table: MealTable, seat: Seat, when: str) -> None:
    """Welcome a guest and ask about company and food, with buttons."""
    rows: list[list[tuple[str, str]]] = [[("button.alone", f"plus:{seat.id}:0")]]
    if table.max_plus:
        rows[0].extend(
            (Literal(f"+{n}"), f"plus:{seat.id}:{n}") for n in range(1, table.max_plus + 1)
        )
    rows.append([("button.no_diet", f"diet:{seat.id}")])
    await ctx.tx.save_draft(Draft(ctx.member.id, SEAT_KIND, "diet", {"seat": seat.id}, ctx.now))
    await ctx.tell(
        seat.member_id,
        "seat.taken",
        buttons=rows,
        concerning=(table.host_id,),
        place=table.place + (f", {table.address}" if table.address else ""),
        when=when,
        host=await ctx.name_of(table.host_id),
        nr=table.id,
    )


async def waiting_place(ctx: Context, seat: Seat) -> int:
    waiting = await ctx.tx.seats(seat.table_id, [SeatStatus.WAITING])
    return 1 + [s.id for s in waiting].index(seat.id) if seat in waiting else len(waiting)


async def my_seat(ctx: Context, seat_id: str) -> tuple[Seat, MealTable]:
    if not seat_id.isdecimal():
        raise UserError("error.button_unknown")
    seat = await ctx.tx.seat_by_id(int(seat_id))
    if seat is None or seat.member_id != ctx.member.id:
        raise UserError("seat.gone")
    table = await ctx.tx.meal_table(seat.table_id)
    assert table is not None
    return seat, table


async def leave_table(ctx: Context, seat: Seat, table: MealTable) -> None:
    """A guest cancels: the seat goes to the first on the waiting list."""
    if seat.status is SeatStatus.CANCELLED:
        raise UserError("seat.not_there")
    await ctx.tx.update_seat(seat.id, status=SeatStatus.CANCELLED, offered_until=None)
    await ctx.tell(ctx.member.id, "seat.cancelled", concerning=(table.host_id,), place=table.place)
    if seat.status is not SeatStatus.WAITING and table.host_id != ctx.member.id:
        await ctx.tell(
            table.host_id,
            "seat.cancelled_host",
            concerning=(ctx.member.id,),
            name=ctx.member.display_name,
            nr=table.id,
        )
    await offer_free_seats(ctx, table.id)
    await refresh_posts(ctx, table.id)


async def offer_free_seats(ctx: Context, table_id: int) -> None:
    """While seats are free, offer them privately to the waiting list, in order."""
    table = await ctx.tx.meal_table(table_id, lock=True)
    assert table is not None
    if table.status is not TableStatus.OPEN or ctx.now >= table.starts_at:
        return
    community = await ctx.tx.community(table.community_id)
    left = table.left
    for seat in await ctx.tx.seats(table_id, [SeatStatus.WAITING]):
        if left < 1:
            break
        until = min(ctx.now + timedelta(hours=OFFER_HOURS), table.starts_at)
        await ctx.tx.update_seat(seat.id, status=SeatStatus.OFFERED, offered_until=until)
        left -= 1
        lang = await ctx.language_of(seat.member_id)
        await ctx.tell(
            seat.member_id,
            "seat.offered",
            buttons=[
                [
                    ("button.yes_coming", f"offered:{seat.id}:yes"),
                    ("button.no_thanks", f"offered:{seat.id}:no"),
                ]
            ],
            concerning=(table.host_id,),
            place=table.place,
            when=when_text(table, ctx.now, community.timezone, lang),
            until=until.astimezone(ctx.tz()).strftime("%H:%M"),
        )
        await tablework.offer_made(ctx, table, seat.id, until)


async def answer_offer(ctx: Context, seat: Seat, table: MealTable, yes: bool) -> None:
    if seat.status is not SeatStatus.OFFERED:
        raise UserError("seat.offer_gone")
    if yes:
        await ctx.tx.update_seat(seat.id, status=SeatStatus.SEATED, offered_until=None)
        await ctx.settle_pressed("seat.offer_taken_short")
        community = await ctx.tx.community(table.community_id)
        fresh = await ctx.tx.seat_by_id(seat.id)
        assert fresh is not None
        await seated(ctx, table, fresh, when_text(table, ctx.now, community.timezone, ctx.lang))
        await ctx.tell(
            table.host_id,
            "seat.joined_host",
            concerning=(ctx.member.id,),
            name=ctx.member.display_name,
            nr=table.id,
        )
    else:
        await ctx.tx.update_seat(seat.id, status=SeatStatus.CANCELLED, offered_until=None)
        await ctx.settle_pressed("seat.offer_declined_short")
        await ctx.reply("seat.offer_declined")
        await offer_free_seats(ctx, table.id)
    await refresh_posts(ctx, table.id)


# --- the host --------------------------------------------------------------------------
async def guests_named(ctx: Context, table: MealTable) -> list[int]:
    """The guests a guest list names (with what they don't eat)."""
    return [seat.member_id for seat in await ctx.tx.seats(table.id, [SeatStatus.SEATED])]


async def guest_list(ctx: Context, table: MealTable, lang: str) -> str:
    seats = await ctx.tx.seats(table.id, [SeatStatus.SEATED])
    lines = []
    for seat in seats:
        plus = f" +{seat.plus}" if seat.plus else ""
        diet = f" ({seat.diet})" if seat.diet else ""
        lines.append(f"• {await ctx.name_of(seat.member_id)}{plus}{diet}")
    waiting = len(await ctx.tx.seats(table.id, [SeatStatus.WAITING, SeatStatus.OFFERED]))
    text = ctx.catalog.text
    parts = [
        "\n".join(lines) or text(lang, "table.no_guests_yet"),
        text(lang, "table.guests_full" if table.left <= 0 else "table.guests_taken",
             taken=table.taken, seats=table.seats),
    ]  # fmt: skip
    if diets := diet_summary(ctx.catalog, lang, seats):
        parts.append(text(lang, "table.guests_diets", diets=diets))
    if waiting:
        parts.append(text(lang, "table.guests_waiting", waiting=waiting))
    return "\n".join(parts)


async def call_off(ctx: Context, table: MealTable, message: str) -> None:
    if table.host_id != ctx.member.id and not await ctx.is_organiser():
        raise UserError("table.not_yours")
    if not await ctx.tx.close_table(table.id, TableStatus.CANCELLED):
        raise UserError("table.is_cancelled")
    await tablework.table_closed(ctx, table.id)
    community = await ctx.tx.community(table.community_id)
    for seat in await ctx.tx.seats(table.id, ACTIVE_SEATS):
        await ctx.tx.update_seat(seat.id, status=SeatStatus.CANCELLED, offered_until=None)
        lang = await ctx.language_of(seat.member_id)
        await ctx.tell(
            seat.member_id,
            "table.called_off_guest",
            concerning=(table.host_id, ctx.member.id),
            host=ctx.member.display_name,
            place=table.place,
            when=when_text(table, ctx.now, community.timezone, lang),
            message=message or ctx.catalog.text(lang, "table.no_reason"),
        )
    await refresh_posts(ctx, table.id)
    await ctx.reply("table.called_off", nr=table.id)
