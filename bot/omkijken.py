"""Omkijken: members of a circle keep an eye on each other.

- **The rota.** Each week every member of a circle is looked after by one other member, their
  "maatje" (buddy) for that week, and looks after one. The pairs rotate: each week the
  shift through the circle is chosen that repeats the fewest pairs of earlier weeks, so
  over many weeks everyone is looked after by everyone about equally often. Paused
  members are left out.
- **The check-in.** A member may ask to be asked "gaat alles goed?" on days and at a time
  they choose. No answer within ``checkin_answer_hours``: this week's buddy is asked to
  look in; nobody goes within ``checkin_step_hours``: the next member of the circle; then
  the circle's contact persons and the organisers (rugdekking). Each step is due work,
  claimed and done in one transaction with the record of it, so a restart neither loses
  nor repeats a step. These asks go out in quiet hours too: the member agreed to exactly
  that when they turned the check-in on.
- **Afterwards** whoever looked in is asked how it was, and that is recorded.

Check-in answers are the member's own: organisers see figures only (``checkin_figures``),
and the nightly clean-up removes check-ins after ``checkin_keep_days``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.circle_records import Circle, CircleRole
from bot.config import CommunitySettings
from bot.context import Context
from bot.errors import UserError
from bot.matching import contact_line
from bot.model import Community, MemberStatus
from bot.omkijken_records import (
    Answer,
    Checkin,
    LookAnswer,
    LookResult,
    OmkijkenPlan,
)
from bot.store import Tx
from bot.understand import YES, short_answer
from bot.when import Availability, describe_availability, parse_availability
from bot.work import DueWork, NewWork, Notice, Outcome, WorkKind
from bot.workkinds import WorkKinds

log = logging.getLogger("buurtbot.omkijken")

STEP_BUDDY, STEP_NEXT, STEP_BACKING = 1, 2, 3
ALL_DAYS = tuple(range(7))
OFF_WORDS = {"uit", "off", "stop", "nee", "no"}
PAUSE_WORDS = {"pauze", "pause", "weg", "away"}
BACK_WORDS = {"terug", "back", "aan", "on", "hervat", "resume"}
ROTA_WEEKDAY, ROTA_TIME = 0, time(9, 0)  # the week's pairs are told on Monday at nine
OPEN_FOR = timedelta(hours=24)  # a typed answer counts for a check-in asked this long ago

# Typed answers to "gaat alles goed?", as people write them.
_GOOD = {
    "goed", "prima", "ok", "oke", "oké", "okay", "best", "fijn", "top", "good", "fine",
    "great", "well", "uitstekend", "alright",
}  # fmt: skip
_HELP = {"hulp", "help", "helpen"}
_CALL = {"bel", "bellen", "call", "phone", "opbellen"}
_NOT = {"niet", "not", "geen", "no", "nee", "slecht", "beroerd", "bad"}


def read_answer(text: str, *, just_asked: bool = False) -> Answer | None:
    """What a typed answer to a check-in says: "ja hoor, alles goed" is good; "kun je me
    even bellen" asks for a call; "ik kan wel wat hulp gebruiken" asks for help. A sentence
    with a "not" in it ("niet zo goed") is never read as good."""
    words = set(short_answer(text).replace(",", " ").replace("!", " ").split())
    if not words:
        return None
    if words & _CALL:
        return Answer.CALL
    if words & _HELP:
        return Answer.HELP
    if words & _NOT:
        return None
    if words & _GOOD:
        return Answer.GOOD
    if just_asked and short_answer(text) in YES:  # "ja" right after "gaat alles goed?"
        return Answer.GOOD
    return None


# --- times ---------------------------------------------------------------------------------
def week_of(moment: datetime, tz: ZoneInfo) -> str:
    """The week a moment falls in, named by its Monday: "2026-11-23"."""
    local = moment.astimezone(tz).date()
    return (local - timedelta(days=local.weekday())).isoformat()


def parse_clock(text: str) -> time | None:
    hours, sep, minutes = text.strip().lower().removesuffix("u").replace(".", ":").partition(":")
    if not hours.isdecimal() or (sep and not minutes.isdecimal()):
        return None
    hour, minute = int(hours), int(minutes or 0)
    return time(hour, minute) if 0 <= hour <= 23 and 0 <= minute <= 59 else None


def parse_schedule(text: str) -> tuple[tuple[int, ...], time]:
    """``"ma wo vr 09:30"`` -> ((0, 2, 4), 09:30); ``"dagelijks 10:00"`` -> every day.

    A word that is no day is named in the error, never guessed."""
    tokens = text.replace(",", " ").split()
    clock = parse_clock(tokens[-1]) if tokens else None
    if clock is None:
        if tokens and any(ch.isdigit() for ch in tokens[-1]):
            raise UserError("omkijken.bad_time", word=tokens[-1][:20])
        raise UserError("omkijken.need_time")
    words = tokens[:-1]
    if not words:
        return ALL_DAYS, clock
    found, rest = parse_availability(words)
    if rest or found is None:
        raise UserError("omkijken.unknown_day", word=(rest or words)[0][:20])
    if found.parts:
        raise UserError("omkijken.unknown_day", word=words[-1][:20])
    return tuple(sorted(found.days)) or ALL_DAYS, clock


def days_text(days: tuple[int, ...], lang: str) -> str:
    chosen = frozenset(days)
    return describe_availability(
        Availability(chosen if chosen != set(ALL_DAYS) else frozenset()), lang
    )


def next_moment(plan: OmkijkenPlan, after: datetime, tz: ZoneInfo) -> datetime | None:
    """The first check-in moment strictly after ``after``."""
    clock = parse_clock(plan.at)
    if clock is None or not plan.days:
        return None
    local = after.astimezone(tz)
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        if day.weekday() not in plan.days:
            continue
        moment = datetime.combine(day, clock, tzinfo=tz)
        if moment > local:
            return moment
    return None


def _stamp(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


# --- the rota ------------------------------------------------------------------------------
def choose_pairs(members: list[int], counts: dict[tuple[int, int], int]) -> dict[int, int]:
    """Member -> buddy: everyone looked after by one other, everyone looking after one.

    The members stand in a ring; the buddy is the one ``k`` places on. Of all ``k`` the one
    is taken that repeats the fewest earlier pairs (the smallest ``k`` of equals), so that
    in ``n - 1`` weeks of a steady circle of ``n`` everyone has had everyone once."""
    n = len(members)
    if n < 2:
        return {}
    best, best_cost = 1, None
    for k in range(1, n):
        cost = sum(counts.get((members[i], members[(i + k) % n]), 0) for i in range(n))
        if best_cost is None or cost < best_cost:
            best, best_cost = k, cost
    return {members[i]: members[(i + best) % n] for i in range(n)}


async def rota_members(tx: Tx, circle: Circle, excluding: int | None = None) -> list[int]:
    """The members the rota pairs, in the order they joined: not paused, not blocked."""
    paused = {p.member_id for p in await tx.omkijken_plans(circle.id) if p.paused}
    found = []
    for member in await tx.circle_members(circle.id):
        if member.member_id in paused or member.member_id == excluding:
            continue
        membership = await tx.membership(member.member_id, circle.community_id)
        if membership is None or membership.left_at is not None:
            continue
        if membership.status is not MemberStatus.ACTIVE:
            continue
        found.append(member.member_id)
    return found


async def week_pairs(
    tx: Tx,
    circle: Circle,
    now: datetime,
    tz: ZoneInfo,
    *,
    remake: bool = False,
    excluding: int | None = None,
) -> dict[int, int]:
    """This week's pairs of a circle (member -> buddy), made when first needed."""
    week = week_of(now, tz)
    pairs = await tx.rota(circle.id, week)
    if pairs and not remake:
        return pairs
    members = await rota_members(tx, circle, excluding)
    fresh = choose_pairs(members, await tx.rota_counts(circle.id, week))
    if remake:
        await tx.save_rota(circle.id, week, fresh)
        return fresh
    # Made the first time it is needed, maybe by two at once: the one made first holds.
    return await tx.create_rota(circle.id, week, fresh)


