"""What a handler gets: the event, who sent it, where, and ways to answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import CommunitySettings, CoreConfig
from bot.details import DetailFinder, Screened, screen
from bot.errors import UserError
from bot.i18n import Catalog
from bot.model import Community, Member, Membership, MemberStatus, Role
from bot.store import Tx
from bot.types import Button, ChatKind, ChatRef, Delivery, InboundEvent, Message


class Literal(str):
    """A button label that is already text in the right language, not a catalog key."""


# A button as handlers write it: (catalog key of the label, action). The label is
# formatted with the same parameters as the message text, unless it is a ``Literal``.
ButtonSpec = tuple[str, str]
ButtonRows = Sequence[Sequence[ButtonSpec]]
# The members whose personal data a message shows, besides the one it is sent to.
About = Iterable[int]


@dataclass
class Context:
    tx: Tx
    catalog: Catalog
    config: CoreConfig
    event: InboundEvent
    member: Member
    community: Community | None
    now: datetime
    pressed: Delivery | None = None  # the message whose button was pressed
    moved_private: bool = False
    counted: bool = False  # counted towards the member's commands a minute
    private_link: str | None = None  # opens a private chat with the bot, on this platform
    membership: Membership | None = None  # the member's place in this community
    # set by the dispatcher: handle a command text or a button action as if just received
    run_text: Callable[[Context, str], Awaitable[None]] | None = None
    run_action: Callable[[Context, str], Awaitable[None]] | None = None
    # finds personal details in texts for others (bot.details); set by whoever builds this
    details: DetailFinder | None = None

    # --- where and who ---------------------------------------------------------------
    @property
    def chat(self) -> ChatRef:
        return self.event.chat

    @property
    def in_group(self) -> bool:
        return self.event.chat.kind is ChatKind.GROUP

    @property
    def lang(self) -> str:
        if self.member.language:
            return self.member.language
        if self.community is not None:
            return self.community.language
        return self.config.community.language

    def need_community(self) -> Community:
        if self.community is None:
            raise UserError("error.no_community")
        return self.community

    def settings(self) -> CommunitySettings:
        return CommunitySettings.of(self.need_community(), self.config.community)

    def tz(self) -> ZoneInfo:
        name = self.community.timezone if self.community else self.config.community.timezone
        return ZoneInfo(name)

    def local_now(self) -> datetime:
        return self.now.astimezone(self.tz())

    async def is_organiser(self) -> bool:
        try:
            await self.require_organiser()
        except UserError:
            return False
        return True

    async def require_organiser(self, community_id: int | None = None) -> Community:
        """The community in which the sender may act as organiser: their own, or the one the
        thing acted on belongs to (``community_id``). Every organiser action, command or
        button, goes through here: an organiser of one neighbourhood is nobody in another."""
        if community_id is None:
            community_id = self.need_community().id
        membership = await self.tx.membership(self.member.id, community_id)
        if (
            membership is None
            or membership.left_at is not None
            or membership.role is not Role.ORGANISER
            or membership.status is not MemberStatus.ACTIVE
        ):
            raise UserError("error.organisers_only")
        if self.community is not None and self.community.id == community_id:
            return self.community
        return await self.tx.community(community_id)

    async def language_of(self, member_id: int) -> str:
        if member_id == self.member.id:
            return self.lang
        member = await self.tx.member(member_id)
        if member.language:
            return member.language
        return self.community.language if self.community else self.config.community.language

    async def name_of(self, member_id: int) -> str:
        return (await self.tx.member(member_id)).display_name

    # --- texts ---------------------------------------------------------------------------
    def t(self, key: str, /, **params: object) -> str:
        return self.catalog.text(self.lang, key, **params)

    def _buttons(
        self, lang: str, rows: ButtonRows, params: dict[str, object]
    ) -> tuple[tuple[Button, ...], ...]:
        def label(key: str) -> str:
            return key if isinstance(key, Literal) else self.catalog.text(lang, key, **params)

        return tuple(
            tuple(Button(label(key), action) for key, action in row) for row in rows if row
        )

    def screened(self, lang: str, text: str) -> Screened:
        """``text`` with personal details replaced by placeholders in ``lang``."""
        if self.details is None:
            raise RuntimeError("no detail finder: nothing may go to others unchecked")
        return screen(self.details, self.catalog, lang, text)

    # --- sending -------------------------------------------------------------------------
    async def reply(
        self, key: str, /, buttons: ButtonRows = (), concerning: About = (), **params: object
    ) -> int:
        """Answer in the chat the event came from, in the sender's language. ``concerning``:
        the members whose personal data the text shows (see ``tell``)."""
        return await self._enqueue(
            self.chat.platform,
            self.chat.chat_id,
            self.chat.kind,
            self.member.id if not self.in_group else None,
            self.t(key, **params),
            self._buttons(self.lang, buttons, params),
            concerning=concerning,
        )

    async def reply_text(self, text: str) -> int:
        """Answer with a text that is already in the sender's language."""
        return await self._enqueue(
            self.chat.platform,
            self.chat.chat_id,
            self.chat.kind,
            self.member.id if not self.in_group else None,
            text,
            (),
            concerning=self._in_reply(()),
        )

    def _in_reply(self, concerning: About) -> About:
        """A text answer in a group (an error, say) may repeat the words of the member
        it answers: it is about them."""
        return [*concerning, self.member.id] if self.in_group else concerning

    async def tell(
        self,
        member_id: int,
        key: str,
        /,
        buttons: ButtonRows = (),
        attachment: tuple[str, bytes] | None = None,
        concerning: About = (),
        **params: object,
    ) -> int | None:
        """Write to a member privately, in their language, on the platform they used last.

        ``concerning`` names the other members whose personal data the message shows (a
        requester's request quoted to a helper, a guest's name to a host): erasing one of
        them finds the message by this reference, never by searching its text."""
        if member_id == self.member.id and self.in_group and not self.moved_private:
            await self._go_private()
        target, relay_for = member_id, None
        identities = await self.tx.identities(member_id)
        if not identities:
            member = await self.tx.member(member_id)
            if member.contact_id is None:
                return None  # erased, or never seen on any platform
            # a neighbour without a phone: their organiser passes it on
            target, relay_for = member.contact_id, member
            identities = await self.tx.identities(target)
            if not identities:
                return None
        identity = identities[0]
        if target == self.member.id:
            same_platform = [i for i in identities if i.platform == self.chat.platform]
            identity = same_platform[0] if same_platform else identity
        lang = await self.language_of(target)
        text = self.catalog.text(lang, key, **params)
        people = set(concerning)
        if relay_for is not None:
            text = self.catalog.text(lang, "proxy.relay", name=relay_for.display_name, text=text)
            people.add(relay_for.id)
        return await self._enqueue(
            identity.platform,
            identity.user_id,
            ChatKind.PRIVATE,
            target,
            text,
            self._buttons(lang, buttons, params),
            attachment=attachment,
            concerning=people,
            # the group was just told, without her name, how to open a private chat
            discreet=self.moved_private and target == self.member.id,
        )

    async def _go_private(self) -> None:
        """What someone wrote to the bot in the group goes on privately: their message
        leaves the group (where the bot may remove it) and the group is told, naming no
        one, that the bot carries on in a private chat."""
        self.moved_private = True
        message = self.event
        if isinstance(message, Message) and message.message_ref is not None:
            await self.tx.enqueue(
                platform=self.chat.platform,
                chat_id=self.chat.chat_id,
                kind=ChatKind.GROUP,
                member_id=self.member.id,
                text="",
                buttons=(),
                edit_of=None,
                attachment=None,
                now=self.now,
                delete_ref=message.message_ref,
            )
        if self.private_link:
            await self.reply("general.continue_private_link", link=self.private_link)
        else:
            await self.reply("general.continue_private")

    async def tell_sender(self, key: str, params: dict[str, object]) -> int | None:
        """``tell`` the sender a text whose parameters come as a dict (an error's)."""
        return await self.tell(self.member.id, key, **params)  # type: ignore[arg-type]

    async def speaks_for(self, member_id: int) -> bool:
        """The sender is this member, or the organiser through whom they are reached."""
        if member_id == self.member.id:
            return True
        return (await self.tx.member(member_id)).contact_id == self.member.id

    async def post_in_group(
        self,
        community: Community,
        key: str,
        /,
        buttons: ButtonRows = (),
        concerning: About = (),
        **params: object,
    ) -> list[int]:
        """Post in every group chat linked to the community, in the community's language."""
        text = self.catalog.text(community.language, key, **params)
        return await self.post_text_in_group(community, text, buttons, concerning, **params)

    async def post_text_in_group(
        self,
        community: Community,
        text: str,
        buttons: ButtonRows = (),
        concerning: About = (),
        **params: object,
    ) -> list[int]:
        """Post a text already in the community's language in each of its group chats."""
        ids = []
        for chat in await self.tx.group_chats(community.id):
            ids.append(
                await self._enqueue(
                    chat.platform,
                    chat.chat_id,
                    ChatKind.GROUP,
                    None,
                    text,
                    self._buttons(community.language, buttons, params),
                    concerning=concerning,
                )
            )
        return ids

    async def edit(
        self, outbox_id: int, text: str, *, keep_buttons: bool = False, concerning: About = ()
    ) -> None:
        """Replace an earlier message's text; its buttons go, unless ``keep_buttons``.
        The edit is about whoever the original was about, and ``concerning`` besides."""
        original = await self.tx.outbox_row(outbox_id)
        if original is None or original.edit_of is not None:
            return
        await self.tx.enqueue(
            platform=original.platform,
            chat_id=original.chat_id,
            kind=original.kind,
            member_id=original.member_id,
            text=text,
            buttons=original.buttons if keep_buttons else (),
            edit_of=outbox_id,
            attachment=None,
            now=self.now,
            about=concerning,
        )

    async def settle_pressed(
        self, outcome_key: str, /, concerning: About = (), **params: object
    ) -> None:
        """Show under the pressed message what came of it, so its buttons cannot be reused."""
        if self.pressed is None:
            return
        lang = self.lang if self.pressed.kind is ChatKind.PRIVATE else self._group_lang()
        outcome = self.catalog.text(lang, outcome_key, **params)
        await self.edit(
            self.pressed.outbox_id, f"{self.pressed.text}\n\n{outcome}", concerning=concerning
        )

    def _group_lang(self) -> str:
        return self.community.language if self.community else self.lang

    async def _enqueue(
        self,
        platform: str,
        chat_id: str,
        kind: ChatKind,
        member_id: int | None,
        text: str,
        buttons: tuple[tuple[Button, ...], ...],
        attachment: tuple[str, bytes] | None = None,
        concerning: About = (),
        *,
        discreet: bool = False,
    ) -> int:
        return await self.tx.enqueue(
            platform=platform,
            chat_id=chat_id,
            kind=kind,
            member_id=member_id,
            text=text,
            buttons=buttons,
            edit_of=None,
            attachment=attachment,
            now=self.now,
            about=concerning,
            discreet=discreet,
        )
