"""Finding helpers for a request, and what happens when one says yes or no.

Ranking: relational continuity first (this helper helped this person before and it went
well), then fairness (fewer helps in the last month), then proximity (postcode).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot import circles, limits
from bot.config import CommunitySettings
from bot.context import Context
from bot.model import (
    HelpRequest,
    Offer,
    OfferSearch,
    ProposalStatus,
    RequestStatus,
    Visibility,
    postcode_number,
)
from bot.people import may_be_asked
from bot.when import Availability, DayPart, When, window_slots
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


UNKNOWN_DISTANCE = 50  # between "same street" and "other side of town"


def distance(offer: Offer, request: HelpRequest) -> int:
    """Rough closeness of two Dutch postcodes: numbers close together are near each other."""
    mine, theirs = postcode_number(offer.area), postcode_number(request.place)
    if mine is None or theirs is None:
        return UNKNOWN_DISTANCE
    return abs(mine - theirs)


async def find_helpers(
    ctx: Context,
    request: HelpRequest,
    limit: int,
    *,
    include_asked: bool = False,
    among: Sequence[int] | None = None,
) -> list[Candidate]:
    """The best helpers for a request who have not been asked about it yet; with
    ``among``, only these members (a circle), ranked the same way.

    Only a few neighbours have a count that changes their place in the ranking: those who
    helped this requester before, and those who helped anyone this month. They are weighed
    one by one. Everybody else ranks by distance alone, so the database finds the nearest
    of them from its index, however many offers there are.
    """
    community = await ctx.tx.community(request.community_id)
    rules = CommunitySettings.of(community, ctx.config.community)
    local = _local_window(request, community.timezone)
    search = OfferSearch(
        community_id=request.community_id,
        category=request.category,
        requester_id=request.requester_id,
        slots=None if local is None else window_slots(local),
        unasked_for=None if include_asked else request.id,
        near=postcode_number(request.place),
    )
    before = await ctx.tx.helpers_of(request.requester_id)
    this_month = await ctx.tx.helps_since(ctx.now - MONTH)
    known = sorted(before.keys() | this_month.keys() if among is None else set(among))
    weighed: list[Candidate] = []
    if known:
        this_week = await ctx.tx.helps_since(ctx.now - WEEK)
        nearest = _nearest_per_member(await ctx.tx.offers_for(search, known), request)
        asked = await limits.helpers_asked(ctx, list(nearest))
        for member_id, offer in nearest.items():
            if this_week.get(member_id, 0) >= offer.max_per_week:
                continue
            if not limits.may_ask_helper(ctx, asked.get(member_id, ()), offer.max_per_week, rules):
                continue
            if not await _may_ask(ctx, request, member_id):
                continue
            weighed.append(
                Candidate(
                    member_id=member_id,
                    helped_before=before.get(member_id, 0),
                    recent_helps=this_month.get(member_id, 0),
                    distance=distance(offer, request),
                )
            )
    if among is not None:
        return sorted(weighed, key=Candidate.rank)[:limit]
    need = limit - sum(1 for c in weighed if c.helped_before)
    fresh = (
        await _nearest_fresh(ctx, request, search, need, rules, skip=before.keys()) if need else []
    )
    return sorted(weighed + fresh, key=Candidate.rank)[:limit]


def _nearest_per_member(offers: Iterable[Offer], request: HelpRequest) -> dict[int, Offer]:
    best: dict[int, Offer] = {}
    for offer in offers:
        current = best.get(offer.member_id)
        if current is None or distance(offer, request) < distance(current, request):
            best[offer.member_id] = offer
    return best


async def _may_ask(ctx: Context, request: HelpRequest, member_id: int) -> bool:
    rules = ctx.settings()
    if rules.approve_helpers or request.category in rules.vouched_categories:
        return await may_be_asked(ctx, member_id, request.community_id, request.category)
    return True


async def _nearest_fresh(
    ctx: Context,
    request: HelpRequest,
    search: OfferSearch,
    need: int,
    rules: CommunitySettings,
    skip: Iterable[int],
) -> list[Candidate]:
    """The ``need`` nearest helpers who took on nothing this month, nearest first.

    The store walks outwards from the request's postcode on each side; when the walk was cut
    short before it went past the last helper chosen, it is walked again further.
    """
    skipped = set(skip)

    def key(offer: Offer) -> tuple[int, int]:
        return distance(offer, request), offer.member_id

    def side(offer: Offer) -> int:
        number = postcode_number(offer.area)
        if search.near is None:
            return 0
        return 2 if number is None else int(number < search.near)

    batch = max(4 * need, 12)
    while True:
        offers = await ctx.tx.offers_near(search, ctx.now - MONTH, batch)
        chosen: list[Candidate] = []
        best = _nearest_per_member((o for o in offers if o.member_id not in skipped), request)
        asked = await limits.helpers_asked(ctx, list(best))
        for member_id, offer in sorted(best.items(), key=lambda item: key(item[1])):
            if not limits.may_ask_helper(ctx, asked.get(member_id, ()), offer.max_per_week, rules):
                continue
            if not await _may_ask(ctx, request, member_id):
                continue
            chosen.append(Candidate(member_id, 0, 0, distance(offer, request)))
            if len(chosen) == need:
                break
        sides: dict[int, list[Offer]] = {}
        for offer in offers:  # each side comes in its own order
            sides.setdefault(side(offer), []).append(offer)
        cut_short = [walked[-1] for walked in sides.values() if len(walked) == batch]
        last = (chosen[-1].distance, chosen[-1].member_id) if len(chosen) == need else None
        if all(last is not None and last <= key(end) for end in cut_short):
            return chosen
        batch *= 4


async def look_for_help(ctx: Context, request: HelpRequest, *, wide: bool = False) -> None:
    """Ask the best helpers privately; when nobody fits, go to the group as chosen.

    A circle member's request goes to fitting members of their circle first; the wider
    neighbourhood (``wide``) when the circle's window is over (``bot.duework``), or as
    soon as nobody in the circle is left to ask."""
    if not wide and await _circle_first(ctx, request):
        return
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


async def _circle_first(ctx: Context, request: HelpRequest) -> bool:
    """Whether the request stays with the requester's circle for now."""
    among = await circles.circle_phase(ctx, request)
    if not among:
        return False
    candidates = await find_helpers(ctx, request, len(among), among=among)
    community = await ctx.tx.community(request.community_id)
    for candidate in candidates:
        await propose(ctx, request, candidate.member_id, community.timezone)
    pending = any(p.status is ProposalStatus.PENDING for p in await ctx.tx.proposals(request.id))
    if candidates:
        await circles.open_window(ctx, request)
        return True
    if pending:
        return True
    # nobody in the circle (left) to ask: the neighbourhood's turn comes now
    return await circles.end_window_now(ctx, request)