async def contact_persons(tx: Tx, circle: Circle) -> list[int]:
    return [m.member_id for m in await tx.circle_members(circle.id) if m.role is CircleRole.CONTACT]


async def people_for_step(ctx: Context, me: int, circle: Circle, step: int) -> list[int]:
    """Who is asked to look in on ``me`` at a step: this week's buddy; the next member of
    the circle; the contact persons and the organisers. Never the member themselves."""
    tz = ZoneInfo((await ctx.tx.community(circle.community_id)).timezone)
    pairs = await week_pairs(ctx.tx, circle, ctx.now, tz)
    buddy = pairs.get(me)
    if step == STEP_BUDDY:
        return [buddy] if buddy is not None else []
    if step == STEP_NEXT:
        ring = await rota_members(ctx.tx, circle)
        if buddy in ring:
            start = ring.index(buddy)
            ring = ring[start + 1 :] + ring[:start]
        following = [m for m in ring if m not in (me, buddy)]
        return following[:1]
    found = [m for m in await contact_persons(ctx.tx, circle) if m != me]
    found += [o for o in await ctx.tx.organisers(circle.community_id) if o not in found]
    return [m for m in found if m != me]


# --- turning it on and off -----------------------------------------------------------------
async def my_circle(ctx: Context) -> Circle:
    community = ctx.need_community()
    circle = await ctx.tx.circle_of_member(ctx.member.id, community.id)
    if circle is None:
        raise UserError("omkijken.no_circle")
    return circle


