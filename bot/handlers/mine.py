"""What is mine: /mijn, and closing requests with /klaar and /annuleer."""

from __future__ import annotations

from datetime import timedelta

from bot import closing, duework
from bot.commands import Registry
from bot.context import ButtonRows, Context, Literal
from bot.errors import UserError
from bot.handlers.offers import offer_summary
from bot.handlers.requests import request_from
from bot.model import HelpRequest, RequestStatus
from bot.words import money, record_number, request_summary

ACTIVE = (RequestStatus.OPEN, RequestStatus.MATCHED)


async def closable(ctx: Context, for_cancel: bool) -> list[HelpRequest]:
    mine = await ctx.tx.requests_of(ctx.member.id, ACTIVE)
    if for_cancel:
        return mine
    helping = await ctx.tx.requests_helped_by(ctx.member.id, [RequestStatus.MATCHED])
    return [r for r in mine if r.status is RequestStatus.MATCHED] + helping


async def pick(ctx: Context, args: str, verb: str, for_cancel: bool) -> HelpRequest | None:
    """The request meant: by number, the only candidate, or None after offering buttons."""
    candidates = await closable(ctx, for_cancel)
    typed = args.strip()
    if typed:
        number = record_number(typed)
        if number is None:
            raise UserError("close.bad_number", text=typed.lstrip("#")[:20])
        chosen = [r for r in candidates if r.id == number]
        if not chosen:
            raise UserError("close.not_yours", nr=number)
        return chosen[0]
    if not candidates:
        if not for_cancel and (finished := await recently_finished(ctx)) is not None:
            raise UserError("close.already_done", nr=finished.id)
        raise UserError("close.nothing_to_cancel" if for_cancel else "close.nothing_to_finish")
    if len(candidates) == 1:
        return candidates[0]
    community = ctx.need_community()
    await ctx.tell(
        ctx.member.id,
        "close.which",
        buttons=[
            [
                (
                    Literal(
                        request_summary(ctx.catalog, ctx.lang, r, ctx.now, community.timezone)[:60]
                    ),
                    f"{verb}:{r.id}",
                )
            ]
            for r in candidates
        ],
    )
    return None


async def recently_finished(ctx: Context) -> HelpRequest | None:
    """The last request of mine finished in the past week: the other side closed it first."""
    done = [RequestStatus.DONE]
    finished = await ctx.tx.requests_of(ctx.member.id, done)
    finished += await ctx.tx.requests_helped_by(ctx.member.id, done)
    recent = [r for r in finished if r.closed_at and ctx.now - r.closed_at <= timedelta(days=7)]
    return max(recent, key=lambda r: (r.closed_at, r.id), default=None)


async def finish(ctx: Context, request: HelpRequest) -> None:
    if request.status is not RequestStatus.MATCHED or ctx.member.id not in (
        request.requester_id,
        request.helper_id,
    ):
        raise UserError("close.not_yours", nr=request.id)
    if not await ctx.tx.close_request(request.id, RequestStatus.DONE, ctx.now):
        raise UserError("request.closed")
    await duework.request_closed(ctx, request.id)
    assert request.helper_id is not None
    other = request.helper_id if ctx.member.id == request.requester_id else request.requester_id
    await ctx.settle_pressed("close.done_short")
    await ctx.tell(ctx.member.id, "close.done_self", nr=request.id)
    await ctx.tell(
        other,
        "close.done_other",
        concerning=(ctx.member.id,),
        nr=request.id,
        name=ctx.member.display_name,
    )


async def cancel(ctx: Context, request: HelpRequest) -> None:
    if request.requester_id != ctx.member.id:
        raise UserError("close.not_yours", nr=request.id)
    await ctx.settle_pressed("close.cancelled_short")
    await ctx.tell(ctx.member.id, "close.cancelled_self", nr=request.id)
    closed = await closing.close(
        ctx,
        request,
        RequestStatus.CANCELLED,
        helper_key="close.cancelled_helper",
        name=ctx.member.display_name,
    )
    if closed is None:  # the answer above is rolled back with everything else
        raise UserError("request.closed")
    await ctx.tx.drop_draft(ctx.member.id)


