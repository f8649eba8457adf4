"""Organisers' tools in the chat: thin callers of ``bot.organising``, which holds the use
cases and the role checks; here their results are put into words from the catalogs."""

from __future__ import annotations

from datetime import timedelta

from bot import organising
from bot.commands import Registry, Where
from bot.context import Context, Literal
from bot.errors import UserError
from bot.handlers.requests import request_from
from bot.model import RequestStatus
from bot.people import member_named
from bot.words import record_number

OVERVIEW_LIMIT = 10


def age(ctx: Context, waiting: timedelta) -> str:
    hours = int(waiting.total_seconds() // 3600)
    if hours < 1:
        return ctx.t("overview.age_new")
    if hours < 48:
        return ctx.t("overview.age_hours", hours=hours)
    return ctx.t("overview.age_days", days=hours // 24)


def register(registry: Registry) -> None:
    @registry.command("organisator", "organiser", help="help.organisator", organisers_only=True)
    async def appoint(ctx: Context, args: str) -> None:
        community = await organising.organiser_in(ctx)
        member = await member_named(ctx, args)
        await organising.appoint(ctx, community.id, member.id)
        await ctx.reply("organiser.appointed", concerning=(member.id,), name=member.display_name)

    @registry.command(
        "overzicht", "overview", help="help.overzicht", where=Where.PRIVATE, organisers_only=True
    )
    async def overview(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        found = await organising.open_requests(ctx, community.id, OVERVIEW_LIMIT)
        if not found.requests:
            await ctx.reply("overview.nothing")
            return
        lines, buttons = [], []
        named: set[int] = set()
        for request in found.requests:
            named.add(request.requester_id)
            if request.status is RequestStatus.OPEN:
                status = ctx.t("overview.open", asked=request.asked)
                buttons.append(
                    [
                        (
                            Literal(ctx.t("button.pick_up_nr", nr=request.id)),
                            f"org:take:{request.id}",
                        ),
                        (Literal(ctx.t("button.assign_nr", nr=request.id)), f"assign:{request.id}"),
                    ]
                )
            else:
                assert request.helper_id is not None
                named.add(request.helper_id)
                status = ctx.t("overview.matched", name=request.helper_name)
            lines.append(
                ctx.t(
                    "overview.line",
                    nr=request.id,
                    summary=request.summary,
                    name=request.requester_name,
                    age=age(ctx, request.waiting),
                    status=status,
                )
            )
        more = found.total - len(found.requests)
        if more > 0:
            lines.append(ctx.t("overview.more", count=more))
        await ctx.reply("overview.intro", buttons=buttons, concerning=named, items="\n".join(lines))

    @registry.action("assign")
    async def assign(ctx: Context, args: list[str]) -> None:
        request = await request_from(ctx, args[:1])
        if len(args) == 1:
            choices = await organising.helper_choices(ctx, request.id)
            if not choices:
                raise UserError("assign.nobody", nr=request.id)
            await ctx.reply(
                "assign.choose",
                concerning=[c.member_id for c in choices],
                buttons=[
                    [(Literal(c.name), f"assign:{request.id}:{c.member_id}")] for c in choices
                ],
                nr=request.id,
            )
            return
        helper_id = record_number(args[1])
        if helper_id is None or len(args) != 2:
            raise UserError("error.button_unknown")
        await organising.assign(ctx, request.id, helper_id)

    @registry.command(
        "namens", "on_behalf", help="help.namens", where=Where.PRIVATE, organisers_only=True
    )
    async def on_behalf(ctx: Context, args: str) -> None:
        community = await organising.organiser_in(ctx)
        who, colon, line = args.partition(":")
        if not colon:
            raise UserError("behalf.how")

        async def confirm(placed: organising.OnBehalf) -> None:
            await ctx.reply(
                "behalf.placed",
                concerning=(placed.neighbour_id,),
                nr=placed.request_id,
                name=placed.neighbour_name,
            )
            if placed.screened:
                await ctx.reply(
                    "details.behalf_group_text",
                    concerning=(placed.neighbour_id,),
                    text=placed.group_text,
                )

        await organising.on_behalf(ctx, community.id, who, line, placed=confirm)

    @registry.command(
        "statistiek", "stats", help="help.statistiek", where=Where.PRIVATE, organisers_only=True
    )
    async def stats(ctx: Context, args: str) -> None:
        community = await organising.organiser_in(ctx)
        days_text = args.strip().split()[0] if args.strip() else "30"
        if not days_text.isdecimal() or len(days_text) > 5:
            raise UserError("stats.bad_period")
        found = await organising.figures(ctx, community.id, int(days_text))
        await ctx.reply(
            "stats.report",
            days=found.days,
            asked=found.asked,
            matched=found.matched,
            done=found.done,
            open=found.open,
            cancelled=found.cancelled,
            unknown=found.unknown,
            helpers=found.helpers,
            members=found.members,
        )

    @registry.command("export", help="help.export", where=Where.PRIVATE, organisers_only=True)
    async def export(ctx: Context, args: str) -> None:
        community = await organising.organiser_in(ctx)
        made = await organising.export_requests(ctx, community.id)
        await ctx.tell(
            ctx.member.id,
            "export.ready",
            concerning=made.members,
            attachment=(made.filename, made.content),
            count=made.count,
        )

    @registry.command(
        "logboek", "log", help="help.logboek", where=Where.PRIVATE, organisers_only=True
    )
    async def log(ctx: Context, args: str) -> None:
        community = await organising.organiser_in(ctx)
        entries = await organising.audit_log(ctx, community.id, 20)
        if not entries:
            await ctx.reply("auditlog.empty")
            return
        tz = ctx.tz()
        named = {entry.actor_id for entry in entries if entry.actor_id}
        lines = [
            ctx.t(
                "auditlog.line",
                when=entry.created_at.astimezone(tz).strftime("%d-%m %H:%M"),
                who=entry.actor_name or "-",
                action=ctx.t(f"auditlog.action.{entry.action}"),
                subject=entry.subject,
            )
            for entry in entries
        ]
        await ctx.reply("auditlog.intro", concerning=named, items="\n".join(lines))
