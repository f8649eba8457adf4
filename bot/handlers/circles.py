"""/cirkel: circles of neighbours who look out for each other (see ``bot.circles``).

``/cirkel`` shows your circle, or offers to start one or to see the circles nearby.
One-line forms: ``/cirkel nieuw Kerklaan``, ``/cirkel uitnodigen @els``, ``/cirkel meedoen
Kerklaan``, ``/cirkel graag boodschappen doen``, ``/cirkel nodig een lift``, ``/cirkel
contact @kees``, ``/cirkel open`` / ``dicht``, ``/cirkel verlaten``; organisers:
``/cirkel cijfers``, ``/cirkel partner 3 Welzijn Oegstgeest, 071 123 4567``.
"""

from __future__ import annotations

from bot import circles, gatherings, omkijken
from bot.circle_records import Circle, CircleRole, InviteKind
from bot.commands import Registry
from bot.context import Context, Literal
from bot.errors import UserError
from bot.model import Draft
from bot.people import member_named
from bot.words import record_number

# What a member may type after /cirkel, Dutch and English, and a few ways people say it.
WORDS = {
    "new": {"nieuw", "nieuwe", "new", "begin", "beginnen", "start", "starten", "maak"},
    "invite": {"uitnodigen", "invite", "uitnodiging"},
    "list": {"lijst", "list", "buurt", "alle", "all", "cirkels", "circles", "zoek"},
    "join": {"meedoen", "join", "doe", "aansluiten", "erbij"},
    "leave": {"verlaten", "leave", "stoppen", "stop", "eruit", "weg", "uit"},
    "likes": {"graag", "likes", "like", "doe-graag", "doegraag"},
    "need": {"nodig", "need", "needs", "misschien"},
    "contact": {"contact", "contactpersoon"},
    "open": {"open"},
    "close": {"dicht", "closed", "close", "sluiten", "gesloten"},
    "figures": {"cijfers", "figures", "overzicht", "stats"},
    "partner": {"partner"},
    "gathering": {"afspraak", "afspraken", "gathering", "gatherings", "meeting", "samenkomst"},
}
# "nodig" alone is ambiguous: "/cirkel nodig @els uit" invites, "/cirkel nodig hulp" is a need.
REMOVE = {"weg", "remove", "verwijderen", "los", "uit"}


def sub_command(args: str) -> tuple[str, str]:
    """The sub-command and the rest, as typed ("" when only /cirkel)."""
    word, _, rest = args.strip().partition(" ")
    word = word.lower().strip(":,.!")
    rest = rest.strip()
    if not word:
        return "", ""
    if word == "nodig" and rest.startswith("@"):
        who = rest.removesuffix(" uit").strip()
        return "invite", who
    for name, words in WORDS.items():
        if word in words:
            return name, rest
    return "unknown", args.strip()


async def show(ctx: Context) -> None:
    circle = await circles.circle_of(ctx)
    if circle is None:
        await ctx.reply(
            "circle.none_yet",
            limit=circles.size_limit(ctx),
            buttons=[
                [("circle.button_start", "circ:new"), ("circle.button_list", "circ:list")],
            ],
        )
        return
    await show_circle(ctx, circle)


async def show_circle(ctx: Context, circle: Circle) -> None:
    seen = await circles.view(ctx, circle)
    lines = []
    shown = []
    for member in seen.members:
        shown.append(member.member_id)
        name = await ctx.name_of(member.member_id)
        if member.role is CircleRole.CONTACT:
            name = ctx.t("circle.as_contact", name=name)
        parts = [name]
        if member.likes_to_do:
            parts.append(ctx.t("circle.likes_line", text=member.likes_to_do))
        if member.might_need:
            parts.append(ctx.t("circle.need_line", text=member.might_need))
        lines.append(ctx.t("circle.member_line", text="; ".join(parts)))
    extra = []
    for partner in seen.partners:
        extra.append(ctx.t("circle.partner_line", name=partner.name))
    waiting = []
    for pending in seen.invites:
        shown.append(pending.member_id)
        key = (
            "circle.waiting_invited" if pending.kind is InviteKind.INVITE else "circle.waiting_asks"
        )
        waiting.append(ctx.t(key, name=await ctx.name_of(pending.member_id)))
    if waiting:
        extra.append(ctx.t("circle.waiting", names=", ".join(waiting)))
    pairs = await omkijken.pairs_lines(ctx, circle)
    if pairs:
        extra.append(ctx.t("omkijken.pairs", pairs=pairs))
    await ctx.reply(
        "circle.show",
        concerning=shown,
        circle=circle.name,
        count=len(seen.members),
        limit=seen.limit,
        members="\n".join(lines),
        extra="".join(f"\n{line}" for line in extra),
        open=ctx.t("circle.is_open" if circle.open else "circle.is_closed"),
    )


