"""The house rules, approval of new helpers, and vouching for helpers."""

from __future__ import annotations

from dataclasses import replace

from bot.commands import Registry, Where
from bot.context import Context
from bot.errors import UserError
from bot.model import Category, Draft, HelperStatus
from bot.people import audit, member_named, vouched
from bot.words import NO_WORDS, YES_WORDS, record_number

KIND = "rules"


def house_rules(ctx: Context) -> str:
    return ctx.settings().house_rules or ctx.t("rules.default")


async def rules_gate(ctx: Context, text: str | None, action: str | None) -> bool:
    """Let members take part once they accepted the house rules; until then show the rules
    with a button, and keep what they asked for so it goes on right after."""
    if not rules_pending(ctx):
        return True
    pending = {"text": text} if text is not None else {"action": action}
    await ctx.tx.save_draft(Draft(ctx.member.id, KIND, "accept", pending, ctx.now))
    await show_rules(ctx)
    return False


async def show_rules(ctx: Context) -> None:
    await ctx.tell(
        ctx.member.id,
        "rules.please_accept",
        buttons=[[("button.accept_rules", "rules:ok")]],
        rules=house_rules(ctx),
    )


async def new_helper(ctx: Context) -> None:
    """A member offers help for the first time: organisers approve, where the community wants."""
    community = ctx.need_community()
    membership = ctx.membership
    if not ctx.settings().approve_helpers or membership is None:
        return
    if membership.helper_status is not HelperStatus.NONE:
        return
    await ctx.tx.set_helper_status(ctx.member.id, community.id, HelperStatus.PENDING)
    ctx.membership = replace(membership, helper_status=HelperStatus.PENDING)
    await ctx.tell(ctx.member.id, "approval.waiting")
    for organiser in await ctx.tx.organisers(community.id):
        await ctx.tell(
            organiser,
            "approval.asked",
            buttons=[
                [
                    ("button.approve", f"approve:{ctx.member.id}:yes"),
                    ("button.refuse", f"approve:{ctx.member.id}:no"),
                ]
            ],
            concerning=(ctx.member.id,),
            name=ctx.member.display_name,
        )


YES = {
    "ja",
    "yes",
    "ok",
    "oké",
    "okay",
    "akkoord",
    "goed",
    "prima",
    "j",
    "y",
    "ja graag",
    "graag",
} | YES_WORDS
NO = {"nee", "no", "n", "neen", "liever niet"} | NO_WORDS
# The first steps a welcome may offer with the house rules on it (``rules:go:<action>``).
FIRST_ACTIONS = {"offer:start", "ask:start", *(f"ask:new:{c.value}" for c in Category)}


async def accept_rules(ctx: Context) -> None:
    community = ctx.need_community()
    await ctx.tx.accept_rules(ctx.member.id, community.id, ctx.now)
    if ctx.membership is not None:
        ctx.membership = replace(ctx.membership, rules_accepted_at=ctx.now)


def rules_pending(ctx: Context) -> bool:
    """The member still has to accept the house rules before taking part."""
    if ctx.community is None or ctx.membership is None:
        return False
    return ctx.settings().rules_required and ctx.membership.rules_accepted_at is None


def register(registry: Registry) -> None:
    registry.gate = rules_gate

    @registry.action("rules")
    async def accept(ctx: Context, args: list[str]) -> None:
        if args[:1] == ["go"] and ":".join(args[1:]) in FIRST_ACTIONS:
            # a first step on a message that showed the house rules: pressing it accepts them
            await accept_rules(ctx)
            if ctx.run_action is not None:
                await ctx.run_action(ctx, ":".join(args[1:]))
            return
        await ctx.settle_pressed("rules.accepted_short")
        ctx.pressed = None  # what follows is not about the rules message
        await accepted(ctx)

    @registry.draft(KIND)
    async def answer(ctx: Context, text: str) -> None:
        """The rules were shown and the member typed instead of pressing the button."""
        low = text.strip().lower().strip(".!")
        if low in YES:
            await accepted(ctx)
        elif low in NO:
            await ctx.tx.drop_draft(ctx.member.id)
            await ctx.reply("rules.declined")
        else:  # answered, not refused: what was held for this chat is let through
            await ctx.reply("rules.say_yes")

    async def accepted(ctx: Context) -> None:
        await accept_rules(ctx)
        draft = await ctx.tx.draft(ctx.member.id)
        if draft is None or draft.kind != KIND:
            await ctx.reply(
                "rules.accepted",
                buttons=[
                    [("button.need_help", "ask:start"), ("button.want_to_help", "offer:start")]
                ],
            )
            return
        await ctx.tx.drop_draft(ctx.member.id)
        if draft.data.get("text") and ctx.run_text is not None:
            await ctx.run_text(ctx, str(draft.data["text"]))
        elif draft.data.get("action") and ctx.run_action is not None:
            await ctx.run_action(ctx, str(draft.data["action"]))

    @registry.command("huisregels", "rules", help="help.huisregels")
    async def rules(ctx: Context, args: str) -> None:
        ctx.need_community()
        accepted = ctx.membership is not None and ctx.membership.rules_accepted_at is not None
        if accepted:
            await ctx.tell(ctx.member.id, "rules.show", rules=house_rules(ctx))
        else:
            await show_rules(ctx)

    @registry.action("approve")
    async def approve(ctx: Context, args: list[str]) -> None:
        community = await ctx.require_organiser()
        helper_id = record_number(args[0]) if len(args) == 2 else None
        if helper_id is None or args[1] not in ("yes", "no"):
            raise UserError("error.button_unknown")
        yes = args[1] == "yes"
        membership = await ctx.tx.membership(helper_id, community.id)
        if membership is None or membership.helper_status is not HelperStatus.PENDING:
            raise UserError("approval.already_decided")
        status = HelperStatus.APPROVED if yes else HelperStatus.REFUSED
        await ctx.tx.set_helper_status(helper_id, community.id, status)
        await audit(ctx, f"helper_{status.value}", f"member:{helper_id}")
        name = await ctx.name_of(helper_id)
        await ctx.settle_pressed(
            "approval.approved_short" if yes else "approval.refused_short",
            name=ctx.member.display_name,
        )
        await ctx.reply(
            "approval.done_approved" if yes else "approval.done_refused",
            concerning=(helper_id,),
            name=name,
        )
        await ctx.tell(helper_id, "approval.you_approved" if yes else "approval.you_refused")

    @registry.command("borg", "vouch", help="help.borg", where=Where.PRIVATE)
    async def vouch(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        helper = await member_named(ctx, args)
        if helper.id == ctx.member.id:
            raise UserError("vouch.not_yourself")
        organiser = await ctx.is_organiser()
        if not organiser and not await ctx.tx.offers_of(ctx.member.id):
            raise UserError("vouch.only_helpers")
        before = await vouched(ctx, helper.id, community.id)
        await ctx.tx.add_vouch(helper.id, community.id, ctx.member.id, ctx.now)
        await audit(ctx, "vouch", f"member:{helper.id}")
        now_vouched = await vouched(ctx, helper.id, community.id)
        await ctx.reply(
            "vouch.recorded_complete" if now_vouched else "vouch.recorded_one_more",
            concerning=(helper.id,),
            name=helper.display_name,
        )
        if now_vouched and not before:
            await ctx.tell(helper.id, "vouch.you_are_vouched")
