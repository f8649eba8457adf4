"""Messages that are no command: a plain sentence, a typed answer, or something unclear.

- A sentence that reads as a request or an offer ("Wie kan mij morgen helpen met
  boodschappen?") is repeated in the bot's words, with [Klopt] / [Aanpassen]. "Klopt" goes
  on as the one-line /vraag or /aanbod would, so every check of those applies.
- A short answer ("ja", "nee", "morgen", "2") to the question the bot just asked works as
  pressing the button it names, on that question only.
- In the group, a clear question for help is noticed: its writer is asked privately whether
  to make a request of it. The group hears nothing, and nobody can act on it but the writer.
- Anything else gets what the bot did understand and buttons to go on with.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import omkijken
from bot.commands import Registry, TextHandler
from bot.context import ButtonRows, Context
from bot.errors import UserError
from bot.model import Category, Draft
from bot.types import Button, ChatKind
from bot.understand import NO, YES, Kind, Reading, hints, read_group, read_private, short_answer
from bot.when import describe_when
from bot.words import CATEGORY_WORDS, category_name

KIND = "understand"
QUOTE = 120  # how much of a group message is quoted back to its writer
# While a noticed group question waits for its writer's answer, the next ones are left
# alone for this long: one private message, not one for every message in the group.
NOTICE_AGAIN = timedelta(hours=1)
# Buttons a typed answer may stand for: going on with asking, offering, helping and the
# house rules; never removing data or acting as organiser, which take a real press.
TYPED_VERBS = frozenset({"acc", "dec", "rules", "und", "ask", "offer", "lang"})
# ... and never changing what already stands, such as the offers listed by /mijn.
UNTYPED_STEPS = frozenset({"delete", "pause", "resume"})
# The command word for each kind of help, as the one-line /vraag reads it.
COMMAND_WORD = {category: word for word, category in reversed(CATEGORY_WORDS.items())}


def command_line(data: dict[str, Any], drop: str | None = None) -> str:
    """The one-line /vraag or /aanbod that says what the member said."""
    if data["kind"] == Kind.OFFER.value:
        words = ["/aanbod", *(COMMAND_WORD[Category(c)] for c in data["categories"])]
        return " ".join(words)
    words = ["/vraag"]
    if data["categories"] and drop != "cat":
        words.append(COMMAND_WORD[Category(data["categories"][0])])
    if data["when_words"] and drop != "when":
        words.append(data["when_words"])
    if data["what"] and drop != "what":
        words.append(data["what"])
    return " ".join(words)


def _data(reading: Reading) -> dict[str, Any]:
    return {
        "kind": reading.kind.value,
        "categories": [c.value for c in reading.categories],
        "when_words": reading.when_words,
        "what": reading.what[:300],
    }


def _summary(ctx: Context, reading: Reading, lang: str) -> str:
    unknown = ctx.catalog.text(lang, "understand.not_said")
    if reading.kind is Kind.OFFER:
        comma = ctx.catalog.text(lang, "list.comma")
        names = comma.join(category_name(ctx.catalog, lang, c) for c in reading.categories)
        return ctx.catalog.text(lang, "understand.offer", categories=names or unknown)
    category = category_name(ctx.catalog, lang, reading.category) if reading.category else unknown
    when = (
        describe_when(reading.when, ctx.local_now(), lang)
        if reading.when is not None
        else f"“{reading.unclear_time}”"
        if reading.unclear_time
        else unknown
    )
    return ctx.catalog.text(
        lang, "understand.ask", category=category, when=when, what=reading.what or unknown
    )


async def _asked(ctx: Context, step: str, data: dict[str, Any], message: int | None) -> None:
    """Keep what was understood, bound to the message that asks about it: the buttons of
    an earlier message never act on what a later sentence said."""
    await ctx.tx.save_draft(Draft(ctx.member.id, KIND, step, {**data, "message": message}, ctx.now))


async def propose(ctx: Context, reading: Reading) -> None:
    """Repeat what was understood, and ask whether it is right."""
    message = await ctx.tell(
        ctx.member.id,
        "understand.confirm",
        buttons=[
            [("understand.button_right", "und:ok"), ("understand.button_change", "und:change")]
        ],
        summary=_summary(ctx, reading, ctx.lang),
    )
    await _asked(ctx, "confirm", _data(reading), message)


async def fallback(ctx: Context, text: str) -> None:
    """Nothing to act on: say what was understood, and offer the ways on."""
    seen = hints(text, ctx.local_now(), ctx.tz())
    lines = []
    if seen.when is not None:
        lines.append(
            ctx.t("understand.saw_time", when=describe_when(seen.when, ctx.local_now(), ctx.lang))
        )
    if seen.categories:
        names = ctx.t("list.comma").join(
            category_name(ctx.catalog, ctx.lang, c) for c in seen.categories
        )
        lines.append(ctx.t("understand.saw_category", categories=names))
    await ctx.reply(
        "understand.not_understood" if not lines else "understand.partly_understood",
        buttons=[
            [("button.need_help", "ask:start"), ("button.want_to_help", "offer:start")],
            [("understand.button_explain", "und:help")],
        ],
        seen="\n".join(lines),
    )


def _typable(action: str) -> bool:
    verb, *args = action.split(":")
    return verb in TYPED_VERBS and not UNTYPED_STEPS.intersection(args)


def _answered_button(text: str, rows: tuple[tuple[Button, ...], ...], draft: bool) -> str | None:
    """The button a typed answer names: its label, "ja"/"nee" for a yes-or-no question, or
    its number when no conversation is under way."""
    buttons = [b for row in rows for b in row if _typable(b.action)]
    if not buttons or len(buttons) != sum(len(row) for row in rows):
        return None
    answer = short_answer(text)
    for button in buttons:
        if short_answer(button.label) == answer:
            return button.action
    choice = [b for b in buttons if not b.action.endswith((":stop", ":skip"))]
    if len(buttons) <= 2 and answer in YES and choice and choice[0] is buttons[0]:
        return buttons[0].action
    if len(buttons) == 2 and answer in NO:
        return buttons[1].action
    if not draft and answer.isdecimal() and 1 <= int(answer) <= len(buttons):
        return buttons[int(answer) - 1].action
    return None


async def typed_answer(ctx: Context, text: str, draft: bool) -> bool:
    """A short answer to the newest question in this chat, taken as a press of its button."""
    if len(text) > 40 or ctx.run_action is None:
        return False
    newest = await ctx.tx.newest_message_to(ctx.chat.platform, ctx.chat.chat_id)
    if newest is None or newest.kind is not ChatKind.PRIVATE or newest.member_id != ctx.member.id:
        return False
    action = _answered_button(text, await ctx.tx.shown_buttons(newest.outbox_id), draft)
    if action is None:
        return False
    ctx.pressed = newest
    await ctx.run_action(ctx, action)
    return True


async def plain_text(ctx: Context, text: str, handler: TextHandler | None) -> None:
    draft = await ctx.tx.draft(ctx.member.id)
    if await omkijken.typed(ctx, text):  # "ja hoor, alles goed" to an open check-in
        return
    if await typed_answer(ctx, text, draft is not None):
        return
    if handler is not None and (draft is None or draft.kind != KIND):
        await handler(ctx, text)
        return
    if draft is not None and draft.kind == KIND:
        await ctx.tx.drop_draft(ctx.member.id)  # a new sentence instead of an answer
    reading = read_private(text, ctx.local_now(), ctx.tz())
    if reading is None or ctx.community is None:
        await fallback(ctx, text)
        return
    await propose(ctx, reading)


async def group_text(ctx: Context, text: str) -> None:
    reading = read_group(text, ctx.local_now(), ctx.tz())
    if reading is None:
        return
    draft = await ctx.tx.draft(ctx.member.id)
    if draft is not None and draft.kind != KIND:
        return  # in the middle of something else with the bot: no interruption
    if draft is not None and draft.step == "group" and ctx.now - draft.updated_at < NOTICE_AGAIN:
        return  # the one noticed before still waits for her answer
    quote = text if len(text) <= QUOTE else text[: QUOTE - 1] + "…"
    ctx.moved_private = True  # only the writer hears of it; the group is told nothing
    message = await ctx.tell(
        ctx.member.id,
        "understand.noticed",
        buttons=[[("understand.button_yes_please", "und:ok"), ("understand.button_no", "und:no")]],
        quote=quote,
        summary=_summary(ctx, reading, ctx.lang),
    )
    await _asked(ctx, "group", _data(reading), message)


async def _draft(ctx: Context) -> dict[str, Any]:
    draft = await ctx.tx.draft(ctx.member.id)
    if draft is None or draft.kind != KIND:
        raise UserError("understand.gone")
    asked = draft.data.get("message")
    if ctx.pressed is not None and asked is not None and asked != ctx.pressed.outbox_id:
        raise UserError("press.no_longer_valid")  # an earlier message, about something else
    return dict(draft.data)


async def _go_on(ctx: Context, line: str) -> None:
    await ctx.tx.drop_draft(ctx.member.id)
    ctx.pressed = None  # what follows is not about the pressed message
    if ctx.run_text is not None:
        await ctx.run_text(ctx, line)


def register(registry: Registry) -> None:
    registry.plain_text = plain_text
    registry.group_text = group_text

    @registry.action("und")
    async def understood(ctx: Context, args: list[str]) -> None:
        if args == ["help"]:
            await ctx.settle_pressed("understand.help_short")
            ctx.pressed = None
            if ctx.run_text is not None:
                await ctx.run_text(ctx, "/hulp")
            return
        data = await _draft(ctx)
        match args:
            case ["ok"]:
                await ctx.settle_pressed("understand.right_short")
                await _go_on(ctx, command_line(data))
            case ["no"]:
                await ctx.tx.drop_draft(ctx.member.id)
                await ctx.settle_pressed("understand.no_short")
                await ctx.reply("understand.left_alone")
            case ["change"] if data["kind"] == Kind.OFFER.value:
                await ctx.settle_pressed("understand.change_short")
                await _go_on(ctx, "/aanbod")
            case ["change"]:
                await ctx.settle_pressed("understand.change_short")
                rows: ButtonRows = [
                    [
                        ("understand.button_change_kind", "und:drop:cat"),
                        ("understand.button_change_when", "und:drop:when"),
                        ("understand.button_change_what", "und:drop:what"),
                    ],
                    [("button.stop", "und:no")],
                ]
                message = await ctx.reply("understand.what_to_change", buttons=rows)
                await _asked(ctx, "change", data, message)
            case ["drop", part] if part in ("cat", "when", "what"):
                await ctx.settle_pressed("understand.change_short")
                await _go_on(ctx, command_line(data, drop=part))
            case _:
                raise UserError("understand.gone")


__all__ = ["register"]
