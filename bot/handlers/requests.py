"""Asking for help: /vraag in one line or step by step, and the helpers' answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from bot import duework, limits
from bot.commands import Registry
from bot.context import ButtonRows, Context, Literal
from bot.errors import UserError
from bot.i18n import without_bidi_marks
from bot.matching import (
    contact_line,
    look_for_help,
    settle_group_posts,
    widen,
    withdraw_pending,
)
from bot.model import (
    Category,
    Draft,
    HelpRequest,
    NewRequest,
    ProposalStatus,
    RequestStatus,
    Visibility,
)
from bot.when import (
    DAY_PARTS,
    DayPart,
    When,
    WhenError,
    day_name,
    describe_when,
    find_when,
    short_date,
)
from bot.words import (
    CATEGORY_WORDS,
    NO_WORDS,
    YES_WORDS,
    category_at,
    category_name,
    close_word,
    postcode_of,
    record_number,
    request_summary,
)

KIND = "ask"
QUICK_WHEN = {"today": "vandaag", "tomorrow": "morgen", "week": "deze week"}
DAYS_TO_PICK = 6  # "Andere dag": the six days after tomorrow
PART_WORDS = {
    "ochtend": DayPart.MORNING,
    "ochtends": DayPart.MORNING,
    "'s ochtends": DayPart.MORNING,
    "morgens": DayPart.MORNING,
    "'s morgens": DayPart.MORNING,
    "morning": DayPart.MORNING,
    "middag": DayPart.AFTERNOON,
    "middags": DayPart.AFTERNOON,
    "'s middags": DayPart.AFTERNOON,
    "afternoon": DayPart.AFTERNOON,
    "avond": DayPart.EVENING,
    "avonds": DayPart.EVENING,
    "'s avonds": DayPart.EVENING,
    "evening": DayPart.EVENING,
}
# Ready-made descriptions per kind of help, for who would rather press than type.
SUGGESTIONS: dict[str, tuple[str, ...]] = {
    Category.SHOPPING.value: ("suggest.shopping",),
    Category.MEAL.value: ("suggest.meal",),
    Category.COMPANY.value: ("suggest.company",),
    Category.TRANSPORT.value: ("suggest.transport",),
    Category.CHORE.value: ("suggest.chore",),
}


def when_error(problem: WhenError) -> UserError:
    if problem.suggestion:
        key = "when.bad_date_suggest" if problem.reason == "bad_date" else "when.unknown_suggest"
        return UserError(key, word=problem.word, suggestion=problem.suggestion)
    return UserError(f"when.{problem.reason}", word=problem.word)


def read_when(ctx: Context, tokens: list[str]) -> tuple[When | None, list[str]]:
    """The time in a line, where it stands; the words left over are the description."""
    try:
        return find_when(tokens, ctx.local_now(), ctx.tz())
    except WhenError as problem:
        raise when_error(problem) from None


YES = {"ja", "yes", "ok", "oké", "okay", "klopt", "j", "y", "jawel", "graag", "ja graag"}
YES |= YES_WORDS
NO = {"nee", "no", "n", "neen", "nope"}
NO |= NO_WORDS


async def check_time_word(
    ctx: Context, problem: WhenError, line: str, mode: str, data: dict[str, Any]
) -> bool:
    """A word that looks like a time but is not one ("morgn"): ask about it with buttons.

    The line is kept in a draft, so that a press or a typed answer goes on with it. Returns
    False when there is no likely word to offer, and the error is to be shown as it is.
    """
    if not problem.suggestion:
        return False
    check = {"line": line, "mode": mode, "word": problem.word, "suggestion": problem.suggestion}
    await ctx.tx.save_draft(
        Draft(ctx.member.id, KIND, "check_when", {**data, "check": check}, ctx.now)
    )
    reason = "bad_date" if problem.reason == "bad_date" else "unknown"
    await ctx.tell(
        ctx.member.id,
        f"when.check_{reason}",
        buttons=[
            [("button.yes_suggestion", "ask:fix:yes"), ("button.no_suggestion", "ask:fix:no")]
        ],
        word=problem.word,
        suggestion=problem.suggestion,
    )
    return True


def _replace_word(line: str, word: str, by: str) -> str:
    words = line.split()
    if word in words:
        words[words.index(word)] = by
    return " ".join(words)


async def resolve_time_word(ctx: Context, data: dict[str, Any], answer: str | None) -> None:
    """The member answered "Bedoel je morgen?": yes, no, or a time typed in its place."""
    check = data.pop("check")
    line, word = str(check["line"]), str(check["word"])
    if answer is None:  # no: the word is not a time; keep it with the description
        rest = _replace_word(line, word, "").split()
        typed = None
    else:
        rest = _replace_word(line, word, answer).split()
        typed = answer
    if check["mode"] == "line":
        found = parse_request_line(ctx, " ".join(rest))
        if typed is None:
            description = " ".join([word, str(found.get("description", ""))]).strip()
            found["description"] = description
            check_description(ctx, description)
        await continue_draft(ctx, {**data, **found})
        return
    if typed is None and not rest:  # "morgn" was the whole answer to "Wanneer?": ask again
        await continue_draft(ctx, data)
        return
    try:
        await answer_when(ctx, data, " ".join(rest), keep=None if typed else word)
    except WhenError as problem:
        raise when_error(problem) from None


async def answer_when(
    ctx: Context, data: dict[str, Any], text: str, keep: str | None = None
) -> None:
    """A typed answer to "Wanneer?"; the words besides the time describe the request."""
    when, rest = find_when(text.split(), ctx.local_now(), ctx.tz())
    if when is None:
        raise UserError("when.not_understood", text=text[:40])
    _set_when(data, when)
    words = ([keep] if keep else []) + rest
    if words and "description" not in data:
        check_description(ctx, " ".join(words))
        data["description"] = " ".join(words)
    await continue_draft(ctx, data)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _when_of(data: dict[str, Any]) -> When | None:
    if not data.get("starts_at"):
        return None
    return When(
        datetime.fromisoformat(data["starts_at"]),
        datetime.fromisoformat(data["ends_at"]),
        bool(data.get("exact")),
    )


def parse_request_line(ctx: Context, text: str, *, raw: bool = False) -> dict[str, Any]:
    """What a one-line /vraag says; the parts it does not say are simply absent.

    With ``raw``, a time that cannot be understood raises the ``WhenError`` itself, so
    that the caller can ask about it.
    """
    data: dict[str, Any] = {}
    tokens = text.split()
    if tokens:
        category, tokens = category_at(tokens)
        if category is not None:
            data["category"] = category.value
        elif len(tokens) > 1 and (guess := close_word(tokens[0], list(CATEGORY_WORDS))):
            raise UserError("request.unknown_category", word=tokens[0], suggestion=guess)
    if raw:
        when, tokens = find_when(tokens, ctx.local_now(), ctx.tz())
    else:
        when, tokens = read_when(ctx, tokens)
    if when is not None:
        data.update(starts_at=_iso(when.start), ends_at=_iso(when.end), exact=when.exact)
    if tokens and (postcode := postcode_of(tokens[0])):
        data["place"] = postcode
        tokens = tokens[1:]
    description = " ".join(tokens).strip()
    if description:
        check_description(ctx, description)
        data["description"] = description
    return data


def check_description(ctx: Context, description: str) -> None:
    if len(description) > ctx.config.max_text_length:
        raise UserError("request.too_long", limit=ctx.config.max_text_length)


def next_step(data: dict[str, Any]) -> str:
    """The next part to ask for. Only what is needed: the place and whether the helper
    advances money are said in the line or with an extra button, never asked as a step."""
    if "step" in data:  # the group text: its preview, or the asker writes it
        return str(data["step"])
    if "category" not in data:
        return "category"
    if "starts_at" not in data and not data.get("any_time"):
        if data.get("day"):
            return "part"
        if data.get("pick_day"):
            return "day"
        return "when"
    if "description" not in data:
        return "what"
    return "visibility"


def parts_left(ctx: Context, day: date) -> list[DayPart]:
    """The parts of the day that are not over yet (all of them on a later day)."""
    now = ctx.local_now()
    return [
        part for part, (_, end) in DAY_PARTS.items() if datetime.combine(day, end, ctx.tz()) > now
    ]


def part_when(ctx: Context, day: date, part: DayPart | None) -> When:
    """A chosen day, narrowed to a part of it (or the whole day); what is over is left out."""
    tz = ctx.tz()
    first, last = (
        (DAY_PARTS[DayPart.MORNING][0], DAY_PARTS[DayPart.EVENING][1])  # as "morgen" is read
        if part is None
        else DAY_PARTS[part]
    )
    start, end = datetime.combine(day, first, tz), datetime.combine(day, last, tz)
    now = ctx.local_now()
    if end <= now:
        raise UserError("when.past_now")
    return When(max(start, now), end, False)


def _just_a_day(ctx: Context, text: str) -> date | None:
    """The day when nothing but a whole day was typed ("morgen", "vrijdag")."""
    try:
        when, rest = find_when(text.split(), ctx.local_now(), ctx.tz())
    except WhenError:
        return None
    if when is None or rest or when.exact:
        return None
    day = when.start.date()
    if not parts_left(ctx, day) or when != part_when(ctx, day, None):
        return None
    return day


def _set_when(data: dict[str, Any], when: When) -> None:
    data.update(starts_at=_iso(when.start), ends_at=_iso(when.end), exact=when.exact)
    data.pop("day", None)
    data.pop("pick_day", None)


def _day_word(ctx: Context, day: date) -> str:
    """The chosen day as a word the time reader knows, to put before what was typed."""
    today = ctx.local_now().date()
    if day == today:
        return "vandaag"
    if day == today + timedelta(days=1):
        return "morgen"
    return f"{day.day}-{day.month}"


async def answer_part(ctx: Context, data: dict[str, Any], text: str) -> None:
    """A typed answer once a day was chosen: a part of the day, a time, or another day."""
    day = date.fromisoformat(data["day"])
    low = text.strip().lower().strip(".!")
    if low in PART_WORDS:
        _set_when(data, part_when(ctx, day, PART_WORDS[low]))
        await continue_draft(ctx, data)
        return
    try:
        alone = find_when(text.split(), ctx.local_now(), ctx.tz())[0]
    except WhenError:
        alone = None
    if alone is None and "description" in data:  # no time in it, and nothing else to fill
        raise UserError("request.pick_part", day=day_name(day, ctx.local_now().date(), ctx.lang))
    data.pop("day")
    with_day = " ".join([_day_word(ctx, day), text])
    try:
        find_when(with_day.split(), ctx.local_now(), ctx.tz())
    except WhenError:  # "zaterdag 10:00": another day after all, read on its own
        await answer_when(ctx, data, text)
        return
    await answer_when(ctx, data, with_day)


async def continue_draft(ctx: Context, data: dict[str, Any]) -> None:
    """Save what we know and ask for the next missing part, with buttons where we can."""
    step = next_step(data)
    await ctx.tx.save_draft(Draft(ctx.member.id, KIND, step, data, ctx.now))
    me = ctx.member.id
    if step == "category":
        categories = ctx.settings().categories
        rows: ButtonRows = [
            [(f"category.{c.value}", f"ask:cat:{c.value}") for c in categories[i : i + 3]]
            for i in range(0, len(categories), 3)
        ]
        await ctx.tell(me, "request.ask_category", buttons=[*rows, [("button.stop", "ask:stop")]])
    elif step == "when":
        today = ctx.local_now().date()
        await ctx.tell(
            me,
            "request.ask_when",
            buttons=[
                [
                    *([("button.today", "ask:when:today")] if parts_left(ctx, today) else []),
                    ("button.tomorrow", "ask:when:tomorrow"),
                ],
                [("button.this_week", "ask:when:week"), ("button.other_day", "ask:when:pick")],
                [("button.any_time", "ask:when:any")],
            ],
        )
    elif step == "day":
        today = ctx.local_now().date()
        days = [today + timedelta(days=n) for n in range(2, 2 + DAYS_TO_PICK)]
        picks: list[tuple[str, str]] = [
            (Literal(short_date(day, today, ctx.lang)), f"ask:day:{day}") for day in days
        ]
        await ctx.tell(
            me,
            "request.ask_day",
            buttons=[picks[i : i + 3] for i in range(0, len(picks), 3)],
        )
    elif step == "part":
        day = date.fromisoformat(data["day"])
        parts = [
            (f"button.part_{part.value}", f"ask:part:{part.value}") for part in parts_left(ctx, day)
        ]
        await ctx.tell(
            me,
            "request.ask_part",
            buttons=[parts, [("button.whole_day", "ask:part:all")]],
            day=day_name(day, ctx.local_now().date(), ctx.lang),
        )
    elif step == "what":
        suggestions = SUGGESTIONS.get(data["category"], ())
        await ctx.tell(
            me,
            "request.ask_what_or_skip",
            buttons=[
                *([(key, f"ask:what:{n}")] for n, key in enumerate(suggestions)),
                [("button.skip", "ask:what:skip")],
            ],
        )
    elif step == "own_text":
        await ctx.tell(me, "details.ask_own_text", buttons=[[("button.stop", "ask:stop")]])
    elif step == "group_text":
        await ctx.tell(
            me,
            "details.preview_helpers"
            if data["visibility"] == Visibility.HELPERS.value
            else "details.preview_group",
            buttons=[
                [
                    ("button.post_as_shown", "ask:gt:post"),
                    ("button.write_group_text", "ask:gt:own"),
                ],
                [("button.stop", "ask:stop")],
            ],
            post=await group_preview(ctx, data),
        )
    else:
        visibilities = [
            (Visibility.NAMED, "button.visible_named"),
            (Visibility.ANONYMOUS, "button.visible_anonymous"),
            (Visibility.HELPERS, "button.visible_helpers"),
        ]
        last = await last_visibility(ctx)
        visibilities.sort(key=lambda choice: choice[0] is not last)  # last time's first
        choices: list[list[tuple[str, str]]] = [
            [(key, f"ask:vis:{value.value}")] for value, key in visibilities
        ]
        if data["category"] == Category.SHOPPING.value:
            choices.append(
                [("button.advance_undo", "ask:adv:0")]
                if data.get("advance")
                else [("button.advance_ask", "ask:adv:1")]
            )
        await ctx.tell(
            me,
            "request.ask_visibility",
            buttons=[*choices, [("button.stop", "ask:stop")]],
            summary=draft_summary(ctx, data),
        )


async def last_visibility(ctx: Context) -> Visibility | None:
    """Who could see the member's last request: offered first the next time."""
    mine = await ctx.tx.requests_of(ctx.member.id, list(RequestStatus))
    return max(mine, key=lambda request: request.id).visibility if mine else None


