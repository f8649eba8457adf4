"""What organisers do, as plain use cases: the chat commands and the web pages call these.

Every function here checks first that the one acting (``ctx.member``) is an active organiser
of the community concerned: the community named by ``community_id``, or the one the request
belongs to. That check lives here and nowhere else (``organiser_in``); an organiser of one
neighbourhood is nobody in another, and a paused or blocked organiser is nobody at all.

Functions take a ``Context`` (the transaction, the acting member, the clock as ``ctx.now``,
the catalogs for what is told to others) and return plain data; what goes wrong that the
organiser can fix raises ``UserError``. They never answer the organiser themselves: the
caller renders the result (chat text from the catalogs, or a web page). What they tell
others (a helper who was assigned, a member who was paused) they send themselves.

A caller without a chat message (the web) gets its ``Context`` from ``organiser_context``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot import duework
from bot import settings as schema
from bot.closing import close
from bot.config import CommunitySettings
from bot.context import Context
from bot.errors import UserError
from bot.handlers.requests import introduce, match_helper, parse_request_line
from bot.matching import (
    find_helpers,
    group_text_of,
    look_for_help,
    public_summary,
    settle_group_posts,
    withdraw_pending,
)
from bot.model import (
    Category,
    Community,
    HelpRequest,
    Member,
    MemberStatus,
    NewRequest,
    ProposalStatus,
    RequestStatus,
    Role,
    Visibility,
)
from bot.types import ChatKind, ChatRef, Message, Sender
from bot.when import When
from bot.words import request_summary

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.store import Tx

ACTIVE = (RequestStatus.OPEN, RequestStatus.MATCHED)
MAX_NAME = 60  # the name of a neighbour without a phone
MAX_DAYS = 3660
WEB = "web"


# --- who acts ----------------------------------------------------------------------------------
async def organiser_in(ctx: Context, community_id: int | None = None) -> Community:
    """The community in which ``ctx.member`` acts as organiser; refuses anyone else.

    ``community_id`` None: the community of the chat (a private chat: their own)."""
    return await ctx.require_organiser(community_id)


async def organised_by(tx: Tx, member_id: int) -> list[Community]:
    """The communities in which a member is an active organiser now (for a web page that
    lets an organiser choose; each use case checks again)."""
    found = []
    for membership in await tx.memberships(member_id):
        if (
            membership.left_at is None
            and membership.role is Role.ORGANISER
            and membership.status is MemberStatus.ACTIVE
        ):
            found.append(await tx.community(membership.community_id))
    return found


def organiser_context(
    bot: Bot, tx: Tx, member: Member, community: Community, now: datetime
) -> Context:
    """A context for an organiser acting without a chat message (a web page). Nothing is
    answered through it; what the use cases tell others goes out as usual."""
    chat = ChatRef(WEB, f"member-{member.id}", ChatKind.PRIVATE)
    event = Message(
        f"{WEB}-{member.id}-{now.isoformat()}", chat, Sender(WEB, str(member.id), ""), ""
    )
    ctx = Context(tx, bot.catalog, bot.config, event, member, community, now, details=bot.details)
    return ctx


async def _audit(ctx: Context, community_id: int, action: str, subject: str) -> None:
    """Who did what to which ids; never personal text."""
    await ctx.tx.add_audit(community_id, ctx.member.id, action, subject, ctx.now)


async def _request_in(ctx: Context, request_id: int) -> tuple[HelpRequest, Community]:
    request = await ctx.tx.request(request_id)
    if request is None:
        raise UserError("request.gone")
    community = await organiser_in(ctx, request.community_id)
    return request, community


async def _member_in(ctx: Context, community_id: int, member_id: int) -> Member:
    membership = await ctx.tx.membership(member_id, community_id)
    if membership is None:
        raise UserError("people.not_found", who=str(member_id))
    return await ctx.tx.member(member_id)


# --- the overview of open requests --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OpenRequest:
    id: int
    category: Category
    summary: str  # as the group may see it, in the organiser's language: no personal details
    requester_id: int
    requester_name: str
    created_at: datetime
    waiting: timedelta  # since it was asked
    status: RequestStatus  # OPEN (nobody yet) or MATCHED
    helper_id: int | None
    helper_name: str | None
    asked: int  # helpers asked privately so far


@dataclass(frozen=True, slots=True)
class Overview:
    requests: tuple[OpenRequest, ...]  # nobody yet first, longest waiting first
    total: int  # all active requests, also those left out by ``limit``


async def open_requests(ctx: Context, community_id: int, limit: int | None = None) -> Overview:
    """The community's requests that are open or have a helper, unanswered and oldest first."""
    await organiser_in(ctx, community_id)
    requests = await ctx.tx.community_requests(community_id, ACTIVE)
    requests.sort(key=lambda r: (r.status is not RequestStatus.OPEN, r.created_at, r.id))
    shown = requests if limit is None else requests[:limit]
    items = []
    for request in shown:
        items.append(
            OpenRequest(
                id=request.id,
                category=request.category,
                # organisers see the group text; the whole text is for who helps (bot.details)
                summary=await public_summary(ctx, request, ctx.lang),
                requester_id=request.requester_id,
                requester_name=await ctx.name_of(request.requester_id),
                created_at=request.created_at,
                waiting=ctx.now - request.created_at,
                status=request.status,
                helper_id=request.helper_id,
                helper_name=await ctx.name_of(request.helper_id)
                if request.helper_id is not None
                else None,
                asked=len(await ctx.tx.proposals(request.id)) if request.helper_id is None else 0,
            )
        )
    return Overview(tuple(items), len(requests))


