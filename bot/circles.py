"""Circles ("voorzorgcirkels"): small groups of neighbours who look out for each other.

Everyone in a circle is equal: each may say what they like to do for others and what they
might need some day. A circle has one or more contact persons, who decide when a neighbour
asks to join from the list. What is in a circle (who, and what they wrote) is for its
members only; organisers see figures, and may link a care or welfare organisation to a
circle as its partner, reachable for backing ("rugdekking") with a member's consent.

A circle member's request goes to fitting members of their circle first (``circle_phase``,
``open_window``); after the circle's window the wider neighbourhood is asked as the
requester chose (``bot.duework``).

The use cases here check who may do what; the chat commands in ``bot.handlers.circles``
only read what was typed or pressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.circle_records import (
    Circle,
    CircleInvite,
    CircleMember,
    CirclePartner,
    CircleRole,
    InviteKind,
    InviteStatus,
)
from bot.context import Context
from bot.dashboard import WEEKS, week_starts
from bot.errors import UserError
from bot.model import Draft, HelpRequest, Member
from bot.work import NewWork, WorkKind

MAX_NAME = 40  # a circle's name: a street, a block, a few words
MAX_ANSWER = 200  # what someone likes to do, or might need
MAX_PARTNER = 120
JOIN_KIND = "circle"  # the guided questions after joining (a draft)


@dataclass(frozen=True, slots=True)
class CircleView:
    """What a member of a circle sees of it."""

    circle: Circle
    members: list[CircleMember]
    partners: list[CirclePartner]
    invites: list[CircleInvite]  # pending; shown to contact persons only
    limit: int


def size_limit(ctx: Context) -> int:
    return max(2, ctx.settings().circle_size)


async def circle_of(ctx: Context, member_id: int | None = None) -> Circle | None:
    community = ctx.need_community()
    return await ctx.tx.circle_of_member(member_id or ctx.member.id, community.id)


async def my_circle(ctx: Context) -> Circle:
    circle = await circle_of(ctx)
    if circle is None:
        raise UserError("circle.not_in_one")
    return circle


async def member_of(ctx: Context, circle: Circle, member_id: int) -> CircleMember | None:
    for member in await ctx.tx.circle_members(circle.id):
        if member.member_id == member_id:
            return member
    return None


async def view(ctx: Context, circle: Circle) -> CircleView:
    """The circle as its members see it; anyone else is refused."""
    me = await member_of(ctx, circle, ctx.member.id)
    if me is None:
        raise UserError("circle.members_only")
    invites = []
    if me.role is CircleRole.CONTACT:
        invites = await ctx.tx.circle_invites(circle_id=circle.id)
    return CircleView(
        circle,
        await ctx.tx.circle_members(circle.id),
        await ctx.tx.circle_partners(circle.id),
        invites,
        size_limit(ctx),
    )


def clean_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise UserError("circle.name_missing")
    if len(name) > MAX_NAME:
        raise UserError("circle.name_too_long", limit=MAX_NAME)
    return name


async def start(ctx: Context, name: str) -> Circle:
    """A new circle, with the sender as its first member and contact person."""
    community = ctx.need_community()
    name = clean_name(name)
    current = await circle_of(ctx)
    if current is not None:
        raise UserError("circle.already_in_one", name=current.name)
    if any(c.name.casefold() == name.casefold() for c in await ctx.tx.circles(community.id)):
        raise UserError("circle.name_taken", name=name)
    circle = await ctx.tx.create_circle(community.id, name, ctx.member.id, ctx.now)
    await _withdraw_other_invites(ctx, ctx.member.id)
    return circle


async def invite(ctx: Context, who: Member) -> CircleInvite:
    """Invite a neighbour to the sender's circle; they answer with a button."""
    circle = await my_circle(ctx)
    if who.id == ctx.member.id:
        raise UserError("circle.invite_self")
    if await member_of(ctx, circle, who.id) is not None:
        raise UserError("circle.invite_member", name=who.display_name)
    theirs = await circle_of(ctx, who.id)
    if theirs is not None:
        raise UserError("circle.invite_elsewhere", name=who.display_name)
    pending = await ctx.tx.circle_invites(circle_id=circle.id, member_id=who.id)
    if pending:
        raise UserError("circle.invite_twice", name=who.display_name)
    if len(await ctx.tx.circle_members(circle.id)) >= size_limit(ctx):
        raise UserError("circle.full", name=circle.name, limit=size_limit(ctx))
    made = await ctx.tx.add_circle_invite(
        circle.id, who.id, ctx.member.id, InviteKind.INVITE, ctx.now
    )
    await ctx.tell(
        who.id,
        "circle.invited",
        buttons=[
            [
                ("circle.button_join", f"cinv:yes:{made.id}"),
                ("circle.button_no", f"cinv:no:{made.id}"),
            ]
        ],
        concerning=(ctx.member.id,),
        name=ctx.member.display_name,
        circle=circle.name,
    )
    return made