def draft_summary(ctx: Context, data: dict[str, Any]) -> str:
    parts = [category_name(ctx.catalog, ctx.lang, Category(data["category"]))]
    when = _when_of(data)
    if when is not None:
        parts.append(describe_when(when, ctx.local_now(), ctx.lang))
    if data.get("place"):
        parts.append(data["place"])
    description = data.get("description") or ""
    comma = ctx.t("list.comma")
    summary = (
        ctx.t("request.summary", head=comma.join(parts), description=description)
        if description
        else comma.join(parts)
    )
    if data.get("advance"):
        summary += "\n" + ctx.t("request.summary_advance")
    return summary


def _pickable(ctx: Context, value: str) -> date:
    """A day from the "Andere dag" buttons, checked: a real date, not over, not far off."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise UserError("request.draft_gone") from None
    today = ctx.local_now().date()
    if not today <= day <= today + timedelta(days=2 + DAYS_TO_PICK):
        raise UserError("request.draft_gone")
    return day


async def group_preview(ctx: Context, data: dict[str, Any]) -> str:
    """Exactly what others will read before someone says yes, in the group's language."""
    community = ctx.need_community()
    lang = community.language
    when = _when_of(data)
    parts = [category_name(ctx.catalog, lang, Category(data["category"]))]
    if when is not None:
        local = When(when.start.astimezone(ctx.tz()), when.end.astimezone(ctx.tz()), when.exact)
        parts.append(describe_when(local, ctx.local_now(), lang))
    if data.get("place"):
        parts.append(ctx.screened(lang, data["place"]).text)
    summary = ctx.catalog.text(
        lang,
        "request.summary",
        head=ctx.catalog.text(lang, "list.comma").join(parts),
        description=data["group_text"],
    )
    if data["visibility"] == Visibility.HELPERS.value:
        return summary
    named = data["visibility"] == Visibility.NAMED.value
    key = "match.group_named" if named else "match.group_anonymous"
    return ctx.catalog.text(lang, key, name=ctx.member.display_name, summary=summary)