async def circle_again(ctx: Context, request: HelpRequest) -> bool:
    """A reopened request of a circle member: the members of their circle who fit and
    were not asked about it yet get the first turn again, for the circle's window, before
    the wider neighbourhood. False when nobody in the circle is left to ask."""
    if ctx.settings().circle_window_hours <= 0:
        return False
    circle = await ctx.tx.circle_of_member(request.requester_id, request.community_id)
    if circle is None:
        return False
    among = [
        m.member_id
        for m in await ctx.tx.circle_members(circle.id)
        if m.member_id != request.requester_id
    ]
    candidates = await find_helpers(ctx, request, len(among), among=among) if among else []
    if not candidates:
        return False
    community = await ctx.tx.community(request.community_id)
    for candidate in candidates:
        await propose(ctx, request, candidate.member_id, community.timezone)
    await circles.open_window(ctx, request, again=True)
    return True


async def group_text_of(ctx: Context, request: HelpRequest) -> str:
    """What others may read of a request before someone said yes (see bot.details)."""
    if request.group_text is not None:
        return request.group_text
    community = await ctx.tx.community(request.community_id)  # from before group texts
    return ctx.screened(community.language, request.description).text


async def public_summary(ctx: Context, request: HelpRequest, lang: str) -> str:
    """The request's summary as the group and the neighbours asked may see it."""
    community = await ctx.tx.community(request.community_id)
    if request.place:  # typed where a postcode was asked: "Kerklaan 12" happens
        request = replace(request, place=ctx.screened(community.language, request.place).text)
    return request_summary(
        ctx.catalog,
        lang,
        request,
        ctx.now,
        community.timezone,
        description=await group_text_of(ctx, request),
        written_in=await ctx.language_of(request.requester_id),
    )


async def propose(ctx: Context, request: HelpRequest, helper_id: int, tz_name: str) -> None:
    """Ask a helper privately whether they can help; this counts for their limits."""
    await limits.count(ctx, limits.Kind.PROPOSAL, helper_id)
    lang = await ctx.language_of(helper_id)
    summary = await public_summary(ctx, request, lang)
    outbox_id = await ctx.tell(
        helper_id,
        "match.proposal",
        buttons=[[("button.i_help", f"acc:{request.id}"), ("button.not_now", f"dec:{request.id}")]],
        concerning=(request.requester_id,),
        summary=summary,
        advance=ctx.catalog.text(lang, "match.proposal_advance") if request.advance else "",
    )
    await ctx.tx.add_proposal(request.id, helper_id, ctx.now, outbox_id=outbox_id)


async def widen(ctx: Context, request: HelpRequest) -> None:
    """Nobody was found privately: post in the group in the form the requester chose."""
    if request.posted_in_group:
        return
    community = await ctx.tx.community(request.community_id)
    if request.visibility is Visibility.HELPERS:
        await ctx.tell(request.requester_id, "match.nobody_yet_private")
        return
    summary = await public_summary(ctx, request, community.language)
    key = "match.group_named" if request.visibility is Visibility.NAMED else "match.group_anonymous"
    name = await ctx.name_of(request.requester_id)
    posted = await ctx.post_in_group(
        community,
        key,
        buttons=[[("button.i_help", f"acc:{request.id}")]],
        concerning=(request.requester_id,),
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
    ctx: Context, request: HelpRequest, key: str, concerning: Iterable[int] = (), **params: object
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
            await ctx.edit(outbox_id, f"{original.text}\n\n{outcome}", concerning=concerning)


async def helper_allows(
    ctx: Context, helper_id: int, request: HelpRequest, settings: CommunitySettings
) -> int:
    """How often a week a helper lets themselves be asked for this kind of help, as their
    offer says (the community's default when they no longer have one)."""
    offers = [
        offer
        for offer in await ctx.tx.offers_of(helper_id)
        if offer.community_id == request.community_id and request.category in offer.categories
    ]
    return max((offer.max_per_week for offer in offers), default=settings.max_per_week)