async def _invite_for_me(ctx: Context, invite_id: int, kind: InviteKind) -> CircleInvite:
    found = await ctx.tx.circle_invite(invite_id)
    if found is None or found.kind is not kind:
        raise UserError("circle.invite_gone")
    return found


async def answer_invite(ctx: Context, invite_id: int, yes: bool) -> None:
    """The invited neighbour says yes or no. Only they can."""
    found = await _invite_for_me(ctx, invite_id, InviteKind.INVITE)
    if found.member_id != ctx.member.id:
        raise UserError("circle.invite_not_yours")
    circle = await ctx.tx.circle(found.circle_id)
    if found.status is not InviteStatus.PENDING or circle is None:
        raise UserError("circle.invite_gone")
    if not yes:
        await ctx.tx.answer_circle_invite(found.id, InviteStatus.DECLINED, ctx.now)
        await ctx.settle_pressed("circle.declined_short")
        await ctx.reply("circle.declined_self")
        if found.inviter_id is not None:
            await ctx.tell(
                found.inviter_id,
                "circle.declined_inviter",
                concerning=(ctx.member.id,),
                name=ctx.member.display_name,
                circle=circle.name,
            )
        return
    current = await circle_of(ctx)
    if current is not None and current.id != circle.id:
        raise UserError("circle.already_in_one", name=current.name)
    await _join(ctx, circle, found, ctx.member.id)


async def _join(ctx: Context, circle: Circle, found: CircleInvite, member_id: int) -> None:
    joined = await ctx.tx.add_circle_member(circle.id, member_id, ctx.now, size_limit(ctx))
    if joined is None:
        raise UserError("circle.full", name=circle.name, limit=size_limit(ctx))
    await ctx.tx.answer_circle_invite(found.id, InviteStatus.ACCEPTED, ctx.now)
    await _withdraw_other_invites(ctx, member_id)
    name = await ctx.name_of(member_id)
    if member_id == ctx.member.id:
        await ctx.settle_pressed("circle.joined_short")
    else:
        await ctx.settle_pressed("circle.welcomed_short", concerning=(member_id,), name=name)
    for other in await ctx.tx.circle_members(circle.id):
        if other.member_id != member_id:
            await ctx.tell(
                other.member_id,
                "circle.joined_others",
                concerning=(member_id,),
                name=name,
                circle=circle.name,
            )
    await ask_answers(ctx, circle, member_id)


async def ask_answers(ctx: Context, circle: Circle, member_id: int) -> None:
    """Welcome a new member and ask, optionally, what they like to do. Someone in the
    middle of another conversation (a request being written) keeps it: they get the
    one-line forms instead."""
    other = await ctx.tx.draft(member_id)
    if other is not None and other.kind != JOIN_KIND:
        await ctx.tell(member_id, "circle.welcome_plain", circle=circle.name)
        return
    await ctx.tx.save_draft(Draft(member_id, JOIN_KIND, "likes", {"circle": circle.id}, ctx.now))
    await ctx.tell(
        member_id,
        "circle.welcome",
        buttons=[[("circle.button_skip", f"cans:skip:{circle.id}")]],
        circle=circle.name,
    )


