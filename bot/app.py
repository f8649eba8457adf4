"""The dispatcher: one inbound event, one transaction, one error boundary."""

from __future__ import annotations

import logging
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.commands import Registry, Where
from bot.config import CoreConfig
from bot.context import Context
from bot.details import DetailFinder
from bot.errors import StoreUnavailable, UserError
from bot.i18n import Catalog
from bot.model import Community, GroupChat, Member, MemberStatus, Role, SenderRows
from bot.presses import verified_action
from bot.store import Store, Tx
from bot.types import (
    BotAdded,
    ButtonPress,
    ChatKind,
    ChatRef,
    Delivery,
    InboundEvent,
    MemberLeft,
    Message,
    Sender,
)
from bot.workkinds import WorkKinds

log = logging.getLogger("buurtbot.core")
SEEN_AGAIN = timedelta(hours=1)  # how often seeing someone again is written down
event_log = logging.getLogger("buurtbot.events")


def clean_text(text: str) -> str:
    """Drop control characters (keeping line breaks) and surrounding blanks."""
    kept = (ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    return "".join(kept).replace("\t", " ").strip()


def split_command(text: str) -> tuple[str, str] | None:
    """``"/vraag@buurtbot boodschappen"`` -> ``("vraag", "boodschappen")``."""
    if not text.startswith(("/", "!")) or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    first_line, _, more = head.partition("\n")
    if more:
        rest = f"{more} {rest}".strip()
    name = first_line.split("@", 1)[0].lower()
    if not name or not name.replace("_", "").isalnum():
        return None
    return name, rest.strip()


@dataclass
class Bot:
    store: Store
    clock: Clock
    catalog: Catalog
    registry: Registry
    work: WorkKinds  # the kinds of scheduled work and what each does (bot.workkinds)
    config: CoreConfig = field(default_factory=CoreConfig)
    details: DetailFinder | None = None  # see bot.details; bootstrap passes one
    listeners: list[Callable[[], None]] = field(default_factory=list)
    # A link that opens a private chat with the bot, per platform, where there is one
    # (Telegram's ``https://t.me/<bot>?start=…``); set by the adapter once it knows it.
    private_links: dict[str, str] = field(default_factory=dict)
    _recent: dict[tuple[str, str], deque[datetime]] = field(default_factory=dict, repr=False)
    _warned: set[tuple[str, str]] = field(default_factory=set, repr=False)

    # --- the entry point for adapters -----------------------------------------------------
    async def handle(self, event: InboundEvent, cursor: tuple[str, str] | None = None) -> None:
        """Handle one event exactly once. ``cursor`` is stored in the same transaction.

        Raises ``StoreUnavailable`` when the database could not be used: then nothing of
        the event was kept and nobody was answered. The adapter must not acknowledge the
        update to its platform, so that it comes again, and should try again later.
        """
        started = time.perf_counter()
        outcome = "cancelled"
        try:
            outcome = await self._handle(event, cursor)
        except StoreUnavailable as problem:
            outcome = "unavailable"
            log.warning(
                "event %s on %s not handled, the database is unavailable: %s",
                event.event_id,
                event.chat.platform,
                problem.reason,
            )
            raise
        finally:
            # One line per event, for operators and metrics: ids and timings, never texts.
            seconds = time.perf_counter() - started
            event_log.info(
                "event %s on %s: %s in %.1f ms",
                event.event_id,
                event.chat.platform,
                outcome,
                seconds * 1000,
                extra={
                    "event_id": event.event_id,
                    "platform": event.chat.platform,
                    "event_kind": type(event).__name__,
                    "outcome": outcome,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )

    async def _handle(self, event: InboundEvent, cursor: tuple[str, str] | None) -> str:
        outcome = "ok"
        ctx: Context | None = None
        try:
            async with self.store.transaction() as tx:
                if not await self._begin(tx, event, cursor):
                    return "duplicate"
                ctx = await self._context(tx, event)
                await self._route(ctx)
        except UserError as problem:
            outcome = "refused"
            await self._answer_failure(event, cursor, problem)
        except StoreUnavailable:
            if ctx is not None:
                self._uncount(ctx)  # it comes again; a retry is not another command
            raise  # not an answer: the update is handled again once the database is back
        except Exception:
            outcome = "error"
            log.exception("handling event %s on %s failed", event.event_id, event.chat.platform)
            await self._answer_failure(event, cursor, None)
        self._notify()
        return outcome

    async def cursor(self, name: str) -> str | None:
        async with self.store.transaction() as tx:
            return await tx.get_cursor(name)

    async def set_cursor(self, name: str, value: str) -> None:
        """Keep a small adapter value (a sync token, a private room id) in the database."""
        async with self.store.transaction() as tx:
            await tx.set_cursor(name, value)

    async def buttons_of(self, platform: str, message_ref: str) -> list[str]:
        """The actions of a sent message's buttons, in order (for reaction-style buttons)."""
        async with self.store.transaction() as tx:
            row = await tx.outbox_row_by_ref(platform, message_ref)
        if row is None:
            return []
        return [button.action for line in row.buttons for button in line]

    async def forgotten(self, member_id: int | None) -> bool:
        """Whether a message's member asked to be forgotten (only a goodbye still goes to
        them: a channel opens no new private chat for it)."""
        if member_id is None:
            return False
        async with self.store.transaction() as tx:
            return (await tx.member(member_id)).erased

    async def member_unreachable(self, delivery: Delivery, link: str | None) -> None:
        """A private message could not be delivered: hold it and ask the member, in the
        group and without any details, to open a private chat with the bot first."""
        async with self.store.transaction() as tx:
            if not await tx.park_waiting(delivery.outbox_id):
                return
            if await tx.waiting_count(delivery.platform, delivery.chat_id) > 1:
                return  # asked already; the group need not hear it twice
            if delivery.member_id is None or delivery.discreet:
                return  # discreet: the group was told how, without a name, already
            member = await tx.member(delivery.member_id)
            for membership in await tx.memberships(member.id):
                if membership.left_at is not None:
                    continue
                community = await tx.community(membership.community_id)
                for chat in await tx.group_chats(community.id):
                    if chat.platform != delivery.platform:
                        continue
                    key = "general.open_private_link" if link else "general.open_private"
                    await tx.enqueue(
                        platform=chat.platform,
                        chat_id=chat.chat_id,
                        kind=ChatKind.GROUP,
                        member_id=None,
                        text=self.catalog.text(
                            community.language, key, name=member.display_name, link=link or ""
                        ),
                        buttons=(),
                        edit_of=None,
                        attachment=None,
                        now=self.clock.now(),
                        about=(member.id,),
                    )
        self._notify()

    async def message_not_removed(self, delivery: Delivery) -> None:
        """The bot may not remove messages in that group: the member who wrote one hears
        privately that it is still there, and how to ask privately next time."""
        if delivery.member_id is None:
            return
        async with self.store.transaction() as tx:
            member = await tx.member(delivery.member_id)
            identity = next(
                (i for i in await tx.identities(member.id) if i.platform == delivery.platform),
                None,
            )
            if identity is None:
                return  # erased meanwhile
            group = await tx.group_chat(delivery.platform, delivery.chat_id)
            community = await tx.community(group.community_id) if group else None
            lang = member.language or (
                community.language if community else self.config.community.language
            )
            await tx.enqueue(
                platform=identity.platform,
                chat_id=identity.user_id,
                kind=ChatKind.PRIVATE,
                member_id=member.id,
                text=self.catalog.text(lang, "general.not_removed"),
                buttons=(),
                edit_of=None,
                attachment=None,
                now=self.clock.now(),
                discreet=True,
            )
        self._notify()

    # --- inside the transaction ---------------------------------------------------------------
    async def _begin(self, tx: Tx, event: InboundEvent, cursor: tuple[str, str] | None) -> bool:
        if cursor is not None:
            await tx.set_cursor(*cursor)
        return await tx.remember_event(event.chat.platform, event.event_id, self.clock.now())

    async def register_group(self, chat: ChatRef) -> None:
        """Link a group chat to its community before anyone writes in it (console, set-up)."""
        async with self.store.transaction() as tx:
            if await tx.group_chat(chat.platform, chat.chat_id) is None:
                community = await self._community_for_new_group(tx, chat)
                await tx.link_group_chat(chat.platform, chat.chat_id, community.id, chat.title)

    async def move_group(self, platform: str, old_id: str, new_id: str) -> None:
        """A group chat got a new id on its platform: it stays the same neighbourhood."""
        async with self.store.transaction() as tx:
            if await tx.move_group_chat(platform, old_id, new_id):
                log.info("group chat on %s moved to a new id", platform)
        self._notify()

    async def appoint_organiser(self, chat: ChatRef, sender: Sender) -> None:
        """Make someone an organiser of the community of a group chat (console, set-up)."""
        async with self.store.transaction() as tx:
            member = await self._member(tx, sender)
            community = await self._community(tx, chat, member, Role.ORGANISER, joining=True)
            assert community is not None
            await tx.join(member.id, community.id, Role.ORGANISER, self.clock.now())

    async def _context(self, tx: Tx, event: InboundEvent) -> Context:
        now = self.clock.now()
        in_group = event.chat.kind is ChatKind.GROUP
        # One look-up for who sent it and where; what it reads is not asked again below.
        rows = await tx.sender_rows(
            event.sender.platform, event.sender.user_id, event.chat.chat_id if in_group else None
        )
        member = await self._member(tx, event.sender, rows)
        community = await self._community(
            tx,
            event.chat,
            member,
            self._configured_role(event.sender),
            joining=not isinstance(event, MemberLeft),
            rows=rows,
        )
        ctx = Context(tx, self.catalog, self.config, event, member, community, now)
        ctx.details = self.details
        ctx.private_link = self.private_links.get(event.chat.platform)
        if community is not None:
            ctx.membership = await tx.membership(member.id, community.id)
        ctx.run_text = self._run_text
        ctx.run_action = self._run_action
        if isinstance(event, ButtonPress) and event.message_ref is not None:
            ctx.pressed = await tx.outbox_row_by_ref(event.chat.platform, event.message_ref)
        if event.chat.kind is ChatKind.PRIVATE:
            await tx.release_waiting(event.chat.platform, event.sender.user_id)
        return ctx

    async def _member(self, tx: Tx, sender: Sender, rows: SenderRows | None = None) -> Member:
        clock_now = self.clock.now()
        if rows is None:
            rows = await tx.sender_rows(sender.platform, sender.user_id, None)
        identity = rows.identity
        if identity is None or rows.member is None:
            language = self.catalog.language_of(sender.language) if sender.language else None
            name = clean_text(sender.display_name)[:64] or sender.user_id
            member = await tx.create_member(name, language, clock_now)
            await tx.add_identity(
                member.id, sender.platform, sender.user_id, sender.handle, clock_now
            )
            return member
        # Seen again: worth a write when the handle changed or an hour has passed since
        # (the most recently seen platform is the one to reach someone on).
        if identity.handle != sender.handle or clock_now - identity.last_seen_at >= SEEN_AGAIN:
            await tx.touch_identity(
                sender.platform, sender.user_id, sender.display_name, sender.handle, clock_now
            )
        return rows.member

    async def _community(
        self,
        tx: Tx,
        chat: ChatRef,
        member: Member,
        role: Role,
        *,
        joining: bool,
        rows: SenderRows | None = None,
    ) -> Community | None:
        """The community the event belongs to. ``rows``: the sender's rows as read at the
        start of the event (the member may be new since: then they have no memberships)."""
        clock_now = self.clock.now()
        known = rows is not None and rows.member is not None and rows.member.id == member.id
        if chat.kind is ChatKind.GROUP:
            if rows is not None and rows.group is not None:
                linked: GroupChat | None = rows.group
            else:
                linked = await tx.group_chat(chat.platform, chat.chat_id)
            if linked is None:
                community = await self._community_for_new_group(tx, chat)
                await tx.link_group_chat(chat.platform, chat.chat_id, community.id, chat.title)
            else:
                community = await tx.community(linked.community_id)
            if joining:
                await tx.join(member.id, community.id, role, clock_now)
            return community
        if rows is not None and known:
            memberships = list(rows.memberships)
        elif rows is not None and rows.member is None:
            memberships = []  # just made: a member of nothing yet
        else:
            memberships = await tx.memberships(member.id)
        active = [m for m in memberships if m.left_at is None]
        if active:
            if role is Role.ORGANISER and active[0].role is not Role.ORGANISER:
                await tx.join(member.id, active[0].community_id, role, clock_now)
            return await tx.community(active[0].community_id)
        if memberships:  # they left their group: no quiet way back in through a private chat
            return await tx.community(memberships[0].community_id)
        communities = await tx.communities()
        if len(communities) > 1:
            return None  # we cannot tell which neighbourhood; they should write in the group
        community = communities[0] if communities else await self._new_community(tx, "")
        await tx.join(member.id, community.id, role, clock_now)
        return community

    async def _community_for_new_group(self, tx: Tx, chat: ChatRef) -> Community:
        """A new group joins the only community when that one has no group here yet
        (it began in private chats); otherwise it is a neighbourhood of its own."""
        communities = await tx.communities()
        if len(communities) == 1:
            linked = await tx.group_chats(communities[0].id)
            if not any(g.platform == chat.platform for g in linked):
                return communities[0]
        return await self._new_community(tx, chat.title)

    async def _new_community(self, tx: Tx, title: str) -> Community:
        defaults = self.config.community
        return await tx.create_community(
            title or defaults.name, defaults.language, defaults.timezone, {}
        )

    def _configured_role(self, sender: Sender) -> Role:
        keys = {(sender.platform, sender.user_id)}
        if sender.handle:
            keys.add((sender.platform, sender.handle.lstrip("@")))
        return Role.ORGANISER if keys & self.config.organisers else Role.RESIDENT

    async def _route(self, ctx: Context) -> None:
        event = ctx.event
        if isinstance(event, MemberLeft):
            if ctx.community is not None:
                await ctx.tx.leave(ctx.member.id, ctx.community.id, ctx.now)
            return
        if isinstance(event, BotAdded):
            await ctx.reply("general.welcome_group")
            return
        if isinstance(event, Message) and ctx.in_group and split_command(event.text) is None:
            # People talk to each other in the group; only commands are ours. Where the bot
            # reads along, a clear question for help is noticed, and only its writer hears of
            # it, privately: nothing of it is ever answered in the group.
            await self._notice_in_group(ctx, event)
            return
        if not ctx.in_group and event.chat.chat_id != event.sender.user_id:
            return  # someone else's private chat: only a forged client says so; no answer there
        if self._over_limit(ctx):
            return
        status = ctx.membership.status if ctx.membership else MemberStatus.ACTIVE
        blocked = status is MemberStatus.BLOCKED
        if isinstance(event, Message):
            if blocked and not self._a_right(event.text):
                raise UserError("moderation.you_are_blocked")
            await self._on_message(ctx, event)
        elif isinstance(event, ButtonPress):
            if blocked and ctx.pressed is None:
                raise UserError("moderation.you_are_blocked")
            action = await verified_action(ctx, event)
            if blocked and not self.registry.is_right(verb=action.split(":", 1)[0]):
                raise UserError("moderation.you_are_blocked")
            await self._run_action(ctx, action)

    def _a_right(self, text: str) -> bool:
        """Whether a command asks for what every member keeps, blocked or not."""
        parsed = split_command(clean_text(text))
        return parsed is not None and self.registry.is_right(command=self.registry.find(parsed[0]))

    async def _notice_in_group(self, ctx: Context, message: Message) -> None:
        hook = self.registry.group_text
        if hook is None or ctx.community is None or ctx.membership is None:
            return
        if ctx.membership.status is not MemberStatus.ACTIVE:
            return
        if len(message.text) > self.config.max_message_length:
            return
        try:
            await hook(ctx, clean_text(message.text))
        except UserError:
            return  # an answer would land in the group: chatter gets none

    async def _run_action(self, ctx: Context, action_text: str) -> None:
        verb, *args = action_text.split(":")
        action = self.registry.find_action(verb)
        if action is None:
            raise UserError("error.button_unknown")
        if self.registry.action_needs_rules(verb) and not await self._may_take_part(
            ctx, None, action_text
        ):
            return
        await action(ctx, args)

    async def _on_message(self, ctx: Context, message: Message) -> None:
        if len(message.text) > self.config.max_message_length:
            raise UserError("error.message_too_long", limit=self.config.max_message_length)
        await self._run_text(ctx, clean_text(message.text))

    async def _run_text(self, ctx: Context, text: str) -> None:
        if not text:
            await ctx.reply("general.empty_message")
            return
        parsed = split_command(text)
        if parsed is None:
            draft = await ctx.tx.draft(ctx.member.id)
            handler = self.registry.find_draft(draft.kind) if draft else None
            if self.registry.plain_text is not None and not ctx.in_group:
                await self.registry.plain_text(ctx, text, handler)
                return
            if handler is None:
                await ctx.reply("general.not_a_command")
                return
            await handler(ctx, text)
            return
        name, rest = parsed
        command = self.registry.find(name)
        if command is None:
            raise UserError("error.unknown_command", command=name)
        if command.where is Where.PRIVATE and ctx.in_group:
            raise UserError("error.private_only", command=command.name)
        if command.where is Where.GROUP and not ctx.in_group:
            raise UserError("error.group_only", command=command.name)
        if command.organisers_only:
            await ctx.require_organiser()
        if command.needs_rules and not await self._may_take_part(ctx, text, None):
            return
        await command.handler(ctx, rest)

    async def _may_take_part(self, ctx: Context, text: str | None, action: str | None) -> bool:
        """Asking, offering and helping need an active member who accepted the house rules."""
        if ctx.membership is not None and ctx.membership.status is MemberStatus.PAUSED:
            raise UserError("moderation.you_are_paused")
        if self.registry.gate is None:
            return True
        return await self.registry.gate(ctx, text, action)

    def _over_limit(self, ctx: Context) -> bool:
        """A member sending very many commands gets one friendly notice, then silence.

        Kept in memory on purpose, per process: it spares the bot a burst of work, and a
        stored count would cost a write for every message. What reaches other people is
        limited in the database (``bot.limits``), across restarts and processes."""
        key = (ctx.event.sender.platform, ctx.event.sender.user_id)
        window = self._recent.setdefault(key, deque())
        while window and window[0] <= ctx.now - timedelta(minutes=1):
            window.popleft()
        window.append(ctx.now)
        ctx.counted = True
        if len(window) <= self.config.commands_per_minute:
            self._warned.discard(key)
            return False
        if key not in self._warned:
            self._warned.add(key)
            raise UserError("abuse.slow_down")
        return True

    def _uncount(self, ctx: Context) -> None:
        """Take back what ``_over_limit`` counted for an event that was not kept."""
        window = self._recent.get((ctx.event.sender.platform, ctx.event.sender.user_id))
        if ctx.counted and window and ctx.now in window:
            window.remove(ctx.now)

    # --- after a failure: a fresh transaction with just the answer -----------------------------
    async def _answer_failure(
        self, event: InboundEvent, cursor: tuple[str, str] | None, problem: UserError | None
    ) -> None:
        try:
            async with self.store.transaction() as tx:
                if not await self._begin(tx, event, cursor):
                    return
                ctx = await self._context(tx, event)
                if self._chatter(event):
                    return  # what people say to each other gets no answer in the group
                key, params = (
                    ("error.internal", {}) if problem is None else (problem.key, problem.params)
                )
                if self._personal_in_group(event):
                    await ctx.tell_sender(key, params)  # nothing of it in the group
                else:
                    await ctx.reply_text(ctx.t(key, **params))
        except StoreUnavailable:
            raise  # the answer was not kept: the update must come again
        except Exception:
            log.exception("could not even answer event %s", event.event_id)

    def _chatter(self, event: InboundEvent) -> bool:
        """A group message that is no command: never answered in the group, not even when
        noticing it failed."""
        return (
            isinstance(event, Message)
            and event.chat.kind is ChatKind.GROUP
            and split_command(clean_text(event.text)) is None
        )

    def _personal_in_group(self, event: InboundEvent) -> bool:
        """A command typed in a group that is the member's own business: asking, offering,
        reporting … (everything but the few answered in the group, such as /help)."""
        if not isinstance(event, Message) or event.chat.kind is not ChatKind.GROUP:
            return False
        parsed = split_command(clean_text(event.text))
        command = self.registry.find(parsed[0]) if parsed else None
        return (
            command is not None
            and not command.answered_in_group
            and command.where is not Where.PRIVATE
        )

    def _notify(self) -> None:
        for listener in self.listeners:
            listener()