async def _names(ctx: Context, ids: list[int]) -> str:
    if not ids:
        return ctx.t("omkijken.nobody_yet")
    names = [await ctx.name_of(i) for i in ids]
    if len(names) == 1:
        return names[0]
    return ctx.t("omkijken.and_list", first=", ".join(names[:-1]), last=names[-1])


async def explain(ctx: Context, days: tuple[int, ...], at: time) -> None:
    """Turning a check-in on: exactly who is asked and when; then the member's yes."""
    circle = await my_circle(ctx)
    community = ctx.need_community()
    settings = CommunitySettings.of(community, ctx.config.community)
    me = ctx.member.id
    plan = await ctx.tx.omkijken_plan(me)
    await ctx.tx.save_omkijken_plan(
        OmkijkenPlan(
            member_id=me,
            circle_id=circle.id,
            days=days,
            at=at.strftime("%H:%M"),
            consented_at=None,
            paused=plan.paused if plan else False,
            updated_at=ctx.now,
        )
    )
    await ctx.tx.cancel_work(me, [WorkKind.CHECKIN], ctx.now)  # the old times, if any
    buddy = await people_for_step(ctx, me, circle, STEP_BUDDY)
    following = await people_for_step(ctx, me, circle, STEP_NEXT)
    contacts = [m for m in await contact_persons(ctx.tx, circle) if m != me]
    await ctx.reply(
        "omkijken.explain",
        buttons=[[("omkijken.button_agree", "omk:yes"), ("omkijken.button_not", "omk:no")]],
        concerning=[*buddy, *following, *contacts],
        days=days_text(days, ctx.lang),
        at=at.strftime("%H:%M"),
        hours=_hours(settings.checkin_answer_hours),
        step=_hours(settings.checkin_step_hours),
        buddy=await _names(ctx, buddy),
        next=await _names(ctx, following),
        contacts=await _names(ctx, contacts),
    )


def _hours(value: float) -> str:
    return f"{value:g}"


async def agree(ctx: Context) -> None:
    plan = await ctx.tx.omkijken_plan(ctx.member.id)
    if plan is None or not plan.days:
        raise UserError("omkijken.nothing_to_agree")
    if plan.consented_at is not None:
        await ctx.settle_pressed("omkijken.on_short")
        await ctx.reply("omkijken.already_on")
        return
    agreed = replace(plan, consented_at=ctx.now, updated_at=ctx.now)
    await ctx.tx.save_omkijken_plan(agreed)
    community = ctx.need_community()
    first = await schedule_checkin(ctx.tx, community, agreed, ctx.now)
    await ctx.settle_pressed("omkijken.on_short")
    await ctx.reply(
        "omkijken.on",
        days=days_text(agreed.days, ctx.lang),
        at=agreed.at,
        first=_day_and_time(ctx, first),
    )


def _day_and_time(ctx: Context, moment: datetime | None) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(ctx.tz())
    day = describe_availability(Availability(frozenset({local.weekday()})), ctx.lang)
    return f"{day} {local:%H:%M}"


