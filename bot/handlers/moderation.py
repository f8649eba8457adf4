"""Moderation: reports, hiding a request, pausing and blocking a member."""

from __future__ import annotations

from bot import closing, limits
from bot.commands import Registry, Where
from bot.context import Context
from bot.errors import UserError
from bot.model import HelpRequest, Member, MemberStatus, RequestStatus
from bot.people import audit, member_named, request_numbered
from bot.types import ChatKind
from bot.words import record_number

MAX_REASON = 300
ACTIVE = (RequestStatus.OPEN, RequestStatus.MATCHED)


async def hide(ctx: Context, request: HelpRequest) -> None:
    """Take a request down: out of the group, helpers told, the requester told politely."""
    hidden = await closing.close(
        ctx,
        request,
        RequestStatus.HIDDEN,
        helper_key="moderation.hidden_helper",
        group_key="moderation.hidden_short",
    )
    if hidden is None:
        raise UserError("request.closed")
    await ctx.tell(hidden.requester_id, "moderation.hidden_requester", nr=hidden.id)


async def set_status(ctx: Context, member: Member, status: MemberStatus) -> None:
    community = ctx.need_community()
    if member.id == ctx.member.id:
        raise UserError("moderation.not_yourself")
    await ctx.tx.set_member_status(member.id, community.id, status)
    await audit(ctx, f"member_{status.value}", f"member:{member.id}")
    if status is MemberStatus.PAUSED:
        await ctx.tell(member.id, "moderation.you_were_paused")
    elif status is MemberStatus.ACTIVE:
        await ctx.tell(member.id, "moderation.you_were_unblocked")
    else:
        await close_everything(ctx, member)
        await ctx.tell(member.id, "moderation.you_were_blocked")


async def member_here(ctx: Context, member_id: int) -> Member:
    membership = await ctx.tx.membership(member_id, ctx.need_community().id)
    if membership is None:
        raise UserError("people.not_found", who=str(member_id))
    return await ctx.tx.member(member_id)


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
        request = await request_numbered(ctx, args)
        await hide(ctx, request)
        await audit(ctx, "hide_request", f"request:{request.id}")
        await ctx.reply("moderation.hidden_done", nr=request.id)

    def status_command(names: tuple[str, str], status: MemberStatus, done_key: str) -> None:
        @registry.command(
            *names, help=f"help.{names[0]}", where=Where.PRIVATE, organisers_only=True
        )
        async def change(ctx: Context, args: str) -> None:
            member = await member_named(ctx, args)
            await set_status(ctx, member, status)
            await ctx.reply(done_key, concerning=(member.id,), name=member.display_name)

    status_command(("pauzeer", "suspend"), MemberStatus.PAUSED, "moderation.paused_done")
    status_command(("blokkeer", "block"), MemberStatus.BLOCKED, "moderation.blocked_done")
    status_command(("deblokkeer", "unblock"), MemberStatus.ACTIVE, "moderation.unblocked_done")

    @registry.action("mod")
    async def moderate(ctx: Context, args: list[str]) -> None:
        await ctx.require_organiser()
        number = record_number(args[1]) if len(args) == 2 else None
        if number is None:
            raise UserError("error.button_unknown")
        verb = args[0]
        if verb == "hide":
            request = await request_numbered(ctx, str(number))
            await hide(ctx, request)
            await audit(ctx, "hide_request", f"request:{number}")
            await ctx.settle_pressed("moderation.hidden_short")
            await ctx.reply("moderation.hidden_done", nr=number)
            return
        statuses = {"pause": MemberStatus.PAUSED, "block": MemberStatus.BLOCKED}
        if verb not in statuses:
            raise UserError("error.button_unknown")
        member = await member_here(ctx, number)
        await set_status(ctx, member, statuses[verb])
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


async def close_everything(ctx: Context, member: Member) -> None:
    """A blocked member's open requests are closed and their offers paused."""
    community = ctx.need_community()
    for request in await ctx.tx.requests_of(member.id, ACTIVE):
        if request.community_id == community.id:
            await closing.close(
                ctx, request, RequestStatus.CANCELLED, helper_key="moderation.hidden_helper"
            )
    for offer in await ctx.tx.offers_of(member.id):
        if offer.community_id == community.id:
            await ctx.tx.set_offer_paused(offer.id, True)
