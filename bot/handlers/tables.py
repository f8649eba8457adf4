"""Aanschuiven: the commands and buttons of hosts and guests (the meal domain itself is in
``bot.mealtables``)."""

from __future__ import annotations

from datetime import timedelta

from bot import limits
from bot.commands import Registry, Where
from bot.context import Context, Literal
from bot.errors import UserError
from bot.meals import DIET_WORDS, parse_table_line, read_segment, seats_line, when_text
from bot.mealtables import (
    ACTIVE_SEATS,
    KIND,
    MAX_DIET,
    SEAT_KIND,
    UPCOMING_DAYS,
    answer_offer,
    bookable,
    call_off,
    continue_table,
    contribution_of,
    guest_list,
    guests_named,
    leave_table,
    my_seat,
    post_table,
    refresh_posts,
    table_numbered,
    take_seat,
)
from bot.model import SeatStatus, TableStatus


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