async def decline(ctx: Context) -> None:
    plan = await ctx.tx.omkijken_plan(ctx.member.id)
    if plan is not None and plan.consented_at is None:
        await ctx.tx.save_omkijken_plan(replace(plan, days=(), updated_at=ctx.now))
    await ctx.settle_pressed("omkijken.not_short")
    await ctx.reply("omkijken.not_on")


async def turn_off(ctx: Context) -> None:
    plan = await ctx.tx.omkijken_plan(ctx.member.id)
    if plan is None or not plan.days:
        raise UserError("omkijken.was_off")
    await ctx.tx.save_omkijken_plan(replace(plan, days=(), consented_at=None, updated_at=ctx.now))
    await ctx.tx.cancel_work(ctx.member.id, [WorkKind.CHECKIN], ctx.now)
    await ctx.reply("omkijken.off")


async def set_paused(ctx: Context, paused: bool) -> None:
    circle = await my_circle(ctx)
    plan = await ctx.tx.omkijken_plan(ctx.member.id) or OmkijkenPlan(
        ctx.member.id, circle.id, (), "", None, False, ctx.now
    )
    if plan.paused == paused:
        raise UserError("omkijken.paused_already" if paused else "omkijken.not_paused")
    changed = replace(plan, circle_id=circle.id, paused=paused, updated_at=ctx.now)
    await ctx.tx.save_omkijken_plan(changed)
    await ctx.tx.cancel_work(ctx.member.id, [WorkKind.CHECKIN], ctx.now)
    if not paused and changed.active:
        await schedule_checkin(ctx.tx, ctx.need_community(), changed, ctx.now)
    await ctx.reply("omkijken.paused" if paused else "omkijken.resumed")


async def status(ctx: Context) -> None:
    circle = await my_circle(ctx)
    me = ctx.member.id
    pairs = await week_pairs(ctx.tx, circle, ctx.now, ctx.tz())
    plan = await ctx.tx.omkijken_plan(me)
    looks_after = [m for m, b in pairs.items() if b == me]
    buddy = [pairs[me]] if me in pairs else []
    if plan is not None and plan.paused:
        checkin = ctx.t("omkijken.status_paused")
    elif plan is not None and plan.active:
        checkin = ctx.t("omkijken.status_on", days=days_text(plan.days, ctx.lang), at=plan.at)
    else:
        checkin = ctx.t("omkijken.status_off")
    await ctx.reply(
        "omkijken.status",
        concerning=[*buddy, *looks_after],
        circle=circle.name,
        buddy=await _names(ctx, buddy),
        looks_after=await _names(ctx, looks_after),
        checkin=checkin,
    )


async def pairs_lines(ctx: Context, circle: Circle) -> str:
    """This week's pairs, for the members of the circle: "Els kijkt om naar Piet"."""
    pairs = await week_pairs(ctx.tx, circle, ctx.now, ctx.tz())
    lines = [
        ctx.t("omkijken.pair_line", buddy=await ctx.name_of(b), name=await ctx.name_of(m))
        for m, b in pairs.items()
    ]
    return "\n".join(lines)


async def leaving(ctx: Context, circle: Circle, member_id: int) -> list[int]:
    """A member leaves their circle (or is forgotten): their check-in stops, and whoever
    they looked after this week gets another buddy at once: the one who looked after
    them, so that nobody else's week changes. Returns those who got a new buddy."""
    await ctx.tx.drop_omkijken_plan(member_id)
    await ctx.tx.cancel_work(member_id, [WorkKind.CHECKIN], ctx.now)
    tz = ZoneInfo((await ctx.tx.community(circle.community_id)).timezone)
    week = week_of(ctx.now, tz)
    pairs = await ctx.tx.rota(circle.id, week)
    orphans = [m for m, b in pairs.items() if b == member_id and m != member_id]
    if member_id not in pairs and not orphans:
        return []
    theirs = pairs.pop(member_id, None)
    fresh = {m: b for m, b in pairs.items() if b != member_id}
    for orphan in orphans:
        if theirs is not None and theirs != orphan:
            fresh[orphan] = theirs
    if any(o not in fresh for o in orphans):  # two who looked after each other
        fresh = await week_pairs(ctx.tx, circle, ctx.now, tz, remake=True, excluding=member_id)
    else:
        await ctx.tx.save_rota(circle.id, week, fresh)
    for orphan in orphans:
        if orphan in fresh:
            await ctx.tell(
                orphan,
                "omkijken.new_buddy",
                concerning=(fresh[orphan],),
                name=await ctx.name_of(fresh[orphan]),
            )
    return orphans


