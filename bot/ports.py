"""What the core needs from the outside world, as protocols.

Adapters implement ``Channel``; ``storage`` implements the store (see ``bot.store``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.types import Delivery


@dataclass(frozen=True, slots=True)
class Sent:
    message_ref: str | None = None  # the platform's id for the message, to edit it later


@dataclass(frozen=True, slots=True)
class RetryLater:
    """The platform asked us to slow down (Telegram 429) or the network failed."""

    seconds: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Unreachable:
    """The member cannot be written to privately yet (never started the bot, blocked it)."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class Failed:
    """The platform refused the message for good (bad request). It will not be retried."""

    reason: str = ""


SendResult = Sent | RetryLater | Unreachable | Failed


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Pacing for one platform's outbox sender: at most ``count`` sends per ``seconds``."""

    overall: tuple[int, float] = (30, 1.0)  # all chats together
    per_chat: tuple[int, float] = (1, 1.0)
    per_group: tuple[int, float] = (20, 60.0)  # on top of per_chat, for group chats

    @classmethod
    def unlimited(cls) -> RateLimits:
        return cls((1_000_000, 1.0), (1_000_000, 1.0), (1_000_000, 1.0))


class Channel(Protocol):
    """One platform connection, as the outbox sender sees it."""

    platform: str
    limits: RateLimits

    async def send(self, delivery: Delivery) -> SendResult: ...

    def room_for_text(self, delivery: Delivery) -> int:
        """How much text one message of this kind may carry, in ``text_size`` units, with
        room left for what the channel adds (Matrix writes the options under the text).
        A longer text goes out in parts, the buttons with the last."""
        ...

    def text_size(self, text: str) -> int:
        """The size of ``text`` as the platform counts it against ``room_for_text``."""
        ...

    def private_chat_link(self) -> str | None:
        """A link that opens a private chat with the bot (Telegram deep link), if any."""
        ...
