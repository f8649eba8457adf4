"""Moderation: reports, hiding a request, pausing and blocking a member."""

from __future__ import annotations

from bot import limits, organising
from bot.commands import Registry, Where
from bot.context import Context
from bot.errors import UserError
from bot.model import MemberStatus, RequestStatus
from bot.people import member_named, request_numbered
from bot.types import ChatKind
from bot.words import record_number

MAX_REASON = 300
ACTIVE = (RequestStatus.OPEN, RequestStatus.MATCHED)


def register(registry: Registry) -> None:
    @registry.command("meld", "report", help="help.meld")
    async def report(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        target, _, reason = args.strip().partition(" ")
        if not target:
            raise UserError("report.how")
        if len(reason) > MAX_REASON:
            raise UserError("report.too_long", limit=MAX_REASON)
        request_id = member_id = None
        if target.lstrip("#").isdecimal():
            request = await request_numbered(ctx, target)
            request_id, reported = request.id, request.requester_id
            about = ctx.t("report.about_request", nr=request_id)
        else:
            member = await member_named(ctx, target)
            member_id = reported = member.id
            about = ctx.t("report.about_member", name=member.display_name)
        reason = reason.strip()
        if await limits.reached(ctx, limits.Kind.REPORT):
            return
        filed = await ctx.tx.add_report(
            community.id, ctx.member.id, request_id, member_id, reason, ctx.now
        )
        await limits.count(ctx, limits.Kind.REPORT)
        named = (ctx.member.id, reported)
        # never to the one it is about: the other organisers, else whoever runs the bot
        organisers = [o for o in await ctx.tx.organisers(community.id) if o != reported]
        if not organisers and not await tell_operator(ctx, filed.id, about, reason, named):
            await ctx.tell(ctx.member.id, "report.nobody_to_tell")
            return
        await ctx.tell(ctx.member.id, "report.thanks")
        for organiser in organisers:
            buttons = []
            if request_id is not None:
                buttons.append([("button.hide_request", f"mod:hide:{request_id}")])
            if member_id is not None:
                buttons.append(
                    [
                        ("button.pause_member", f"mod:pause:{member_id}"),
                        ("button.block_member", f"mod:block:{member_id}"),
                    ]
                )
            await ctx.tell(
                organiser,
                "report.to_organisers",
                buttons=buttons,
                concerning=named,
                nr=filed.id,
                reporter=ctx.member.display_name,
                about=about,
                reason=reason or "-",
            )

    @registry.command(
        "verberg", "hide", help="help.verberg", where=Where.PRIVATE, organisers_only=True
    )
    async def hide_cmd(ctx: Context, args: str) -> None:
        await organising.organiser_in(ctx)
        request = await request_numbered(ctx, args)
        await organising.hide_request(ctx, request.id)
        await ctx.reply("moderation.hidden_done", nr=request.id)

    def status_command(names: tuple[str, str], status: MemberStatus, done_key: str) -> None:
        @registry.command(
            *names, help=f"help.{names[0]}", where=Where.PRIVATE, organisers_only=True
        )
        async def change(ctx: Context, args: str) -> None:
            community = await organising.organiser_in(ctx)
            member = await member_named(ctx, args)
            await organising.set_member_status(ctx, community.id, member.id, status)
            await ctx.reply(done_key, concerning=(member.id,), name=member.display_name)

    status_command(("pauzeer", "suspend"), MemberStatus.PAUSED, "moderation.paused_done")
    status_command(("blokkeer", "block"), MemberStatus.BLOCKED, "moderation.blocked_done")
    status_command(("deblokkeer", "unblock"), MemberStatus.ACTIVE, "moderation.unblocked_done")

    @registry.action("mod")
    async def moderate(ctx: Context, args: list[str]) -> None:
        community = await organising.organiser_in(ctx)
        number = record_number(args[1]) if len(args) == 2 else None
        if number is None:
            raise UserError("error.button_unknown")
        verb = args[0]
        if verb == "hide":
            request = await request_numbered(ctx, str(number))
            await organising.hide_request(ctx, request.id)
            await ctx.settle_pressed("moderation.hidden_short")
            await ctx.reply("moderation.hidden_done", nr=number)
            return
        statuses = {"pause": MemberStatus.PAUSED, "block": MemberStatus.BLOCKED}
        if verb not in statuses:
            raise UserError("error.button_unknown")
        member = await organising.set_member_status(ctx, community.id, number, statuses[verb])
        key = "moderation.paused_done" if verb == "pause" else "moderation.blocked_done"
        await ctx.settle_pressed(key, concerning=(member.id,), name=member.display_name)
        await ctx.reply(key, concerning=(member.id,), name=member.display_name)


async def tell_operator(
    ctx: Context, report_id: int, about: str, reason: str, named: tuple[int, int]
) -> bool:
    """Pass a report to whoever runs the bot (from the configuration); False when unset."""
    contact = ctx.config.operator_contact
    if contact is None:
        return False
    community = ctx.need_community()
    text = ctx.catalog.text(
        community.language,
        "report.to_operator",
        community=community.name,
        nr=report_id,
        reporter=ctx.member.display_name,
        about=about,
        reason=reason or "-",
    )
    await ctx.tx.enqueue(
        platform=contact[0],
        chat_id=contact[1],
        kind=ChatKind.PRIVATE,
        member_id=None,
        text=text,
        buttons=(),
        edit_of=None,
        attachment=None,
        now=ctx.now,
        about=named,
    )
    return True