async def _withdraw_other_invites(ctx: Context, member_id: int) -> None:
    """Someone who is in a circle now is no longer invited to, or asking for, others."""
    for other in await ctx.tx.circle_invites(member_id=member_id):
        await ctx.tx.answer_circle_invite(other.id, InviteStatus.WITHDRAWN, ctx.now)


async def ask_to_join(ctx: Context, circle_id: int) -> Circle:
    """A neighbour asks to join an open circle from the list; its contact persons decide."""
    community = ctx.need_community()
    circle = await ctx.tx.circle(circle_id)
    if circle is None or circle.community_id != community.id:
        raise UserError("circle.gone")
    current = await circle_of(ctx)
    if current is not None:
        if current.id == circle.id:
            raise UserError("circle.invite_member_self", circle=circle.name)
        raise UserError("circle.already_in_one", name=current.name)
    if not circle.open:
        raise UserError("circle.closed", name=circle.name)
    members = await ctx.tx.circle_members(circle.id)
    if len(members) >= size_limit(ctx):
        raise UserError("circle.full", name=circle.name, limit=size_limit(ctx))
    if await ctx.tx.circle_invites(circle_id=circle.id, member_id=ctx.member.id):
        raise UserError("circle.ask_twice", name=circle.name)
    made = await ctx.tx.add_circle_invite(circle.id, ctx.member.id, None, InviteKind.ASK, ctx.now)
    for contact in members:
        if contact.role is CircleRole.CONTACT:
            await ctx.tell(
                contact.member_id,
                "circle.asks_to_join",
                buttons=[
                    [
                        ("circle.button_welcome", f"cask:yes:{made.id}"),
                        ("circle.button_rather_not", f"cask:no:{made.id}"),
                    ]
                ],
                concerning=(ctx.member.id,),
                name=ctx.member.display_name,
                circle=circle.name,
            )
    return circle


async def decide_ask(ctx: Context, invite_id: int, yes: bool) -> None:
    """A contact person lets a neighbour in, or not. Only a contact person of that circle.
    An ask that no longer stands (the neighbour is in a circle now, left the neighbourhood
    or was forgotten) is answered with what happened, whichever button was pressed."""
    found = await ctx.tx.circle_invite(invite_id)
    if found is None or found.kind is not InviteKind.ASK:
        raise UserError("circle.ask_gone")  # they were forgotten, or it was answered long ago
    circle = await ctx.tx.circle(found.circle_id)
    me = None if circle is None else await member_of(ctx, circle, ctx.member.id)
    if me is None or me.role is not CircleRole.CONTACT:
        raise UserError("circle.invite_not_yours")
    assert circle is not None
    if found.status in (InviteStatus.PENDING, InviteStatus.WITHDRAWN):
        gone = await _no_longer_asking(ctx, circle, found)
        if gone is not None:
            await ctx.tx.answer_circle_invite(found.id, InviteStatus.WITHDRAWN, ctx.now)
            key, name = gone
            await ctx.reply(key, concerning=(found.member_id,), name=name, circle=circle.name)
            return
    if found.status is not InviteStatus.PENDING:
        raise UserError("circle.ask_decided")
    if not yes:
        await ctx.tx.answer_circle_invite(found.id, InviteStatus.DECLINED, ctx.now)
        await ctx.settle_pressed("circle.not_welcomed_short")
        await ctx.tell(found.member_id, "circle.ask_declined", circle=circle.name)
        return
    await _join(ctx, circle, found, found.member_id)


