"""Platform-neutral events in and messages out.

Adapters translate their platform to and from these types; the core sees nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ChatKind(StrEnum):
    GROUP = "group"
    PRIVATE = "private"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat on one platform: a group chat or a private chat with one person."""

    platform: str  # "telegram", "matrix", "console"
    chat_id: str
    kind: ChatKind
    title: str = ""


@dataclass(frozen=True, slots=True)
class Sender:
    """The person behind an event, as the platform knows them."""

    platform: str
    user_id: str
    display_name: str
    handle: str | None = None  # how others can reach them: "@kees", "@kees:example.org"
    language: str | None = None  # the language the platform reports, if any


@dataclass(frozen=True, slots=True)
class Message:
    """A text message written by a person."""

    event_id: str  # unique per platform: the inbox deduplicates on (platform, event_id)
    chat: ChatRef
    sender: Sender
    text: str
    message_ref: str | None = None  # the platform's id of the message, to remove it


@dataclass(frozen=True, slots=True)
class ButtonPress:
    """A person pressed a button the bot showed."""

    event_id: str
    chat: ChatRef
    sender: Sender
    # What the platform says was pressed: the Button.action (console, Matrix: found on the
    # stored message) or an opaque reference to the button's place (Telegram's callback
    # data). Never trusted: the core reads the action from the stored message.
    action: str
    message_ref: str | None = None  # the platform's id of the message carrying the button


@dataclass(frozen=True, slots=True)
class MemberLeft:
    """A person left (or was removed from) a group chat."""

    event_id: str
    chat: ChatRef
    sender: Sender


@dataclass(frozen=True, slots=True)
class BotAdded:
    """The bot was added to a group chat."""

    event_id: str
    chat: ChatRef
    sender: Sender


InboundEvent = Message | ButtonPress | MemberLeft | BotAdded


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: str  # short and ASCII; never sent to a platform as it is


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message the bot sends: to a group chat, or privately to a member.

    Exactly one of ``chat`` and ``member_id`` is set. ``edit_of`` names an earlier outbox
    row whose message should be replaced (used to take buttons away once pressed).
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    chat: ChatRef | None = None
    member_id: int | None = None
    edit_of: int | None = None
    attachment: tuple[str, bytes] | None = None  # (file name, content)
    urgent: bool = True


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row ready to send, resolved to a concrete platform chat."""

    outbox_id: int
    platform: str
    chat_id: str
    kind: ChatKind
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit_of: int | None = None
    edit_message_ref: str | None = None  # platform id of the message to edit
    member_id: int | None = None
    attachment: tuple[str, bytes] | None = None
    attempts: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    # Not a message but a removal: take the member's message with this platform id (in
    # the group ``chat_id``) away; ``member_id`` is who wrote it. Nothing is sent.
    delete_ref: str | None = None
    # The member was told in the group, without a name, how to open a private chat: when
    # this private message cannot be delivered, nobody is named in the group.
    discreet: bool = False
    # A text too long for one message goes out in parts: this many went out already.
    parts_sent: int = 0
    # An edit: the message it edits went out after this many parts of a long text.
    edited_parts_before: int = 0
    # The part this delivery is, of how many (set by the sender on each part it sends).
    part: int = 0
    parts: int = 1