# --- picking up, assigning, referring ----------------------------------------------------------
async def pick_up(ctx: Context, request_id: int) -> HelpRequest:
    """The organiser becomes the helper ("Ik pak het op"); both are introduced."""
    request, community = await _request_in(ctx, request_id)
    if request.status is not RequestStatus.OPEN:
        await ctx.settle_pressed("escalation.settled_short")
        raise UserError("escalation.not_open", nr=request.id)
    await _take(ctx, request)
    await _audit(ctx, community.id, "pick_up", f"request:{request.id} member:{ctx.member.id}")
    matched = await ctx.tx.request(request.id)
    assert matched is not None
    return matched


async def refer(ctx: Context, request_id: int) -> None:
    """Ask the requester whether a partner professional may see the request."""
    request, _ = await _request_in(ctx, request_id)
    if request.status is not RequestStatus.OPEN:
        await ctx.settle_pressed("escalation.settled_short")
        raise UserError("escalation.not_open", nr=request.id)
    await _ask_consent(ctx, request)


async def _take(ctx: Context, request: HelpRequest) -> None:
    """ "Ik pak het op": the organiser becomes the helper, introduced like any helper."""
    me = ctx.member
    if request.requester_id == me.id:
        raise UserError("match.own_request")
    if not await ctx.tx.claim_request(request.id, me.id, ctx.now):
        raise UserError("match.taken")
    matched = await ctx.tx.request(request.id)
    assert matched is not None
    await ctx.tx.set_proposal_status(request.id, me.id, ProposalStatus.ACCEPTED)
    await ctx.settle_pressed("escalation.taken_short", concerning=(me.id,), name=me.display_name)
    await settle_group_posts(
        ctx, matched, "match.accepted_short", concerning=(me.id,), helper=me.display_name
    )
    await introduce(ctx, matched)
    await withdraw_pending(ctx, matched, "match.taken_by_other")
    await duework.request_matched(ctx, request.id)


async def _ask_consent(ctx: Context, request: HelpRequest) -> None:
    """Nothing goes to a professional without the requester's yes."""
    referral = await ctx.tx.add_referral(request.id, ctx.member.id, ctx.now)
    community = await ctx.tx.community(request.community_id)
    lang = await ctx.language_of(request.requester_id)
    await ctx.settle_pressed("escalation.refer_asked_short")
    await ctx.tell(
        request.requester_id,
        "referral.ask",
        buttons=[
            [
                ("referral.button_yes", f"ref:yes:{referral.id}"),
                ("referral.button_no", f"ref:no:{referral.id}"),
            ]
        ],
        concerning=(ctx.member.id,),
        nr=request.id,
        name=ctx.member.display_name,
        summary=request_summary(ctx.catalog, lang, request, ctx.now, community.timezone),
    )
    await ctx.tell(
        ctx.member.id,
        "referral.asked",
        concerning=(request.requester_id,),
        name=await ctx.name_of(request.requester_id),
        nr=request.id,
    )