async def _no_longer_asking(
    ctx: Context, circle: Circle, found: CircleInvite
) -> tuple[str, str] | None:
    """What happened when a neighbour's ask no longer stands: message key and their name."""
    asker = await ctx.tx.member(found.member_id)
    membership = await ctx.tx.membership(found.member_id, circle.community_id)
    current = await circle_of(ctx, found.member_id)
    if asker.erased:
        return "circle.ask_gone", ""
    if membership is None or membership.left_at is not None:
        return "circle.ask_left", asker.display_name
    if current is not None and current.id == circle.id:
        return None  # let in already: decided
    if current is not None or found.status is InviteStatus.WITHDRAWN:
        # withdrawn only when they joined or started another circle (maybe left it since)
        return "circle.ask_elsewhere", asker.display_name
    return None


async def leave(ctx: Context) -> Circle:
    """Leave one's circle, at any time. The last one out closes it; a circle without a
    contact person gets its longest-standing member as one."""
    circle = await my_circle(ctx)
    await ctx.tx.remove_circle_member(circle.id, ctx.member.id)
    await ctx.tx.drop_draft(ctx.member.id)
    rest = await ctx.tx.circle_members(circle.id)
    if not rest:
        await ctx.tx.remove_circle(circle.id)
        return circle
    if not any(m.role is CircleRole.CONTACT for m in rest):
        await ctx.tx.set_circle_role(circle.id, rest[0].member_id, CircleRole.CONTACT)
        await ctx.tell(rest[0].member_id, "circle.now_contact", circle=circle.name)
    for other in rest:
        await ctx.tell(
            other.member_id,
            "circle.left_others",
            concerning=(ctx.member.id,),
            name=ctx.member.display_name,
            circle=circle.name,
        )
    return circle


async def let_go(ctx: Context) -> None:
    """Before forgetting someone: each circle they are in keeps a contact person. The
    others are not told who left (what named them goes with them)."""
    me = ctx.member.id
    for membership in await ctx.tx.memberships(me):
        circle = await ctx.tx.circle_of_member(me, membership.community_id)
        if circle is None:
            continue
        rest = [m for m in await ctx.tx.circle_members(circle.id) if m.member_id != me]
        if rest and not any(m.role is CircleRole.CONTACT for m in rest):
            await ctx.tx.set_circle_role(circle.id, rest[0].member_id, CircleRole.CONTACT)
            await ctx.tell(rest[0].member_id, "circle.now_contact", circle=circle.name)


async def make_contact(ctx: Context, who: Member) -> bool:
    """A contact person makes another member a contact person too, or (naming themselves,
    or one who is one) steps that one back, while another contact person remains.
    Returns whether ``who`` is a contact person now."""
    circle = await my_circle(ctx)
    me = await member_of(ctx, circle, ctx.member.id)
    assert me is not None
    if me.role is not CircleRole.CONTACT:
        raise UserError("circle.contacts_only")
    them = await member_of(ctx, circle, who.id)
    if them is None:
        raise UserError("circle.not_a_member", name=who.display_name)
    if them.role is CircleRole.CONTACT:
        contacts = [
            m for m in await ctx.tx.circle_members(circle.id) if m.role is CircleRole.CONTACT
        ]
        if len(contacts) == 1:
            raise UserError("circle.last_contact")
        await ctx.tx.set_circle_role(circle.id, who.id, CircleRole.MEMBER)
        return False
    await ctx.tx.set_circle_role(circle.id, who.id, CircleRole.CONTACT)
    if who.id != ctx.member.id:
        await ctx.tell(who.id, "circle.now_contact", circle=circle.name)
    return True


def clean_answer(text: str) -> str:
    answer = " ".join(text.split())
    if len(answer) > MAX_ANSWER:
        raise UserError("circle.answer_too_long", limit=MAX_ANSWER)
    return answer


async def set_answers(
    ctx: Context, *, likes_to_do: str | None = None, might_need: str | None = None
) -> Circle:
    circle = await my_circle(ctx)
    await ctx.tx.set_circle_answers(
        circle.id,
        ctx.member.id,
        likes_to_do=None if likes_to_do is None else clean_answer(likes_to_do),
        might_need=None if might_need is None else clean_answer(might_need),
    )
    return circle