# --- scheduling ----------------------------------------------------------------------------
async def schedule_checkin(
    tx: Tx, community: Community, plan: OmkijkenPlan, after: datetime
) -> datetime | None:
    due = next_moment(plan, after, ZoneInfo(community.timezone))
    if due is None:
        return None
    await tx.schedule_work(
        NewWork(
            kind=WorkKind.CHECKIN,
            community_id=community.id,
            subject_id=plan.member_id,
            due_at=due,
            urgent=True,
            payload={"plan": _stamp(plan.updated_at)},
            dedupe_key=f"{WorkKind.CHECKIN.value}:{plan.member_id}:{_stamp(due)}",
        ),
        after,
    )
    return due


async def _schedule_step(ctx: Context, checkin: Checkin, step: int, due: datetime) -> None:
    await ctx.tx.schedule_work(
        NewWork(
            kind=WorkKind.CHECKIN_STEP,
            community_id=checkin.community_id,
            subject_id=checkin.id,
            due_at=due,
            urgent=True,
            payload={"step": step},
            dedupe_key=f"{WorkKind.CHECKIN_STEP.value}:{checkin.id}:{step}",
        ),
        ctx.now,
    )


async def _pending_steps(ctx: Context, checkin_id: int) -> list[DueWork]:
    return [
        w
        for w in await ctx.tx.work_about(checkin_id)
        if w.kind is WorkKind.CHECKIN_STEP and w.pending
    ]


