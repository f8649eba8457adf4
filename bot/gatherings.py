"""Gatherings of a circle: ``/cirkel afspraak za 10:00 koffie bij Els``.

Every member is asked ``[Ik kom]`` / ``[Ik kan niet]``; who comes gets a reminder the day
before, and the circle's contact persons (and whoever planned it) see who comes."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.circle_records import Circle, CircleRole
from bot.config import CommunitySettings
from bot.context import Context
from bot.errors import UserError
from bot.omkijken_records import Gathering
from bot.when import When, WhenError, describe_when, parse_when
from bot.work import DueWork, NewWork, Notice, Outcome, WorkKind
from bot.workkinds import WorkKinds

MAX_WHAT = 120


def when_text(gathering: Gathering, now: datetime, tz: ZoneInfo, lang: str) -> str:
    start = gathering.starts_at.astimezone(tz)
    return describe_when(When(start, start + timedelta(hours=1), True), now.astimezone(tz), lang)


async def _circle(ctx: Context) -> Circle:
    community = ctx.need_community()
    circle = await ctx.tx.circle_of_member(ctx.member.id, community.id)
    if circle is None:
        raise UserError("omkijken.no_circle")
    return circle


def parse_gathering(ctx: Context, text: str) -> tuple[datetime, str]:
    """``"za 10:00 koffie bij Els"`` -> (Saturday 10:00, "koffie bij Els")."""
    tokens = text.split()
    if not tokens:
        raise UserError("gathering.how")
    try:
        when, rest = parse_when(tokens, ctx.local_now(), ctx.tz())
    except WhenError as problem:
        if problem.reason == "past":
            raise UserError("gathering.past", word=problem.word) from None
        raise UserError(f"when.{problem.reason}", word=problem.word) from None
    if when is None:
        raise UserError("gathering.need_when", word=tokens[0][:20])
    if not when.exact:
        raise UserError("gathering.need_time")
    if when.start <= ctx.now:
        raise UserError("gathering.past", word=" ".join(tokens[:2])[:30])
    what = " ".join(rest).strip()
    if not what:
        raise UserError("gathering.need_what")
    if len(what) > MAX_WHAT:
        raise UserError("gathering.too_long", limit=MAX_WHAT)
    return when.start, what


async def plan(ctx: Context, text: str) -> None:
    circle = await _circle(ctx)
    starts_at, what = parse_gathering(ctx, text)
    community = ctx.need_community()
    gathering = await ctx.tx.add_gathering(
        community.id, circle.id, ctx.member.id, starts_at, what, ctx.now
    )
    await ctx.tx.answer_gathering(gathering.id, ctx.member.id, True, ctx.now)
    tz = ZoneInfo(community.timezone)
    for member in await ctx.tx.circle_members(circle.id):
        if member.member_id == ctx.member.id:
            continue
        lang = await ctx.language_of(member.member_id)
        await ctx.tell(
            member.member_id,
            "gathering.invite",
            buttons=[
                [
                    ("gathering.button_come", f"ga:yes:{gathering.id}"),
                    ("gathering.button_not", f"ga:no:{gathering.id}"),
                ]
            ],
            concerning=(ctx.member.id,),
            name=ctx.member.display_name,
            circle=circle.name,
            when=when_text(gathering, ctx.now, tz, lang),
            what=what,
        )
    await ctx.tell(  # privately, also when planned in the group: it is the circle's business
        ctx.member.id,
        "gathering.planned",
        when=when_text(gathering, ctx.now, tz, ctx.lang),
        what=what,
    )
    settings = CommunitySettings.of(community, ctx.config.community)
    hour, _, minute = settings.reminder_evening.partition(":")
    if hour.isdecimal() and minute.isdecimal():
        evening = (starts_at.astimezone(tz) - timedelta(days=1)).replace(
            hour=int(hour), minute=int(minute), second=0, microsecond=0
        )
        if ctx.now < evening < starts_at:
            await ctx.tx.schedule_work(
                NewWork(
                    kind=WorkKind.GATHERING_DAY_BEFORE,
                    community_id=community.id,
                    subject_id=gathering.id,
                    due_at=evening,
                    dedupe_key=f"{WorkKind.GATHERING_DAY_BEFORE.value}:{gathering.id}",
                ),
                ctx.now,
            )


async def _gathering_of(ctx: Context, number: str) -> tuple[Gathering, Circle]:
    if not number.isdecimal():
        raise UserError("error.button_unknown")
    gathering = await ctx.tx.gathering(int(number))
    circle = await ctx.tx.circle(gathering.circle_id) if gathering else None
    if gathering is None or circle is None:
        raise UserError("gathering.gone")
    members = {m.member_id for m in await ctx.tx.circle_members(circle.id)}
    if ctx.member.id not in members:
        raise UserError("gathering.not_your_circle")
    return gathering, circle


async def answer(ctx: Context, number: str, coming: bool) -> None:
    gathering, _ = await _gathering_of(ctx, number)
    if gathering.starts_at <= ctx.now:
        raise UserError("gathering.over")
    await ctx.tx.answer_gathering(gathering.id, ctx.member.id, coming, ctx.now)
    await ctx.settle_pressed("gathering.coming_short" if coming else "gathering.not_short")
    await ctx.reply("gathering.coming" if coming else "gathering.not_coming", what=gathering.what)


async def who_comes(ctx: Context, gathering: Gathering, lang: str) -> tuple[str, list[int]]:
    answers = await ctx.tx.gathering_answers(gathering.id)
    coming = [m for m, yes in answers.items() if yes]
    names = ", ".join([await ctx.name_of(m) for m in coming])
    return names or ctx.catalog.text(lang, "gathering.nobody_yet"), coming


async def show(ctx: Context) -> None:
    """The circle's coming gatherings; contact persons and the one who planned it see who
    comes, the others how many."""
    circle = await _circle(ctx)
    gatherings = await ctx.tx.gatherings(circle.id, ctx.now)
    if not gatherings:
        await ctx.tell(ctx.member.id, "gathering.none")
        return
    contacts = {
        m.member_id for m in await ctx.tx.circle_members(circle.id) if m.role is CircleRole.CONTACT
    }
    lines, named = [], []
    for gathering in gatherings:
        names, coming = await who_comes(ctx, gathering, ctx.lang)
        when = when_text(gathering, ctx.now, ctx.tz(), ctx.lang)
        if ctx.member.id in contacts or gathering.organiser_id == ctx.member.id:
            lines.append(ctx.t("gathering.line_names", when=when, what=gathering.what, names=names))
            named += coming
        else:
            lines.append(
                ctx.t("gathering.line_count", when=when, what=gathering.what, n=len(coming))
            )
    await ctx.tell(ctx.member.id, "gathering.list", concerning=named, items="\n".join(lines))


async def _day_before(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome:
    gathering = await ctx.tx.gathering(work.subject_id or 0)
    if gathering is None or gathering.starts_at <= ctx.now:
        return Outcome.SKIPPED
    members = await ctx.tx.circle_members(gathering.circle_id)
    answers = await ctx.tx.gathering_answers(gathering.id)
    wanted = [m.member_id for m in members if answers.get(m.member_id)]
    wanted += [
        m.member_id for m in members if m.role is CircleRole.CONTACT and m.member_id not in wanted
    ]
    for member_id in wanted:
        await ctx.tx.schedule_work(
            NewWork(
                kind=WorkKind.GATHERING_REMIND,
                community_id=work.community_id,
                subject_id=gathering.id,
                member_id=member_id,
                due_at=ctx.now,
                dedupe_key=f"{WorkKind.GATHERING_REMIND.value}:{work.id}:{member_id}",
            ),
            ctx.now,
        )
    return Outcome.DONE


async def _reminder(ctx: Context, work: DueWork) -> Notice | None:
    assert work.member_id is not None
    gathering = await ctx.tx.gathering(work.subject_id or 0)
    if gathering is None or gathering.starts_at <= ctx.now:
        return None
    members = await ctx.tx.circle_members(gathering.circle_id)
    mine = [m for m in members if m.member_id == work.member_id]
    if not mine:
        return None  # left the circle meanwhile
    community = await ctx.tx.community(work.community_id)
    lang = await ctx.language_of(work.member_id)
    when = when_text(gathering, ctx.now, ZoneInfo(community.timezone), lang)
    names, coming = await who_comes(ctx, gathering, lang)
    if mine[0].role is CircleRole.CONTACT:
        return Notice(
            "gathering.remind_contact",
            {"when": when, "what": gathering.what, "names": names},
            about=tuple(coming),
        )
    if not (await ctx.tx.gathering_answers(gathering.id)).get(work.member_id):
        return None
    return Notice("gathering.remind", {"when": when, "what": gathering.what})


def register_work(kinds: WorkKinds) -> None:
    kinds.job(WorkKind.GATHERING_DAY_BEFORE, _day_before)
    kinds.message(WorkKind.GATHERING_REMIND, _reminder)
