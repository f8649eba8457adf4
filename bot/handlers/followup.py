"""Answers to what the scheduler asked: follow-ups, organisers' alerts and referrals.

Also two settings: a member's quiet hours (/stil) and, for organisers, how to reach the
partner professionals (/rugdekking).
"""

from __future__ import annotations

from bot import circles, duework, limits, organising
from bot.commands import Registry
from bot.context import Context
from bot.errors import UserError
from bot.handlers.requests import request_from
from bot.matching import (
    circle_again,
    contact_line,
    find_helpers,
    helper_allows,
    propose,
    public_summary,
    settle_group_posts,
    widen,
    withdraw_pending,
)
from bot.model import HelpRequest, ProposalStatus, RequestStatus
from bot.words import request_summary

MAX_PARTNER_TEXT = 300
OFF_WORDS = ("uit", "off", "geen", "none")
DEFAULT_WORDS = ("standaard", "default")


# --- follow-up answers ------------------------------------------------------------------------
async def answer_followup(ctx: Context, verb: str, request: HelpRequest) -> None:
    me = ctx.member.id
    if request.status is not RequestStatus.MATCHED or me not in (
        request.requester_id,
        request.helper_id,
    ):
        await ctx.settle_pressed("followup.settled_short")
        raise UserError("followup.already_settled", nr=request.id)
    if verb == "done":
        await followup_done(ctx, request)
    else:
        await reopen(ctx, request, verb)


async def followup_done(ctx: Context, request: HelpRequest) -> None:
    if not await ctx.tx.close_request(request.id, RequestStatus.DONE, ctx.now):
        raise UserError("request.closed")
    await duework.request_closed(ctx, request.id)
    assert request.helper_id is not None
    other = request.helper_id if ctx.member.id == request.requester_id else request.requester_id
    await ctx.settle_pressed("followup.done_short")
    await duework.settle_work_messages(
        ctx,
        request.id,
        duework.FOLLOWUP_MESSAGES,
        "followup.answered_by_short",
        concerning=(ctx.member.id,),
        name=ctx.member.display_name,
    )
    await ctx.tell(ctx.member.id, "close.done_self", nr=request.id)
    await ctx.tell(
        other,
        "close.done_other",
        concerning=(ctx.member.id,),
        nr=request.id,
        name=ctx.member.display_name,
    )


async def reopen(ctx: Context, request: HelpRequest, verb: str) -> None:
    """It did not work out, or it is still needed: look for a helper again."""
    assert request.helper_id is not None
    by_requester = ctx.member.id == request.requester_id
    clear_time = request.ends_at is not None and request.ends_at <= ctx.now
    if not await ctx.tx.reopen_request(request.id, clear_time, ctx.now):
        raise UserError("request.closed")
    await duework.request_closed(ctx, request.id)  # the old follow-ups and reminders
    await ctx.settle_pressed(f"followup.{verb}_short")
    await duework.settle_work_messages(
        ctx,
        request.id,
        duework.FOLLOWUP_MESSAGES,
        "followup.answered_by_short",
        concerning=(ctx.member.id,),
        name=ctx.member.display_name,
    )
    side, other = (
        ("requester", request.helper_id) if by_requester else ("helper", request.requester_id)
    )
    await ctx.tell(ctx.member.id, f"followup.reopened_by_{side}_self", nr=request.id)
    await ctx.tell(
        other,
        f"followup.reopened_by_{side}_other",
        concerning=(ctx.member.id,),
        nr=request.id,
        name=ctx.member.display_name,
    )
    reopened = await ctx.tx.request(request.id)
    assert reopened is not None
    # a circle member's request: their circle first again, when someone there is left to ask
    if not await circle_again(ctx, reopened):
        await look_again(ctx, reopened)
    await duework.request_opened(ctx, reopened)


async def look_again(ctx: Context, request: HelpRequest) -> None:
    """Ask helpers who were not asked yet; when nobody else fits, those who said yes
    before; when there is nobody at all, go to the group as the requester chose."""
    community = await ctx.tx.community(request.community_id)
    settings = duework.settings_of(ctx, community)
    candidates = await find_helpers(ctx, request, settings.helpers_to_ask)
    for candidate in candidates:
        await propose(ctx, request, candidate.member_id, community.timezone)
    if candidates:
        return
    proposals = await ctx.tx.proposals(request.id)
    if any(p.status is ProposalStatus.PENDING for p in proposals):
        return
    asked = False
    for proposal in proposals:
        if proposal.status is not ProposalStatus.ACCEPTED:
            continue
        membership = await ctx.tx.membership(proposal.helper_id, request.community_id)
        if membership is None or membership.left_at is not None:
            continue
        per_week = await helper_allows(ctx, proposal.helper_id, request, settings)
        if not await limits.may_ask_now(ctx, proposal.helper_id, per_week, settings):
            continue
        await limits.count(ctx, limits.Kind.PROPOSAL, proposal.helper_id)
        await ctx.tx.set_proposal_status(request.id, proposal.helper_id, ProposalStatus.PENDING)
        lang = await ctx.language_of(proposal.helper_id)
        outbox_id = await ctx.tell(
            proposal.helper_id,
            "match.proposal",
            buttons=[
                [("button.i_help", f"acc:{request.id}"), ("button.not_now", f"dec:{request.id}")]
            ],
            concerning=(request.requester_id,),
            summary=await public_summary(ctx, request, lang),
            advance=ctx.catalog.text(lang, "match.proposal_advance") if request.advance else "",
        )
        if outbox_id is not None:
            await ctx.tx.set_proposal_outbox(proposal.id, outbox_id)
            asked = True
    if not asked:
        await widen(ctx, request)


