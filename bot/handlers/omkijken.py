"""/omkijken (/checkin): a check-in on chosen days, the week's buddy, pausing; the buttons
of check-ins, of looking in, and of gatherings (see ``bot.omkijken``, ``bot.gatherings``)."""

from __future__ import annotations

from bot import gatherings, omkijken
from bot.commands import Registry, Where
from bot.context import Context
from bot.errors import UserError
from bot.omkijken_records import Answer


def register(registry: Registry) -> None:
    @registry.command("omkijken", "checkin", help="help.omkijken", where=Where.PRIVATE)
    async def omkijken_cmd(ctx: Context, args: str) -> None:
        ctx.need_community()
        words = args.strip().lower()
        if not words:
            await omkijken.status(ctx)
        elif words in omkijken.OFF_WORDS:
            await omkijken.turn_off(ctx)
        elif words in omkijken.PAUSE_WORDS:
            await omkijken.set_paused(ctx, True)
        elif words in omkijken.BACK_WORDS:
            await omkijken.set_paused(ctx, False)
        else:
            await omkijken.my_circle(ctx)  # no circle, no check-in: said before anything else
            days, at = omkijken.parse_schedule(args)
            await omkijken.explain(ctx, days, at)

    @registry.action("omk")
    async def consent(ctx: Context, args: list[str]) -> None:
        if args == ["yes"]:
            await omkijken.agree(ctx)
        elif args == ["no"]:
            await omkijken.decline(ctx)
        else:
            raise UserError("error.button_unknown")

    @registry.action("ck")
    async def checkin_button(ctx: Context, args: list[str]) -> None:
        match args:
            case [("good" | "help" | "call") as given, number]:
                await omkijken.answer(ctx, number, Answer(given))
            case ["look", number]:
                await omkijken.look(ctx, number, True)
            case ["cannot", number]:
                await omkijken.look(ctx, number, False)
            case ["went", number, result]:
                await omkijken.how_it_went(ctx, number, result)
            case _:
                raise UserError("error.button_unknown")

    @registry.action("ga")
    async def gathering_button(ctx: Context, args: list[str]) -> None:
        match args:
            case [("yes" | "no") as said, number]:
                await gatherings.answer(ctx, number, said == "yes")
            case _:
                raise UserError("error.button_unknown")