@dataclass(frozen=True, slots=True)
class HelperChoice:
    member_id: int
    name: str
    helped_before: int  # times they helped this requester before


async def helper_choices(ctx: Context, request_id: int, count: int = 6) -> list[HelperChoice]:
    """The helpers who fit an open request best, to choose from when assigning."""
    request, _ = await _request_in(ctx, request_id)
    _still_open(request)
    candidates = await find_helpers(ctx, request, count, include_asked=True)
    return [
        HelperChoice(c.member_id, await ctx.name_of(c.member_id), c.helped_before)
        for c in candidates
    ]


@dataclass(frozen=True, slots=True)
class Assigned:
    request_id: int
    helper_id: int
    helper_name: str


async def assign(ctx: Context, request_id: int, helper_id: int) -> Assigned:
    """Give an open request to a helper of the community; both are introduced, the helper is
    told who asked them, and it goes in the audit log."""
    request, community = await _request_in(ctx, request_id)
    _still_open(request)
    helper = await ctx.tx.membership(helper_id, community.id)
    if (
        helper is None
        or helper.left_at is not None
        or helper.status is not MemberStatus.ACTIVE
        or helper_id == request.requester_id
    ):
        raise UserError("assign.not_a_helper")
    name = await ctx.name_of(helper_id)
    await ctx.settle_pressed("assign.done_short", concerning=(helper_id,), name=name)
    await match_helper(ctx, request, helper_id)
    await _audit(ctx, community.id, "assign", f"request:{request.id} member:{helper_id}")
    await ctx.tell(
        helper_id,
        "assign.you_were_assigned",
        concerning=(ctx.member.id,),
        nr=request.id,
        name=ctx.member.display_name,
    )
    return Assigned(request.id, helper_id, name)


def _still_open(request: HelpRequest) -> None:
    if request.status is not RequestStatus.OPEN:
        raise UserError(
            "match.taken" if request.status is RequestStatus.MATCHED else "request.closed"
        )


# --- on behalf of a neighbour without a phone ---------------------------------------------------
@dataclass(frozen=True, slots=True)
class OnBehalf:
    request_id: int
    neighbour_id: int
    neighbour_name: str
    group_text: str  # what the group and helpers may see
    screened: bool  # personal details were taken out of the group text


async def on_behalf(
    ctx: Context,
    community_id: int,
    who: str,
    line: str,
    *,
    placed: Callable[[OnBehalf], Awaitable[None]] | None = None,
) -> OnBehalf:
    """A request for a neighbour without a phone; the organiser is how to reach them.
    ``line`` is written as after /vraag ("boodschappen morgen 10:00 brood en melk").
    ``placed`` is called once the request is stored, before any helper is asked (the chat
    confirms it to the organiser first)."""
    await organiser_in(ctx, community_id)
    community = await ctx.tx.community(community_id)
    who = who.strip()
    if not who or not line.strip():
        raise UserError("behalf.how")
    if len(who) > MAX_NAME:
        raise UserError("behalf.name_too_long")
    data = parse_request_line(ctx, line)
    if any(part not in data for part in ("category", "description")):
        raise UserError("behalf.incomplete")
    neighbour = await ctx.tx.create_proxy_member(who, ctx.member.id, community.id, ctx.now)
    screened = ctx.screened(community.language, data["description"])
    when = (
        When(
            datetime.fromisoformat(data["starts_at"]),
            datetime.fromisoformat(data["ends_at"]),
            bool(data.get("exact")),
        )
        if data.get("starts_at")
        else None
    )
    request = await ctx.tx.add_request(
        NewRequest(
            community_id=community.id,
            requester_id=neighbour.id,
            category=Category(data["category"]),
            starts_at=when.start if when else None,
            ends_at=when.end if when else None,
            exact=when.exact if when else False,
            place=data.get("place"),
            description=data["description"],
            visibility=Visibility.ANONYMOUS,
            advance=False,
            group_text=screened.text,
        ),
        ctx.now,
    )
    await _audit(ctx, community.id, "on_behalf", f"request:{request.id} member:{neighbour.id}")
    result = OnBehalf(request.id, neighbour.id, who, screened.text, screened.changed)
    if placed is not None:
        await placed(result)
    await look_for_help(ctx, request)
    await duework.request_opened(ctx, request)
    return result