async def show_list(ctx: Context) -> None:
    found = await circles.neighbourhood_circles(ctx)
    if not found:
        await ctx.reply("circle.list_empty", buttons=[[("circle.button_start", "circ:new")]])
        return
    mine = await circles.circle_of(ctx)
    limit = circles.size_limit(ctx)
    lines, buttons = [], []
    for circle, size in found:
        key = "circle.list_line_open" if circle.open else "circle.list_line_closed"
        lines.append(ctx.t(key, nr=circle.id, circle=circle.name, count=size, limit=limit))
        if mine is None and circle.open and size < limit:
            label = ctx.t("circle.button_ask_join", circle=circle.name)
            buttons.append([(Literal(label), f"cjoin:{circle.id}")])
    await ctx.reply(
        "circle.list" if mine is None else "circle.list_member",
        buttons=buttons,
        circles="\n".join(lines),
    )


async def ask_for_name(ctx: Context) -> None:
    ctx.need_community()
    current = await circles.circle_of(ctx)
    if current is not None:
        raise UserError("circle.already_in_one", name=current.name)
    await ctx.tx.save_draft(Draft(ctx.member.id, circles.JOIN_KIND, "name", {}, ctx.now))
    await ctx.reply("circle.ask_name")


async def start(ctx: Context, name: str) -> None:
    circle = await circles.start(ctx, name)
    await ctx.tx.drop_draft(ctx.member.id)
    await ctx.reply("circle.started", circle=circle.name)


async def circle_named(ctx: Context, text: str) -> Circle | None:
    """A circle of the neighbourhood by its name or number, as typed."""
    wanted = " ".join(text.split()).casefold()
    number = record_number(wanted)
    for circle, _ in await circles.neighbourhood_circles(ctx):
        if circle.id == number or circle.name.casefold() == wanted:
            return circle
    return None


async def join_by_name(ctx: Context, text: str) -> None:
    wanted = text.strip()
    if not wanted:
        await show_list(ctx)
        return
    found = await circle_named(ctx, wanted)
    if found is None:
        raise UserError("circle.unknown_name", name=wanted[:40])
    circle = await circles.ask_to_join(ctx, found.id)
    await ctx.reply("circle.asked_to_join", circle=circle.name)


async def answers_step(ctx: Context, step: str, circle_id: int) -> None:
    """Ask the next optional question after joining, or say it is done."""
    if step == "likes":
        await ctx.tx.save_draft(
            Draft(ctx.member.id, circles.JOIN_KIND, "need", {"circle": circle_id}, ctx.now)
        )
        await ctx.reply(
            "circle.ask_need", buttons=[[("circle.button_skip", f"cans:skip:{circle_id}")]]
        )
        return
    await ctx.tx.drop_draft(ctx.member.id)
    await ctx.reply("circle.answers_done")


