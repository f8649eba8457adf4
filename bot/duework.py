"""Closing the loop: reminders, follow-ups, the escalation ladder and the weekly digest.

Events schedule work in the same transaction as the event itself (``request_opened``,
``request_matched``, ``request_closed``). ``DueWorkRunner.run_due`` claims what has come
due, one item per transaction, and does it together with marking it done, so a crash
never half-does anything and a rolled-back claim is simply free again. The timer that
calls ``run_due`` lives outside the core (``scheduler``); the console calls it on ``@wait``.

Messages to a member respect quiet hours (the member's own, else the community's) and a
daily limit: what does not fit is bundled into one message, or waits until the next day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import circles, limits
from bot.app import Bot
from bot.config import CommunitySettings
from bot.context import ButtonRows, Context, Literal
from bot.matching import contact_line, look_for_help, public_summary, widen
from bot.model import (
    Community,
    HelpRequest,
    Member,
    ProposalStatus,
    RequestStatus,
    TableStatus,
    Visibility,
)
from bot.settings import MIN_RETENTION_DAYS, parse_clock
from bot.settings import parse_hours as parse_hours  # where the scheduler's callers find it
from bot.store import Tx
from bot.types import ChatKind, ChatRef, Message, Sender
from bot.words import category_name, request_summary
from bot.work import DueWork, NewWork, Notice, Outcome, WorkKind
from bot.workkinds import WorkKinds

log = logging.getLogger("buurtbot.duework")

# Work that only makes sense while nobody has said yes yet.
LADDER = (WorkKind.CIRCLE_WINDOW, WorkKind.WIDEN, WorkKind.ESCALATE, WorkKind.ORGANISER_ALERT)
FOLLOWUP_MESSAGES = (WorkKind.FOLLOWUP, WorkKind.FOLLOWUP_NUDGE)
# Work whose subject is a help request (other kinds have tables, check-ins … as subject).
REQUEST_KINDS = (
    WorkKind.REMIND_EVENING,
    WorkKind.REMIND_HOUR,
    WorkKind.FOLLOWUP,
    WorkKind.FOLLOWUP_NUDGE,
    WorkKind.CLOSED_UNKNOWN,
    WorkKind.ORGANISER_ALERT,
    WorkKind.CIRCLE_WINDOW,
    WorkKind.WIDEN,
    WorkKind.ESCALATE,
    WorkKind.FOLLOWUP_CLOSE,
)
ANSWERS = ("done", "fail", "need")
FOLLOWUP_KEYS = {  # (kind, to the requester?) -> text
    (WorkKind.FOLLOWUP, True): "followup.question_requester",
    (WorkKind.FOLLOWUP, False): "followup.question_helper",
    (WorkKind.FOLLOWUP_NUDGE, True): "followup.nudge_requester",
    (WorkKind.FOLLOWUP_NUDGE, False): "followup.nudge_helper",
}
WEEK = timedelta(days=7)
MONTH = timedelta(days=30)
SYSTEM = "scheduler"
RETENTION_TIME = time(3, 30)


# --- times ------------------------------------------------------------------------------
def _at(day: datetime, moment: time) -> datetime:
    return datetime.combine(day.date(), moment, tzinfo=day.tzinfo)


def quiet_until(local_now: datetime, hours: tuple[time, time] | None) -> datetime | None:
    """When the quiet hours around ``local_now`` end; None when it is not quiet now."""
    if hours is None:
        return None
    start, end = hours
    now = local_now.timetz().replace(tzinfo=None)
    if start > end:  # across midnight, as usual: 21:30-08:30
        if now >= start:
            return _at(local_now + timedelta(days=1), end)
        if now < end:
            return _at(local_now, end)
        return None
    return _at(local_now, end) if start <= now < end else None


def next_day_start(local_now: datetime, hours: tuple[time, time] | None) -> datetime:
    """The first moment of tomorrow that is not quiet."""
    midnight = _at(local_now + timedelta(days=1), time())
    return quiet_until(midnight, hours) or midnight


def next_weekly(after: datetime, weekday: int, moment: time) -> datetime:
    """The first ``weekday`` at ``moment`` strictly after ``after`` (local times)."""
    days = (weekday - after.weekday()) % 7
    candidate = _at(after + timedelta(days=days), moment)
    return candidate if candidate > after else candidate + WEEK


def hours(amount: float) -> timedelta:
    return timedelta(hours=amount)


def settings_of(ctx: Context, community: Community) -> CommunitySettings:
    return CommunitySettings.of(community, ctx.config.community)


def _stamp(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


# --- scheduling, in the transaction of the event that causes it ----------------------------
async def request_opened(ctx: Context, request: HelpRequest) -> None:
    """A request waits for a helper: widen after N hours, alert organisers after M. While
    it is with the requester's circle, the ladder waits for the circle's window to end."""
    if await circles.in_window(ctx, request):
        return
    community = await ctx.tx.community(request.community_id)
    settings = settings_of(ctx, community)
    stamp = _stamp(ctx.now)
    for kind, after in (
        (WorkKind.WIDEN, settings.widen_after_hours),
        (WorkKind.ESCALATE, settings.organisers_after_hours),
    ):
        await ctx.tx.schedule_work(
            NewWork(
                kind=kind,
                community_id=community.id,
                subject_id=request.id,
                due_at=ctx.now + hours(after),
                payload={"opened_at": stamp},
                dedupe_key=f"{kind.value}:{request.id}:{stamp}",
            ),
            ctx.now,
        )


async def request_matched(ctx: Context, request_id: int) -> None:
    """Someone said yes: stop the ladder; remind the helper; ask both sides afterwards."""
    request = await ctx.tx.request(request_id)
    if request is None or request.status is not RequestStatus.MATCHED:
        return
    assert request.helper_id is not None and request.matched_at is not None
    await ctx.tx.cancel_work(request.id, LADDER, ctx.now)
    helper = await ctx.name_of(request.helper_id)
    await settle_work_messages(
        ctx,
        request.id,
        [WorkKind.ORGANISER_ALERT],
        "escalation.helped_short",
        concerning=(request.helper_id,),
        name=helper,
    )
    community = await ctx.tx.community(request.community_id)
    settings = settings_of(ctx, community)
    stamp = _stamp(request.matched_at)
    payload = {"matched_at": stamp}

    async def schedule(kind: WorkKind, member_id: int, due_at: datetime, urgent: bool) -> None:
        await ctx.tx.schedule_work(
            NewWork(
                kind=kind,
                community_id=community.id,
                subject_id=request.id,
                member_id=member_id,
                due_at=due_at,
                urgent=urgent,
                payload=payload,
                dedupe_key=f"{kind.value}:{request.id}:{member_id}:{stamp}",
            ),
            ctx.now,
        )

    if request.ends_at is not None:
        followup_at = max(request.ends_at, ctx.now) + hours(settings.followup_after_hours)
    else:
        followup_at = ctx.now + hours(settings.followup_without_time_hours)
    for member_id in (request.requester_id, request.helper_id):
        await schedule(WorkKind.FOLLOWUP, member_id, followup_at, False)
    if request.starts_at is None:
        return
    start = request.starts_at.astimezone(ZoneInfo(community.timezone))
    evening_time = parse_clock(settings.reminder_evening)
    if evening_time is not None:
        evening = _at(start - timedelta(days=1), evening_time)
        if ctx.now < evening < start:
            await schedule(WorkKind.REMIND_EVENING, request.helper_id, evening, False)
    if request.exact:
        soon = request.starts_at - timedelta(minutes=settings.reminder_before_minutes)
        if soon > ctx.now:
            await schedule(WorkKind.REMIND_HOUR, request.helper_id, soon, True)


async def request_closed(ctx: Context, request_id: int) -> None:
    """Done, cancelled, referred or closed: nothing about it may run any more."""
    await ctx.tx.cancel_work(request_id, REQUEST_KINDS, ctx.now)


async def settle_work_messages(
    ctx: Context,
    request_id: int,
    kinds: Iterable[WorkKind],
    key: str,
    /,
    concerning: Iterable[int] = (),
    **params: object,
) -> None:
    """Show under the scheduler's earlier messages about a request what came of it."""
    wanted = set(kinds)
    pressed = ctx.pressed.outbox_id if ctx.pressed else None
    for work in await ctx.tx.work_about(request_id):
        if (
            work.kind not in wanted
            or work.outcome != Outcome.SENT
            or work.outbox_id is None
            or work.outbox_id == pressed
            or work.member_id is None
        ):
            continue
        original = await ctx.tx.outbox_row(work.outbox_id)
        if original is None or not original.buttons:
            continue
        outcome = ctx.catalog.text(await ctx.language_of(work.member_id), key, **params)
        await ctx.edit(work.outbox_id, f"{original.text}\n\n{outcome}", concerning=concerning)