# --- figures, export, the audit log ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Figures:
    days: int
    since: datetime
    asked: int  # requests placed in the period
    matched: int  # of which a helper was found
    done: int
    open: int
    cancelled: int
    unknown: int
    hidden: int
    referred: int
    helpers: int  # different helpers who helped
    members: int  # members now


async def figures(ctx: Context, community_id: int, days: int = 30) -> Figures:
    """How the community did over the last ``days`` days."""
    await organiser_in(ctx, community_id)
    if not 1 <= days <= MAX_DAYS:
        raise UserError("stats.bad_period")
    since = ctx.now - timedelta(days=days)
    requests = await ctx.tx.community_requests(community_id, since=since)
    counts = {status: 0 for status in RequestStatus}
    for request in requests:
        counts[request.status] += 1
    members = await ctx.tx.members_of(community_id)
    return Figures(
        days=days,
        since=since,
        asked=len(requests),
        matched=sum(1 for r in requests if r.matched_at is not None),
        done=counts[RequestStatus.DONE],
        open=counts[RequestStatus.OPEN],
        cancelled=counts[RequestStatus.CANCELLED],
        unknown=counts[RequestStatus.UNKNOWN],
        hidden=counts[RequestStatus.HIDDEN],
        referred=counts[RequestStatus.REFERRED],
        helpers=len({r.helper_id for r in requests if r.helper_id is not None}),
        members=sum(1 for _, m in members if m.left_at is None),
    )


@dataclass(frozen=True, slots=True)
class Export:
    filename: str
    content: bytes  # CSV, UTF-8
    count: int  # requests in it
    members: tuple[int, ...]  # whose names it shows


EXPORT_COLUMNS = (
    "nummer",
    "soort",
    "status",
    "gevraagd_op",
    "vanaf",
    "tot",
    "plaats",
    "omschrijving",
    "zichtbaarheid",
    "vrager",
    "helper",
    "gekoppeld_op",
    "gesloten_op",
)


async def export_requests(ctx: Context, community_id: int) -> Export:
    """Every request of the community as a CSV file, with no personal details in the texts."""
    await organiser_in(ctx, community_id)
    requests = await ctx.tx.community_requests(community_id)
    names: dict[int, str] = {}

    async def name(member_id: int | None) -> str:
        if member_id is None:
            return ""
        if member_id not in names:
            names[member_id] = await ctx.name_of(member_id)
        return names[member_id]

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for r in requests:
        writer.writerow(
            [
                r.id,
                r.category.value,
                r.status.value,
                r.created_at.isoformat(),
                r.starts_at.isoformat() if r.starts_at else "",
                r.ends_at.isoformat() if r.ends_at else "",
                r.place or "",
                await group_text_of(ctx, r),  # a file travels: no personal details
                r.visibility.value,
                await name(r.requester_id),
                await name(r.helper_id),
                r.matched_at.isoformat() if r.matched_at else "",
                r.closed_at.isoformat() if r.closed_at else "",
            ]
        )
    await _audit(ctx, community_id, "export", f"community:{community_id}")
    community = await ctx.tx.community(community_id)
    stamp = ctx.now.astimezone(ZoneInfo(community.timezone)).strftime("%Y-%m-%d")
    return Export(
        f"buurtbot-vragen-{stamp}.csv",
        out.getvalue().encode("utf-8"),
        len(requests),
        tuple(dict.fromkeys([r.requester_id for r in requests] + list(names))),
    )


@dataclass(frozen=True, slots=True)
class LogEntry:
    created_at: datetime
    actor_id: int | None
    actor_name: str | None
    action: str  # its words are ``auditlog.action.<action>`` in the catalogs
    subject: str  # ids, and for a setting its old and new value