def register(registry: Registry) -> None:
    @registry.command("cirkel", "circle", help="help.cirkel", needs_rules=True)
    async def circle_cmd(ctx: Context, args: str) -> None:
        ctx.need_community()
        sub, rest = sub_command(args)
        if sub == "":
            await show(ctx)
        elif sub == "new":
            if rest:
                await start(ctx, rest)
            else:
                await ask_for_name(ctx)
        elif sub == "invite":
            await circles.my_circle(ctx)  # first: is there a circle to invite to
            if not rest:
                raise UserError("circle.invite_who")
            who = await member_named(ctx, rest.split()[0])
            await circles.invite(ctx, who)
            await ctx.reply("circle.invite_sent", concerning=(who.id,), name=who.display_name)
        elif sub == "list":
            await show_list(ctx)
        elif sub == "join":
            await join_by_name(ctx, rest)
        elif sub == "leave":
            circle = await circles.leave(ctx)
            await ctx.reply("circle.left", circle=circle.name)
            orphans = await omkijken.leaving(ctx, circle, ctx.member.id)
            if orphans:  # they were someone's buddy this week: another one takes it on
                names = ", ".join([await ctx.name_of(m) for m in orphans])
                await ctx.reply("omkijken.left_buddy", concerning=orphans, names=names)
        elif sub in ("likes", "need"):
            if not rest:
                raise UserError(f"circle.{sub}_missing")
            if sub == "likes":
                await circles.set_answers(ctx, likes_to_do=rest)
            else:
                await circles.set_answers(ctx, might_need=rest)
            await ctx.reply("circle.answer_saved")
        elif sub == "contact":
            who = await member_named(ctx, rest.split()[0] if rest else "")
            now_contact = await circles.make_contact(ctx, who)
            key = "circle.contact_added" if now_contact else "circle.contact_removed"
            await ctx.reply(key, concerning=(who.id,), name=who.display_name)
        elif sub in ("open", "close"):
            circle = await circles.set_open(ctx, sub == "open")
            await ctx.reply(f"circle.now_{sub}", circle=circle.name)
        elif sub == "figures":
            await figures(ctx)
        elif sub == "partner":
            await partner(ctx, rest)
        elif sub == "gathering":
            if rest:
                await gatherings.plan(ctx, rest)
            else:
                await gatherings.show(ctx)
        else:
            named = await circle_named(ctx, rest)
            if named is None:
                raise UserError("circle.unknown_sub", text=rest[:30])
            await show_circle(ctx, named)  # only for its members

    async def figures(ctx: Context) -> None:
        found = await circles.figures(ctx, weeks=4)
        lines = [
            ctx.t(
                "circle.figures_line",
                nr=c.number,
                circle=c.name,
                count=c.members,
                partners=c.partners,
            )
            for c in found.circles
        ]
        lines.append(
            ctx.t(
                "circle.figures_checkins",
                set=found.checkins_set,
                asked=sum(w.asked for w in found.weeks),
                missed=sum(w.missed for w in found.weeks),
                followed=sum(w.followed_up for w in found.weeks),
            )
        )
        await ctx.reply(
            "circle.figures",
            lines="\n".join(lines),
            circles=len(found.circles),
            members=found.members,
            partners=found.partners,
        )

    async def partner(ctx: Context, text: str) -> None:
        await ctx.require_organiser()
        number_text, _, rest = text.partition(" ")
        number = record_number(number_text)
        if number is None:
            raise UserError("circle.partner_how")
        if rest.strip().lower() in REMOVE:
            circle = await circles.unlink_partner(ctx, number)
            await ctx.reply("circle.partner_removed", circle=circle.name)
            return
        name, _, contact = rest.partition(",")
        circle = await circles.link_partner(ctx, number, name, contact)
        await ctx.reply("circle.partner_added", circle=circle.name, partner=name.strip())

    @registry.action("circ")
    async def circle_button(ctx: Context, args: list[str]) -> None:
        if args == ["new"]:
            await ask_for_name(ctx)
        elif args == ["list"]:
            await show_list(ctx)
        else:
            raise UserError("error.button_unknown")

    @registry.action("cinv", needs_rules=True)
    async def invite_answer(ctx: Context, args: list[str]) -> None:
        verb, number = _verb_and_number(args)
        await circles.answer_invite(ctx, number, verb == "yes")

    @registry.action("cjoin", needs_rules=True)
    async def ask_join(ctx: Context, args: list[str]) -> None:
        number = record_number(args[0]) if len(args) == 1 else None
        if number is None:
            raise UserError("error.button_unknown")
        circle = await circles.ask_to_join(ctx, number)
        await ctx.reply("circle.asked_to_join", circle=circle.name)

    @registry.action("cask")
    async def decide(ctx: Context, args: list[str]) -> None:
        verb, number = _verb_and_number(args)
        await circles.decide_ask(ctx, number, verb == "yes")

    @registry.action("cans")
    async def skip(ctx: Context, args: list[str]) -> None:
        if len(args) != 2 or args[0] != "skip" or record_number(args[1]) is None:
            raise UserError("error.button_unknown")
        draft = await ctx.tx.draft(ctx.member.id)
        if draft is None or draft.kind != circles.JOIN_KIND or draft.step == "name":
            raise UserError("circle.question_gone")
        await ctx.settle_pressed("circle.skipped_short")
        await answers_step(ctx, draft.step, int(args[1]))

    @registry.draft(circles.JOIN_KIND)
    async def circle_text(ctx: Context, text: str) -> None:
        draft = await ctx.tx.draft(ctx.member.id)
        if draft is None:
            raise UserError("circle.question_gone")
        if draft.step == "name":
            await start(ctx, text)
            return
        circle = await circles.my_circle(ctx)
        if draft.step == "likes":
            await circles.set_answers(ctx, likes_to_do=text)
        else:
            await circles.set_answers(ctx, might_need=text)
        await answers_step(ctx, draft.step, circle.id)


def _verb_and_number(args: list[str]) -> tuple[str, int]:
    number = record_number(args[1]) if len(args) == 2 else None
    if number is None or args[0] not in ("yes", "no"):
        raise UserError("error.button_unknown")
    return args[0], number