# --- what a due message says ------------------------------------------------------------------
def followup_buttons(request_id: int) -> list[list[tuple[str, str]]]:
    return [
        [
            ("followup.button_done", f"fu:done:{request_id}"),
            ("followup.button_failed", f"fu:fail:{request_id}"),
            ("followup.button_needed", f"fu:need:{request_id}"),
        ]
    ]


def _same_match(request: HelpRequest | None, work: DueWork) -> bool:
    return (
        request is not None
        and request.status is RequestStatus.MATCHED
        and _stamp(request.matched_at) == work.payload.get("matched_at")
    )


async def _summary(ctx: Context, request: HelpRequest, lang: str) -> str:
    community = await ctx.tx.community(request.community_id)
    written_in = await ctx.language_of(request.requester_id)
    return request_summary(
        ctx.catalog, lang, request, ctx.now, community.timezone, written_in=written_in
    )


async def _digest_notice(ctx: Context, work: DueWork) -> Notice | None:
    assert work.member_id is not None
    lang = await ctx.language_of(work.member_id)
    community = await ctx.tx.community(work.community_id)
    body, named = await digest_text(ctx, community, lang)
    return Notice("digest.message", {"community": community.name, "body": body}, about=tuple(named))


async def _request_notice(ctx: Context, work: DueWork) -> Notice | None:
    """The message about a request an item stands for, or None when it no longer applies."""
    assert work.member_id is not None
    member_id = work.member_id
    lang = await ctx.language_of(member_id)
    request = await ctx.tx.request(work.subject_id) if work.subject_id is not None else None
    if request is None:
        return None
    nr, tag = request.id, f"#{request.id}"
    summary = await _summary(ctx, request, lang)
    if work.kind in (WorkKind.REMIND_EVENING, WorkKind.REMIND_HOUR):
        assert request.starts_at is not None
        if not _same_match(request, work) or request.helper_id != member_id:
            return None
        if ctx.now >= request.starts_at:
            return None  # too late to be of use
        other = request.requester_id
        key = "reminder.evening" if work.kind is WorkKind.REMIND_EVENING else "reminder.soon"
        return Notice(
            key,
            {
                "name": await ctx.name_of(other),
                "contact": await contact_line(ctx, other, lang),
                "summary": summary,
                "nr": nr,
            },
            about=(other,),
        )
    if work.kind in FOLLOWUP_MESSAGES:
        if not _same_match(request, work) or member_id not in (
            request.requester_id,
            request.helper_id,
        ):
            return None
        assert request.helper_id is not None
        mine = member_id == request.requester_id
        other = request.helper_id if mine else request.requester_id
        return Notice(
            FOLLOWUP_KEYS[work.kind, mine],
            {"name": await ctx.name_of(other), "summary": summary, "nr": nr},
            followup_buttons(nr),
            tag,
            about=(other,),
        )
    if work.kind is WorkKind.CLOSED_UNKNOWN:
        if request.status is not RequestStatus.UNKNOWN:
            return None
        return Notice(
            "followup.closed_unknown",
            {"summary": summary, "nr": nr},
            about=(request.requester_id,),
        )
    if work.kind is WorkKind.ORGANISER_ALERT:
        if request.status is not RequestStatus.OPEN:
            return None
        opened = work.payload.get("opened_at")
        since = datetime.fromisoformat(opened) if opened else request.created_at
        waited = max(1, int((ctx.now - since).total_seconds() // 3600))
        return Notice(
            "escalation.alert",
            {
                "name": await ctx.name_of(request.requester_id),
                # the whole text only for who takes it up (bot.details)
                "summary": await public_summary(ctx, request, lang),
                "nr": nr,
                "hours": waited,
                "contact": await contact_line(ctx, request.requester_id, lang),
            },
            [
                [
                    ("escalation.button_take", f"org:take:{nr}"),
                    ("escalation.button_refer", f"org:refer:{nr}"),
                ]
            ],
            tag,
            about=(request.requester_id,),
        )
    log.error("due work %s of kind %s has no message", work.id, work.kind)
    return None


async def _after_sent(ctx: Context, work: DueWork, settings: CommunitySettings) -> None:
    """A follow-up question went out: a nudge later, and closing it when nobody answers."""
    if work.subject_id is None:
        return
    stamp = str(work.payload.get("matched_at", ""))
    for kind, member_id, after in (
        (WorkKind.FOLLOWUP_NUDGE, work.member_id, settings.followup_nudge_hours),
        (WorkKind.FOLLOWUP_CLOSE, None, settings.followup_close_hours),
    ):
        who = "" if member_id is None else f"{member_id}:"
        await ctx.tx.schedule_work(
            NewWork(
                kind=kind,
                community_id=work.community_id,
                subject_id=work.subject_id,
                member_id=member_id,
                due_at=ctx.now + hours(after),
                payload={"matched_at": stamp},
                dedupe_key=f"{kind.value}:{work.subject_id}:{who}{stamp}",
            ),
            ctx.now,
        )


# --- the weekly digest ------------------------------------------------------------------------
def _waited(ctx: Context, lang: str, since: datetime) -> str:
    span = ctx.now - since
    if span >= timedelta(days=2):
        return ctx.catalog.text(lang, "digest.days", n=span.days)
    if span >= timedelta(days=1):
        return ctx.catalog.text(lang, "digest.one_day")
    return ctx.catalog.text(lang, "digest.hours", n=max(1, int(span.total_seconds() // 3600)))


async def _names(ctx: Context, member_ids: Sequence[int]) -> str:
    return ", ".join([await ctx.name_of(m) for m in member_ids])


async def digest_text(ctx: Context, community: Community, lang: str) -> tuple[str, list[int]]:
    """A week in a few lines, for organisers, and the members it names."""

    def t(key: str, /, **params: object) -> str:
        return ctx.catalog.text(lang, key, **params)

    since = ctx.now - WEEK
    figures = await ctx.tx.request_figures(community.id, since)
    lines = [
        t(
            "digest.figures",
            asked=figures["asked"],
            matched=figures["matched"],
            done=figures["done"],
            unknown=figures["unknown"],
            referred=figures["referred"],
        )
    ]
    waiting = (await ctx.tx.open_requests(community.id))[:3]
    if waiting:
        lines.append(t("digest.waiting"))
        for request in waiting:
            lines.append(
                t(
                    "digest.waiting_item",
                    nr=request.id,
                    category=category_name(ctx.catalog, lang, request.category),
                    waited=_waited(ctx, lang, request.created_at),
                )
            )
    else:
        lines.append(t("digest.nothing_waiting"))
    active = await ctx.tx.helpers_since(community.id, since)
    if active:
        lines.append(t("digest.active", n=len(active), names=await _names(ctx, active)))
    else:
        lines.append(t("digest.nobody_active"))
    idle = await ctx.tx.idle_helpers(community.id, ctx.now - MONTH)
    if idle:
        lines.append(t("digest.idle", names=await _names(ctx, idle)))
    named = [*active, *idle]
    tables = await ctx.tx.tables_between(community.id, since, ctx.now)
    if tables:
        held = [table for table in tables if table.status is not TableStatus.CANCELLED]
        lines.append(
            t(
                "digest.tables",
                tables=len(held),
                seats=sum(table.taken for table in held),
                offered=sum(table.seats for table in held),
                good=sum(1 for table in held if table.outcome == "good"),
            )
        )
    checkins = await ctx.tx.checkin_figures(community.id, since)
    if checkins["asked"]:  # figures only: never who answered what
        lines.append(t("digest.checkins", **checkins))
    return "\n".join(lines), named


# --- work on a request or community as a whole ----------------------------------------------
async def _widen(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome | None:
    request = await ctx.tx.request(work.subject_id or 0)
    if request is None or request.status is not RequestStatus.OPEN or request.posted_in_group:
        return Outcome.SKIPPED
    if request.visibility is Visibility.HELPERS and not any(
        p.status is ProposalStatus.PENDING for p in await ctx.tx.proposals(request.id)
    ):
        return Outcome.SKIPPED  # the requester heard already that nobody could, yet
    if request.visibility is not Visibility.HELPERS:
        until = quiet_until(ctx.local_now(), parse_hours(settings.quiet_hours))
        if until is not None:
            await ctx.tx.postpone_work(work.id, until)
            return None
    await widen(ctx, request)
    return Outcome.DONE


async def _circle_window(
    ctx: Context, work: DueWork, settings: CommunitySettings
) -> Outcome | None:
    """The circle had its turn: now the wider neighbourhood, as the requester chose."""
    request = await ctx.tx.request(work.subject_id or 0)
    if request is None or request.status is not RequestStatus.OPEN:
        return Outcome.SKIPPED
    until = quiet_until(ctx.local_now(), parse_hours(settings.quiet_hours))
    if until is not None:
        await ctx.tx.postpone_work(work.id, until)
        return None
    await ctx.tell(request.requester_id, "circle.window_over", nr=request.id)
    await look_for_help(ctx, request, wide=True)
    await request_opened(ctx, request)
    return Outcome.DONE


async def _escalate(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome | None:
    request = await ctx.tx.request(work.subject_id or 0)
    if request is None or request.status is not RequestStatus.OPEN:
        return Outcome.SKIPPED
    organisers = [
        o for o in await ctx.tx.organisers(work.community_id) if o != request.requester_id
    ]
    if not organisers:
        log.warning("request %s waits, but its community has no organisers", request.id)
        return Outcome.SKIPPED
    for organiser in organisers:
        await ctx.tx.schedule_work(
            NewWork(
                kind=WorkKind.ORGANISER_ALERT,
                community_id=work.community_id,
                subject_id=request.id,
                member_id=organiser,
                due_at=ctx.now,
                payload=work.payload,
                dedupe_key=f"{WorkKind.ORGANISER_ALERT.value}:{work.id}:{organiser}",
            ),
            ctx.now,
        )
    return Outcome.DONE


async def _close_unknown(
    ctx: Context, work: DueWork, settings: CommunitySettings
) -> Outcome | None:
    request = await ctx.tx.request(work.subject_id or 0)
    if not _same_match(request, work):
        return Outcome.SKIPPED
    assert request is not None and request.helper_id is not None
    if not await ctx.tx.close_request(request.id, RequestStatus.UNKNOWN, ctx.now):
        return Outcome.SKIPPED
    await request_closed(ctx, request.id)
    await settle_work_messages(ctx, request.id, FOLLOWUP_MESSAGES, "followup.closed_short")
    for member_id in (request.requester_id, request.helper_id):
        await ctx.tx.schedule_work(
            NewWork(
                kind=WorkKind.CLOSED_UNKNOWN,
                community_id=work.community_id,
                subject_id=request.id,
                member_id=member_id,
                due_at=ctx.now,
                dedupe_key=f"{WorkKind.CLOSED_UNKNOWN.value}:{work.id}:{member_id}",
            ),
            ctx.now,
        )
    return Outcome.DONE


async def schedule_digest(
    tx: Tx, community: Community, settings: CommunitySettings, after: datetime
) -> None:
    moment = parse_clock(settings.digest_time) or time(9)
    local = after.astimezone(ZoneInfo(community.timezone))
    due = next_weekly(local, settings.digest_weekday % 7, moment)
    await tx.schedule_work(
        NewWork(
            kind=WorkKind.DIGEST,
            community_id=community.id,
            due_at=due,
            dedupe_key=f"{WorkKind.DIGEST.value}:{community.id}:{_stamp(due)}",
        ),
        after,
    )


async def _digest(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome | None:
    community = ctx.need_community()
    for organiser in await ctx.tx.organisers(community.id):
        await ctx.tx.schedule_work(
            NewWork(
                kind=WorkKind.DIGEST_NOTICE,
                community_id=community.id,
                member_id=organiser,
                due_at=ctx.now,
                dedupe_key=f"{WorkKind.DIGEST_NOTICE.value}:{work.id}:{organiser}",
            ),
            ctx.now,
        )
    await schedule_digest(ctx.tx, community, settings, max(ctx.now, work.due_at))
    return Outcome.DONE


async def schedule_retention(tx: Tx, community: Community, after: datetime) -> None:
    """The nightly clean-up, at half past three local time."""
    local = after.astimezone(ZoneInfo(community.timezone))
    due = _at(local, RETENTION_TIME)
    if due <= local:
        due = _at(local + timedelta(days=1), RETENTION_TIME)
    await tx.schedule_work(
        NewWork(
            kind=WorkKind.RETENTION,
            community_id=community.id,
            due_at=due,
            dedupe_key=f"{WorkKind.RETENTION.value}:{community.id}:{_stamp(due)}",
        ),
        after,
    )


async def _retention(ctx: Context, work: DueWork, settings: CommunitySettings) -> Outcome | None:
    """What is personal and older than the community keeps it is removed: texts of closed
    requests, messages sent, proposals, seats, reports, audit details, drafts, inbox ids,
    answered invitations to circles."""
    community = ctx.need_community()
    # never less than two days: a platform may deliver an update again within a day
    before = ctx.now - timedelta(days=max(settings.retention_days, MIN_RETENTION_DAYS))
    removed = await ctx.tx.purge_closed_texts(community.id, before)
    if removed:
        log.info("removed the texts of %d closed requests in community %s", removed, community.id)
    purged = await ctx.tx.purge_personal(community.id, before)
    if any(purged.values()):
        log.info(
            "retention in community %s removed %s",
            community.id,
            ", ".join(f"{count} {what}" for what, count in purged.items() if count),
        )
    checkins = await ctx.tx.purge_checkins(
        community.id, ctx.now - timedelta(days=max(settings.checkin_keep_days, 1))
    )
    if checkins:
        log.info("removed %d check-ins in community %s", checkins, community.id)
    await ctx.tx.forget_limit_uses(ctx.now - limits.WEEK)  # the longest window of a limit
    await schedule_retention(ctx.tx, community, max(ctx.now, work.due_at))
    return Outcome.DONE


async def _plan(tx: Tx, community: Community, settings: CommunitySettings, now: datetime) -> None:
    if not await tx.has_pending_work(WorkKind.DIGEST, community.id):
        await schedule_digest(tx, community, settings, now)
    if not await tx.has_pending_work(WorkKind.RETENTION, community.id):
        await schedule_retention(tx, community, now)


def register_work(kinds: WorkKinds) -> None:
    """The kinds of work about requests, the digest and the nightly clean-up."""
    kinds.job(WorkKind.WIDEN, _widen)
    kinds.job(WorkKind.CIRCLE_WINDOW, _circle_window)
    kinds.job(WorkKind.ESCALATE, _escalate)
    kinds.job(WorkKind.FOLLOWUP_CLOSE, _close_unknown)
    kinds.job(WorkKind.DIGEST, _digest)
    kinds.job(WorkKind.RETENTION, _retention)
    for kind in (
        WorkKind.REMIND_EVENING,
        WorkKind.REMIND_HOUR,
        WorkKind.FOLLOWUP_NUDGE,
        WorkKind.CLOSED_UNKNOWN,
        WorkKind.ORGANISER_ALERT,
    ):
        kinds.message(kind, _request_notice)
    kinds.message(WorkKind.FOLLOWUP, _request_notice, after=_after_sent)
    kinds.message(WorkKind.DIGEST_NOTICE, _digest_notice)
    kinds.plan(_plan)


# --- the claim loop ----------------------------------------------------------------------------
def work_context(bot: Bot, tx: Tx, community: Community, now: datetime) -> Context:
    """A context for work nobody typed: the bot itself is the one acting."""
    chat = ChatRef(SYSTEM, SYSTEM, ChatKind.PRIVATE)
    event = Message(f"{SYSTEM}-{_stamp(now)}", chat, Sender(SYSTEM, SYSTEM, "Buurtbot"), "")
    itself = Member(0, "Buurtbot", None, now)
    return Context(tx, bot.catalog, bot.config, event, itself, community, now, details=bot.details)


# The nightly jobs: planned and done only by the process that leads (see ``DueWorkRunner``).
LEADER_ONLY = frozenset({WorkKind.DIGEST, WorkKind.RETENTION})


def _always() -> bool:
    return True


@dataclass
class DueWorkRunner:
    """Claims due work and does it: one item (or one member's bundle) per transaction.

    Any number of runners, in any number of processes, may share one database: each item
    is claimed by one of them. The nightly jobs (``LEADER_ONLY``: the weekly digest's
    planning and the clean-up) are planned and done only while ``leads()`` says this
    process leads; one process at a time, as the design asks.
    """

    bot: Bot
    worker: str = "buurtbot"
    max_per_run: int = 1000
    max_attempts: int = 5
    plan_every: timedelta = timedelta(minutes=10)  # how often digests are checked for
    leads: Callable[[], bool] = _always
    _planned_at: datetime | None = field(default=None, repr=False)

    def _skip(self) -> frozenset[WorkKind]:
        return frozenset() if self.leads() else LEADER_ONLY

    async def next_due(self) -> datetime | None:
        async with self.bot.store.transaction() as tx:
            return await tx.next_due_at(skip=self._skip())

    async def run_due(self) -> int:
        """Do everything that is due now, oldest first. Returns how many items were handled."""
        if self.leads():
            await self._plan_digests()
        handled = 0
        while handled < self.max_per_run:
            now = self.bot.clock.now()
            claimed: DueWork | None = None
            try:
                async with self.bot.store.transaction() as tx:
                    claimed = await tx.claim_due_work(now, self.worker, skip=self._skip())
                    if claimed is None:
                        break
                    await self._handle(tx, claimed, now)
            except Exception as problem:
                if claimed is None:
                    log.exception("claiming due work failed")
                    break
                log.exception("due work %s (%s) failed", claimed.id, claimed.kind)
                await self._failed(claimed, now, problem)
            handled += 1
        if handled:
            for listener in self.bot.listeners:
                listener()
        return handled

    async def _plan_digests(self) -> None:
        """Every community has its recurring work planned (digest, clean-up …)."""
        now = self.bot.clock.now()
        if self._planned_at is not None and now - self._planned_at < self.plan_every:
            return
        self._planned_at = now
        async with self.bot.store.transaction() as tx:
            for community in await tx.communities():
                settings = CommunitySettings.of(community, self.bot.config.community)
                for planner in self.bot.work.planners:
                    await planner(tx, community, settings, now)

    async def _failed(self, work: DueWork, now: datetime, problem: Exception) -> None:
        attempts = work.attempts + 1
        retry_at = (
            now + timedelta(minutes=min(2**attempts, 360)) if attempts < self.max_attempts else None
        )
        try:
            async with self.bot.store.transaction() as tx:
                await tx.work_failed(work.id, now, repr(problem), retry_at)
        except Exception:
            log.exception("could not even record the failure of due work %s", work.id)

    async def _handle(self, tx: Tx, work: DueWork, now: datetime) -> None:
        community = await tx.community(work.community_id)
        ctx = work_context(self.bot, tx, community, now)
        settings = settings_of(ctx, community)
        if work.member_id is None:
            job = self.bot.work.jobs.get(work.kind)
            if job is None:
                raise LookupError(f"no job is registered for work of kind {work.kind}")
            outcome = await job(ctx, work, settings)
            if outcome is not None:
                await tx.finish_work(work.id, now, outcome)
            return
        await self._message(ctx, work, settings, work.member_id)

    async def _message(
        self, ctx: Context, work: DueWork, settings: CommunitySettings, member_id: int
    ) -> None:
        tx, now = ctx.tx, ctx.now
        own = (await tx.member_settings(member_id)).get("quiet_hours")
        quiet = parse_hours(str(own) if own is not None else settings.quiet_hours)
        local = ctx.local_now()
        batch = [work]
        if not work.urgent:
            until = quiet_until(local, quiet)
            if until is not None:
                await tx.postpone_work(work.id, until)
                return
            batch += await tx.claim_member_work(member_id, now, self.worker)
        notices: list[tuple[DueWork, Notice]] = []
        for item in batch:
            render = self.bot.work.messages.get(item.kind)
            if render is None:
                raise LookupError(f"no message is registered for work of kind {item.kind}")
            notice = await render(ctx, item)
            if notice is None:
                await tx.finish_work(item.id, now, Outcome.SKIPPED)
            else:
                notices.append((item, notice))
        if not notices:
            return
        if work.urgent:
            await self._send(ctx, settings, member_id, notices)
            return
        today = _at(local, time())
        room = settings.max_scheduled_per_day - await tx.scheduled_messages_since(member_id, today)
        if room <= 0:
            tomorrow = next_day_start(local, quiet)
            for item, _ in notices:
                await tx.postpone_work(item.id, tomorrow)
            return
        if len(notices) <= room:
            await self._send(ctx, settings, member_id, notices)
            return
        await self._send(ctx, settings, member_id, notices[: room - 1])
        await self._bundle(ctx, settings, member_id, notices[room - 1 :])

    async def _send(
        self,
        ctx: Context,
        settings: CommunitySettings,
        member_id: int,
        notices: Sequence[tuple[DueWork, Notice]],
    ) -> None:
        for item, notice in notices:
            outbox_id = await ctx.tell(
                member_id,
                notice.key,
                buttons=notice.buttons,
                attachment=None,
                concerning=notice.about,
                **notice.params,
            )
            if outbox_id is None:
                await ctx.tx.finish_work(item.id, ctx.now, Outcome.SKIPPED)
                continue
            await self._after_sent(ctx, item, settings)
            await ctx.tx.finish_work(item.id, ctx.now, Outcome.SENT, outbox_id)

    async def _after_sent(self, ctx: Context, item: DueWork, settings: CommunitySettings) -> None:
        after = self.bot.work.after_sent.get(item.kind)
        if after is not None:
            await after(ctx, item, settings)

    async def _bundle(
        self,
        ctx: Context,
        settings: CommunitySettings,
        member_id: int,
        notices: Sequence[tuple[DueWork, Notice]],
    ) -> None:
        lang = await ctx.language_of(member_id)
        texts = [ctx.catalog.text(lang, n.key, **n.params) for _, n in notices]
        rows: ButtonRows = [
            [
                (
                    Literal(f"{ctx.catalog.text(lang, label, **n.params)} {n.tag}".strip()),
                    action,
                )
                for label, action in row
            ]
            for _, n in notices
            for row in n.buttons
        ]
        outbox_id = await ctx.tell(
            member_id,
            "bundle.intro",
            buttons=rows,
            concerning={m for _, n in notices for m in n.about},
            items="\n\n".join(f"• {t}" for t in texts),
        )
        for item, _ in notices:
            if outbox_id is None:
                await ctx.tx.finish_work(item.id, ctx.now, Outcome.SKIPPED)
                continue
            await self._after_sent(ctx, item, settings)
            await ctx.tx.finish_work(item.id, ctx.now, Outcome.BUNDLED, outbox_id)
