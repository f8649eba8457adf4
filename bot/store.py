"""The storage port: what the core asks of the database, in its own terms.

``storage.sql.SqlStore`` implements it on SQLite and PostgreSQL. Every method of ``Tx``
runs inside one transaction; nothing is visible to others until it commits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from bot.circle_records import (
    Circle,
    CircleInvite,
    CircleMember,
    CirclePartner,
    CircleRole,
    InviteKind,
    InviteStatus,
)
from bot.model import (
    AuditEntry,
    Category,
    Community,
    Draft,
    Expense,
    GroupChat,
    HelperStatus,
    HelpRequest,
    Identity,
    MealTable,
    Member,
    Membership,
    MemberStatus,
    NewMealTable,
    NewOffer,
    NewRequest,
    Offer,
    OfferSearch,
    Proposal,
    ProposalStatus,
    Report,
    RequestStatus,
    Role,
    Seat,
    SeatStatus,
    SenderRows,
    TableStatus,
    WebSession,
)
from bot.omkijken_records import (
    Answer,
    Checkin,
    CheckinAsk,
    Gathering,
    LookAnswer,
    LookResult,
    OmkijkenPlan,
)
from bot.types import Button, ChatKind, Delivery
from bot.work import DueWork, NewWork, Referral, WorkKind


class Tx(Protocol):
    # --- inbox and cursors -------------------------------------------------------------
    async def remember_event(self, platform: str, event_id: str, now: datetime) -> bool:
        """Record an inbound event; False when it was seen before."""
        ...

    async def get_cursor(self, name: str) -> str | None: ...
    async def set_cursor(self, name: str, value: str) -> None: ...

    # --- communities and chats ---------------------------------------------------------
    async def create_community(
        self, name: str, language: str, timezone: str, settings: dict[str, Any]
    ) -> Community: ...
    async def community(self, community_id: int) -> Community: ...
    async def communities(self) -> list[Community]: ...
    async def group_chat(self, platform: str, chat_id: str) -> GroupChat | None: ...
    async def link_group_chat(
        self, platform: str, chat_id: str, community_id: int, title: str
    ) -> GroupChat: ...
    async def group_chats(self, community_id: int) -> list[GroupChat]: ...
    async def move_group_chat(self, platform: str, old_id: str, new_id: str) -> bool:
        """The platform gave a group a new id (a Telegram group became a supergroup)."""
        ...

    # --- members -----------------------------------------------------------------------
    async def identity(self, platform: str, user_id: str) -> Identity | None: ...
    async def sender_rows(
        self, platform: str, user_id: str, group_chat_id: str | None
    ) -> SenderRows:
        """The sender's identity, member, memberships with their communities and, when
        ``group_chat_id`` is given, that group chat on the same platform: one look-up for
        the context of an event. Later look-ups of these rows in the transaction are free."""
        ...

    async def create_member(
        self, display_name: str, language: str | None, now: datetime
    ) -> Member: ...
    async def add_identity(
        self, member_id: int, platform: str, user_id: str, handle: str | None, now: datetime
    ) -> Identity: ...
    async def touch_identity(
        self, platform: str, user_id: str, display_name: str, handle: str | None, now: datetime
    ) -> None: ...
    async def member(self, member_id: int) -> Member: ...
    async def identities(self, member_id: int) -> list[Identity]: ...
    async def set_language(self, member_id: int, language: str) -> None: ...
    async def membership(self, member_id: int, community_id: int) -> Membership | None: ...
    async def memberships(self, member_id: int) -> list[Membership]: ...
    async def join(self, member_id: int, community_id: int, role: Role, now: datetime) -> None:
        """Make the member part of the community (again), keeping an organiser's role."""
        ...

    async def leave(self, member_id: int, community_id: int, now: datetime) -> None: ...
    async def organisers(self, community_id: int) -> list[int]: ...

    # --- help requests -----------------------------------------------------------------
    async def add_request(self, new: NewRequest, now: datetime) -> HelpRequest: ...
    async def request(self, request_id: int) -> HelpRequest | None: ...
    async def requests_of(
        self, member_id: int, statuses: Iterable[RequestStatus]
    ) -> list[HelpRequest]: ...
    async def requests_helped_by(
        self, member_id: int, statuses: Iterable[RequestStatus]
    ) -> list[HelpRequest]: ...
    async def claim_request(self, request_id: int, helper_id: int, now: datetime) -> bool:
        """Atomically give an open request to a helper. False when it was no longer open."""
        ...

    async def close_request(self, request_id: int, status: RequestStatus, now: datetime) -> bool:
        """Move an open or matched request to done or cancelled. False when already closed."""
        ...

    async def mark_posted_in_group(self, request_id: int, outbox_ids: Sequence[int]) -> None: ...
    async def open_requests(self, community_id: int) -> list[HelpRequest]:
        """Requests still waiting for a helper, oldest first."""
        ...

    async def requests_waiting_for(
        self, community_id: int, categories: Iterable[Category], helper_id: int
    ) -> list[HelpRequest]:
        """Open requests of these kinds, oldest first, that a new helper could be asked about:
        not their own, not asked of them before, and nobody else is thinking about them."""
        ...

    # --- offers ------------------------------------------------------------------------
    async def add_offer(self, new: NewOffer, now: datetime) -> Offer: ...
    async def offer(self, offer_id: int) -> Offer | None: ...
    async def offers_of(self, member_id: int) -> list[Offer]: ...
    async def set_offer_paused(self, offer_id: int, paused: bool) -> None: ...
    async def delete_offer(self, offer_id: int) -> None: ...
    async def offers_for(self, search: OfferSearch, member_ids: Sequence[int]) -> list[Offer]:
        """These members' offers that fit the search."""
        ...

    async def offers_near(
        self, search: OfferSearch, idle_since: datetime, limit: int
    ) -> list[Offer]:
        """Offers that fit the search, of members who took on no request since ``idle_since``.

        Nearest first, walking away from ``search.near`` on each side: up to ``limit`` offers
        with a postcode at or above it, up to ``limit`` below it and up to ``limit`` without a
        postcode, each side in order of distance, then member, then offer. Without
        ``search.near``: up to ``limit`` offers in order of member, then offer.
        """
        ...

    async def helps_since(self, since: datetime) -> dict[int, int]:
        """How many requests each member took on since ``since``; members with none left out."""
        ...

    async def helpers_of(self, requester_id: int) -> dict[int, int]:
        """How many of this requester's requests each member completed."""
        ...

    # --- proposals ---------------------------------------------------------------------
    async def add_proposal(
        self, request_id: int, helper_id: int, now: datetime, *, outbox_id: int | None = None
    ) -> Proposal:
        """Record that a helper was asked, with the message that asked them if there is one."""
        ...

    async def set_proposal_outbox(self, proposal_id: int, outbox_id: int) -> None: ...
    async def pending_proposals_of(self, helper_id: int) -> list[int]:
        """The requests a helper was asked about and has not answered yet."""
        ...

    async def proposals(self, request_id: int) -> list[Proposal]: ...
    async def set_proposal_status(
        self, request_id: int, helper_id: int, status: ProposalStatus
    ) -> None: ...

    # --- expenses ----------------------------------------------------------------------
    async def add_expense(self, request_id: int, amount_cents: int, now: datetime) -> Expense: ...
    async def expenses(self, request_id: int) -> list[Expense]: ...
    async def expense(self, expense_id: int) -> tuple[Expense, HelpRequest] | None: ...
    async def mark_repaid(self, expense_id: int, now: datetime) -> bool: ...

    # --- guided conversations ----------------------------------------------------------
    async def draft(self, member_id: int) -> Draft | None: ...
    async def save_draft(self, draft: Draft) -> None: ...
    async def drop_draft(self, member_id: int) -> None: ...

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
        """Queue a message; with ``delete_ref``, the removal of a member's message in the
        group ``chat_id`` instead (see ``Delivery``). ``about``: members whose personal
        data it carries besides its recipient (an edit carries those of the message it
        edits as well)."""
        ...

    async def outbox_row_by_ref(self, platform: str, message_ref: str) -> Delivery | None: ...
    async def outbox_row(self, outbox_id: int) -> Delivery | None: ...
    async def newest_message_to(self, platform: str, chat_id: str) -> Delivery | None:
        """The last message the bot wrote in a chat (not an edit, not a removal)."""
        ...

    async def shown_buttons(self, outbox_id: int) -> tuple[tuple[Button, ...], ...]:
        """The buttons a message shows now: those of its newest edit, else its own."""
        ...

    async def park_waiting(self, outbox_id: int) -> bool:
        """Hold a private message until the member opens a chat. False if already parked."""
        ...

    async def release_waiting(self, platform: str, chat_id: str) -> int: ...
    async def waiting_count(self, platform: str, chat_id: str) -> int: ...

    # --- due work (see bot.duework) ----------------------------------------------------
    async def schedule_work(self, new: NewWork, now: datetime) -> int | None:
        """Add due work. None when work with the same ``dedupe_key`` exists already."""
        ...

    async def claim_due_work(
        self, now: datetime, worker: str, *, skip: Collection[WorkKind] = ()
    ) -> DueWork | None:
        """Atomically claim the first pending item due by ``now`` (by due time, then id),
        of any kind but those in ``skip``.

        Claimed work stays invisible to other workers until this transaction ends; an item
        whose transaction rolls back is free again."""
        ...

    async def claim_member_work(self, member_id: int, now: datetime, worker: str) -> list[DueWork]:
        """Claim every other pending, non-urgent item for one member due by ``now``."""
        ...

    async def finish_work(
        self, work_id: int, now: datetime, outcome: str, outbox_id: int | None = None
    ) -> None: ...
    async def postpone_work(self, work_id: int, until: datetime) -> None:
        """Give a claimed item back, due again at ``until``."""
        ...

    async def work_failed(
        self, work_id: int, now: datetime, error: str, retry_at: datetime | None
    ) -> int:
        """Count a failed attempt; due again at ``retry_at``, or given up without one.
        Returns the number of attempts so far."""
        ...

    async def cancel_work(
        self, subject_id: int, kinds: Iterable[WorkKind] | None, now: datetime
    ) -> int:
        """Cancel the pending work about a request (all kinds, or only ``kinds``)."""
        ...

    async def next_due_at(self, *, skip: Collection[WorkKind] = ()) -> datetime | None:
        """When the first pending item of any kind but those in ``skip`` falls due."""
        ...

    async def work_about(self, subject_id: int) -> list[DueWork]:
        """Every item about a request, done and cancelled ones too, in due order."""
        ...

    async def has_pending_work(self, kind: WorkKind, community_id: int) -> bool: ...
    async def scheduled_messages_since(self, member_id: int, since: datetime) -> int:
        """How many messages the scheduler sent a member since ``since``."""
        ...

    # --- closing the loop on requests ------------------------------------------------
    async def reopen_request(self, request_id: int, clear_time: bool, now: datetime) -> bool:
        """Move a matched request back to open: no helper, not in the group any more.
        Its proposals stay. False when it was not matched."""
        ...

    async def request_figures(self, community_id: int, since: datetime) -> dict[str, int]:
        """Requests asked, matched, done, unknown, referred and cancelled since ``since``."""
        ...

    async def helpers_since(self, community_id: int, since: datetime) -> list[int]:
        """Members who took on a request since ``since``."""
        ...

    async def idle_helpers(self, community_id: int, since: datetime) -> list[int]:
        """Members offering help since before ``since`` who took on nothing since."""
        ...

    async def add_referral(self, request_id: int, organiser_id: int, now: datetime) -> Referral: ...
    async def referral(self, referral_id: int) -> Referral | None: ...
    async def answer_referral(self, referral_id: int, consent: bool, now: datetime) -> bool:
        """Record the requester's answer. False when it was answered before."""
        ...

    # --- settings ----------------------------------------------------------------------
    async def member_settings(self, member_id: int) -> dict[str, Any]: ...
    async def set_member_settings(self, member_id: int, settings: dict[str, Any]) -> None: ...
    async def update_community_settings(self, community_id: int, changes: dict[str, Any]) -> None:
        """Change some of a community's settings; a value of None restores the default."""
        ...

    # --- organisers, moderation and privacy --------------------------------------------
    async def accept_rules(self, member_id: int, community_id: int, now: datetime) -> None: ...
    async def set_member_status(
        self, member_id: int, community_id: int, status: MemberStatus
    ) -> None: ...
    async def set_helper_status(
        self, member_id: int, community_id: int, status: HelperStatus
    ) -> None: ...
    async def set_role(self, member_id: int, community_id: int, role: Role) -> None: ...
    async def add_vouch(
        self, member_id: int, community_id: int, voucher_id: int, now: datetime
    ) -> list[int]:
        """Record a vouch (once per voucher); returns everyone who vouched so far."""
        ...

    async def vouchers(self, member_id: int, community_id: int) -> list[int]: ...
    async def find_members(self, community_id: int, who: str) -> list[Member]:
        """Members of the community known by this handle ("@kees") or name ("Kees")."""
        ...

    async def create_proxy_member(
        self, display_name: str, contact_id: int, community_id: int, now: datetime
    ) -> Member:
        """A neighbour without a phone, reached through an organiser."""
        ...

    async def members_of(self, community_id: int) -> list[tuple[Member, Membership]]: ...
    async def add_report(
        self,
        community_id: int,
        reporter_id: int,
        request_id: int | None,
        member_id: int | None,
        reason: str,
        now: datetime,
    ) -> Report: ...
    async def reports(self, community_id: int, *, open_only: bool = True) -> list[Report]: ...
    async def add_audit(
        self, community_id: int, actor_id: int | None, action: str, subject: str, now: datetime
    ) -> None: ...
    async def audit_log(self, community_id: int, limit: int = 50) -> list[AuditEntry]: ...
    async def community_requests(
        self,
        community_id: int,
        statuses: Iterable[RequestStatus] | None = None,
        since: datetime | None = None,
    ) -> list[HelpRequest]: ...
    async def community_offers(self, community_id: int) -> list[Offer]: ...
    async def member_records(self, member_id: int) -> dict[str, list[dict[str, Any]]]:
        """Everything stored about one member, table by table, as plain values."""
        ...

    async def erase_member(self, member_id: int, now: datetime) -> list[int]:
        """Forget a person, by reference: who they are, what they wrote, and every message
        to or about them. Anonymous counts remain. Returns the messages about them that
        were delivered to others (to be replaced there by a neutral text)."""
        ...

    async def purge_closed_texts(self, community_id: int, closed_before: datetime) -> int: ...
    async def purge_personal(self, community_id: int, before: datetime) -> dict[str, int]:
        """Retention: remove what is personal and older than ``before`` in a community
        (messages sent, proposals, seats, reports, audit details, finished work, drafts);
        returns how many rows of each kind."""
        ...

    # --- meal tables ------------------------------------------------------------------
    async def add_table(self, new: NewMealTable, now: datetime) -> MealTable: ...
    async def meal_table(self, table_id: int, *, lock: bool = False) -> MealTable | None:
        """A table with its seats taken; ``lock`` holds it until the transaction ends."""
        ...

    async def upcoming_tables(
        self, community_id: int, since: datetime, until: datetime
    ) -> list[MealTable]: ...
    async def tables_hosted_by(self, member_id: int, since: datetime) -> list[MealTable]: ...
    async def tables_between(
        self, community_id: int, since: datetime, until: datetime
    ) -> list[MealTable]: ...
    async def set_table_posts(self, table_id: int, outbox_ids: Iterable[int]) -> None: ...
    async def close_table(self, table_id: int, status: TableStatus) -> bool: ...
    async def set_table_outcome(self, table_id: int, outcome: str) -> None: ...
    async def seats(self, table_id: int, statuses: Iterable[SeatStatus]) -> list[Seat]: ...
    async def seat(self, table_id: int, member_id: int) -> Seat | None: ...
    async def seat_by_id(self, seat_id: int) -> Seat | None: ...
    async def take_seat(self, table_id: int, member_id: int, now: datetime) -> Seat:
        """A seat if one is left, else a place at the end of the waiting list, atomically."""
        ...

    async def update_seat(self, seat_id: int, **values: Any) -> None: ...
    async def seats_of_member(
        self, member_id: int, statuses: Iterable[SeatStatus]
    ) -> list[tuple[Seat, MealTable]]: ...

    # --- limits (see bot.limits) ------------------------------------------------------
    async def limit_uses(
        self, kind: str, member_ids: Sequence[int], since: datetime, *, lock: bool = False
    ) -> dict[int, list[datetime]]:
        """When each of these members did ``kind`` since ``since``, oldest first; members
        with none left out. ``lock`` holds their counts until the transaction ends."""
        ...

    async def add_limit_use(self, member_id: int, kind: str, now: datetime) -> None: ...
    async def limit_notice(self, member_id: int, kind: str) -> datetime | None:
        """Until when the member was told they reached the limit of ``kind``, if ever."""
        ...

    async def set_limit_notice(self, member_id: int, kind: str, until: datetime) -> None: ...
    async def forget_limit_uses(self, before: datetime) -> int:
        """Remove counted uses (and notices) older than ``before``; returns how many uses."""
        ...

    # --- circles (see bot.circles) ----------------------------------------------------
    async def create_circle(
        self, community_id: int, name: str, founder_id: int, now: datetime, *, open: bool = True
    ) -> Circle:
        """A new circle with its founder as its first member and contact person."""
        ...

    async def circle(self, circle_id: int, *, lock: bool = False) -> Circle | None: ...
    async def circles(self, community_id: int) -> list[Circle]:
        """The circles of a community, oldest first."""
        ...

    async def circle_sizes(self, community_id: int) -> dict[int, int]:
        """How many members each circle of a community has (empty circles left out)."""
        ...

    async def circle_of_member(self, member_id: int, community_id: int) -> Circle | None:
        """The member's circle in this community, if they are in one."""
        ...

    async def circle_members(self, circle_id: int) -> list[CircleMember]:
        """The members of a circle, in the order they joined."""
        ...

    async def add_circle_member(
        self, circle_id: int, member_id: int, now: datetime, limit: int
    ) -> CircleMember | None:
        """Add a member while fewer than ``limit`` are in the circle, atomically; None when
        it is full. A member already in it is returned as they are."""
        ...

    async def remove_circle_member(self, circle_id: int, member_id: int) -> bool: ...
    async def remove_circle(self, circle_id: int) -> None:
        """A circle and its invitations, partners and members, gone."""
        ...

    async def set_circle_role(self, circle_id: int, member_id: int, role: CircleRole) -> bool: ...
    async def set_circle_answers(
        self,
        circle_id: int,
        member_id: int,
        *,
        likes_to_do: str | None = None,
        might_need: str | None = None,
    ) -> None:
        """What a member likes to do and might need (None leaves it as it is)."""
        ...

    async def set_circle_open(self, circle_id: int, open: bool) -> None: ...
    async def add_circle_invite(
        self,
        circle_id: int,
        member_id: int,
        inviter_id: int | None,
        kind: InviteKind,
        now: datetime,
    ) -> CircleInvite: ...
    async def circle_invite(self, invite_id: int) -> CircleInvite | None: ...
    async def circle_invites(
        self,
        *,
        circle_id: int | None = None,
        member_id: int | None = None,
        statuses: Iterable[InviteStatus] = (InviteStatus.PENDING,),
    ) -> list[CircleInvite]:
        """Invitations to a circle, or of a member (to any circle), oldest first."""
        ...

    async def answer_circle_invite(
        self, invite_id: int, status: InviteStatus, now: datetime
    ) -> bool:
        """Move a pending invitation to ``status``; False when it was answered before."""
        ...

    async def add_circle_partner(
        self, circle_id: int, name: str, contact: str, now: datetime
    ) -> CirclePartner: ...
    async def circle_partners(self, circle_id: int) -> list[CirclePartner]: ...
    async def remove_circle_partner(self, partner_id: int) -> bool: ...
    async def circle_figures(self, community_id: int) -> dict[str, int]:
        """How many circles, circle members and partners a community has; no names."""
        ...

    # --- omkijken: check-ins, the rota, gatherings (see bot.omkijken) -----------------
    async def omkijken_plan(self, member_id: int) -> OmkijkenPlan | None: ...
    async def save_omkijken_plan(self, plan: OmkijkenPlan) -> None:
        """Add or replace a member's plan."""
        ...

    async def omkijken_plans(self, circle_id: int) -> list[OmkijkenPlan]: ...
    async def drop_omkijken_plan(self, member_id: int) -> None: ...
    async def add_checkin(
        self, community_id: int, circle_id: int, member_id: int, now: datetime
    ) -> Checkin: ...
    async def checkin(self, checkin_id: int, *, lock: bool = False) -> Checkin | None: ...
    async def open_checkin(self, member_id: int, since: datetime) -> Checkin | None:
        """The member's newest check-in asked since ``since`` that has no answer yet."""
        ...

    async def set_checkin_message(self, checkin_id: int, outbox_id: int | None) -> None: ...
    async def answer_checkin(self, checkin_id: int, answer: Answer, now: datetime) -> bool:
        """Record the member's answer; False when it was answered before."""
        ...

    async def checkin_missed(self, checkin_id: int, now: datetime) -> bool:
        """Mark an unanswered check-in as missed; False when answered or marked before."""
        ...

    async def checkin_step(self, checkin_id: int, step: int) -> bool:
        """Move the asking on to ``step``; False when it is there or further already."""
        ...

    async def set_checkin_looker(self, checkin_id: int, looker_id: int, now: datetime) -> bool:
        """The one who goes to look in; False when someone else went already."""
        ...

    async def set_look_result(self, checkin_id: int, result: LookResult) -> bool:
        """How it was; False when it was told before."""
        ...

    async def add_checkin_ask(
        self, checkin_id: int, member_id: int, step: int, now: datetime
    ) -> bool:
        """Someone is asked to look in; False when they were asked before."""
        ...

    async def checkin_asks(self, checkin_id: int) -> list[CheckinAsk]: ...
    async def answer_checkin_ask(self, checkin_id: int, member_id: int, answer: LookAnswer) -> bool:
        """Record their answer; False when they were not asked or answered before."""
        ...

    async def checkin_figures(self, community_id: int, since: datetime) -> dict[str, int]:
        """Check-ins asked, missed, and missed ones someone looked in on; no names."""
        ...

    async def purge_checkins(self, community_id: int, before: datetime) -> int:
        """Remove check-ins (with their answers and who was asked) asked before ``before``."""
        ...

    async def rota(self, circle_id: int, week: str) -> dict[int, int]:
        """Who looks after whom in a week: member -> buddy (empty when not made yet)."""
        ...

    async def save_rota(self, circle_id: int, week: str, pairs: dict[int, int]) -> None:
        """Replace a week's pairs."""
        ...

    async def create_rota(self, circle_id: int, week: str, pairs: dict[int, int]) -> dict[int, int]:
        """Make a week's pairs unless the week has some already, also when another
        transaction makes them at the same moment; returns the week's pairs that hold."""
        ...

    async def rota_counts(self, circle_id: int, before: str) -> dict[tuple[int, int], int]:
        """How often each (member, buddy) pair was made in the weeks before ``before``."""
        ...

    async def add_gathering(
        self,
        community_id: int,
        circle_id: int,
        organiser_id: int,
        starts_at: datetime,
        what: str,
        now: datetime,
    ) -> Gathering: ...
    async def gathering(self, gathering_id: int) -> Gathering | None: ...
    async def gatherings(self, circle_id: int, after: datetime) -> list[Gathering]:
        """The circle's gatherings starting after ``after``, soonest first."""
        ...

    async def answer_gathering(
        self, gathering_id: int, member_id: int, coming: bool, now: datetime
    ) -> None: ...
    async def gathering_answers(self, gathering_id: int) -> dict[int, bool]:
        """Member -> coming, in the order they answered."""
        ...

    # --- the organisers' web pages (see bot.weblogin) ---------------------------------
    async def add_web_login(
        self, token_hash: str, member_id: int, community_id: int, now: datetime, until: datetime
    ) -> None: ...
    async def use_web_login(self, token_hash: str, now: datetime) -> tuple[int, int] | None:
        """Mark a login link used; (member id, community id) when it was unused and still
        valid, else None. Atomic: of two who open the same link, one gets in."""
        ...

    async def add_web_session(
        self,
        token_hash: str,
        member_id: int,
        community_id: int,
        csrf_token: str,
        now: datetime,
        until: datetime,
    ) -> None: ...
    async def web_session(self, token_hash: str, now: datetime) -> WebSession | None:
        """The session with this token hash, unless it ended or expired."""
        ...

    async def end_web_session(self, token_hash: str, now: datetime) -> None: ...


class OutboxQueue(Protocol):
    """The outbox as its senders see it: short transactions of their own.

    A sender (``worker``) claims due rows until a moment (its lease); only it may mark them
    sent, postponed or failed. Rows whose lease ran out (their sender died) are due again.
    """

    async def claim(
        self, platform: str, now: datetime, limit: int, worker: str, until: datetime
    ) -> list[Delivery]: ...
    async def extend_lease(
        self, outbox_ids: Sequence[int], worker: str, until: datetime
    ) -> set[int]: ...
    async def release(self, outbox_ids: Sequence[int], worker: str) -> None: ...
    async def release_all(self, platform: str) -> int: ...
    async def mark_sent(
        self, outbox_id: int, message_ref: str | None, now: datetime, worker: str
    ) -> bool: ...
    async def mark_part_sent(self, outbox_id: int, part: int, worker: str) -> bool: ...
    async def postpone(self, outbox_id: int, until: datetime, worker: str) -> None: ...
    async def mark_failed(
        self, outbox_id: int, reason: str, now: datetime, worker: str
    ) -> None: ...


class Store(OutboxQueue, Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Tx]: ...
    async def close(self) -> None: ...