async def audit_log(ctx: Context, community_id: int, limit: int = 20) -> list[LogEntry]:
    """What organisers did, newest first."""
    await organiser_in(ctx, community_id)
    entries = await ctx.tx.audit_log(community_id, limit)
    return [
        LogEntry(
            e.created_at,
            e.actor_id,
            await ctx.name_of(e.actor_id) if e.actor_id else None,
            e.action,
            e.subject,
        )
        for e in entries
    ]


# --- moderation ----------------------------------------------------------------------------------
async def hide_request(ctx: Context, request_id: int) -> HelpRequest:
    """Take a request down: out of the group, helpers told, the requester told politely."""
    request, community = await _request_in(ctx, request_id)
    hidden = await close(
        ctx,
        request,
        RequestStatus.HIDDEN,
        helper_key="moderation.hidden_helper",
        group_key="moderation.hidden_short",
    )
    if hidden is None:
        raise UserError("request.closed")
    await ctx.tell(hidden.requester_id, "moderation.hidden_requester", nr=hidden.id)
    await _audit(ctx, community.id, "hide_request", f"request:{request.id}")
    return hidden


async def set_member_status(
    ctx: Context, community_id: int, member_id: int, status: MemberStatus
) -> Member:
    """Pause, block or let back in a member; they are told. Blocking closes their requests
    and pauses their offers."""
    await organiser_in(ctx, community_id)
    member = await _member_in(ctx, community_id, member_id)
    if member.id == ctx.member.id:
        raise UserError("moderation.not_yourself")
    await ctx.tx.set_member_status(member.id, community_id, status)
    await _audit(ctx, community_id, f"member_{status.value}", f"member:{member.id}")
    if status is MemberStatus.PAUSED:
        await ctx.tell(member.id, "moderation.you_were_paused")
    elif status is MemberStatus.ACTIVE:
        await ctx.tell(member.id, "moderation.you_were_unblocked")
    else:
        await _close_everything(ctx, community_id, member)
        await ctx.tell(member.id, "moderation.you_were_blocked")
    return member


async def _close_everything(ctx: Context, community_id: int, member: Member) -> None:
    for request in await ctx.tx.requests_of(member.id, ACTIVE):
        if request.community_id == community_id:
            await close(
                ctx, request, RequestStatus.CANCELLED, helper_key="moderation.hidden_helper"
            )
    for offer in await ctx.tx.offers_of(member.id):
        if offer.community_id == community_id:
            await ctx.tx.set_offer_paused(offer.id, True)


async def appoint(ctx: Context, community_id: int, member_id: int) -> Member:
    """Make a member of the community an organiser too; they are told."""
    await organiser_in(ctx, community_id)
    member = await _member_in(ctx, community_id, member_id)
    membership = await ctx.tx.membership(member.id, community_id)
    if membership is not None and membership.role is Role.ORGANISER:
        raise UserError("organiser.already", name=member.display_name)
    await ctx.tx.set_role(member.id, community_id, Role.ORGANISER)
    await _audit(ctx, community_id, "appoint_organiser", f"member:{member.id}")
    await ctx.tell(
        member.id,
        "organiser.you_are_appointed",
        concerning=(ctx.member.id,),
        name=ctx.member.display_name,
    )
    return member


# --- the community's own settings ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SettingValue:
    setting: schema.Setting  # name, kinds, unit, range; its words: ``setting.<name>``
    value: Any  # as the bot uses it (hours as a float, kinds of help as a tuple ...)
    default: Any  # what the operator's configuration gives
    is_default: bool  # the community has not set its own value
    shown: str  # the value in words, in the organiser's language
    default_shown: str
    editable: str  # the value as it goes into a form to be changed: for a text the own
    # text as written ("" while the standard text is in force), else the words of ``shown``


def _current(ctx: Context, community: Community) -> CommunitySettings:
    return CommunitySettings.of(community, ctx.config.community)


