"""Every member's control over their own data: see it all, or be forgotten."""

from __future__ import annotations

import json

from bot import circles, closing, duework, mealtables, omkijken, tablework
from bot.commands import Registry, Where
from bot.context import Context
from bot.errors import UserError
from bot.matching import look_for_help
from bot.meals import when_text
from bot.model import MealTable, ProposalStatus, RequestStatus, SeatStatus, TableStatus
from bot.types import ChatKind

ACTIVE = (RequestStatus.OPEN, RequestStatus.MATCHED)


def register(registry: Registry) -> None:
    # the right to see and to erase one's own data holds for everyone, blocked or not
    registry.keep_for_everyone(commands=("mijngegevens", "vergeetmij"), verbs=("forget",))

    @registry.command("mijngegevens", "mydata", help="help.mijngegevens", where=Where.PRIVATE)
    async def my_data(ctx: Context, args: str) -> None:
        records = await ctx.tx.member_records(ctx.member.id)
        handles = [f"{i['platform']}: {i['handle'] or i['user_id']}" for i in records["identities"]]
        document = json.dumps(records, ensure_ascii=False, indent=2, sort_keys=True)
        # the requests they helped with and the reports they made show others too
        others = {r["requester_id"] for r in records["helped_with"]}
        others |= {r["member_id"] for r in records["reports_made"] if r["member_id"]}
        await ctx.tell(
            ctx.member.id,
            "privacy.my_data",
            attachment=("mijn-gegevens.json", document.encode("utf-8")),
            concerning=others,
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
        seen_by_others = await ctx.tx.erase_member(ctx.member.id, ctx.now)
        await take_back(ctx, seen_by_others)
        # the goodbye goes straight to this chat; it is blanked once delivered
        await ctx.reply_text(ctx.t("privacy.forgotten"))


async def let_go_of_everything(ctx: Context) -> None:
    """Before forgetting someone: withdraw their requests, hand back help they promised,
    say no to what they were asked, give up their seats and call off their tables."""
    me = ctx.member.id
    await circles.let_go(ctx)  # their circle keeps a contact person
    for membership in await ctx.tx.memberships(me):  # whom they looked after gets another
        circle = await ctx.tx.circle_of_member(me, membership.community_id)
        if circle is not None:
            await omkijken.leaving(ctx, circle, me)
    for offer in await ctx.tx.offers_of(me):  # so that nobody asks them again meanwhile
        await ctx.tx.delete_offer(offer.id)
    for request_id in await ctx.tx.pending_proposals_of(me):
        await ctx.tx.set_proposal_status(request_id, me, ProposalStatus.DECLINED)
        request = await ctx.tx.request(request_id)
        if request is None or request.status is not RequestStatus.OPEN:
            continue
        if not any(p.status is ProposalStatus.PENDING for p in await ctx.tx.proposals(request_id)):
            await look_for_help(ctx, request)
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
    for seat, table in await ctx.tx.seats_of_member(me, mealtables.ACTIVE_SEATS):
        if table.status is TableStatus.OPEN and table.starts_at > ctx.now:
            # the seat goes to the waiting list; the host is not told who left
            await ctx.tx.update_seat(seat.id, status=SeatStatus.CANCELLED, offered_until=None)
            await mealtables.offer_free_seats(ctx, table.id)
            await mealtables.refresh_posts(ctx, table.id)
    for table in await ctx.tx.tables_hosted_by(me, ctx.now):
        await call_off_hosted(ctx, table)


async def call_off_hosted(ctx: Context, table: MealTable) -> None:
    """A table of someone who is forgotten does not go ahead; each guest hears it in their
    own language, without the host's name or address. Its posts are taken back later."""
    if not await ctx.tx.close_table(table.id, TableStatus.CANCELLED):
        return
    await tablework.table_closed(ctx, table.id)
    community = await ctx.tx.community(table.community_id)
    for seat in await ctx.tx.seats(table.id, mealtables.ACTIVE_SEATS):
        await ctx.tx.update_seat(seat.id, status=SeatStatus.CANCELLED, offered_until=None)
        lang = await ctx.language_of(seat.member_id)
        await ctx.tell(
            seat.member_id,
            "privacy.table_host_gone",
            nr=table.id,
            when=when_text(table, ctx.now, community.timezone, lang),
        )


async def take_back(ctx: Context, outbox_ids: list[int]) -> None:
    """Messages about the forgotten member that others received are replaced there by a
    short neutral line, in the language of whoever received them."""
    for outbox_id in outbox_ids:
        original = await ctx.tx.outbox_row(outbox_id)
        if original is None:
            continue
        if original.kind is ChatKind.GROUP:
            chat = await ctx.tx.group_chat(original.platform, original.chat_id)
            lang = (await ctx.tx.community(chat.community_id)).language if chat else ctx.lang
        elif original.member_id is not None:
            lang = await ctx.language_of(original.member_id)
        else:
            lang = ctx.config.community.language
        await ctx.edit(outbox_id, ctx.catalog.text(lang, "privacy.taken_back"))
