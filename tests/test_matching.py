"""Finding helpers: the ranking the database helps to find equals the ranking by hand.

Many neighbours with random offers, postcodes (with ties), times, pauses, departures and
helps in the past, on SQLite and PostgreSQL; ``find_helpers`` must name exactly the
helpers a plain sort of every offer names: helped this requester before, then fewer helps
this month, then nearer, then the lower member number.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from bot.clock import FakeClock
from bot.duework import work_context
from bot.matching import distance, find_helpers
from bot.model import (
    Category,
    HelpRequest,
    NewOffer,
    NewRequest,
    Offer,
    RequestStatus,
    Role,
    Visibility,
)
from bot.store import Tx
from bot.when import Availability, DayPart, When

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Amsterdam
TZ = "Europe/Amsterdam"


async def _member(tx: Tx, community: int, name: str) -> int:
    member = await tx.create_member(name, None, NOW)
    await tx.join(member.id, community, Role.RESIDENT, NOW)
    return member.id


async def _request(tx: Tx, community: int, requester: int, place: str | None) -> HelpRequest:
    start = NOW + timedelta(days=1, hours=5)
    return await tx.add_request(
        NewRequest(
            community_id=community,
            requester_id=requester,
            category=Category.SHOPPING,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            exact=False,
            place=place,
            description="boodschappen",
            visibility=Visibility.HELPERS,
            advance=False,
        ),
        NOW,
    )


@pytest.mark.parametrize("seed", range(8))
async def test_find_helpers_ranks_as_a_sort_of_every_offer(database_url: str, seed: int) -> None:
    rng = random.Random(seed)
    runtime = await bootstrap(
        Settings(database_url=database_url, house_rules_required=False), clock=FakeClock(NOW)
    )
    try:
        async with runtime.store.transaction() as tx:
            community = (await tx.create_community("Buurt", "nl", TZ, {})).id
            requester = await _member(tx, community, "Fatima")
            other = await _member(tx, community, "Ali")
            offers: list[Offer] = []
            gone: set[int] = set()
            history: list[tuple[int, int, datetime, RequestStatus]] = []
            for number in range(90):
                helper = await _member(tx, community, f"Helper {number}")
                for _ in range(rng.choice([1, 1, 1, 2])):
                    offer = await tx.add_offer(
                        NewOffer(
                            community_id=community,
                            member_id=helper,
                            categories=frozenset(
                                rng.sample([Category.SHOPPING, Category.COMPANY], rng.randint(1, 2))
                            ),
                            days=frozenset(rng.sample(range(7), rng.randint(0, 4))),
                            parts=frozenset(
                                p.value for p in rng.sample(list(DayPart), rng.randint(0, 2))
                            ),
                            area=rng.choice([None, "3011", "3020", "3021", "3030", "3045", "2990"]),
                            max_per_week=rng.choice([1, 2, 3]),
                        ),
                        NOW,
                    )
                    if rng.random() < 0.1:
                        await tx.set_offer_paused(offer.id, True)
                    else:
                        offers.append(offer)
                if rng.random() < 0.05:
                    await tx.leave(helper, community, NOW)
                    gone.add(helper)
                # helps in the past: this week, this month, longer ago; some for the requester
                for _ in range(rng.choice([0, 0, 0, 1, 2])):
                    for_whom = rng.choice([requester, other])
                    past = await _request(tx, community, for_whom, None)
                    matched_at = NOW - timedelta(days=rng.choice([2, 10, 45, 60, 90]))
                    await tx.claim_request(past.id, helper, matched_at)
                    status = rng.choice([RequestStatus.DONE, RequestStatus.CANCELLED])
                    await tx.close_request(past.id, status, NOW)
                    history.append((helper, for_whom, matched_at, status))
            place = rng.choice([None, "3021", "3021 AB", "3033", "bij de kerk"])
            request = await _request(tx, community, requester, place)
            asked = {o.member_id for o in rng.sample(offers, 5)}
            for helper in asked:
                await tx.add_proposal(request.id, helper, NOW)

        month, week = NOW - timedelta(days=30), NOW - timedelta(days=7)

        def helps(member: int, since: datetime) -> int:
            return sum(1 for h, _, at, _ in history if h == member and at >= since)

        def before(member: int) -> int:
            return sum(
                1
                for h, whom, _, status in history
                if h == member and whom == requester and status is RequestStatus.DONE
            )

        assert request.starts_at is not None and request.ends_at is not None
        zone = ZoneInfo(TZ)
        window = When(request.starts_at.astimezone(zone), request.ends_at.astimezone(zone), False)
        best: dict[int, Offer] = {}
        for offer in offers:
            fits = Category.SHOPPING in offer.categories and Availability(
                offer.days, frozenset(DayPart(p) for p in offer.parts)
            ).covers(window)
            if not fits or offer.member_id in gone | asked:
                continue
            current = best.get(offer.member_id)
            if current is None or distance(offer, request) < distance(current, request):
                best[offer.member_id] = offer
        expected = sorted(
            (
                (-before(m), helps(m, month), distance(o, request), m)
                for m, o in best.items()
                if helps(m, week) < o.max_per_week
            )
        )
        assert len(expected) > 10  # enough to rank
        for limit in (1, 3, 10):
            async with runtime.store.transaction() as tx:
                community_row = await tx.community(community)
                ctx = work_context(runtime.bot, tx, community_row, NOW)
                found = await find_helpers(ctx, request, limit)
            assert [c.member_id for c in found] == [key[-1] for key in expected[:limit]]
    finally:
        await runtime.close()
