"""Small helpers shared by the organiser, moderation and privacy handlers."""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.model import HelperStatus, HelpRequest, Member, Role
from bot.words import record_number


async def audit(ctx: Context, action: str, subject: str) -> None:
    """Record an organiser's action: who did what to which ids. Never personal text."""
    community = ctx.need_community()
    await ctx.tx.add_audit(community.id, ctx.member.id, action, subject, ctx.now)


async def member_named(ctx: Context, who: str) -> Member:
    """The one member of this community called ``@handle`` or by this name."""
    community = ctx.need_community()
    wanted = who.strip()
    if not wanted:
        raise UserError("people.name_missing")
    found = await ctx.tx.find_members(community.id, wanted)
    if not found:
        raise UserError("people.not_found", who=wanted[:40])
    if len(found) > 1:
        raise UserError("people.ambiguous", who=wanted[:40])
    return found[0]


async def request_numbered(ctx: Context, text: str) -> HelpRequest:
    """A request of this community by its number ("12" or "#12")."""
    community = ctx.need_community()
    number = record_number(text)
    if number is None:
        raise UserError("people.request_number", text=text.strip()[:24])
    request = await ctx.tx.request(number)
    if request is None or request.community_id != community.id:
        raise UserError("request.gone")
    return request


async def vouched(ctx: Context, member_id: int, community_id: int) -> bool:
    """An organiser vouched for them, or two existing helpers did."""
    vouchers = await ctx.tx.vouchers(member_id, community_id)
    if len(vouchers) >= 2:
        return True
    for voucher in vouchers:
        membership = await ctx.tx.membership(voucher, community_id)
        if membership is not None and membership.role is Role.ORGANISER:
            return True
    return False


async def may_be_asked(ctx: Context, member_id: int, community_id: int, category: str) -> bool:
    """Whether a helper may be asked for a request of this kind, by the community's rules."""
    settings = ctx.settings()
    if settings.approve_helpers:
        membership = await ctx.tx.membership(member_id, community_id)
        if membership is None or membership.helper_status is not HelperStatus.APPROVED:
            return False
    if category in {c.value for c in settings.vouched_categories}:
        return await vouched(ctx, member_id, community_id)
    return True