# --- organisers: the requester's answer about a partner professional ---------------------------
async def answer_consent(ctx: Context, verb: str, referral_id: int) -> None:
    referral = await ctx.tx.referral(referral_id)
    request = await ctx.tx.request(referral.request_id) if referral else None
    if referral is None or request is None or request.requester_id != ctx.member.id:
        raise UserError("error.button_unknown")
    if referral.answered_at is not None:
        raise UserError("referral.answered")
    organiser = referral.organiser_id
    if verb == "no":
        await ctx.tx.answer_referral(referral.id, False, ctx.now)
        await ctx.settle_pressed("referral.no_short")
        await ctx.tell(ctx.member.id, "referral.no_self", nr=request.id)
        await ctx.tell(
            organiser,
            "referral.no_organiser",
            buttons=[[("escalation.button_take", f"org:take:{request.id}")]]
            if request.status is RequestStatus.OPEN
            else (),
            concerning=(ctx.member.id,),
            name=ctx.member.display_name,
            nr=request.id,
        )
        return
    if request.status is not RequestStatus.OPEN:
        await ctx.settle_pressed("escalation.settled_short")
        raise UserError("referral.not_open", nr=request.id)
    await ctx.tx.answer_referral(referral.id, True, ctx.now)
    await ctx.tx.close_request(request.id, RequestStatus.REFERRED, ctx.now)
    await duework.request_closed(ctx, request.id)
    referred = await ctx.tx.request(request.id)
    assert referred is not None
    await withdraw_pending(ctx, referred, "match.withdrawn")
    await settle_group_posts(ctx, referred, "match.withdrawn_short")
    await ctx.settle_pressed("referral.yes_short")
    await ctx.tell(
        ctx.member.id,
        "referral.yes_self",
        concerning=(organiser,),
        nr=request.id,
        name=await ctx.name_of(organiser),
    )
    community = await ctx.tx.community(request.community_id)
    partner = duework.settings_of(ctx, community).partner_contact
    lang = await ctx.language_of(organiser)
    # the partner of the requester's circle backs them first (they agreed just now)
    backing = await circles.partners_for(ctx, request.requester_id, community.id)
    if backing:
        partner = "; ".join(f"{p.name} {p.contact}".strip() for p in backing)
    await ctx.tell(
        organiser,
        "referral.yes_organiser",
        concerning=(ctx.member.id,),
        name=ctx.member.display_name,
        nr=request.id,
        summary=request_summary(
            ctx.catalog,
            lang,
            request,
            ctx.now,
            community.timezone,
            written_in=await ctx.language_of(request.requester_id),
        ),
        contact=await contact_line(ctx, ctx.member.id, lang),
        partner=ctx.catalog.text(lang, "referral.partner", contact=partner)
        if partner
        else ctx.catalog.text(lang, "referral.partner_missing"),
    )


def _two_args(args: list[str], verbs: tuple[str, ...]) -> tuple[str, list[str]]:
    if len(args) != 2 or args[0] not in verbs or not args[1].isdecimal():
        raise UserError("error.button_unknown")
    return args[0], args[1:]


def register(registry: Registry) -> None:
    @registry.action("fu")
    async def followup_button(ctx: Context, args: list[str]) -> None:
        verb, rest = _two_args(args, duework.ANSWERS)
        await answer_followup(ctx, verb, await request_from(ctx, rest))

    @registry.action("org")
    async def organiser_button(ctx: Context, args: list[str]) -> None:
        verb, rest = _two_args(args, ("take", "refer"))
        request = await request_from(ctx, rest)
        if verb == "take":
            await organising.pick_up(ctx, request.id)
        else:
            await organising.refer(ctx, request.id)

    @registry.action("ref")
    async def consent_button(ctx: Context, args: list[str]) -> None:
        verb, rest = _two_args(args, ("yes", "no"))
        await answer_consent(ctx, verb, int(rest[0]))

    @registry.command("stil", "quiet", help="help.stil")
    async def quiet(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        wanted = args.strip().lower()
        settings = await ctx.tx.member_settings(ctx.member.id)
        if wanted in DEFAULT_WORDS:
            settings.pop("quiet_hours", None)
        elif wanted in OFF_WORDS:
            settings["quiet_hours"] = "off"
        elif wanted:
            hours = duework.parse_hours(wanted)
            if hours is None:
                raise UserError("quiet.bad", text=args.strip()[:20])
            settings["quiet_hours"] = f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"
        if wanted:
            await ctx.tx.set_member_settings(ctx.member.id, settings)
        own = settings.get("quiet_hours")
        if own == "off":
            await ctx.reply("quiet.off")
        elif own:
            await ctx.reply("quiet.own", hours=own)
        else:
            await ctx.reply(
                "quiet.community", hours=duework.settings_of(ctx, community).quiet_hours
            )

    @registry.command("rugdekking", "backing", help="help.rugdekking", organisers_only=True)
    async def backing(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        text = args.strip()
        if len(text) > MAX_PARTNER_TEXT:
            raise UserError("backing.too_long", limit=MAX_PARTNER_TEXT)
        if text:
            await ctx.tx.update_community_settings(community.id, {"partner_contact": text})
            await ctx.reply("backing.set", contact=text)
            return
        current = duework.settings_of(ctx, community).partner_contact
        await ctx.reply("backing.now" if current else "backing.none", contact=current)


__all__ = ["register"]