# --- scheduled work --------------------------------------------------------------------------
async def _checkin(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome:
    """The moment of a check-in: ask, plan the first step, plan the next check-in."""
    member_id = work.subject_id or 0
    plan = await ctx.tx.omkijken_plan(member_id)
    if plan is None or not plan.active or _stamp(plan.updated_at) != work.payload.get("plan"):
        return Outcome.SKIPPED
    community = await ctx.tx.community(work.community_id)
    circle = await ctx.tx.circle_of_member(member_id, community.id)
    if circle is None or circle.id != plan.circle_id:
        return Outcome.SKIPPED
    checkin = await ctx.tx.add_checkin(community.id, circle.id, member_id, ctx.now)
    question = await ctx.tell(
        member_id,
        "omkijken.question",
        buttons=[
            [("omkijken.button_good", f"ck:good:{checkin.id}")],
            [("omkijken.button_help", f"ck:help:{checkin.id}")],
            [("omkijken.button_call", f"ck:call:{checkin.id}")],
        ],
    )
    await ctx.tx.set_checkin_message(checkin.id, question)
    if question is not None:
        await _schedule_step(
            ctx, checkin, STEP_BUDDY, ctx.now + timedelta(hours=settings.checkin_answer_hours)
        )
    await schedule_checkin(ctx.tx, community, plan, max(ctx.now, work.due_at))
    return Outcome.DONE


async def _step(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome:
    """No answer yet, and nobody went to look: ask the people of this step."""
    step = int(work.payload.get("step", STEP_BUDDY))
    checkin = await ctx.tx.checkin(work.subject_id or 0, lock=True)
    if checkin is None or checkin.answer is not None or checkin.looker_id is not None:
        return Outcome.SKIPPED
    community = await ctx.tx.community(checkin.community_id)
    circle = await ctx.tx.circle_of_member(checkin.member_id, community.id)
    if circle is None or circle.id != checkin.circle_id:
        return Outcome.SKIPPED  # they left the circle meanwhile
    if step == STEP_BUDDY:
        await ctx.tx.checkin_missed(checkin.id, ctx.now)
    asked = {a.member_id for a in await ctx.tx.checkin_asks(checkin.id)}
    people: list[int] = []
    while step <= STEP_BACKING:
        if not await ctx.tx.checkin_step(checkin.id, step):
            return Outcome.SKIPPED  # this step was taken before: never twice
        people = [
            p for p in await people_for_step(ctx, checkin.member_id, circle, step) if p not in asked
        ]
        if people or step == STEP_BACKING:
            break
        step += 1
    if not people:
        log.warning("check-in %s was missed and there is nobody left to ask", checkin.id)
        return Outcome.DONE
    name = await ctx.name_of(checkin.member_id)
    local = checkin.asked_at.astimezone(ZoneInfo(community.timezone))
    keys = {
        STEP_BUDDY: "omkijken.look_in_buddy",
        STEP_NEXT: "omkijken.look_in_next",
        STEP_BACKING: "omkijken.look_in_backing",
    }
    for person in people:
        await ctx.tx.add_checkin_ask(checkin.id, person, step, ctx.now)
        lang = await ctx.language_of(person)
        await ctx.tell(
            person,
            keys[step],
            buttons=[
                [
                    ("omkijken.button_look", f"ck:look:{checkin.id}"),
                    ("omkijken.button_cannot", f"ck:cannot:{checkin.id}"),
                ]
            ],
            concerning=(checkin.member_id,),
            name=name,
            at=f"{local:%H:%M}",
            contact=await contact_line(ctx, checkin.member_id, lang),
            circle=circle.name,
        )
    if step < STEP_BACKING:
        await _schedule_step(
            ctx, checkin, step + 1, ctx.now + timedelta(hours=settings.checkin_step_hours)
        )
    return Outcome.DONE


async def _how_was_it(ctx: Context, work: DueWork) -> Notice | None:
    checkin = await ctx.tx.checkin(work.subject_id or 0)
    if checkin is None or checkin.looker_id != work.member_id or checkin.look_result is not None:
        return None
    return Notice(
        "omkijken.how_was_it",
        {"name": await ctx.name_of(checkin.member_id)},
        [
            [("omkijken.button_went_good", f"ck:went:{checkin.id}:good")],
            [("omkijken.button_went_help", f"ck:went:{checkin.id}:help")],
            [("omkijken.button_went_nobody", f"ck:went:{checkin.id}:nobody")],
        ],
        about=(checkin.member_id,),
    )


async def schedule_rota(tx: Tx, community: Community, after: datetime) -> None:
    tz = ZoneInfo(community.timezone)
    local = after.astimezone(tz)
    days = (ROTA_WEEKDAY - local.weekday()) % 7
    due = datetime.combine(local.date() + timedelta(days=days), ROTA_TIME, tzinfo=tz)
    if due <= local:
        due += timedelta(days=7)
    await tx.schedule_work(
        NewWork(
            kind=WorkKind.ROTA,
            community_id=community.id,
            due_at=due,
            dedupe_key=f"{WorkKind.ROTA.value}:{community.id}:{_stamp(due)}",
        ),
        after,
    )


async def _plan_rota(
    tx: Tx, community: Community, settings: CommunitySettings, now: datetime
) -> None:
    if not await tx.has_pending_work(WorkKind.ROTA, community.id):
        await schedule_rota(tx, community, now)


async def _rota(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome:
    """Monday morning: the week's pairs are made, and each buddy is to hear whom they look
    after (a message of its own, so that quiet hours and the daily limit hold)."""
    community = ctx.need_community()
    tz = ZoneInfo(community.timezone)
    week = week_of(ctx.now, tz)
    for circle in await ctx.tx.circles(community.id):
        pairs = await week_pairs(ctx.tx, circle, ctx.now, tz)
        for member_id, buddy in pairs.items():
            await ctx.tx.schedule_work(
                NewWork(
                    kind=WorkKind.ROTA_NOTICE,
                    community_id=community.id,
                    subject_id=circle.id,
                    member_id=buddy,
                    due_at=ctx.now,
                    payload={"week": week, "member": member_id},
                    dedupe_key=f"{WorkKind.ROTA_NOTICE.value}:{circle.id}:{week}:{buddy}",
                ),
                ctx.now,
            )
    await schedule_rota(ctx.tx, community, max(ctx.now, work.due_at))
    return Outcome.DONE


async def _rota_notice(ctx: Context, work: DueWork) -> Notice | None:
    """A buddy hears whom they look after, while that still holds (quiet hours wait)."""
    member_id = int(work.payload.get("member", 0))
    pairs = await ctx.tx.rota(work.subject_id or 0, str(work.payload.get("week", "")))
    circle = await ctx.tx.circle(work.subject_id or 0)
    if circle is None or pairs.get(member_id) != work.member_id:
        return None
    return Notice(
        "omkijken.rota_notice",
        {"name": await ctx.name_of(member_id), "circle": circle.name},
        about=(member_id,),
    )


def register_work(kinds: WorkKinds) -> None:
    kinds.job(WorkKind.CHECKIN, _checkin)
    kinds.job(WorkKind.CHECKIN_STEP, _step)
    kinds.job(WorkKind.ROTA, _rota)
    kinds.message(WorkKind.CHECKIN_AFTER, _how_was_it)
    kinds.message(WorkKind.ROTA_NOTICE, _rota_notice)
    kinds.plan(_plan_rota)


# --- answers ---------------------------------------------------------------------------------
async def _checkin_of(ctx: Context, number: str) -> Checkin:
    if not number.isdecimal():
        raise UserError("error.button_unknown")
    checkin = await ctx.tx.checkin(int(number), lock=True)
    if checkin is None:
        raise UserError("omkijken.gone")
    return checkin


async def answer(ctx: Context, number: str, given: Answer) -> None:
    """The member answers their own check-in."""
    checkin = await _checkin_of(ctx, number)
    if checkin.member_id != ctx.member.id:
        raise UserError("omkijken.not_yours")
    if not await ctx.tx.answer_checkin(checkin.id, given, ctx.now):
        raise UserError("omkijken.answered_before")
    for work in await _pending_steps(ctx, checkin.id):
        await ctx.tx.finish_work(work.id, ctx.now, Outcome.SKIPPED)
    me = ctx.member.display_name
    if checkin.looker_id is None:  # else they heard already that someone went
        for asked in await ctx.tx.checkin_asks(checkin.id):
            if asked.answer is not LookAnswer.CANNOT:
                await ctx.tell(asked.member_id, "omkijken.answered_after_all", name=me)
    if given is Answer.GOOD:
        await ctx.settle_pressed("omkijken.good_short")
        await ctx.reply("omkijken.good_thanks")
        return
    if given is Answer.HELP:
        await ctx.settle_pressed("omkijken.help_short")
        await ctx.reply("omkijken.help_start")
        ctx.pressed = None  # what follows is a new request, not about the check-in
        if ctx.run_text is not None:
            await ctx.run_text(ctx, "/vraag")
        return
    circle = await ctx.tx.circle(checkin.circle_id)
    pairs = await week_pairs(ctx.tx, circle, ctx.now, ctx.tz()) if circle else {}
    buddy = pairs.get(ctx.member.id)
    if buddy is None and circle is not None:
        contacts = [m for m in await contact_persons(ctx.tx, circle) if m != ctx.member.id]
        buddy = contacts[0] if contacts else None
    await ctx.settle_pressed("omkijken.call_short")
    if buddy is None:
        await ctx.reply("omkijken.call_nobody")
        return
    lang = await ctx.language_of(buddy)
    await ctx.tell(
        buddy,
        "omkijken.please_call",
        concerning=(ctx.member.id,),
        name=me,
        contact=await contact_line(ctx, ctx.member.id, lang),
    )
    await ctx.reply("omkijken.call_asked", concerning=(buddy,), name=await ctx.name_of(buddy))


async def typed(ctx: Context, text: str) -> bool:
    """A typed answer to the member's open check-in ("ja hoor alles goed", "goed")."""
    if ctx.community is None or len(text) > 80:
        return False
    checkin = await ctx.tx.open_checkin(ctx.member.id, ctx.now - OPEN_FOR)
    if checkin is None:
        return False
    newest = await ctx.tx.newest_message_to(ctx.chat.platform, ctx.chat.chat_id)
    just_asked = newest is not None and newest.outbox_id == checkin.outbox_id
    if not just_asked and await ctx.tx.draft(ctx.member.id) is not None:
        return False  # in the middle of something else: the words are for that
    given = read_answer(text, just_asked=just_asked)
    if given is None:
        return False
    ctx.pressed = (
        await ctx.tx.outbox_row(checkin.outbox_id) if checkin.outbox_id is not None else None
    )
    await answer(ctx, str(checkin.id), given)
    return True


async def look(ctx: Context, number: str, going: bool) -> None:
    """Someone asked to look in says they go, or that they cannot now."""
    checkin = await _checkin_of(ctx, number)
    me = ctx.member.id
    mine = [a for a in await ctx.tx.checkin_asks(checkin.id) if a.member_id == me]
    if not mine:
        raise UserError("omkijken.not_asked")
    name = await ctx.name_of(checkin.member_id)
    if checkin.answer is not None:
        await ctx.settle_pressed("omkijken.answered_short", name=name)
        await ctx.reply("omkijken.they_answered", concerning=(checkin.member_id,), name=name)
        return
    if checkin.looker_id is not None and checkin.looker_id != me:
        other = await ctx.name_of(checkin.looker_id)
        await ctx.settle_pressed("omkijken.other_goes_short", name=other)
        await ctx.reply(
            "omkijken.other_goes", concerning=(checkin.looker_id, checkin.member_id), name=other
        )
        return
    if not await ctx.tx.answer_checkin_ask(
        checkin.id, me, LookAnswer.LOOK if going else LookAnswer.CANNOT
    ):
        raise UserError("omkijken.answered_ask_before")
    if not going:
        await ctx.settle_pressed("omkijken.cannot_short")
        await ctx.reply("omkijken.cannot_thanks")
        asks = await ctx.tx.checkin_asks(checkin.id)
        this_step = [a for a in asks if a.step == checkin.step]
        if this_step and all(a.answer is LookAnswer.CANNOT for a in this_step):
            for work in await _pending_steps(ctx, checkin.id):
                await ctx.tx.postpone_work(work.id, ctx.now)  # the next ones now, not later
        return
    await ctx.tx.set_checkin_looker(checkin.id, me, ctx.now)
    for work in await _pending_steps(ctx, checkin.id):
        await ctx.tx.finish_work(work.id, ctx.now, Outcome.SKIPPED)
    community = await ctx.tx.community(checkin.community_id)
    settings = CommunitySettings.of(community, ctx.config.community)
    await ctx.settle_pressed("omkijken.look_short")
    await ctx.reply(
        "omkijken.look_thanks",
        concerning=(checkin.member_id,),
        name=name,
        contact=await contact_line(ctx, checkin.member_id, ctx.lang),
    )
    await ctx.tell(
        checkin.member_id, "omkijken.someone_comes", concerning=(me,), name=ctx.member.display_name
    )
    for asked in await ctx.tx.checkin_asks(checkin.id):
        if asked.member_id != me and asked.answer is None:
            await ctx.tell(
                asked.member_id,
                "omkijken.someone_else_goes",
                concerning=(me, checkin.member_id),
                name=ctx.member.display_name,
                member=name,
            )
    await ctx.tx.schedule_work(
        NewWork(
            kind=WorkKind.CHECKIN_AFTER,
            community_id=checkin.community_id,
            subject_id=checkin.id,
            member_id=me,
            due_at=ctx.now + timedelta(hours=settings.checkin_step_hours),
            dedupe_key=f"{WorkKind.CHECKIN_AFTER.value}:{checkin.id}",
        ),
        ctx.now,
    )


async def how_it_went(ctx: Context, number: str, result: str) -> None:
    checkin = await _checkin_of(ctx, number)
    if checkin.looker_id != ctx.member.id:
        raise UserError("omkijken.not_yours")
    try:
        told = LookResult(result)
    except ValueError:
        raise UserError("error.button_unknown") from None
    if not await ctx.tx.set_look_result(checkin.id, told):
        raise UserError("omkijken.told_before")
    name = await ctx.name_of(checkin.member_id)
    await ctx.settle_pressed("omkijken.went_short")
    await ctx.reply(f"omkijken.went_{told.value}", concerning=(checkin.member_id,), name=name)
    if told is not LookResult.NOBODY:
        return
    circle = await ctx.tx.circle(checkin.circle_id)
    backing = await people_for_step(ctx, checkin.member_id, circle, STEP_BACKING) if circle else []
    for person in backing:
        if person == ctx.member.id:
            continue
        lang = await ctx.language_of(person)
        await ctx.tell(
            person,
            "omkijken.nobody_home",
            concerning=(checkin.member_id, ctx.member.id),
            name=name,
            looker=ctx.member.display_name,
            contact=await contact_line(ctx, checkin.member_id, lang),
        )


__all__ = [
    "Answer",
    "choose_pairs",
    "parse_schedule",
    "read_answer",
    "register_work",
    "week_of",
]
