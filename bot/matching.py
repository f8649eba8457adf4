"""Finding helpers for a request, and what happens when one says yes or no.

Ranking: relational continuity first (this helper helped this person before and it went
well), then fairness (fewer helps in the last month), then proximity (postcode).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.model import HelpRequest, Offer, ProposalStatus, RequestStatus, Visibility
from bot.people import may_be_asked
from bot.when import Availability, DayPart, When
from bot.words import request_summary

WEEK = timedelta(days=7)
MONTH = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Candidate:
    member_id: int
    helped_before: int
    recent_helps: int
    distance: int

    def rank(self) -> tuple[int, int, int, int]:
        return (-self.helped_before, self.recent_helps, self.distance, self.member_id)


def _window(request: HelpRequest) -> When | None:
    if request.starts_at is None or request.ends_at is None:
        return None
    return When(request.starts_at, request.ends_at, request.exact)


def _local_window(request: HelpRequest, tz_name: str) -> When | None:
    window = _window(request)
    if window is None:
        return None
    zone = ZoneInfo(tz_name)
    return When(window.start.astimezone(zone), window.end.astimezone(zone), window.exact)


def _covers(offer: Offer, local: When) -> bool:
    availability = Availability(offer.days, frozenset(DayPart(p) for p in offer.parts))
    return availability.covers(local)


def fits(offer: Offer, request: HelpRequest, tz_name: str) -> bool:
    local = _local_window(request, tz_name)
    return local is None or _covers(offer, local)


def distance(offer: Offer, request: HelpRequest) -> int:
    """Rough closeness of two Dutch postcodes: numbers close together are near each other."""
    if offer.area and request.place and offer.area.isdecimal() and request.place[:4].isdecimal():
        return abs(int(offer.area) - int(request.place[:4]))
    return 50  # unknown: between "same street" and "other side of town"


async def find_helpers(
    ctx: Context, request: HelpRequest, limit: int, *, include_asked: bool = False
) -> list[Candidate]:
    """The best helpers for a request who have not been asked about it yet."""
    community = await ctx.tx.community(request.community_id)
    asked = set() if include_asked else {p.helper_id for p in await ctx.tx.proposals(request.id)}
    local = _local_window(request, community.timezone)
    # Offers share a few hundred combinations of days and parts of the day at most: each
    # combination is held against the request's time once, not once per offer.
    covered: dict[tuple[frozenset[int], frozenset[str]], bool] = {}

    def available(offer: Offer) -> bool:
        if local is None:
            return True
        key = (offer.days, offer.parts)
        if key not in covered:
            covered[key] = _covers(offer, local)
        return covered[key]

    offers = [
        offer
        for offer in await ctx.tx.active_offers(
            request.community_id, request.category, request.requester_id
        )
        if offer.member_id not in asked and available(offer)
    ]
    rules = ctx.settings()
    if rules.approve_helpers or request.category in rules.vouched_categories:
        offers = [
            offer
            for offer in offers
            if await may_be_asked(ctx, offer.member_id, request.community_id, request.category)
        ]
    if not offers:
        return []
    best_offer: dict[int, Offer] = {}
    for offer in offers:
        current = best_offer.get(offer.member_id)
        if current is None or distance(offer, request) < distance(current, request):
            best_offer[offer.member_id] = offer
    ids = sorted(best_offer)
    this_week = await ctx.tx.helps_since(ids, ctx.now - WEEK)
    this_month = await ctx.tx.helps_since(ids, ctx.now - MONTH)
    before = await ctx.tx.helped_before(ids, request.requester_id)
    candidates = [
        Candidate(
            member_id=member_id,
            helped_before=before.get(member_id, 0),
            recent_helps=this_month.get(member_id, 0),
            distance=distance(offer, request),
        )
        for member_id, offer in best_offer.items()
        if this_week.get(member_id, 0) < offer.max_per_week
    ]
    return sorted(candidates, key=Candidate.rank)[:limit]


async def look_for_help(ctx: Context, request: HelpRequest) -> None:
    """Ask the best helpers privately; when nobody fits, go to the group as chosen."""
    settings = ctx.settings()
    candidates = await find_helpers(ctx, request, settings.helpers_to_ask)
    community = await ctx.tx.community(request.community_id)
    for candidate in candidates:
        await propose(ctx, request, candidate.member_id, community.timezone)
    if candidates:
        return
    pending = [p for p in await ctx.tx.proposals(request.id) if p.status is ProposalStatus.PENDING]
    if not pending:
        await widen(ctx, request)


async def propose(ctx: Context, request: HelpRequest, helper_id: int, tz_name: str) -> None:
    proposal = await ctx.tx.add_proposal(request.id, helper_id, ctx.now)
    lang = await ctx.language_of(helper_id)
    summary = request_summary(ctx.catalog, lang, request, ctx.now, tz_name)
    outbox_id = await ctx.tell(
        helper_id,
        "match.proposal",
        buttons=[[("button.i_help", f"acc:{request.id}"), ("button.not_now", f"dec:{request.id}")]],
        summary=summary,
        advance=ctx.catalog.text(lang, "match.proposal_advance") if request.advance else "",
    )
    if outbox_id is not None:
        await ctx.tx.set_proposal_outbox(proposal.id, outbox_id)


async def widen(ctx: Context, request: HelpRequest) -> None:
    """Nobody was found privately: post in the group in the form the requester chose."""
    if request.posted_in_group:
        return
    community = await ctx.tx.community(request.community_id)
    if request.visibility is Visibility.HELPERS:
        await ctx.tell(request.requester_id, "match.nobody_yet_private")
        return
    summary = request_summary(ctx.catalog, community.language, request, ctx.now, community.timezone)
    key = "match.group_named" if request.visibility is Visibility.NAMED else "match.group_anonymous"
    name = await ctx.name_of(request.requester_id)
    posted = await ctx.post_in_group(
        community,
        key,
        buttons=[[("button.i_help", f"acc:{request.id}")]],
        name=name,
        summary=summary,
    )
    if posted:
        await ctx.tx.mark_posted_in_group(request.id, posted)
        await ctx.tell(request.requester_id, "match.posted_in_group")
    else:
        await ctx.tell(request.requester_id, "match.nobody_yet_private")


async def contact_line(ctx: Context, member_id: int, lang: str) -> str:
    handles = [i.handle for i in await ctx.tx.identities(member_id) if i.handle]
    if handles:
        return ", ".join(handles)
    contact = (await ctx.tx.member(member_id)).contact_id
    if contact is not None:  # a neighbour without a phone, reached through an organiser
        return ctx.catalog.text(
            lang,
            "match.contact_via_organiser",
            name=await ctx.name_of(contact),
            contact=await contact_line(ctx, contact, lang),
        )
    return ctx.catalog.text(lang, "match.contact_via_group")


async def withdraw_pending(ctx: Context, request: HelpRequest, key: str) -> None:
    """Tell helpers who were asked but did not answer that they need not any more."""
    for proposal in await ctx.tx.proposals(request.id):
        if proposal.status is not ProposalStatus.PENDING:
            continue
        status = (
            ProposalStatus.TAKEN
            if request.status is RequestStatus.MATCHED
            else ProposalStatus.WITHDRAWN
        )
        await ctx.tx.set_proposal_status(request.id, proposal.helper_id, status)
        lang = await ctx.language_of(proposal.helper_id)
        if proposal.outbox_id is not None:
            original = await ctx.tx.outbox_row(proposal.outbox_id)
            if original is not None:
                outcome = ctx.catalog.text(lang, key + "_short")
                await ctx.edit(proposal.outbox_id, f"{original.text}\n\n{outcome}")
        await ctx.tell(proposal.helper_id, key, nr=request.id)


async def settle_group_posts(
    ctx: Context, request: HelpRequest, key: str, **params: object
) -> None:
    """Show under the request's group posts what came of it, and take their buttons away."""
    community = await ctx.tx.community(request.community_id)
    pressed = ctx.pressed.outbox_id if ctx.pressed else None
    for outbox_id in request.group_posts:
        if outbox_id == pressed:
            continue  # the pressed message is settled by the press itself
        original = await ctx.tx.outbox_row(outbox_id)
        if original is not None:
            outcome = ctx.catalog.text(community.language, key, **params)
            await ctx.edit(outbox_id, f"{original.text}\n\n{outcome}")