async def choose_visibility(ctx: Context, data: dict[str, Any], visibility: Visibility) -> None:
    """Place the request, or first show what others will see when it holds personal details."""
    lang = ctx.need_community().language
    screened = ctx.screened(lang, data["description"])
    place_changed = bool(data.get("place")) and ctx.screened(lang, data["place"]).changed
    if not screened.changed and not place_changed:
        await ctx.settle_pressed("request.placed_short")
        await place_request(ctx, data, visibility, screened.text)
        return
    await ctx.settle_pressed("details.chosen_short")
    data.update(visibility=visibility.value, group_text=screened.text, step="group_text")
    await continue_draft(ctx, data)


async def own_group_text(ctx: Context, data: dict[str, Any], text: str) -> None:
    """The asker wrote the group text: checked again, and shown again if it holds details."""
    check_description(ctx, text)
    screened = ctx.screened(ctx.need_community().language, text)
    if screened.changed:
        data.update(group_text=screened.text, step="group_text")
        await continue_draft(ctx, data)
        return
    if await limits.reached(ctx, limits.Kind.ASK):
        return
    await place_request(ctx, data, Visibility(data["visibility"]), text)


async def place_request(
    ctx: Context, data: dict[str, Any], visibility: Visibility, group_text: str
) -> None:
    community = ctx.need_community()
    limit = ctx.settings().max_open_requests
    active = (RequestStatus.OPEN, RequestStatus.MATCHED)
    if len(await ctx.tx.requests_of(ctx.member.id, active)) >= limit:
        raise UserError("request.too_many", limit=limit)
    when = _when_of(data)
    if when is not None and when.end <= ctx.now:
        raise UserError("when.past_now")
    request = await ctx.tx.add_request(
        NewRequest(
            community_id=community.id,
            requester_id=ctx.member.id,
            category=Category(data["category"]),
            starts_at=when.start if when else None,
            ends_at=when.end if when else None,
            exact=when.exact if when else False,
            place=data.get("place"),
            description=data["description"],
            visibility=visibility,
            advance=bool(data.get("advance")),
            group_text=group_text,
        ),
        ctx.now,
    )
    await limits.count(ctx, limits.Kind.ASK)
    await ctx.tx.drop_draft(ctx.member.id)
    await ctx.tell(ctx.member.id, f"request.placed_{visibility.value}", nr=request.id)
    await look_for_help(ctx, request)
    await duework.request_opened(ctx, request)


