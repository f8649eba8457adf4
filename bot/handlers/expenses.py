"""Money advanced ("voorschieten"): the helper records it, the requester confirms repayment."""

from __future__ import annotations

from bot.commands import Registry
from bot.context import Context
from bot.errors import UserError
from bot.model import RequestStatus
from bot.words import AmbiguousAmount, find_amount, money, record_number

MAX_CENTS = 500_00


def register(registry: Registry) -> None:
    @registry.command("voorgeschoten", "advanced", help="help.voorgeschoten")
    async def advanced(ctx: Context, args: str) -> None:
        words = args.split()
        number = None
        for index, word in enumerate(words):  # "#12", anywhere
            if word.startswith("#") and word[1:].strip(".,").isdecimal():
                number = record_number(words.pop(index).strip(".,"))
                if number is None:
                    raise UserError("expense.no_request")
                break
        try:
            cents = find_amount(" ".join(words))
        except AmbiguousAmount as problem:
            choices = [money(choice, ctx.lang) for choice in problem.choices]
            raise UserError(
                "expense.ambiguous", text=" ".join(words)[:40], choices=" / ".join(choices)
            ) from None
        if cents is None:
            raise UserError("expense.bad_amount", text=" ".join(words)[:30])
        if not 0 < cents <= MAX_CENTS:
            raise UserError("expense.out_of_range", max=money(MAX_CENTS, ctx.lang))
        helping = await ctx.tx.requests_helped_by(
            ctx.member.id, [RequestStatus.MATCHED, RequestStatus.DONE]
        )
        if number is not None:
            helping = [r for r in helping if r.id == number]
        elif len(helping) > 1:
            helping = [r for r in helping if r.status is RequestStatus.MATCHED] or helping[-1:]
        if not helping:
            raise UserError("expense.no_request")
        if len(helping) > 1:
            raise UserError("expense.which", numbers=", ".join(f"#{r.id}" for r in helping))
        request = helping[0]
        expense = await ctx.tx.add_expense(request.id, cents, ctx.now)
        await ctx.tell(
            ctx.member.id,
            "expense.recorded",
            concerning=(request.requester_id,),
            amount=money(cents, ctx.lang),
            name=await ctx.name_of(request.requester_id),
        )
        requester_lang = await ctx.language_of(request.requester_id)
        await ctx.tell(
            request.requester_id,
            "expense.please_repay",
            buttons=[[("button.repaid", f"repaid:{expense.id}")]],
            concerning=(ctx.member.id,),
            amount=money(cents, requester_lang),
            name=ctx.member.display_name,
            nr=request.id,
        )

    @registry.action("repaid")
    async def repaid(ctx: Context, args: list[str]) -> None:
        if len(args) != 1 or not args[0].isdecimal():
            raise UserError("error.button_unknown")
        found = await ctx.tx.expense(int(args[0]))
        if found is None:
            raise UserError("expense.gone")
        expense, request = found
        if request.requester_id != ctx.member.id:
            raise UserError("expense.not_yours")
        if not await ctx.tx.mark_repaid(expense.id, ctx.now):
            raise UserError("expense.already_repaid")
        assert request.helper_id is not None
        await ctx.settle_pressed("expense.repaid_short")
        await ctx.tell(
            ctx.member.id, "expense.repaid_self", amount=money(expense.amount_cents, ctx.lang)
        )
        helper_lang = await ctx.language_of(request.helper_id)
        await ctx.tell(
            request.helper_id,
            "expense.repaid_helper",
            concerning=(ctx.member.id,),
            amount=money(expense.amount_cents, helper_lang),
            name=ctx.member.display_name,
        )