def register(registry: Registry) -> None:
    @registry.command("klaar", "done", help="help.klaar")
    async def done_cmd(ctx: Context, args: str) -> None:
        request = await pick(ctx, args, "done", for_cancel=False)
        if request is not None:
            await finish(ctx, request)

    @registry.action("done")
    async def done_button(ctx: Context, args: list[str]) -> None:
        await finish(ctx, await request_from(ctx, args))

    @registry.command("annuleer", "cancel", help="help.annuleer")
    async def cancel_cmd(ctx: Context, args: str) -> None:
        request = await pick(ctx, args, "cancel", for_cancel=True)
        if request is not None:
            await cancel(ctx, request)

    @registry.action("cancel")
    async def cancel_button(ctx: Context, args: list[str]) -> None:
        await cancel(ctx, await request_from(ctx, args))

    @registry.command("mijn", "mine", help="help.mijn")
    async def mine(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        lang, tz = ctx.lang, community.timezone
        sections: list[str] = []
        buttons: list[list[tuple[str, str]]] = []
        named: set[int] = set()  # the others whose names and requests it shows

        def summary(r: HelpRequest, written_in: str | None = None) -> str:
            return request_summary(ctx.catalog, lang, r, ctx.now, tz, written_in=written_in)

        for r in await ctx.tx.requests_of(ctx.member.id, ACTIVE):
            if r.helper_id is not None:
                named.add(r.helper_id)
                status = ctx.t("mine.helped_by", name=await ctx.name_of(r.helper_id))
                buttons.append(
                    [
                        (Literal(ctx.t("button.done_nr", nr=r.id)), f"done:{r.id}"),
                        (Literal(ctx.t("button.cancel_nr", nr=r.id)), f"cancel:{r.id}"),
                    ]
                )
            else:
                status = ctx.t("mine.looking")
                buttons.append([(Literal(ctx.t("button.cancel_nr", nr=r.id)), f"cancel:{r.id}")])
            sections.append(ctx.t("mine.request", nr=r.id, summary=summary(r), status=status))
        for r in await ctx.tx.requests_helped_by(ctx.member.id, [RequestStatus.MATCHED]):
            named.add(r.requester_id)
            sections.append(
                ctx.t(
                    "mine.helping",
                    nr=r.id,
                    summary=summary(r, await ctx.language_of(r.requester_id)),
                    name=await ctx.name_of(r.requester_id),
                )
            )
            buttons.append([(Literal(ctx.t("button.done_nr", nr=r.id)), f"done:{r.id}")])
        for offer in await ctx.tx.offers_of(ctx.member.id):
            state = ctx.t("mine.paused") if offer.paused else ""
            sections.append(
                ctx.t("mine.offer", summary=offer_summary(ctx, offer, lang), paused=state)
            )
            verb, label = ("resume", "button.resume") if offer.paused else ("pause", "button.pause")
            buttons.append(
                [
                    (Literal(ctx.t(label, nr=offer.id)), f"offer:{verb}:{offer.id}"),
                    (
                        Literal(ctx.t("button.delete_offer", nr=offer.id)),
                        f"offer:delete:{offer.id}",
                    ),
                ]
            )
        sections.extend(await open_money(ctx, buttons, named))
        if not sections:
            await ctx.tell(ctx.member.id, "mine.nothing")
            return
        rows: ButtonRows = buttons
        await ctx.tell(
            ctx.member.id,
            "mine.overview",
            buttons=rows,
            concerning=named,
            items="\n".join(sections),
        )


async def open_money(
    ctx: Context, buttons: list[list[tuple[str, str]]], named: set[int]
) -> list[str]:
    """Advances not yet repaid, between me and the people I helped or who helped me."""
    lines = []
    requests = await ctx.tx.requests_of(
        ctx.member.id, [RequestStatus.MATCHED, RequestStatus.DONE]
    ) + await ctx.tx.requests_helped_by(ctx.member.id, [RequestStatus.MATCHED, RequestStatus.DONE])
    for request in requests:
        for expense in await ctx.tx.expenses(request.id):
            if expense.repaid_at is not None:
                continue
            amount = money(expense.amount_cents, ctx.lang)
            if request.requester_id == ctx.member.id:
                assert request.helper_id is not None
                named.add(request.helper_id)
                name = await ctx.name_of(request.helper_id)
                lines.append(ctx.t("mine.you_owe", amount=amount, name=name, nr=request.id))
                buttons.append(
                    [
                        (
                            Literal(ctx.t("button.repaid_amount", amount=amount)),
                            f"repaid:{expense.id}",
                        )
                    ]
                )
            else:
                named.add(request.requester_id)
                name = await ctx.name_of(request.requester_id)
                lines.append(ctx.t("mine.owed_to_you", amount=amount, name=name, nr=request.id))
    return lines