def labels(ctx: Context, key: str) -> set[str]:
    return {
        without_bidi_marks(ctx.catalog.text(lang, key)).casefold() for lang in ctx.catalog.languages
    }


async def current_draft(ctx: Context) -> Draft:
    draft = await ctx.tx.draft(ctx.member.id)
    if draft is None or draft.kind != KIND:
        raise UserError("request.draft_gone")
    return draft


def register(registry: Registry) -> None:
    @registry.command("vraag", "ask", help="help.vraag", needs_rules=True)
    async def ask(ctx: Context, args: str) -> None:
        ctx.need_community()
        if await limits.reached(ctx, limits.Kind.ASK):
            return
        await ctx.tx.drop_draft(ctx.member.id)
        try:
            try:
                data = parse_request_line(ctx, args, raw=True)
            except WhenError as problem:
                if await check_time_word(ctx, problem, args, "line", {}):
                    return
                raise when_error(problem) from None
        except UserError as problem:
            # answered here, not rolled back: a new /vraag ends an earlier question, also
            # when this one cannot be read
            await ctx.reply_text(ctx.t(problem.key, **problem.params))
            return
        if not args.strip():
            data["guided"] = True
        await continue_draft(ctx, data)

    @registry.draft(KIND)
    async def ask_text(ctx: Context, text: str) -> None:
        draft = await current_draft(ctx)
        data = dict(draft.data)
        if draft.step == "category":
            category, _ = category_at(text.split())
            if category is None:
                raise UserError("request.pick_category")
            data["category"] = category.value
        elif draft.step in ("when", "day"):
            if draft.step == "day":
                data.pop("pick_day", None)
            elif (day := _just_a_day(ctx, text)) is not None:
                data["day"] = day.isoformat()  # "morgen": which part of it, with one tap
                await continue_draft(ctx, data)
                return
            try:
                await answer_when(ctx, data, text)
            except WhenError as problem:
                if not await check_time_word(ctx, problem, text, "when", data):
                    raise when_error(problem) from None
            return
        elif draft.step == "check_when":
            low = text.strip().lower().strip(".!")
            if low in YES:
                await resolve_time_word(ctx, data, str(data["check"]["suggestion"]))
            elif low in NO:
                await resolve_time_word(ctx, data, None)
            elif find_when(text.split(), ctx.local_now(), ctx.tz())[0] is not None:
                await resolve_time_word(ctx, data, text.strip())
            else:
                check = data["check"]
                raise UserError(
                    "when.check_again", word=check["word"], suggestion=check["suggestion"]
                )
            return
        elif draft.step == "part":
            try:
                await answer_part(ctx, data, text)
            except WhenError as problem:
                raise when_error(problem) from None
            return
        elif draft.step == "what":
            check_description(ctx, text)
            data["description"] = text
        elif draft.step == "own_text":
            await own_group_text(ctx, data, text)
            return
        elif draft.step == "group_text":
            # typed instead of pressed: a button's words, a yes, or a text for the group,
            # which is shown again before anything is posted
            said = text.strip().strip("[]!.").casefold()
            if said in labels(ctx, "button.post_as_shown") or said in YES:
                if await limits.reached(ctx, limits.Kind.ASK):
                    return
                await place_request(ctx, data, Visibility(data["visibility"]), data["group_text"])
                return
            if said in labels(ctx, "button.write_group_text"):
                data["step"] = "own_text"
            else:
                check_description(ctx, text)
                data["group_text"] = ctx.screened(ctx.need_community().language, text).text
        else:
            raise UserError("request.use_buttons")
        await continue_draft(ctx, data)

    @registry.action("ask", needs_rules=True)
    async def ask_button(ctx: Context, args: list[str]) -> None:
        if args == ["stop"]:
            await ctx.tx.drop_draft(ctx.member.id)
            await ctx.settle_pressed("request.stopped_short")
            await ctx.reply("request.stopped")
            return
        if args == ["start"]:
            if await limits.reached(ctx, limits.Kind.ASK):
                return
            await ctx.tx.drop_draft(ctx.member.id)
            await continue_draft(ctx, {"guided": True})
            return
        if len(args) == 2 and args[0] == "new":  # a kind pressed on the welcome
            if args[1] not in {c.value for c in Category}:
                raise UserError("error.button_unknown")
            category = Category(args[1])
            if await limits.reached(ctx, limits.Kind.ASK):
                return
            await ctx.tx.drop_draft(ctx.member.id)
            await ctx.settle_pressed(
                "request.kind_short", kind=category_name(ctx.catalog, ctx.lang, category)
            )
            ctx.pressed = None
            await continue_draft(ctx, {"guided": True, "category": category.value})
            return
        draft = await current_draft(ctx)
        data = dict(draft.data)
        match args:
            case ["cat", value] if draft.step == "category":
                data["category"] = Category(value).value
            case ["when", "any"] if draft.step == "when":
                data["any_time"] = True
            case ["when", "pick"] if draft.step == "when":
                data["pick_day"] = True
            case ["when", ("today" | "tomorrow") as choice] if draft.step == "when":
                day = ctx.local_now().date() + timedelta(days=choice == "tomorrow")
                if parts_left(ctx, day):
                    data["day"] = day.isoformat()
                else:  # late in the evening: the rest of today, no part to choose
                    when, _ = read_when(ctx, QUICK_WHEN[choice].split())
                    assert when is not None
                    _set_when(data, when)
            case ["when", choice] if draft.step == "when" and choice in QUICK_WHEN:
                when, _ = read_when(ctx, QUICK_WHEN[choice].split())
                assert when is not None
                _set_when(data, when)
            case ["day", value] if draft.step == "day":
                day = _pickable(ctx, value)
                data.pop("pick_day", None)
                data["day"] = day.isoformat()
            case ["part", value] if draft.step == "part" and value in ("all", *DayPart):
                day = date.fromisoformat(data["day"])
                part = None if value == "all" else DayPart(value)
                _set_when(data, part_when(ctx, day, part))
            case ["what", "skip"] if draft.step == "what":
                data["description"] = ""
            case ["what", number] if draft.step == "what":
                suggestions = SUGGESTIONS.get(data["category"], ())
                index = int(number) if number.isdecimal() and len(number) < 3 else None
                if index is None or index >= len(suggestions):
                    raise UserError("request.draft_gone")
                data["description"] = ctx.t(suggestions[index])
            case ["fix", answer] if draft.step == "check_when" and answer in ("yes", "no"):
                await ctx.settle_pressed("request.check_short")
                suggestion = str(data["check"]["suggestion"])
                await resolve_time_word(ctx, data, suggestion if answer == "yes" else None)
                return
            case ["adv", flag] if draft.step == "visibility" and flag in ("0", "1"):
                data["advance"] = flag == "1"
                await ctx.settle_pressed("request.changed_short")
            case ["vis", value] if draft.step == "visibility":
                if await limits.reached(ctx, limits.Kind.ASK):
                    return
                await choose_visibility(ctx, data, Visibility(value))
                return
            case ["gt", "post"] if draft.step == "group_text":
                if await limits.reached(ctx, limits.Kind.ASK):
                    return
                await ctx.settle_pressed("request.placed_short")
                await place_request(ctx, data, Visibility(data["visibility"]), data["group_text"])
                return
            case ["gt", "own"] if draft.step == "group_text":
                await ctx.settle_pressed("details.chosen_short")
                data["step"] = "own_text"
            case _:
                raise UserError("request.draft_gone")
        await continue_draft(ctx, data)

    @registry.action("acc", needs_rules=True)
    async def accept(ctx: Context, args: list[str]) -> None:
        request = await request_from(ctx, args)
        if request.requester_id == ctx.member.id:
            raise UserError("match.own_request")
        if request.status is RequestStatus.MATCHED and request.helper_id == ctx.member.id:
            raise UserError("match.already_yours", nr=request.id)
        if request.status is not RequestStatus.OPEN:
            await ctx.settle_pressed("match.taken_short")
            raise UserError(
                "match.taken" if request.status is RequestStatus.MATCHED else "request.closed"
            )
        membership = await ctx.tx.membership(ctx.member.id, request.community_id)
        if membership is None or membership.left_at is not None:
            raise UserError("error.left_group")
        await ctx.settle_pressed(
            "match.accepted_short", concerning=(ctx.member.id,), helper=ctx.member.display_name
        )
        await match_helper(ctx, request, ctx.member.id)

    @registry.action("dec")
    async def decline(ctx: Context, args: list[str]) -> None:
        request = await request_from(ctx, args)
        await ctx.tx.set_proposal_status(request.id, ctx.member.id, ProposalStatus.DECLINED)
        await ctx.settle_pressed("match.declined_short")
        await ctx.reply("match.declined")
        if request.status is not RequestStatus.OPEN:
            return
        proposals = await ctx.tx.proposals(request.id)
        if any(p.status is ProposalStatus.PENDING for p in proposals):
            return
        await look_for_help(ctx, request)