async def set_open(ctx: Context, open: bool) -> Circle:
    circle = await my_circle(ctx)
    me = await member_of(ctx, circle, ctx.member.id)
    if me is None or me.role is not CircleRole.CONTACT:
        raise UserError("circle.contacts_only")
    await ctx.tx.set_circle_open(circle.id, open)
    return circle


async def neighbourhood_circles(ctx: Context) -> list[tuple[Circle, int]]:
    """Every circle of the community with its size: names and numbers only."""
    community = ctx.need_community()
    sizes = await ctx.tx.circle_sizes(community.id)
    return [(c, sizes.get(c.id, 0)) for c in await ctx.tx.circles(community.id)]


# --- organisers: partners and figures --------------------------------------------------------
async def circle_numbered(ctx: Context, number: int | None) -> Circle:
    community = ctx.need_community()
    circle = None if number is None else await ctx.tx.circle(number)
    if circle is None or circle.community_id != community.id:
        raise UserError("circle.gone")
    return circle


async def link_partner(ctx: Context, circle_id: int | None, name: str, contact: str) -> Circle:
    """An organiser links a care or welfare organisation to a circle."""
    await ctx.require_organiser()
    circle = await circle_numbered(ctx, circle_id)
    name, contact = " ".join(name.split()), " ".join(contact.split())
    if not name:
        raise UserError("circle.partner_missing")
    if len(name) + len(contact) > MAX_PARTNER:
        raise UserError("circle.partner_too_long", limit=MAX_PARTNER)
    await ctx.tx.add_circle_partner(circle.id, name, contact, ctx.now)
    for member in await ctx.tx.circle_members(circle.id):
        await ctx.tell(member.member_id, "circle.partner_linked", circle=circle.name, partner=name)
    return circle


async def unlink_partner(ctx: Context, circle_id: int | None) -> Circle:
    await ctx.require_organiser()
    circle = await circle_numbered(ctx, circle_id)
    partners = await ctx.tx.circle_partners(circle.id)
    if not partners:
        raise UserError("circle.no_partner", circle=circle.name)
    for partner in partners:
        await ctx.tx.remove_circle_partner(partner.id)
    return circle


@dataclass(frozen=True, slots=True)
class CircleFigure:
    """One circle in figures: its number (never who is in it or what they wrote)."""

    number: int
    name: str  # for the chat's list, where organisers link partners by number and name
    members: int
    open: bool  # neighbours may ask to join
    checkins_set: int  # members with a check-in turned on (agreed, days chosen, not paused)
    partners: int


@dataclass(frozen=True, slots=True)
class CheckinWeek:
    """Check-ins asked in one week (Monday to Sunday, local time): how many, how many
    nobody answered, and how many of those someone went to look in on."""

    start: datetime
    asked: int
    missed: int
    followed_up: int


@dataclass(frozen=True, slots=True)
class CircleFigures:
    circles: list[CircleFigure]
    weeks: list[CheckinWeek]  # oldest first; the last is this week

    @property
    def members(self) -> int:
        return sum(c.members for c in self.circles)

    @property
    def partners(self) -> int:
        return sum(c.partners for c in self.circles)

    @property
    def checkins_set(self) -> int:
        return sum(c.checkins_set for c in self.circles)

    @property
    def open(self) -> int:
        return sum(c.open for c in self.circles)


