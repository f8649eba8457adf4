"""Aanschuiven: hosts announce meal tables, neighbours take a seat."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import limits, tablework
from bot.commands import Registry, Where
from bot.config import CommunitySettings
from bot.context import ButtonRows, Context, Literal
from bot.errors import UserError
from bot.matching import contact_line
from bot.meals import (
    DEFAULT_SIGNUP_BEFORE,
    DIET_WORDS,
    check_table,
    diet_summary,
    parse_table_line,
    read_segment,
    seats_line,
    table_text,
    when_text,
)
from bot.model import Draft, MealTable, NewMealTable, Seat, SeatStatus, TableStatus
from bot.words import money, record_number
from bot.work import DueWork, NewWork, Notice, Outcome, WorkKind

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


def register(registry: Registry) -> None:
    @registry.command("tafel", "table", help="help.tafel", needs_rules=True)
    async def table_cmd(ctx: Context, args: str) -> None:
        ctx.need_community()
        if await limits.reached(ctx, limits.Kind.TABLE):
            return
        await ctx.tx.drop_draft(ctx.member.id)
        data = parse_table_line(ctx, args)
        if not args.strip():
            data["guided"] = True
        await continue_table(ctx, data)

    @registry.draft(KIND)
    async def table_text_answer(ctx: Context, text: str) -> None:
        draft = await ctx.tx.draft(ctx.member.id)
        if draft is None:
            raise UserError("table.draft_gone")
        data = dict(draft.data)
        if draft.step == "when":
            found = parse_table_line(ctx, text)
            if "starts_at" not in found:
                raise UserError("table.need_time")
            data.update(found)
        elif draft.step == "place":
            if len(text) > 120:
                raise UserError("table.part_too_long", limit=120)
            place, _, address = text.partition(",")
            data["place"] = place.strip()
            if address.strip():
                data["address"] = address.strip()
        elif draft.step == "seats":
            if not text.strip().split()[0].isdecimal():
                raise UserError("table.bad_seats", max=100)
            data["seats"] = int(text.strip().split()[0])
        elif draft.step in ("contribution", "menu", "diets"):
            found = {}
            if draft.step == "diets":
                words = text.lower().replace(",", " ").split()
                unknown = [w for w in words if w not in DIET_WORDS]
                if unknown:
                    raise UserError("table.unknown_diet_plain", word=unknown[0][:30])
                found["diets"] = sorted({DIET_WORDS[w] for w in words})
            elif draft.step == "menu":
                if len(text) > 120:
                    raise UserError("table.part_too_long", limit=120)
                found["menu"] = text
            else:
                read_segment(ctx, found, text, asked="contribution")
                if contribution_of(found) is None:
                    found = {"contribution": text[:60]}
            data.update(found)
        else:
            raise UserError("request.use_buttons")
        await continue_table(ctx, data)

    @registry.action("tbl", needs_rules=True)
    async def table_button(ctx: Context, args: list[str]) -> None:
        draft = await ctx.tx.draft(ctx.member.id)
        if args == ["stop"]:
            await ctx.tx.drop_draft(ctx.member.id)
            await ctx.settle_pressed("request.stopped_short")
            await ctx.reply("table.stopped")
            return
        if draft is None or draft.kind != KIND:
            raise UserError("table.draft_gone")
        data = dict(draft.data)
        match args:
            case ["seats", number] if draft.step == "seats" and number.isdecimal():
                data["seats"] = int(number)
            case ["contrib", value] if draft.step == "contribution" and value in ("free", "gift"):
                data["contribution"] = value
            case ["menu", "surprise"] if draft.step == "menu":
                data["menu"] = "surprise"
            case ["diets", "none"] if draft.step == "diets":
                data["diets"] = []
            case ["post"] if draft.step == "confirm":
                if await limits.reached(ctx, limits.Kind.TABLE):
                    return
                await ctx.tx.drop_draft(ctx.member.id)
                await ctx.settle_pressed("request.placed_short")
                await post_table(ctx, data)
                return
            case _:
                raise UserError("table.draft_gone")
        await continue_table(ctx, data)

    @registry.command("aanschuiven", "tables", help="help.aanschuiven")
    async def upcoming(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        wanted = [DIET_WORDS.get(w) for w in args.lower().replace(",", " ").split()]
        if None in wanted:
            raise UserError("table.unknown_diet_plain", word=args.strip()[:30])
        tables = await ctx.tx.upcoming_tables(
            community.id, ctx.now, ctx.now + timedelta(days=UPCOMING_DAYS)
        )
        tables = [t for t in tables if all(w in t.diets for w in wanted)]
        if not tables:
            await ctx.tell(ctx.member.id, "table.none_upcoming")
            return
        lines, buttons = [], []
        hosts = {table.host_id for table in tables}
        for table in tables:
            lines.append(
                ctx.t(
                    "table.upcoming_line",
                    nr=table.id,
                    place=table.place,
                    when=when_text(table, ctx.now, community.timezone, ctx.lang),
                    menu=table.menu or ctx.t("table.menu_surprise"),
                    seats_line=seats_line(ctx.catalog, ctx.lang, table),
                )
            )
            if table.left and ctx.now < table.signup_until:
                buttons.append(
                    [(Literal(ctx.t("button.take_seat_nr", nr=table.id)), f"seat:{table.id}")]
                )
        await ctx.tell(
            ctx.member.id,
            "table.upcoming",
            buttons=buttons,
            concerning=hosts,
            items="\n".join(lines),
        )

    @registry.action("seat", needs_rules=True)
    async def seat_button(ctx: Context, args: list[str]) -> None:
        if len(args) != 1:
            raise UserError("error.button_unknown")
        await take_seat(ctx, await table_numbered(ctx, args[0]))

    @registry.action("plus")
    async def plus_button(ctx: Context, args: list[str]) -> None:
        if len(args) != 2 or not args[1].isdecimal():
            raise UserError("error.button_unknown")
        seat, table = await my_seat(ctx, args[0])
        wanted = int(args[1])
        if seat.status is not SeatStatus.SEATED:
            raise UserError("seat.not_there")
        if wanted > table.max_plus:
            raise UserError("seat.plus_too_many", max=table.max_plus)
        bookable(ctx, table)
        locked = await ctx.tx.meal_table(table.id, lock=True)
        assert locked is not None
        if wanted - seat.plus > locked.left:
            raise UserError("seat.no_room_for_plus")
        await ctx.tx.update_seat(seat.id, plus=wanted)
        await ctx.reply("seat.plus_set" if wanted else "seat.alone_set", plus=wanted)
        await refresh_posts(ctx, table.id)

    @registry.action("diet")
    async def no_diet(ctx: Context, args: list[str]) -> None:
        seat, _ = await my_seat(ctx, args[0] if args else "")
        await ctx.tx.update_seat(seat.id, diet="")
        await ctx.tx.drop_draft(ctx.member.id)
        await ctx.reply("seat.diet_none")

    @registry.draft(SEAT_KIND)
    async def diet_text(ctx: Context, text: str) -> None:
        draft = await ctx.tx.draft(ctx.member.id)
        assert draft is not None
        seat, _ = await my_seat(ctx, str(draft.data.get("seat", "")))
        if len(text) > MAX_DIET:
            raise UserError("seat.diet_too_long", limit=MAX_DIET)
        await ctx.tx.update_seat(seat.id, diet=text)
        await ctx.tx.drop_draft(ctx.member.id)
        await ctx.reply("seat.diet_set", diet=text)

    @registry.action("offered")
    async def offered(ctx: Context, args: list[str]) -> None:
        if len(args) != 2 or args[1] not in ("yes", "no"):
            raise UserError("error.button_unknown")
        seat, table = await my_seat(ctx, args[0])
        await answer_offer(ctx, seat, table, args[1] == "yes")

    @registry.command("afmelden", "leave_table", help="help.afmelden")
    async def leave(ctx: Context, args: str) -> None:
        mine = [
            (seat, table)
            for seat, table in await ctx.tx.seats_of_member(ctx.member.id, ACTIVE_SEATS)
            if table.status is TableStatus.OPEN and table.starts_at > ctx.now
        ]
        if args.strip():
            table = await table_numbered(ctx, args)
            mine = [(s, t) for s, t in mine if t.id == table.id]
        if not mine:
            raise UserError("seat.nothing_to_leave")
        if len(mine) > 1:
            community = ctx.need_community()
            await ctx.tell(
                ctx.member.id,
                "seat.which",
                concerning=[t.host_id for _, t in mine],
                buttons=[
                    [
                        (
                            Literal(
                                f"{t.place}, {when_text(t, ctx.now, community.timezone, ctx.lang)}"
                            ),
                            f"unseat:{t.id}",
                        )
                    ]
                    for _, t in mine
                ],
            )
            return
        await leave_table(ctx, *mine[0])

    @registry.action("unseat")
    async def unseat(ctx: Context, args: list[str]) -> None:
        table = await table_numbered(ctx, args[0] if args else "")
        seat = await ctx.tx.seat(table.id, ctx.member.id)
        if seat is None:
            raise UserError("seat.not_there")
        await ctx.settle_pressed("seat.cancelled_short")
        await leave_table(ctx, seat, table)

    @registry.command("gasten", "guests", help="help.gasten", where=Where.PRIVATE)
    async def guests(ctx: Context, args: str) -> None:
        if args.strip():
            tables = [await table_numbered(ctx, args)]
            if tables[0].host_id != ctx.member.id and not await ctx.is_organiser():
                raise UserError("table.not_yours")
        else:
            tables = await ctx.tx.tables_hosted_by(ctx.member.id, ctx.now - timedelta(hours=6))
        if not tables:
            raise UserError("table.no_tables")
        community = ctx.need_community()
        for table in tables:
            await ctx.reply(
                "table.guests_header",
                concerning=[table.host_id, *await guests_named(ctx, table)],
                nr=table.id,
                place=table.place,
                when=when_text(table, ctx.now, community.timezone, ctx.lang),
                guests=await guest_list(ctx, table, ctx.lang),
            )

    @registry.command("afzeggen", "call_off", help="help.afzeggen")
    async def call_off_cmd(ctx: Context, args: str) -> None:
        number, _, message = args.strip().partition(" ")
        if not number:
            raise UserError("table.call_off_how")
        await call_off(ctx, await table_numbered(ctx, number), message.strip()[:300])

    @registry.action("howwent")
    async def how_it_went(ctx: Context, args: list[str]) -> None:
        if len(args) != 2 or args[1] not in ("good", "mixed"):
            raise UserError("error.button_unknown")
        table = await table_numbered(ctx, args[0])
        if table.host_id != ctx.member.id:
            raise UserError("table.not_yours")
        await ctx.tx.set_table_outcome(table.id, args[1])
        await ctx.settle_pressed("table.outcome_short")
        await ctx.reply("table.outcome_thanks")


# --- scheduled work (called by bot.duework) ---------------------------------------------
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


COMMUNITY_WORK = {
    WorkKind.TABLE_DAY_BEFORE: day_before,
    WorkKind.TABLE_SOON: soon,
    WorkKind.TABLE_CHECK_LOW: check_low,
    WorkKind.TABLE_AFTER: after,
    WorkKind.SEAT_OFFER_END: offer_ended,
}
MEMBER_WORK = (
    WorkKind.TABLE_GUEST_DAY,
    WorkKind.TABLE_GUEST_SOON,
    WorkKind.TABLE_HOST_EVENING,
    WorkKind.TABLE_HOST_AFTER,
    WorkKind.TABLE_LOW_ALERT,
)
