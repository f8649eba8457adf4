"""Start, help and language."""

from __future__ import annotations

from dataclasses import replace

from bot.commands import Registry, Where
from bot.context import ButtonRows, Context
from bot.errors import UserError
from bot.handlers.onboarding import house_rules, rules_pending
from bot.words import language_code

# What /hulp shows first; "/hulp alles" or the button shows every command.
FIRST_COMMANDS = ("vraag", "aanbod", "aanschuiven", "mijn")
MORE = {"alles", "all", "meer", "more", "alle", "hepsi", "tümü", "الكل", "كل"}


def register(registry: Registry) -> None:
    @registry.command("start", help="help.start", answered_in_group=True)
    async def start(ctx: Context, args: str) -> None:
        if ctx.in_group:
            await ctx.reply(
                "general.start_group",
                concerning=(ctx.member.id,),  # it greets them by name
                name=ctx.member.display_name,
            )
            return
        if ctx.community is None:  # which neighbourhood is not known yet
            await ctx.reply(
                "general.start_private",
                buttons=[
                    [("button.need_help", "ask:start"), ("button.want_to_help", "offer:start")]
                ],
                concerning=(ctx.member.id,),
                name=ctx.member.display_name,
            )
            return
        # The kinds of help straight away: one tap fewer to ask. Where the house rules are
        # still to be accepted, they are on this message and the first tap accepts them.
        rules = rules_pending(ctx)

        def first(action: str) -> str:
            return f"rules:go:{action}" if rules else action

        categories = ctx.settings().categories
        rows: ButtonRows = [
            [(f"category.{c.value}", first(f"ask:new:{c.value}")) for c in categories[i : i + 3]]
            for i in range(0, len(categories), 3)
        ]
        await ctx.reply(
            "general.start_kinds_rules" if rules else "general.start_kinds",
            buttons=[*rows, [("button.want_to_help", first("offer:start"))]],
            concerning=(ctx.member.id,),
            name=ctx.member.display_name,
            rules=house_rules(ctx) if rules else "",
        )

    @registry.command("hulp", "help", help="help.help", answered_in_group=True)
    async def help_(ctx: Context, args: str) -> None:
        if args.strip().lower().strip(".!") in MORE:
            await all_commands(ctx)
            return
        lines = [
            ctx.t("help.line", command=command.name_in(ctx.lang), text=ctx.t(command.help_key))
            for name in FIRST_COMMANDS
            if (command := registry.find(name)) is not None
        ]
        await ctx.reply("help.short", commands="\n".join(lines))

    async def all_commands(ctx: Context) -> None:
        organiser = await ctx.is_organiser()
        lines = [
            ctx.t("help.line", command=command.name_in(ctx.lang), text=ctx.t(command.help_key))
            for command in registry
            if command.listed and (organiser or not command.organisers_only)
        ]
        await ctx.reply("help.intro", commands="\n".join(lines))

    @registry.command(
        "taal", "language", help="help.taal", where=Where.ANYWHERE, answered_in_group=True
    )
    async def language(ctx: Context, args: str) -> None:
        wanted = args.strip().lower()
        if not wanted:
            await ctx.reply(
                "language.choose",
                buttons=[
                    [("language.name_nl", "lang:nl"), ("language.name_en", "lang:en")],
                    [("language.name_tr", "lang:tr"), ("language.name_ar", "lang:ar")],
                ],
            )
            return
        await set_language(ctx, wanted)

    @registry.action("lang")
    async def language_button(ctx: Context, args: list[str]) -> None:
        await set_language(ctx, args[0] if args else "")


async def set_language(ctx: Context, wanted: str) -> None:
    lang = language_code(wanted)
    if lang not in ctx.catalog.languages:
        raise UserError("language.unknown", language=wanted[:20])
    await ctx.tx.set_language(ctx.member.id, lang)
    ctx.member = replace(ctx.member, language=lang)
    await ctx.reply("language.set")
