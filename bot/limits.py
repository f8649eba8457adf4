"""How often a member may do what reaches other people, and how often a helper is asked.

Every counted action is a row in the database (``Tx.add_limit_use``), so a restart does not
reset the count. A limit holds over a moving window: the last 24 hours and the last 7 days.
When a member reaches a limit they are told once, in their own language, from when they can
again; further tries in that window get no answer at all, so a flood meets silence.

The count of commands per minute (``Bot._over_limit``) is kept in memory on purpose: it only
spares the bot a burst of work, a restart does not help anyone get round the limits here, and
a stored count would cost a write for every message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.config import CommunitySettings
from bot.context import Context
from bot.when import When, describe_when

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


class Kind(StrEnum):
    """What is counted. Invitations, when the bot has them, are a kind of their own."""

    ASK = "ask"  # a request for help placed (``/vraag``, also step by step with buttons)
    TABLE = "table"  # a meal table announced in the group (``/tafel``)
    REPORT = "report"  # a report to the organisers (``/meld``)
    PROPOSAL = "proposal"  # a helper was asked "can you help?"


@dataclass(frozen=True, slots=True)
class Limit:
    per_day: int
    per_week: int


def member_limit(settings: CommunitySettings, kind: Kind) -> Limit:
    if kind is Kind.ASK:
        return Limit(settings.asks_per_day, settings.asks_per_week)
    if kind is Kind.TABLE:
        return Limit(settings.tables_per_day, settings.tables_per_week)
    if kind is Kind.REPORT:
        return Limit(settings.reports_per_day, settings.reports_per_week)
    raise ValueError(kind)


def free_again(uses: Iterable[datetime], limit: Limit, now: datetime) -> tuple[datetime, bool]:
    """When one more use is allowed (``now`` when it is allowed now), and whether the week
    rather than the day is what holds it back."""
    week = sorted(at for at in uses if at > now - WEEK)
    day = [at for at in week if at > now - DAY]
    until, by_week = now, False
    if len(day) >= limit.per_day:
        until = max(until, day[len(day) - limit.per_day] + DAY)
    if len(week) >= limit.per_week:
        by_week_until = week[len(week) - limit.per_week] + WEEK
        if by_week_until > until:
            until, by_week = by_week_until, True
    return until, by_week


async def reached(ctx: Context, kind: Kind) -> bool:
    """True when the member may not do this now. The first time in a window they are told
    from when they can again; after that, nothing is said until the window has passed.

    The member's own count is read under a lock, so that two messages at once cannot both
    slip under the limit; the caller counts the use with ``count`` in the same transaction.
    """
    limit = member_limit(ctx.settings(), kind)
    me = ctx.member.id
    uses = await ctx.tx.limit_uses(kind.value, [me], ctx.now - WEEK, lock=True)
    until, by_week = free_again(uses.get(me, []), limit, ctx.now)
    if until <= ctx.now:
        return False
    told_until = await ctx.tx.limit_notice(me, kind.value)
    if told_until is not None and told_until >= until:
        return True  # told already: a flood meets silence
    await ctx.tx.set_limit_notice(me, kind.value, until)
    period = ctx.t("limit.period_week" if by_week else "limit.period_day")
    count = limit.per_week if by_week else limit.per_day
    await ctx.tell(me, f"limit.{kind.value}", period=period, count=count, when=_moment(ctx, until))
    return True


async def count(ctx: Context, kind: Kind, member_id: int | None = None) -> None:
    """Count one use by the member (or by ``member_id``)."""
    who = ctx.member.id if member_id is None else member_id
    await ctx.tx.add_limit_use(who, kind.value, ctx.now)


def _moment(ctx: Context, until: datetime) -> str:
    """ "morgen (di 24 nov) om 09:00": the minute from which it is allowed again."""
    local = until.astimezone(ctx.tz())
    minute = local.replace(second=0, microsecond=0)
    if minute < local:
        minute += timedelta(minutes=1)
    moment = When(minute, minute + timedelta(minutes=1), True)
    return describe_when(moment, ctx.local_now(), ctx.lang)


# --- helpers -------------------------------------------------------------------------------------
async def helpers_asked(ctx: Context, member_ids: Sequence[int]) -> dict[int, list[datetime]]:
    """When each of these helpers was asked "can you help?" in the past week.

    Read without a lock: holding several helpers' counts in one transaction could deadlock
    with another. Two requests matched at the very same moment on PostgreSQL may therefore
    ask one helper once more than allowed; one after the other, never."""
    if not member_ids:
        return {}
    return await ctx.tx.limit_uses(Kind.PROPOSAL.value, member_ids, ctx.now - WEEK)


def may_ask_helper(
    ctx: Context, asked: Iterable[datetime], per_week: int, settings: CommunitySettings
) -> bool:
    """Whether a helper who allows ``per_week`` asks a week may be asked once more now."""
    if per_week <= 0:
        return False
    limit = Limit(min(settings.helper_asks_per_day, per_week), per_week)
    until, _ = free_again(asked, limit, ctx.now)
    return until <= ctx.now


async def may_ask_now(
    ctx: Context, helper_id: int, per_week: int, settings: CommunitySettings
) -> bool:
    """Whether this helper may be asked once more now."""
    asked = await helpers_asked(ctx, [helper_id])
    return may_ask_helper(ctx, asked.get(helper_id, ()), per_week, settings)