async def figures(ctx: Context, weeks: int = WEEKS) -> CircleFigures:
    """For organisers, in the chat (/cirkel cijfers) and on the web: per circle its size,
    whether it is open, how many have a check-in set and how many partners; per week the
    check-ins asked, missed and followed up. Counts only: never who is in a circle, what
    they wrote or what they answered."""
    community = await ctx.require_organiser()
    sizes = await ctx.tx.circle_sizes(community.id)
    rows = []
    for circle in await ctx.tx.circles(community.id):
        members = {m.member_id for m in await ctx.tx.circle_members(circle.id)}
        plans = await ctx.tx.omkijken_plans(circle.id)
        rows.append(
            CircleFigure(
                circle.id,
                circle.name,
                sizes.get(circle.id, 0),
                circle.open,
                sum(1 for p in plans if p.active and p.member_id in members),
                len(await ctx.tx.circle_partners(circle.id)),
            )
        )
    starts = week_starts(ctx.now, ZoneInfo(community.timezone), weeks)
    # asked since each Monday; one week's figures are the difference with the next Monday
    since = [await ctx.tx.checkin_figures(community.id, start) for start in starts]
    none = {"asked": 0, "missed": 0, "looked_in": 0}
    per_week = [
        CheckinWeek(
            start,
            now["asked"] - later["asked"],
            now["missed"] - later["missed"],
            now["looked_in"] - later["looked_in"],
        )
        for start, now, later in zip(starts, since, [*since[1:], none], strict=True)
    ]
    return CircleFigures(rows, per_week)


async def partners_for(ctx: Context, member_id: int, community_id: int) -> list[CirclePartner]:
    """The partners of a member's circle: who backs them, with their consent."""
    circle = await ctx.tx.circle_of_member(member_id, community_id)
    return [] if circle is None else await ctx.tx.circle_partners(circle.id)


# --- a circle member's request: the circle first --------------------------------------------
async def circle_phase(ctx: Context, request: HelpRequest) -> list[int] | None:
    """The other members of the requester's circle, while the request is in its circle's
    turn (or has not had it yet); None when it is not a circle member's request, or the
    circle's turn is over."""
    if ctx.settings().circle_window_hours <= 0:
        return None
    windows = [w for w in await ctx.tx.work_about(request.id) if w.kind is WorkKind.CIRCLE_WINDOW]
    # a reopened request may have had a turn before: the newest window counts
    if windows and not max(windows, key=lambda w: w.id).pending:
        return None
    circle = await ctx.tx.circle_of_member(request.requester_id, request.community_id)
    if circle is None:
        return None
    others = [
        m.member_id
        for m in await ctx.tx.circle_members(circle.id)
        if m.member_id != request.requester_id
    ]
    return others or None


async def open_window(ctx: Context, request: HelpRequest, *, again: bool = False) -> None:
    """The circle has its turn; after the window the wider neighbourhood is asked. The
    requester hears so once a turn. ``again``: a reopened request's second turn."""
    settings = ctx.settings()
    circle = await ctx.tx.circle_of_member(request.requester_id, request.community_id)
    turn = f":{ctx.now.isoformat()}" if again else ""
    scheduled = await ctx.tx.schedule_work(
        NewWork(
            kind=WorkKind.CIRCLE_WINDOW,
            community_id=request.community_id,
            subject_id=request.id,
            due_at=ctx.now + timedelta(hours=settings.circle_window_hours),
            dedupe_key=f"{WorkKind.CIRCLE_WINDOW.value}:{request.id}{turn}",
        ),
        ctx.now,
    )
    if scheduled is not None and circle is not None:
        await ctx.tell(
            request.requester_id,
            "circle.asked_first",
            circle=circle.name,
            hours=_hours(settings.circle_window_hours),
        )


async def end_window_now(ctx: Context, request: HelpRequest) -> bool:
    """Nobody in the circle is left to ask: the wider neighbourhood's turn comes now.
    False when the circle never had a turn."""
    pending = [
        w
        for w in await ctx.tx.work_about(request.id)
        if w.kind is WorkKind.CIRCLE_WINDOW and w.pending
    ]
    for work in pending:
        await ctx.tx.postpone_work(work.id, ctx.now)
    return bool(pending)


async def in_window(ctx: Context, request: HelpRequest) -> bool:
    return any(
        w.kind is WorkKind.CIRCLE_WINDOW and w.pending and w.claimed_at is None
        for w in await ctx.tx.work_about(request.id)
    )


def _hours(amount: float) -> str:
    return str(int(amount)) if float(amount).is_integer() else f"{amount:g}"
