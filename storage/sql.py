"""The store on SQLAlchemy Core: one short transaction per unit of work."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import StoreUnavailable
from bot.model import (
    Category,
    Community,
    Draft,
    Expense,
    GroupChat,
    HelpRequest,
    Identity,
    Member,
    Membership,
    NewOffer,
    NewRequest,
    Offer,
    OfferSearch,
    Proposal,
    ProposalStatus,
    RequestStatus,
    Role,
    SenderRows,
)
from bot.types import Button, ChatKind, Delivery
from bot.work import DueWork, NewWork, Referral, WorkKind
from storage.circles import CircleQueries
from storage.engine import make_engine, migrate
from storage.failures import Classified, InsideTransaction, classified
from storage.limits import LimitQueries
from storage.meals import MealQueries
from storage.omkijken import OmkijkenQueries
from storage.people import PeopleQueries
from storage.rows import (
    OPEN_OR_MATCHED,
    buttons_from_json,
    buttons_to_json,
    community_of,
    community_t,
    cursor_t,
    delivery_of,
    draft_t,
    due_t,
    expense_of,
    expense_t,
    group_chat_t,
    identity_of,
    identity_t,
    inbox_t,
    join_csv,
    member_of,
    member_settings_t,
    member_t,
    membership_of,
    membership_t,
    offer_kind_rows,
    offer_kind_t,
    offer_of,
    offer_t,
    outbox_about_t,
    outbox_t,
    proposal_of,
    proposal_t,
    referral_of,
    referral_t,
    request_of,
    request_t,
    work_of,
)
from storage.sqlite_driver import LoopTransactions
from storage.web import WebQueries

# Built once, not on every look at the outbox: making two aliases of the outbox's 18
# columns took half the CPU time of ``SqlStore.due``, which the outbox sender runs at least
# twice for every message it sends.
_EDITED = outbox_t.alias("edited")
_EARLIER = outbox_t.alias("earlier")
# The same for claiming due work, once for every reminder and follow-up.
_CANDIDATE = due_t.alias("candidate")
_KIND = offer_kind_t
_NO_BUTTONS = literal([], outbox_t.c.buttons.type)
# Members looked up at once with IN (...): well under the bound-parameter limits of both databases.
_IN_CHUNK = 500


# --- statements built once -------------------------------------------------------------
# The statements every event or every message sent runs, with bound parameters: building a
# statement anew (``select(...).where(...)``) and working out its cache key took about as
# much CPU as running it.
_REMEMBER_SQLITE, _REMEMBER_PG = (
    insert_(inbox_t)
    .values(
        platform=bindparam("platform"),
        event_id=bindparam("event_id"),
        received_at=bindparam("received_at"),
    )
    .on_conflict_do_nothing(index_elements=["platform", "event_id"])
    .returning(inbox_t.c.event_id)
    for insert_ in (sqlite_insert, pg_insert)
)
_ENQUEUE = insert(outbox_t).returning(outbox_t.c.id)
_EDITED_ABOUT = outbox_about_t.alias("edited_about")
_ABOUT_AS_EDITED = insert(outbox_about_t).from_select(
    ["outbox_id", "member_id"],
    select(bindparam("b_new", type_=Integer()), _EDITED_ABOUT.c.member_id).where(
        _EDITED_ABOUT.c.outbox_id == bindparam("b_edited"),
        _EDITED_ABOUT.c.member_id != func.coalesce(bindparam("b_to", type_=Integer()), 0),
        ~select(outbox_about_t.c.member_id)
        .where(
            outbox_about_t.c.outbox_id == bindparam("b_new", type_=Integer()),
            outbox_about_t.c.member_id == _EDITED_ABOUT.c.member_id,
        )
        .exists(),
    ),
)
_IDENTITY = select(identity_t).where(
    identity_t.c.platform == bindparam("b_platform"),
    identity_t.c.user_id == bindparam("b_user_id"),
)
# The context of an event in one statement: the sender's identity and member, each of
# their memberships with its community, and the group chat written in. Driven from one
# constant row, so that the group chat comes back for a sender not seen before too.
_ONE = select(literal(1).label("one")).subquery("one")
_GROUP_COMMUNITY = community_t.alias("group_community")
_OWN_IDENTITY = identity_t.alias("own_identity")  # all of the sender's, for answering them
_SENDER_PARTS = (
    ("i_", identity_t),
    ("m_", member_t),
    ("s_", membership_t),
    ("c_", community_t),
    ("g_", group_chat_t),
    ("gc_", _GROUP_COMMUNITY),
    ("o_", _OWN_IDENTITY),
)
_SENDER_ROWS = (
    select(*(c.label(prefix + c.name) for prefix, table in _SENDER_PARTS for c in table.c))
    .select_from(_ONE)
    .outerjoin(
        identity_t,
        and_(
            identity_t.c.platform == bindparam("b_platform"),
            identity_t.c.user_id == bindparam("b_user_id"),
        ),
    )
    .outerjoin(member_t, member_t.c.id == identity_t.c.member_id)
    .outerjoin(membership_t, membership_t.c.member_id == member_t.c.id)
    .outerjoin(community_t, community_t.c.id == membership_t.c.community_id)
    .outerjoin(
        group_chat_t,
        and_(
            group_chat_t.c.platform == bindparam("b_platform"),
            group_chat_t.c.chat_id == bindparam("b_group"),
        ),
    )
    .outerjoin(_GROUP_COMMUNITY, _GROUP_COMMUNITY.c.id == group_chat_t.c.community_id)
    .outerjoin(_OWN_IDENTITY, _OWN_IDENTITY.c.member_id == member_t.c.id)
    .order_by(
        membership_t.c.joined_at,
        membership_t.c.community_id,
        _OWN_IDENTITY.c.last_seen_at.desc(),
    )
)


def _part(row: Row[Any], prefix: str, table: Any) -> Any:
    """The columns of one table in a row of ``_SENDER_ROWS``, by their own names."""
    mapping = row._mapping
    return SimpleNamespace(**{c.name: mapping[prefix + c.name] for c in table.c})


_COMMUNITY = select(community_t).where(community_t.c.id == bindparam("b_id"))
_MEMBER = select(member_t).where(member_t.c.id == bindparam("b_id"))
_IDENTITIES = (
    select(identity_t)
    .where(identity_t.c.member_id == bindparam("b_member_id"))
    .order_by(identity_t.c.last_seen_at.desc())
)
_MEMBERSHIP = select(membership_t).where(
    membership_t.c.member_id == bindparam("b_member_id"),
    membership_t.c.community_id == bindparam("b_community_id"),
)
_OUTBOX_ROW = select(outbox_t).where(outbox_t.c.id == bindparam("b_id"))
_OUTBOX_BY_REF = (
    select(outbox_t)
    .where(
        outbox_t.c.platform == bindparam("b_platform"),
        outbox_t.c.message_ref == bindparam("b_ref"),
        outbox_t.c.edit_of.is_(None),
    )
    .limit(1)
)
_NEWEST_TO = (
    select(outbox_t)
    .where(
        outbox_t.c.platform == bindparam("b_platform"),
        outbox_t.c.chat_id == bindparam("b_chat_id"),
        outbox_t.c.edit_of.is_(None),
        outbox_t.c.delete_ref.is_(None),
    )
    .order_by(outbox_t.c.id.desc())
    .limit(1)
)
# The buttons a sent message shows now: those of its newest edit, else its own.
_SHOWN_BUTTONS = (
    select(outbox_t.c.buttons)
    .where(
        or_(
            outbox_t.c.id == bindparam("b_id"),
            outbox_t.c.edit_of == bindparam("b_id"),
        )
    )
    .order_by(outbox_t.c.id.desc())
    .limit(1)
)
_RELEASE_WAITING = (
    update(outbox_t)
    .where(
        outbox_t.c.platform == bindparam("b_platform"),
        outbox_t.c.chat_id == bindparam("b_chat_id"),
        outbox_t.c.status == "waiting",
    )
    .values(status="pending", claimed_by=None, lease_until=None)
)
# A chat's messages keep their order behind one that must wait.
_HELD_BACK = (
    select(_EARLIER.c.id)
    .where(
        _EARLIER.c.platform == outbox_t.c.platform,
        _EARLIER.c.chat_id == outbox_t.c.chat_id,
        _EARLIER.c.status == "pending",
        _EARLIER.c.id < outbox_t.c.id,
        # postponed, or being sent by another sender
        or_(
            _EARLIER.c.not_before > bindparam("b_now"),
            _EARLIER.c.lease_until > bindparam("b_now"),
        ),
    )
    .exists()
)
_DUE_IDS = (
    select(outbox_t.c.id)
    .outerjoin(_EDITED, _EDITED.c.id == outbox_t.c.edit_of)
    .where(
        outbox_t.c.platform == bindparam("b_platform"),
        outbox_t.c.status == "pending",
        outbox_t.c.not_before <= bindparam("b_now"),
        # claimed by no one, or by a sender whose lease ran out (it died mid-send)
        or_(outbox_t.c.lease_until.is_(None), outbox_t.c.lease_until <= bindparam("b_now")),
        # an edit waits until the message it edits has been sent
        or_(outbox_t.c.edit_of.is_(None), _EDITED.c.status.in_(("sent", "failed"))),
        ~_HELD_BACK,
    )
    .order_by(outbox_t.c.id)
    .limit(bindparam("b_limit"))
)
# Named in full: SQLAlchemy writes the RETURNING columns of SQLite without their table,
# which in this subquery would name the edited row's own column.
_EDIT_REF = (
    select(_EDITED.c.message_ref)
    .where(_EDITED.c.id == literal_column("outbox.edit_of"))
    .scalar_subquery()
    .label("edit_ref")
)
# The message an edit changes is the last of the parts its original went out in.
_EDIT_PARTS = (
    select(_EDITED.c.parts_sent)
    .where(_EDITED.c.id == literal_column("outbox.edit_of"))
    .scalar_subquery()
    .label("edit_parts")
)
# Taking due rows is one statement that marks them as this sender's until the lease runs
# out. On PostgreSQL, senders in other processes skip the rows one is taking
# (``SKIP LOCKED``) instead of waiting for them or taking them too; SQLite has one writer.
_CLAIM_SQLITE, _CLAIM_PG = (
    update(outbox_t)
    .where(outbox_t.c.id.in_(ids))
    .values(claimed_by=bindparam("b_worker"), lease_until=bindparam("b_until"))
    .returning(*outbox_t.c, _EDIT_REF, _EDIT_PARTS)
    for ids in (_DUE_IDS, _DUE_IDS.with_for_update(of=outbox_t, skip_locked=True))
)
# What a sender does with a row it claimed asks for its own claim: a sender whose lease
# ran out and whose row another sender took changes nothing.
_MINE = and_(
    outbox_t.c.id == bindparam("b_id"),
    outbox_t.c.claimed_by == bindparam("b_worker"),
    outbox_t.c.status == "pending",
)
_POSTPONE = (
    update(outbox_t)
    .where(_MINE)
    .values(
        not_before=bindparam("b_until"),
        attempts=outbox_t.c.attempts + 1,
        claimed_by=None,
        lease_until=None,
    )
)
_MY_CLAIMS = and_(
    outbox_t.c.id.in_(bindparam("b_ids", expanding=True)),
    outbox_t.c.claimed_by == bindparam("b_worker"),
    outbox_t.c.status == "pending",
)
_RELEASE = update(outbox_t).where(_MY_CLAIMS).values(claimed_by=None, lease_until=None)
_EXTEND = (
    update(outbox_t)
    .where(_MY_CLAIMS)
    .values(lease_until=bindparam("b_until"))
    .returning(outbox_t.c.id)
)
_RELEASE_ALL = (
    update(outbox_t)
    .where(
        outbox_t.c.platform == bindparam("b_platform"),
        outbox_t.c.status == "pending",
        outbox_t.c.claimed_by.is_not(None),
    )
    .values(claimed_by=None, lease_until=None)
)
# The goodbye to someone who asked to be forgotten keeps no trace of them: asked of this
# row's member only, in the same statement that marks the row sent.
_ERASED = (
    select(member_t.c.id)
    .where(member_t.c.id == outbox_t.c.member_id, member_t.c.erased_at.is_not(None))
    .exists()
)
_MARK_SENT = (
    update(outbox_t)
    .where(_MINE)
    .values(
        status="sent",
        lease_until=None,
        sent_at=bindparam("b_now"),
        message_ref=bindparam("b_ref"),
        attempts=outbox_t.c.attempts + 1,
        chat_id=case((_ERASED, ""), else_=outbox_t.c.chat_id),
        text=case((_ERASED, ""), else_=outbox_t.c.text),
        buttons=case((_ERASED, _NO_BUTTONS), else_=outbox_t.c.buttons),
    )
)
# One more part of a long text was taken by the platform: asked of its claimer, as above.
_PART_SENT = (
    update(outbox_t)
    .where(_MINE, outbox_t.c.parts_sent == bindparam("b_part"))
    .values(parts_sent=outbox_t.c.parts_sent + 1)
)
_MARK_FAILED = (
    update(outbox_t)
    .where(_MINE)
    .values(
        status="failed",
        error=bindparam("b_error"),
        sent_at=bindparam("b_now"),
        lease_until=None,
        chat_id=case((_ERASED, ""), else_=outbox_t.c.chat_id),
        text=case((_ERASED, ""), else_=outbox_t.c.text),
        buttons=case((_ERASED, _NO_BUTTONS), else_=outbox_t.c.buttons),
    )
)

# Inserts whose values come as parameters: one statement for every call, compiled once.
_INSERT_MEMBER = insert(member_t).returning(*member_t.c)
_INSERT_IDENTITY = insert(identity_t)
_INSERT_MEMBERSHIP = insert(membership_t)
_INSERT_REQUEST = insert(request_t).returning(*request_t.c)
_INSERT_DRAFT = insert(draft_t)
_INSERT_ABOUT = insert(outbox_about_t)
_SCHEDULE_SQLITE, _SCHEDULE_PG = (
    insert_(due_t).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(due_t.c.id)
    for insert_ in (sqlite_insert, pg_insert)
)
_MEMBERSHIPS = (
    select(membership_t)
    .where(membership_t.c.member_id == bindparam("b_member_id"))
    .order_by(membership_t.c.joined_at)
)
_REQUEST = select(request_t).where(request_t.c.id == bindparam("b_id"))
_REQUESTS_OF, _REQUESTS_HELPED_BY = (
    select(request_t)
    .where(
        column == bindparam("b_member_id"),
        request_t.c.status.in_(bindparam("b_statuses", expanding=True)),
    )
    .order_by(request_t.c.id)
    for column in (request_t.c.requester_id, request_t.c.helper_id)
)
_PROPOSED = select(proposal_t.c.id).where(proposal_t.c.request_id == request_t.c.id)
_WAITING_FOR = (
    select(request_t)
    .where(
        request_t.c.community_id == bindparam("b_community_id"),
        request_t.c.status == RequestStatus.OPEN.value,
        request_t.c.category.in_(bindparam("b_categories", expanding=True)),
        request_t.c.requester_id != bindparam("b_helper_id"),
        ~_PROPOSED.where(proposal_t.c.helper_id == bindparam("b_helper_id")).exists(),
        ~_PROPOSED.where(proposal_t.c.status == ProposalStatus.PENDING.value).exists(),
    )
    .order_by(request_t.c.created_at, request_t.c.id)
)
_SET_PROPOSAL_STATUS = (
    update(proposal_t)
    .where(
        proposal_t.c.request_id == bindparam("b_request_id"),
        proposal_t.c.helper_id == bindparam("b_helper_id"),
    )
    .values(status=bindparam("b_status"))
)
_DRAFT = select(draft_t).where(draft_t.c.member_id == bindparam("b_member_id"))
_DROP_DRAFT = delete(draft_t).where(draft_t.c.member_id == bindparam("b_member_id"))


def _fitting_offers(search: OfferSearch) -> Select[Any]:
    """Unpaused offers of current members for the kind of help, at the time of the request."""
    query = (
        select(offer_t)
        .select_from(
            _KIND.join(offer_t, offer_t.c.id == _KIND.c.offer_id).join(
                membership_t,
                and_(
                    membership_t.c.member_id == _KIND.c.member_id,
                    membership_t.c.community_id == _KIND.c.community_id,
                ),
            )
        )
        .where(
            _KIND.c.community_id == search.community_id,
            _KIND.c.category == search.category.value,
            _KIND.c.member_id != search.requester_id,
            offer_t.c.paused.is_(False),
            membership_t.c.left_at.is_(None),
            membership_t.c.status == "active",
        )
    )
    if search.slots is not None:
        query = query.where(_KIND.c.slots.op("&")(search.slots) != 0)
    if search.unasked_for is not None:
        asked = select(proposal_t.c.helper_id).where(proposal_t.c.request_id == search.unasked_for)
        query = query.where(_KIND.c.member_id.not_in(asked))
    return query


class SqlTx(PeopleQueries, MealQueries, LimitQueries, CircleQueries, OmkijkenQueries, WebQueries):
    """One transaction. Implements ``bot.store.Tx``."""

    def __init__(self, conn: Classified) -> None:
        self.conn = conn
        # Communities, members, memberships and identities as read in this transaction:
        # an event looks them up several times (the dispatcher, the handler, each reply).
        # Every write to their tables through this transaction forgets them all.
        self._read: dict[tuple[Any, ...], Any] = {}

    def _forget_read(self) -> None:
        self._read.clear()

    def _forget_identities(self) -> None:
        """A write to identities changes what ``identities`` read, and nothing else kept."""
        for key in [k for k in self._read if k[0] == "identities"]:
            del self._read[key]

    async def _one(self, stmt: Any, params: dict[str, Any] | None = None) -> Row[Any] | None:
        return (await self.conn.execute(stmt, params)).first()

    # --- inbox and cursors -------------------------------------------------------------
    async def remember_event(self, platform: str, event_id: str, now: datetime) -> bool:
        # One statement, not a look-up and an insert: this runs for every inbound event.
        statement = _REMEMBER_PG if self._postgres else _REMEMBER_SQLITE
        added = await self._one(
            statement, {"platform": platform, "event_id": event_id, "received_at": now}
        )
        return added is not None

    async def get_cursor(self, name: str) -> str | None:
        row = await self._one(select(cursor_t.c.value).where(cursor_t.c.name == name))
        return None if row is None else str(row.value)

    async def set_cursor(self, name: str, value: str) -> None:
        done = await self.conn.execute(
            update(cursor_t).where(cursor_t.c.name == name).values(value=value)
        )
        if done.rowcount == 0:
            await self.conn.execute(insert(cursor_t).values(name=name, value=value))

    # --- communities and chats ---------------------------------------------------------
    async def create_community(
        self, name: str, language: str, timezone: str, settings: dict[str, Any]
    ) -> Community:
        row = (
            await self.conn.execute(
                insert(community_t)
                .values(name=name, language=language, timezone=timezone, settings=settings)
                .returning(*community_t.c)
            )
        ).one()
        return community_of(row)

    async def community(self, community_id: int) -> Community:
        key = ("community", community_id)
        if (known := self._read.get(key)) is not None:
            return cast(Community, known)
        row = await self._one(_COMMUNITY, {"b_id": community_id})
        if row is None:
            raise LookupError(f"community {community_id}")
        community = self._read[key] = community_of(row)
        return community

    async def communities(self) -> list[Community]:
        rows = await self.conn.execute(select(community_t).order_by(community_t.c.id))
        return [community_of(r) for r in rows]

    async def group_chat(self, platform: str, chat_id: str) -> GroupChat | None:
        row = await self._one(
            select(group_chat_t).where(
                group_chat_t.c.platform == platform, group_chat_t.c.chat_id == chat_id
            )
        )
        return None if row is None else GroupChat(**row._mapping)

    async def link_group_chat(
        self, platform: str, chat_id: str, community_id: int, title: str
    ) -> GroupChat:
        await self.conn.execute(
            insert(group_chat_t).values(
                platform=platform, chat_id=chat_id, community_id=community_id, title=title
            )
        )
        return GroupChat(platform, chat_id, community_id, title)

    async def move_group_chat(self, platform: str, old_id: str, new_id: str) -> bool:
        if await self.group_chat(platform, new_id) is not None:
            return False
        moved = await self.conn.execute(
            update(group_chat_t)
            .where(group_chat_t.c.platform == platform, group_chat_t.c.chat_id == old_id)
            .values(chat_id=new_id)
        )
        await self.conn.execute(  # what still waits to be sent goes to the new id
            update(outbox_t)
            .where(
                outbox_t.c.platform == platform,
                outbox_t.c.chat_id == old_id,
                outbox_t.c.status.in_(("pending", "waiting")),
            )
            .values(chat_id=new_id)
        )
        return moved.rowcount == 1

    async def group_chats(self, community_id: int) -> list[GroupChat]:
        rows = await self.conn.execute(
            select(group_chat_t)
            .where(group_chat_t.c.community_id == community_id)
            .order_by(group_chat_t.c.platform, group_chat_t.c.chat_id)
        )
        return [GroupChat(**r._mapping) for r in rows]

    # --- members -----------------------------------------------------------------------
    async def identity(self, platform: str, user_id: str) -> Identity | None:
        row = await self._one(_IDENTITY, {"b_platform": platform, "b_user_id": user_id})
        return None if row is None else identity_of(row)

    async def sender_rows(
        self, platform: str, user_id: str, group_chat_id: str | None
    ) -> SenderRows:
        rows = (
            await self.conn.execute(
                _SENDER_ROWS,
                {"b_platform": platform, "b_user_id": user_id, "b_group": group_chat_id},
            )
        ).all()
        first = rows[0]
        group = None
        if first.g_platform is not None:
            group = GroupChat(**vars(_part(first, "g_", group_chat_t)))
            self._read[("community", group.community_id)] = community_of(
                _part(first, "gc_", _GROUP_COMMUNITY)
            )
        if first.i_platform is None:
            return SenderRows(None, None, group=group)
        identity = identity_of(_part(first, "i_", identity_t))
        member = self._read[("member", member_id := identity.member_id)] = member_of(
            _part(first, "m_", member_t)
        )
        memberships: list[Membership] = []
        communities: dict[int, Community] = {}
        # one row for each membership and identity of the sender (both usually one)
        own: dict[tuple[str, str], Identity] = {}
        for row in rows:
            if row.o_platform is not None and (row.o_platform, row.o_user_id) not in own:
                own[row.o_platform, row.o_user_id] = identity_of(_part(row, "o_", _OWN_IDENTITY))
            if row.s_member_id is None or row.s_community_id in communities:
                continue
            membership = membership_of(_part(row, "s_", membership_t))
            community = community_of(_part(row, "c_", community_t))
            memberships.append(membership)
            communities[community.id] = community
            self._read[("membership", member_id, community.id)] = membership
            self._read[("community", community.id)] = community
        self._read[("identities", member_id)] = tuple(own.values())
        if group is not None and group.community_id not in communities:
            self._read[("membership", member_id, group.community_id)] = None
        return SenderRows(identity, member, tuple(memberships), communities, group)

    async def create_member(self, display_name: str, language: str | None, now: datetime) -> Member:
        values = {"display_name": display_name, "language": language, "created_at": now}
        row = (await self.conn.execute(_INSERT_MEMBER, values)).one()
        member = self._read[("member", row.id)] = member_of(row)
        self._read[("new member", member.id)] = True  # a member of no community yet
        return member

    async def add_identity(
        self, member_id: int, platform: str, user_id: str, handle: str | None, now: datetime
    ) -> Identity:
        self._forget_identities()
        await self.conn.execute(
            _INSERT_IDENTITY,
            {
                "member_id": member_id,
                "platform": platform,
                "user_id": user_id,
                "handle": handle,
                "last_seen_at": now,
            },
        )
        return Identity(member_id, platform, user_id, handle, now)

    async def touch_identity(
        self, platform: str, user_id: str, display_name: str, handle: str | None, now: datetime
    ) -> None:
        self._forget_identities()
        await self.conn.execute(
            update(identity_t)
            .where(identity_t.c.platform == platform, identity_t.c.user_id == user_id)
            .values(handle=handle, last_seen_at=now)
        )

    async def member(self, member_id: int) -> Member:
        key = ("member", member_id)
        if (known := self._read.get(key)) is not None:
            return cast(Member, known)
        row = await self._one(_MEMBER, {"b_id": member_id})
        if row is None:
            raise LookupError(f"member {member_id}")
        member = self._read[key] = member_of(row)
        return member

    async def identities(self, member_id: int) -> list[Identity]:
        key = ("identities", member_id)
        if (known := self._read.get(key)) is None:
            rows = await self.conn.execute(_IDENTITIES, {"b_member_id": member_id})
            known = self._read[key] = tuple(identity_of(r) for r in rows)
        return list(known)

    async def set_language(self, member_id: int, language: str) -> None:
        self._forget_read()
        await self.conn.execute(
            update(member_t).where(member_t.c.id == member_id).values(language=language)
        )

    async def membership(self, member_id: int, community_id: int) -> Membership | None:
        key = ("membership", member_id, community_id)
        if key in self._read:
            return cast(Membership | None, self._read[key])
        if ("new member", member_id) in self._read:
            return None
        row = await self._one(
            _MEMBERSHIP, {"b_member_id": member_id, "b_community_id": community_id}
        )
        membership = self._read[key] = None if row is None else membership_of(row)
        return membership

    async def memberships(self, member_id: int) -> list[Membership]:
        rows = await self.conn.execute(_MEMBERSHIPS, {"b_member_id": member_id})
        return [membership_of(r) for r in rows]

    async def join(self, member_id: int, community_id: int, role: Role, now: datetime) -> None:
        current = await self.membership(member_id, community_id)
        if (
            current is not None
            and current.left_at is None
            and role in (current.role, Role.RESIDENT)
        ):
            return  # a member already, as this: nothing to write
        if current is None:  # nothing read before depends on a membership not there
            await self.conn.execute(
                _INSERT_MEMBERSHIP,
                {
                    "member_id": member_id,
                    "community_id": community_id,
                    "role": role,
                    "joined_at": now,
                },
            )
            # as the database now holds it (the other columns take their defaults)
            key = ("membership", member_id, community_id)
            self._read[key] = Membership(member_id, community_id, role, None)
            return
        values: dict[str, Any] = {"left_at": None}
        if role is Role.ORGANISER:
            values["role"] = role
        await self._set_membership(member_id, community_id, **values)

    async def leave(self, member_id: int, community_id: int, now: datetime) -> None:
        await self._set_membership(member_id, community_id, left_at=now)

    async def organisers(self, community_id: int) -> list[int]:
        rows = await self.conn.execute(
            select(membership_t.c.member_id)
            .where(
                membership_t.c.community_id == community_id,
                membership_t.c.role == Role.ORGANISER.value,
                membership_t.c.left_at.is_(None),
            )
            .order_by(membership_t.c.member_id)
        )
        return [r.member_id for r in rows]

    # --- help requests -----------------------------------------------------------------
    async def add_request(self, new: NewRequest, now: datetime) -> HelpRequest:
        values = {
            "community_id": new.community_id,
            "requester_id": new.requester_id,
            "category": new.category.value,
            "starts_at": new.starts_at,
            "ends_at": new.ends_at,
            "exact": new.exact,
            "place": new.place,
            "description": new.description,
            "group_text": new.group_text,
            "visibility": new.visibility.value,
            "advance": new.advance,
            "status": RequestStatus.OPEN.value,
            "created_at": now,
        }
        row = (await self.conn.execute(_INSERT_REQUEST, values)).one()
        return request_of(row)

    async def request(self, request_id: int) -> HelpRequest | None:
        row = await self._one(_REQUEST, {"b_id": request_id})
        return None if row is None else request_of(row)

    async def requests_of(
        self, member_id: int, statuses: Iterable[RequestStatus]
    ) -> list[HelpRequest]:
        return await self._requests_where(_REQUESTS_OF, member_id, statuses)

    async def requests_helped_by(
        self, member_id: int, statuses: Iterable[RequestStatus]
    ) -> list[HelpRequest]:
        return await self._requests_where(_REQUESTS_HELPED_BY, member_id, statuses)

    async def _requests_where(
        self, query: Any, member_id: int, statuses: Iterable[RequestStatus]
    ) -> list[HelpRequest]:
        params = {"b_member_id": member_id, "b_statuses": [s.value for s in statuses]}
        return [request_of(r) for r in await self.conn.execute(query, params)]

    async def claim_request(self, request_id: int, helper_id: int, now: datetime) -> bool:
        done = await self.conn.execute(
            update(request_t)
            .where(request_t.c.id == request_id, request_t.c.status == RequestStatus.OPEN.value)
            .values(status=RequestStatus.MATCHED.value, helper_id=helper_id, matched_at=now)
        )
        return done.rowcount == 1

    async def close_request(self, request_id: int, status: RequestStatus, now: datetime) -> bool:
        done = await self.conn.execute(
            update(request_t)
            .where(request_t.c.id == request_id, request_t.c.status.in_(OPEN_OR_MATCHED))
            .values(status=status.value, closed_at=now)
        )
        return done.rowcount == 1

    async def mark_posted_in_group(self, request_id: int, outbox_ids: Sequence[int]) -> None:
        await self.conn.execute(
            update(request_t)
            .where(request_t.c.id == request_id)
            .values(group_posts=",".join(str(i) for i in outbox_ids))
        )

    async def open_requests(self, community_id: int) -> list[HelpRequest]:
        rows = await self.conn.execute(
            select(request_t)
            .where(
                request_t.c.community_id == community_id,
                request_t.c.status == RequestStatus.OPEN.value,
            )
            .order_by(request_t.c.created_at, request_t.c.id)
        )
        return [request_of(r) for r in rows]

    async def requests_waiting_for(
        self, community_id: int, categories: Iterable[Category], helper_id: int
    ) -> list[HelpRequest]:
        params = {
            "b_community_id": community_id,
            "b_categories": [c.value for c in categories],
            "b_helper_id": helper_id,
        }
        return [request_of(r) for r in await self.conn.execute(_WAITING_FOR, params)]

    # --- offers ------------------------------------------------------------------------
    async def add_offer(self, new: NewOffer, now: datetime) -> Offer:
        row = (
            await self.conn.execute(
                insert(offer_t)
                .values(
                    community_id=new.community_id,
                    member_id=new.member_id,
                    categories=join_csv(c.value for c in new.categories),
                    days=join_csv(new.days),
                    parts=join_csv(new.parts),
                    area=new.area,
                    max_per_week=new.max_per_week,
                    created_at=now,
                )
                .returning(*offer_t.c)
            )
        ).one()
        await self.conn.execute(
            insert(offer_kind_t),
            offer_kind_rows(
                row.id,
                new.community_id,
                new.member_id,
                (c.value for c in new.categories),
                new.days,
                new.parts,
                new.area,
            ),
        )
        return offer_of(row)

    async def offer(self, offer_id: int) -> Offer | None:
        row = await self._one(select(offer_t).where(offer_t.c.id == offer_id))
        return None if row is None else offer_of(row)

    async def offers_of(self, member_id: int) -> list[Offer]:
        rows = await self.conn.execute(
            select(offer_t).where(offer_t.c.member_id == member_id).order_by(offer_t.c.id)
        )
        return [offer_of(r) for r in rows]

    async def set_offer_paused(self, offer_id: int, paused: bool) -> None:
        await self.conn.execute(
            update(offer_t).where(offer_t.c.id == offer_id).values(paused=paused)
        )

    async def delete_offer(self, offer_id: int) -> None:
        await self.conn.execute(delete(offer_kind_t).where(offer_kind_t.c.offer_id == offer_id))
        await self.conn.execute(delete(offer_t).where(offer_t.c.id == offer_id))

    async def offers_for(self, search: OfferSearch, member_ids: Sequence[int]) -> list[Offer]:
        offers: list[Offer] = []
        for first in range(0, len(member_ids), _IN_CHUNK):
            chunk = member_ids[first : first + _IN_CHUNK]
            rows = await self.conn.execute(
                _fitting_offers(search).where(_KIND.c.member_id.in_(chunk)).order_by(offer_t.c.id)
            )
            offers.extend(offer_of(r) for r in rows)
        return offers

    async def offers_near(
        self, search: OfferSearch, idle_since: datetime, limit: int
    ) -> list[Offer]:
        busy = select(request_t.c.helper_id).where(
            request_t.c.matched_at >= idle_since, request_t.c.helper_id.is_not(None)
        )
        fitting = _fitting_offers(search).where(_KIND.c.member_id.not_in(busy))
        area, member = _KIND.c.area_number, _KIND.c.member_id
        if search.near is None:
            sides = [fitting.order_by(member, offer_t.c.id)]
        else:
            sides = [
                fitting.where(area >= search.near).order_by(area, member, offer_t.c.id),
                fitting.where(area < search.near).order_by(area.desc(), member, offer_t.c.id),
                fitting.where(area.is_(None)).order_by(member, offer_t.c.id),
            ]
        # One statement for all sides, each walking the index from the request's postcode.
        parts = [select(side.limit(limit).subquery()) for side in sides]
        rows = await self.conn.execute(parts[0] if len(parts) == 1 else union_all(*parts))
        return [offer_of(r) for r in rows]

    async def helps_since(self, since: datetime) -> dict[int, int]:
        recent: Any = request_t.c.matched_at >= since
        if not self._postgres:
            # Told that few requests are that recent, SQLite walks the index on matched_at
            # from ``since`` on, rather than every request that ever had a helper (in
            # helper order, to spare itself the sort for the grouping).
            recent = func.likelihood(recent, literal_column("0.05"))
        rows = await self.conn.execute(
            select(request_t.c.helper_id, func.count())
            .where(recent, request_t.c.helper_id.is_not(None))
            .group_by(request_t.c.helper_id)
        )
        return {r[0]: r[1] for r in rows}

    async def helpers_of(self, requester_id: int) -> dict[int, int]:
        rows = await self.conn.execute(
            select(request_t.c.helper_id, func.count())
            .where(
                request_t.c.requester_id == requester_id,
                request_t.c.status == RequestStatus.DONE.value,
                request_t.c.helper_id.is_not(None),
            )
            .group_by(request_t.c.helper_id)
        )
        return {r[0]: r[1] for r in rows}

    # --- proposals ---------------------------------------------------------------------
    async def add_proposal(
        self, request_id: int, helper_id: int, now: datetime, *, outbox_id: int | None = None
    ) -> Proposal:
        row = (
            await self.conn.execute(
                insert(proposal_t)
                .values(
                    request_id=request_id, helper_id=helper_id, created_at=now, outbox_id=outbox_id
                )
                .returning(*proposal_t.c)
            )
        ).one()
        return proposal_of(row)

    async def set_proposal_outbox(self, proposal_id: int, outbox_id: int) -> None:
        await self.conn.execute(
            update(proposal_t).where(proposal_t.c.id == proposal_id).values(outbox_id=outbox_id)
        )

    async def pending_proposals_of(self, helper_id: int) -> list[int]:
        rows = await self.conn.execute(
            select(proposal_t.c.request_id)
            .where(
                proposal_t.c.helper_id == helper_id,
                proposal_t.c.status == ProposalStatus.PENDING.value,
            )
            .order_by(proposal_t.c.request_id)
        )
        return [int(r.request_id) for r in rows]

    async def proposals(self, request_id: int) -> list[Proposal]:
        rows = await self.conn.execute(
            select(proposal_t)
            .where(proposal_t.c.request_id == request_id)
            .order_by(proposal_t.c.id)
        )
        return [proposal_of(r) for r in rows]

    async def set_proposal_status(
        self, request_id: int, helper_id: int, status: ProposalStatus
    ) -> None:
        params = {"b_request_id": request_id, "b_helper_id": helper_id, "b_status": status.value}
        await self.conn.execute(_SET_PROPOSAL_STATUS, params)

    # --- expenses ----------------------------------------------------------------------
    async def add_expense(self, request_id: int, amount_cents: int, now: datetime) -> Expense:
        row = (
            await self.conn.execute(
                insert(expense_t)
                .values(request_id=request_id, amount_cents=amount_cents, recorded_at=now)
                .returning(*expense_t.c)
            )
        ).one()
        return expense_of(row)

    async def expenses(self, request_id: int) -> list[Expense]:
        rows = await self.conn.execute(
            select(expense_t).where(expense_t.c.request_id == request_id).order_by(expense_t.c.id)
        )
        return [expense_of(r) for r in rows]

    async def expense(self, expense_id: int) -> tuple[Expense, HelpRequest] | None:
        row = await self._one(select(expense_t).where(expense_t.c.id == expense_id))
        if row is None:
            return None
        request = await self.request(row.request_id)
        assert request is not None
        return expense_of(row), request

    async def mark_repaid(self, expense_id: int, now: datetime) -> bool:
        done = await self.conn.execute(
            update(expense_t)
            .where(expense_t.c.id == expense_id, expense_t.c.repaid_at.is_(None))
            .values(repaid_at=now)
        )
        return done.rowcount == 1

    # --- guided conversations ----------------------------------------------------------
    async def draft(self, member_id: int) -> Draft | None:
        row = await self._one(_DRAFT, {"b_member_id": member_id})
        if row is None:
            return None
        return Draft(row.member_id, row.kind, row.step, dict(row.data), row.updated_at)

    async def save_draft(self, draft: Draft) -> None:
        await self.drop_draft(draft.member_id)
        await self.conn.execute(
            _INSERT_DRAFT,
            {
                "member_id": draft.member_id,
                "kind": draft.kind,
                "step": draft.step,
                "data": draft.data,
                "updated_at": draft.updated_at,
            },
        )

    async def drop_draft(self, member_id: int) -> None:
        await self.conn.execute(_DROP_DRAFT, {"b_member_id": member_id})

    # --- outbox ------------------------------------------------------------------------
    async def enqueue(
        self,
        *,
        platform: str,
        chat_id: str,
        kind: ChatKind,
        member_id: int | None,
        text: str,
        buttons: tuple[tuple[Button, ...], ...],
        edit_of: int | None,
        attachment: tuple[str, bytes] | None,
        now: datetime,
        delete_ref: str | None = None,
        discreet: bool = False,
        about: Iterable[int] = (),
    ) -> int:
        row = (
            await self.conn.execute(
                _ENQUEUE,
                {
                    "delete_ref": delete_ref,
                    "discreet": discreet,
                    "platform": platform,
                    "chat_id": chat_id,
                    "kind": kind.value,
                    "member_id": member_id,
                    "text": text,
                    "buttons": buttons_to_json(buttons),
                    "edit_of": edit_of,
                    "attachment_name": attachment[0] if attachment else None,
                    "attachment": attachment[1] if attachment else None,
                    "created_at": now,
                    "not_before": now,
                },
            )
        ).one()
        outbox_id = int(row.id)
        people = sorted({m for m in about if m != member_id and m > 0})
        if people:
            await self.conn.execute(
                _INSERT_ABOUT, [{"outbox_id": outbox_id, "member_id": m} for m in people]
            )
        if edit_of is not None:  # an edit shows what the edited message showed
            await self.conn.execute(
                _ABOUT_AS_EDITED, {"b_new": outbox_id, "b_edited": edit_of, "b_to": member_id}
            )
        return outbox_id

    async def outbox_row_by_ref(self, platform: str, message_ref: str) -> Delivery | None:
        row = await self._one(_OUTBOX_BY_REF, {"b_platform": platform, "b_ref": message_ref})
        return None if row is None else delivery_of(row)

    async def newest_message_to(self, platform: str, chat_id: str) -> Delivery | None:
        row = await self._one(_NEWEST_TO, {"b_platform": platform, "b_chat_id": chat_id})
        return None if row is None else delivery_of(row)

    async def shown_buttons(self, outbox_id: int) -> tuple[tuple[Button, ...], ...]:
        row = await self._one(_SHOWN_BUTTONS, {"b_id": outbox_id})
        return () if row is None else buttons_from_json(row.buttons)

    async def outbox_row(self, outbox_id: int) -> Delivery | None:
        row = await self._one(_OUTBOX_ROW, {"b_id": outbox_id})
        return None if row is None else delivery_of(row)

    async def park_waiting(self, outbox_id: int) -> bool:
        done = await self.conn.execute(
            update(outbox_t)
            .where(outbox_t.c.id == outbox_id, outbox_t.c.status == "pending")
            .values(status="waiting", claimed_by=None, lease_until=None)
        )
        return done.rowcount == 1

    async def release_waiting(self, platform: str, chat_id: str) -> int:
        done = await self.conn.execute(
            _RELEASE_WAITING, {"b_platform": platform, "b_chat_id": chat_id}
        )
        return int(done.rowcount)

    async def waiting_count(self, platform: str, chat_id: str) -> int:
        row = (
            await self.conn.execute(
                select(func.count()).where(
                    outbox_t.c.platform == platform,
                    outbox_t.c.chat_id == chat_id,
                    outbox_t.c.status == "waiting",
                )
            )
        ).one()
        return int(row[0])

    # --- due work ----------------------------------------------------------------------
    @property
    def _postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    async def schedule_work(self, new: NewWork, now: datetime) -> int | None:
        row = await self._one(
            _SCHEDULE_PG if self._postgres else _SCHEDULE_SQLITE,
            {
                "kind": new.kind.value,
                "dedupe_key": new.dedupe_key,
                "community_id": new.community_id,
                "subject_id": new.subject_id,
                "member_id": new.member_id,
                "urgent": new.urgent,
                "due_at": new.due_at,
                "created_at": now,
                "payload": new.payload,
            },
        )
        return None if row is None else int(row.id)

    def _claimable(self, query: Any, table: Any, now: datetime) -> Any:
        query = query.where(
            table.c.done_at.is_(None),
            table.c.cancelled_at.is_(None),
            table.c.claimed_at.is_(None),
            table.c.due_at <= now,
        ).order_by(table.c.due_at, table.c.id)
        # Two bot processes on one PostgreSQL database never take the same row.
        return query.with_for_update(skip_locked=True) if self._postgres else query

    async def claim_due_work(
        self, now: datetime, worker: str, *, skip: Collection[WorkKind] = ()
    ) -> DueWork | None:
        candidate = _CANDIDATE
        query = select(candidate.c.id)
        if skip:
            query = query.where(candidate.c.kind.not_in([kind.value for kind in skip]))
        first = self._claimable(query, candidate, now).limit(1)
        row = await self._one(
            update(due_t)
            .where(due_t.c.id == first.scalar_subquery(), due_t.c.claimed_at.is_(None))
            .values(claimed_at=now, claimed_by=worker)
            .returning(*due_t.c)
        )
        return None if row is None else work_of(row)

    async def claim_member_work(self, member_id: int, now: datetime, worker: str) -> list[DueWork]:
        candidate = _CANDIDATE
        ids = self._claimable(
            select(candidate.c.id).where(
                candidate.c.member_id == member_id, candidate.c.urgent.is_(False)
            ),
            candidate,
            now,
        )
        rows = await self.conn.execute(
            update(due_t)
            .where(due_t.c.id.in_(ids), due_t.c.claimed_at.is_(None))
            .values(claimed_at=now, claimed_by=worker)
            .returning(*due_t.c)
        )
        return sorted((work_of(r) for r in rows), key=lambda w: (w.due_at, w.id))

    async def finish_work(
        self, work_id: int, now: datetime, outcome: str, outbox_id: int | None = None
    ) -> None:
        await self.conn.execute(
            update(due_t)
            .where(due_t.c.id == work_id)
            .values(done_at=now, outcome=outcome, outbox_id=outbox_id)
        )

    async def postpone_work(self, work_id: int, until: datetime) -> None:
        await self.conn.execute(
            update(due_t)
            .where(due_t.c.id == work_id)
            .values(due_at=until, claimed_at=None, claimed_by=None)
        )

    async def work_failed(
        self, work_id: int, now: datetime, error: str, retry_at: datetime | None
    ) -> int:
        values: dict[str, Any] = {"attempts": due_t.c.attempts + 1, "error": error[:500]}
        if retry_at is None:
            values.update(done_at=now, outcome="failed")
        else:
            values.update(due_at=retry_at, claimed_at=None, claimed_by=None)
        row = await self._one(
            update(due_t).where(due_t.c.id == work_id).values(**values).returning(due_t.c.attempts)
        )
        return 0 if row is None else int(row.attempts)

    async def cancel_work(
        self, subject_id: int, kinds: Iterable[WorkKind] | None, now: datetime
    ) -> int:
        query = update(due_t).where(
            due_t.c.subject_id == subject_id,
            due_t.c.done_at.is_(None),
            due_t.c.cancelled_at.is_(None),
        )
        if kinds is not None:
            query = query.where(due_t.c.kind.in_([k.value for k in kinds]))
        done = await self.conn.execute(query.values(cancelled_at=now))
        return int(done.rowcount)

    async def next_due_at(self, *, skip: Collection[WorkKind] = ()) -> datetime | None:
        query = select(func.min(due_t.c.due_at)).where(
            due_t.c.done_at.is_(None),
            due_t.c.cancelled_at.is_(None),
            due_t.c.claimed_at.is_(None),
        )
        if skip:
            query = query.where(due_t.c.kind.not_in([kind.value for kind in skip]))
        row = await self._one(query)
        value = None if row is None else row[0]
        # func.min loses the column type: make it an aware UTC moment as the column does.
        return None if value is None else due_t.c.due_at.type.process_result_value(value, None)

    async def work_about(self, subject_id: int) -> list[DueWork]:
        rows = await self.conn.execute(
            select(due_t)
            .where(due_t.c.subject_id == subject_id)
            .order_by(due_t.c.due_at, due_t.c.id)
        )
        return [work_of(r) for r in rows]

    async def has_pending_work(self, kind: WorkKind, community_id: int) -> bool:
        row = await self._one(
            select(due_t.c.id)
            .where(
                due_t.c.kind == kind.value,
                due_t.c.community_id == community_id,
                due_t.c.done_at.is_(None),
                due_t.c.cancelled_at.is_(None),
            )
            .limit(1)
        )
        return row is not None

    async def scheduled_messages_since(self, member_id: int, since: datetime) -> int:
        row = (
            await self.conn.execute(
                select(func.count(func.distinct(due_t.c.outbox_id))).where(
                    due_t.c.member_id == member_id,
                    due_t.c.done_at >= since,
                    due_t.c.outbox_id.is_not(None),
                )
            )
        ).one()
        return int(row[0])

    # --- closing the loop on requests ------------------------------------------------
    async def reopen_request(self, request_id: int, clear_time: bool, now: datetime) -> bool:
        values: dict[str, Any] = {
            "status": RequestStatus.OPEN.value,
            "helper_id": None,
            "matched_at": None,
            "group_posts": "",
        }
        if clear_time:
            values.update(starts_at=None, ends_at=None, exact=False)
        done = await self.conn.execute(
            update(request_t)
            .where(request_t.c.id == request_id, request_t.c.status == RequestStatus.MATCHED.value)
            .values(**values)
        )
        return done.rowcount == 1

    async def request_figures(self, community_id: int, since: datetime) -> dict[str, int]:
        here = request_t.c.community_id == community_id

        async def count(*conditions: Any) -> int:
            row = (await self.conn.execute(select(func.count()).where(here, *conditions))).one()
            return int(row[0])

        figures = {
            "asked": await count(request_t.c.created_at >= since),
            "matched": await count(request_t.c.matched_at >= since),
        }
        for status in (
            RequestStatus.DONE,
            RequestStatus.UNKNOWN,
            RequestStatus.REFERRED,
            RequestStatus.CANCELLED,
        ):
            figures[status.value] = await count(
                request_t.c.status == status.value, request_t.c.closed_at >= since
            )
        return figures

    async def helpers_since(self, community_id: int, since: datetime) -> list[int]:
        rows = await self.conn.execute(
            select(request_t.c.helper_id)
            .where(
                request_t.c.community_id == community_id,
                request_t.c.helper_id.is_not(None),
                request_t.c.matched_at >= since,
            )
            .distinct()
            .order_by(request_t.c.helper_id)
        )
        return [int(r[0]) for r in rows]

    async def idle_helpers(self, community_id: int, since: datetime) -> list[int]:
        busy = set(await self.helpers_since(community_id, since))
        rows = await self.conn.execute(
            select(offer_t.c.member_id)
            .join(
                membership_t,
                and_(
                    membership_t.c.member_id == offer_t.c.member_id,
                    membership_t.c.community_id == offer_t.c.community_id,
                ),
            )
            .where(
                offer_t.c.community_id == community_id,
                offer_t.c.paused.is_(False),
                offer_t.c.created_at <= since,
                membership_t.c.left_at.is_(None),
            )
            .distinct()
            .order_by(offer_t.c.member_id)
        )
        return [int(r[0]) for r in rows if int(r[0]) not in busy]

    async def add_referral(self, request_id: int, organiser_id: int, now: datetime) -> Referral:
        row = (
            await self.conn.execute(
                insert(referral_t)
                .values(request_id=request_id, organiser_id=organiser_id, asked_at=now)
                .returning(*referral_t.c)
            )
        ).one()
        return referral_of(row)

    async def referral(self, referral_id: int) -> Referral | None:
        row = await self._one(select(referral_t).where(referral_t.c.id == referral_id))
        return None if row is None else referral_of(row)

    async def answer_referral(self, referral_id: int, consent: bool, now: datetime) -> bool:
        done = await self.conn.execute(
            update(referral_t)
            .where(referral_t.c.id == referral_id, referral_t.c.answered_at.is_(None))
            .values(answered_at=now, consent=consent)
        )
        return done.rowcount == 1

    # --- settings ----------------------------------------------------------------------
    async def member_settings(self, member_id: int) -> dict[str, Any]:
        row = await self._one(
            select(member_settings_t.c.settings).where(member_settings_t.c.member_id == member_id)
        )
        return {} if row is None else dict(row.settings or {})

    async def set_member_settings(self, member_id: int, settings: dict[str, Any]) -> None:
        done = await self.conn.execute(
            update(member_settings_t)
            .where(member_settings_t.c.member_id == member_id)
            .values(settings=settings)
        )
        if done.rowcount == 0:
            await self.conn.execute(
                insert(member_settings_t).values(member_id=member_id, settings=settings)
            )

    async def update_community_settings(self, community_id: int, changes: dict[str, Any]) -> None:
        settings = dict((await self.community(community_id)).settings)
        for name, value in changes.items():
            if value is None:
                settings.pop(name, None)
            else:
                settings[name] = value
        self._forget_read()
        await self.conn.execute(
            update(community_t).where(community_t.c.id == community_id).values(settings=settings)
        )


class SqlStore:
    """Implements ``bot.store.Store`` on an async SQLAlchemy engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # SQLite lets one writer in at a time. This process's writers wait for each other
        # here, first come first served, rather than in SQLite's busy handler, which sleeps
        # 1 to 100 ms between tries whenever the lock is taken. Other processes (a backup,
        # the console on the same file) still meet ``busy_timeout``.
        self._writers = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        # SQLite in a file: the statements of a transaction run on the event loop.
        path = engine.url.database
        self._on_loop = (
            LoopTransactions(path)
            if self._writers is not None and path and path != ":memory:"
            else None
        )

    @classmethod
    async def open(cls, url: str, *, run_migrations: bool = True) -> SqlStore:
        engine = make_engine(url)
        if run_migrations:
            await migrate(engine)
        return cls(engine)

    @property
    def statement_engines(self) -> list[Engine]:
        """The synchronous engines whose cursors run this store's statements (for counting
        them in the benchmarks)."""
        engines = [self.engine.sync_engine]
        if self._on_loop is not None:
            engines.append(self._on_loop.engine)
        return engines

    async def close(self) -> None:
        if self._on_loop is not None:
            self._on_loop.dispose()
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTx]:
        """One transaction; a database that cannot be used raises ``StoreUnavailable``."""
        async with self._writing() as conn:
            yield SqlTx(conn)

    def _begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        if self._on_loop is None:
            return self.engine.begin()
        # Has what the store uses of an AsyncConnection: execute, exec_driver_sql and dialect.
        return cast(AbstractAsyncContextManager[AsyncConnection], self._on_loop.begin())

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[Classified]:
        """A transaction of its own. Beginning and ending it, and each statement, raise
        ``StoreUnavailable`` when the database cannot be used; whatever the code inside
        raises itself comes out as it is (a ``TimeoutError`` of a handler is its own)."""
        if self._on_loop is not None:
            # A transaction on the loop awaits nothing that suspends: let the other tasks
            # run between two of them, or a loop of many (due work) would keep them waiting.
            await asyncio.sleep(0)
        try:
            async with self._writers or contextlib.nullcontext():
                with classified():
                    async with self._begin() as conn:
                        try:
                            yield Classified(conn)
                        except StoreUnavailable:
                            raise
                        except Exception as error:
                            raise InsideTransaction(error) from None
        except InsideTransaction as carried:
            raise carried.error from carried.error.__cause__

    # --- the outbox sender's own short transactions --------------------------------------
    async def claim(
        self, platform: str, now: datetime, limit: int, worker: str, until: datetime
    ) -> list[Delivery]:
        """Take up to ``limit`` due rows for ``worker`` until ``until``, oldest first."""
        claim = _CLAIM_SQLITE if self._writers is not None else _CLAIM_PG
        params = {
            "b_platform": platform,
            "b_now": now,
            "b_limit": limit,
            "b_worker": worker,
            "b_until": until,
        }
        async with self._writing() as conn:
            rows = (await conn.execute(claim, params)).all()
        # RETURNING gives no order
        return sorted(
            (delivery_of(r, r.edit_ref, r.edit_parts) for r in rows), key=lambda d: d.outbox_id
        )

    async def extend_lease(
        self, outbox_ids: Sequence[int], worker: str, until: datetime
    ) -> set[int]:
        """Hold these rows longer; the answer names those still ``worker``'s."""
        if not outbox_ids:
            return set()
        params = {"b_ids": list(outbox_ids), "b_worker": worker, "b_until": until}
        async with self._writing() as conn:
            return {int(r.id) for r in await conn.execute(_EXTEND, params)}

    async def release(self, outbox_ids: Sequence[int], worker: str) -> None:
        """Give back rows ``worker`` claimed and did not send: due again for any sender."""
        if not outbox_ids:
            return
        async with self._writing() as conn:
            await conn.execute(_RELEASE, {"b_ids": list(outbox_ids), "b_worker": worker})

    async def release_all(self, platform: str) -> int:
        """Free every claim of ``platform``: for the only sender there is, at its start."""
        async with self._writing() as conn:
            done = await conn.execute(_RELEASE_ALL, {"b_platform": platform})
            return int(done.rowcount)

    async def mark_sent(
        self, outbox_id: int, message_ref: str | None, now: datetime, worker: str
    ) -> bool:
        """False when the row is no longer ``worker``'s: its lease ran out, another took it."""
        params = {"b_id": outbox_id, "b_ref": message_ref, "b_now": now, "b_worker": worker}
        async with self._writing() as conn:
            return (await conn.execute(_MARK_SENT, params)).rowcount == 1

    async def mark_part_sent(self, outbox_id: int, part: int, worker: str) -> bool:
        """Part ``part`` (from 0) of a long text went out; the next one is due. False when
        the row is no longer ``worker``'s, or that part was recorded already."""
        params = {"b_id": outbox_id, "b_part": part, "b_worker": worker}
        async with self._writing() as conn:
            return (await conn.execute(_PART_SENT, params)).rowcount == 1

    async def postpone(self, outbox_id: int, until: datetime, worker: str) -> None:
        async with self._writing() as conn:
            await conn.execute(_POSTPONE, {"b_id": outbox_id, "b_until": until, "b_worker": worker})

    async def mark_failed(self, outbox_id: int, reason: str, now: datetime, worker: str) -> None:
        params = {"b_id": outbox_id, "b_error": reason[:500], "b_now": now, "b_worker": worker}
        async with self._writing() as conn:
            await conn.execute(_MARK_FAILED, params)


__all__ = ["IntegrityError", "SqlStore", "SqlTx"]
