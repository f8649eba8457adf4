"""A pressed button is checked before anything it names is done.

A button is never trusted for what it says. A press names the message it was pressed on
(the platform's id of that message) and the button: either by an opaque reference to its
place on the message (Telegram's callback data: a modified client can send anything there)
or by its action, as the console and Matrix find it from the stored message. Either way the
action that runs is read from the buttons the stored message shows now, and only when:

- the message exists and was sent in the chat the press came from;
- a private message was sent to the member who pressed it; a group message was posted in
  the group of the member's community (what each action may do there is checked by the
  action itself, organisers' actions through ``Context.require_organiser``);
- the message still carries that button (buttons go once pressed or settled);
- the numbers in the action are ids a database can hold.

Anything else is refused with a short, polite answer, and nothing changes.
"""

from __future__ import annotations

import re

from bot.context import Context
from bot.errors import UserError
from bot.types import Button, ButtonPress, ChatKind
from bot.words import MAX_RECORD_NUMBER

_REF = re.compile(r"b(\d{1,2})\.(\d{1,2})")


def button_ref(row: int, column: int) -> str:
    """An opaque reference to the button at (row, column) of the message it is on."""
    return f"b{row}.{column}"


def _position(data: str) -> tuple[int, int] | None:
    found = _REF.fullmatch(data)
    return None if found is None else (int(found[1]), int(found[2]))


def _numbers_fit(action: str) -> bool:
    """Every number in the action fits a database column (0 is a choice, not an id)."""
    return all(
        len(part) <= 10 and int(part) <= MAX_RECORD_NUMBER
        for part in action.split(":")
        if part.isdecimal()
    )


async def verified_action(ctx: Context, press: ButtonPress) -> str:
    """The action of the button pressed, read from the stored message; refuses the rest."""
    pressed = ctx.pressed
    if pressed is None or press.message_ref is None:
        raise UserError("press.no_longer_valid")
    if pressed.chat_id != press.chat.chat_id or pressed.kind is not press.chat.kind:
        raise UserError("press.not_for_you")
    if pressed.kind is ChatKind.PRIVATE:
        if pressed.member_id is None or pressed.member_id != ctx.member.id:
            raise UserError("press.not_for_you")
    else:
        membership = ctx.membership
        if ctx.community is None or membership is None or membership.left_at is not None:
            raise UserError("press.not_for_you")
    shown: list[Button] = []
    position = _position(press.action)
    rows = await ctx.tx.shown_buttons(pressed.outbox_id)
    if position is not None:
        row, column = position
        if row < len(rows) and column < len(rows[row]):
            shown.append(rows[row][column])
    else:
        shown = [button for line in rows for button in line if button.action == press.action]
    if not shown or not _numbers_fit(shown[0].action):
        raise UserError("press.no_longer_valid")
    return shown[0].action