def _value(ctx: Context, community: Community, setting: schema.Setting) -> SettingValue:
    value = schema.value_of(_current(ctx, community), setting)
    default = schema.value_of(ctx.config.community.settings, setting)
    lang = ctx.lang
    shown = schema.shown(ctx.catalog, lang, setting, value)
    return SettingValue(
        setting,
        value,
        default,
        setting.name not in community.settings,
        shown,
        schema.shown(ctx.catalog, lang, setting, default),
        str(value) if setting.kind is schema.Kind.TEXT else shown,
    )


async def community_settings(ctx: Context, community_id: int) -> list[SettingValue]:
    """Every setting the community decides, with its value and whether it is the default."""
    community = await organiser_in(ctx, community_id)
    community = await ctx.tx.community(community.id)  # as stored now
    return [_value(ctx, community, setting) for setting in schema.SCHEMA]


async def community_setting(ctx: Context, community_id: int, name: str) -> SettingValue:
    """One setting, named as people type it (Dutch, English, or its field name)."""
    community = await organiser_in(ctx, community_id)
    setting = schema.find(name, ctx.lang)
    return _value(ctx, await ctx.tx.community(community.id), setting)


@dataclass(frozen=True, slots=True)
class SettingChanged:
    before: SettingValue
    after: SettingValue

    @property
    def changed(self) -> bool:
        return self.before.value != self.after.value or (
            self.before.is_default != self.after.is_default
        )


async def change_setting(ctx: Context, community_id: int, name: str, typed: str) -> SettingChanged:
    """Change one setting of the community to what was typed ("2 uur", "22:00-8:00", "ja");
    "standaard" (or "default") goes back to the operator's default, and so does an empty
    text (no own house rules: the standard ones). Checked, written to the audit log with the
    old and the new value, and in force from this moment."""
    community = await organiser_in(ctx, community_id)
    community = await ctx.tx.community(community.id)
    setting = schema.find(name, ctx.lang)
    if typed.strip().lower() in schema.DEFAULT_WORDS or (
        setting.kind is schema.Kind.TEXT and not typed.strip()
    ):
        return await _write(ctx, community, setting, None)
    value = schema.parse(setting, typed, ctx.catalog, ctx.lang)
    return await _write(ctx, community, setting, value)


async def change_setting_in_form(
    ctx: Context, community_id: int, name: str, typed: str
) -> SettingChanged:
    """A settings form sent back (the web page): a box saved as it was shown changes
    nothing, so a default stays a default and follows the operator's configuration; any
    other text is a change, as with ``change_setting``."""
    current = await community_setting(ctx, community_id, name)
    if _as_in_box(typed) == _as_in_box(current.editable):
        return SettingChanged(current, current)
    return await change_setting(ctx, community_id, name, typed)


def _as_in_box(text: str) -> str:
    return text.replace("\r\n", "\n").strip()  # browsers send line breaks as \r\n


async def reset_setting(ctx: Context, community_id: int, name: str) -> SettingChanged:
    """Back to the operator's default for this setting."""
    community = await organiser_in(ctx, community_id)
    community = await ctx.tx.community(community.id)
    return await _write(ctx, community, schema.find(name, ctx.lang), None)


async def _write(
    ctx: Context, community: Community, setting: schema.Setting, stored: Any
) -> SettingChanged:
    before = _value(ctx, community, setting)
    own = dict(community.settings)
    if stored is None:
        own.pop(setting.name, None)
    else:
        own[setting.name] = stored
    trial = ctx.config.community.settings.merged(own)
    problem = schema.problem(trial, ctx.lang)
    if problem is not None:
        raise problem
    await ctx.tx.update_community_settings(community.id, {setting.name: stored})
    updated = await ctx.tx.community(community.id)
    if ctx.community is not None and ctx.community.id == community.id:
        ctx.community = updated  # in force at once, for the rest of this event too
    after = _value(ctx, updated, setting)
    result = SettingChanged(before, after)
    if result.changed:
        await _audit(
            ctx,
            community.id,
            "setting",
            f"{setting.name}: {schema.audit_form(setting, before.value)} -> "
            f"{schema.audit_form(setting, after.value)}"
            + (" (standaard)" if after.is_default else ""),
        )
    return result