async def request_from(ctx: Context, args: list[str]) -> HelpRequest:
    number = record_number(args[0]) if len(args) == 1 else None
    if number is None:
        raise UserError("error.button_unknown")
    request = await ctx.tx.request(number)
    if request is None:
        raise UserError("request.gone")
    return request


async def match_helper(ctx: Context, request: HelpRequest, helper_id: int) -> HelpRequest:
    """Give an open request to a helper, once: introduce both, and tidy up the rest."""
    if not await ctx.tx.claim_request(request.id, helper_id, ctx.now):
        raise UserError("match.taken")
    request = replace(request, status=RequestStatus.MATCHED, helper_id=helper_id)
    await ctx.tx.set_proposal_status(request.id, helper_id, ProposalStatus.ACCEPTED)
    helper = await ctx.name_of(helper_id)
    await settle_group_posts(
        ctx, request, "match.accepted_short", concerning=(helper_id,), helper=helper
    )
    await introduce(ctx, request)
    await withdraw_pending(ctx, request, "match.taken_by_other")
    await duework.request_matched(ctx, request.id)
    return request


async def introduce(ctx: Context, request: HelpRequest) -> None:
    """Only now do requester and helper learn each other's name and how to reach them."""
    assert request.helper_id is not None
    community = await ctx.tx.community(request.community_id)
    helper, requester = request.helper_id, request.requester_id
    for me, other, key in (
        (requester, helper, "match.found_requester"),
        (helper, requester, "match.found_helper"),
    ):
        lang = await ctx.language_of(me)
        await ctx.tell(
            me,
            key,
            concerning=(other,),
            name=await ctx.name_of(other),
            contact=await contact_line(ctx, other, lang),
            summary=request_summary(
                ctx.catalog,
                lang,
                request,
                ctx.now,
                community.timezone,
                written_in=await ctx.language_of(requester),
            ),
            nr=request.id,
            advance=ctx.catalog.text(lang, "match.helper_advance", nr=request.id)
            if request.advance and me == helper
            else "",
        )


__all__ = ["introduce", "register", "widen"]
