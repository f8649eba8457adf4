"""What the organisers' web pages show, read from the store: figures per week, tables,
where requests come from, members. Plain core functions with the role check inside
(``organiser_of``); the web pages only draw what these return.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.model import (
    Category,
    Community,
    HelperStatus,
    MemberStatus,
    RequestStatus,
    Role,
    SeatStatus,
    TableStatus,
    postcode_number,
)
from bot.store import Tx
from bot.weblogin import is_organiser

WEEKS = 12  # the figures look back this many weeks
TABLE_DAYS = 14  # meal tables coming up within this many days
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Organiser:
    """Who acts, and for which community: checked by ``organiser_of`` on every call."""

    member_id: int
    community_id: int


async def organiser_of(tx: Tx, who: Organiser) -> Community:
    """The community ``who`` may see and act for; refused unless they organise it."""
    if not await is_organiser(tx, who.member_id, who.community_id):
        raise UserError("error.organisers_only")
    return await tx.community(who.community_id)


def week_starts(now: datetime, tz: ZoneInfo, weeks: int = WEEKS) -> list[datetime]:
    """The Mondays (00:00 local) of the last ``weeks`` weeks, oldest first."""
    local = now.astimezone(tz)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _week_index(starts: list[datetime], moment: datetime) -> int | None:
    for index in range(len(starts) - 1, -1, -1):
        if moment >= starts[index]:
            return index
    return None


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * (len(ordered) - 1))))
    return ordered[rank]


@dataclass
class Week:
    start: datetime
    by_kind: Counter[Category] = field(default_factory=Counter)
    waits: list[float] = field(default_factory=list)  # hours to the first helper
    within_day: int = 0
    helpers: set[int] = field(default_factory=set)
    seats: int = 0
    taken: int = 0

    @property
    def asked(self) -> int:
        return sum(self.by_kind.values())

    @property
    def p50(self) -> float | None:
        return _percentile(self.waits, 0.5)

    @property
    def p90(self) -> float | None:
        return _percentile(self.waits, 0.9)

    @property
    def answered_share(self) -> float | None:
        return self.within_day / self.asked if self.asked else None


async def weekly_figures(tx: Tx, who: Organiser, now: datetime, weeks: int = WEEKS) -> list[Week]:
    """Per week (Monday to Sunday, local time): requests by kind, hours to the first helper,
    how many were answered within a day, who helped, and meal seats filled."""
    community = await organiser_of(tx, who)
    tz = ZoneInfo(community.timezone)
    starts = week_starts(now, tz, weeks)
    result = [Week(start) for start in starts]
    for request in await tx.community_requests(community.id, since=starts[0]):
        index = _week_index(starts, request.created_at)
        if index is None or request.status is RequestStatus.HIDDEN:
            continue
        week = result[index]
        week.by_kind[request.category] += 1
        if request.matched_at is not None:
            hours = (request.matched_at - request.created_at).total_seconds() / 3600
            week.waits.append(hours)
            week.within_day += hours <= 24
        if request.helper_id is not None:
            week.helpers.add(request.helper_id)
    for table in await tx.tables_between(community.id, starts[0], now):
        index = _week_index(starts, table.starts_at)
        if index is None or table.status is TableStatus.CANCELLED:
            continue
        result[index].seats += table.seats
        result[index].taken += min(table.taken, table.seats)
    return result


@dataclass(frozen=True, slots=True)
class TableView:
    id: int
    starts_at: datetime
    place: str
    host: str
    seats: int
    taken: int
    waiting: int
    diets: tuple[tuple[str, int], ...]  # what guests cannot eat, with how many


async def coming_tables(tx: Tx, who: Organiser, now: datetime) -> list[TableView]:
    """The meal tables of the next two weeks: seats, waiting list and diets in total."""
    community = await organiser_of(tx, who)
    views = []
    for table in await tx.upcoming_tables(community.id, now, now + TABLE_DAYS * DAY):
        if table.status is not TableStatus.OPEN:
            continue
        seated = await tx.seats(table.id, (SeatStatus.SEATED,))
        waiting = await tx.seats(table.id, (SeatStatus.WAITING, SeatStatus.OFFERED))
        diets: Counter[str] = Counter()
        for seat in seated:
            if seat.diet.strip():
                diets[seat.diet.strip().lower()] += 1 + seat.plus
        views.append(
            TableView(
                table.id,
                table.starts_at,
                table.place,
                (await tx.member(table.host_id)).display_name,
                table.seats,
                table.taken,
                len(waiting),
                tuple(sorted(diets.items(), key=lambda item: (-item[1], item[0]))),
            )
        )
    return views


async def requests_by_postcode(
    tx: Tx, who: Organiser, now: datetime, weeks: int = WEEKS
) -> list[tuple[str, int]]:
    """How many requests came from each four-digit postcode (most first); "" for none."""
    community = await organiser_of(tx, who)
    counts: Counter[str] = Counter()
    since = now - timedelta(weeks=weeks)
    for request in await tx.community_requests(community.id, since=since):
        number = postcode_number(request.place)
        counts[f"{number:04d}" if number is not None else ""] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0] == "", item[0]))


@dataclass(frozen=True, slots=True)
class MemberView:
    id: int
    name: str
    handle: str | None
    role: Role
    status: MemberStatus
    helper_status: HelperStatus
    helps_offered: bool


async def members(tx: Tx, who: Organiser) -> list[MemberView]:
    """The community's members and their roles, organisers first, then by name."""
    community = await organiser_of(tx, who)
    offering = {offer.member_id for offer in await tx.community_offers(community.id)}
    views = []
    for member, membership in await tx.members_of(community.id):
        if membership.left_at is not None or member.erased:
            continue
        identities = await tx.identities(member.id)
        views.append(
            MemberView(
                member.id,
                member.display_name,
                identities[0].handle if identities else None,
                membership.role,
                membership.status,
                membership.helper_status,
                member.id in offering,
            )
        )
    views.sort(key=lambda v: (v.role is not Role.ORGANISER, v.name.casefold(), v.id))
    return views
