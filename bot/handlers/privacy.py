"""Every member's control over their own data: see it all, or be forgotten."""

from __future__ import annotations

import json

from bot import closing, duework
from bot.commands import Registry, Where
from bot.context import Context
from bot.errors import UserError
from bot.matching import look_for_help
from bot.model import RequestStatus

ACTIVE = (RequestStatus.OPEN, RequestStatus.MATCHED)


def register(registry: Registry) -> None:
    @registry.command("mijngegevens", "mydata", help="help.mijngegevens", where=Where.PRIVATE)
    async def my_data(ctx: Context, args: str) -> None:
        records = await ctx.tx.member_records(ctx.member.id)
        handles = [f"{i['platform']}: {i['handle'] or i['user_id']}" for i in records["identities"]]
        document = json.dumps(records, ensure_ascii=False, indent=2, sort_keys=True)
        await ctx.tell(
            ctx.member.id,
            "privacy.my_data",
            attachment=("mijn-gegevens.json", document.encode("utf-8")),
            name=ctx.member.display_name,
            language=ctx.lang,
            accounts=", ".join(handles) or "-",
            requests=len(records["requests"]),
            helped=len(records["helped_with"]),
            offers=len(records["offers"]),
            expenses=len(records["expenses"]),
            reports=len(records["reports_made"]),
        )

    @registry.command("vergeetmij", "forgetme", help="help.vergeetmij", where=Where.PRIVATE)
    async def forget_me(ctx: Context, args: str) -> None:
        await ctx.tell(
            ctx.member.id,
            "privacy.forget_confirm",
            buttons=[[("button.forget_yes", "forget:yes"), ("button.forget_no", "forget:no")]],
        )

    @registry.action("forget")
    async def forget(ctx: Context, args: list[str]) -> None:
        if args != ["yes"]:
            await ctx.settle_pressed("privacy.forget_kept_short")
            await ctx.reply("privacy.forget_kept")
            return
        if ctx.member.erased:
            raise UserError("privacy.already_forgotten")
        await let_go_of_everything(ctx)
        await ctx.tx.erase_member(ctx.member.id, ctx.now)
        # the goodbye goes straight to this chat; it is blanked once delivered
        await ctx.reply_text(ctx.t("privacy.forgotten"))


async def let_go_of_everything(ctx: Context) -> None:
    """Before forgetting someone: withdraw their requests, hand back help they promised."""
    me = ctx.member.id
    for request in await ctx.tx.requests_of(me, ACTIVE):
        await closing.close(
            ctx, request, RequestStatus.CANCELLED, helper_key="privacy.request_gone"
        )
    for request in await ctx.tx.requests_helped_by(me, [RequestStatus.MATCHED]):
        if await ctx.tx.reopen_request(request.id, clear_time=False, now=ctx.now):
            await duework.request_closed(ctx, request.id)
            await ctx.tell(request.requester_id, "privacy.helper_gone", nr=request.id)
            reopened = await ctx.tx.request(request.id)
            assert reopened is not None
            await look_for_help(ctx, reopened)
            await duework.request_opened(ctx, reopened)
