"""Offering help: /aanbod in one line or step by step; pausing and resuming."""

from __future__ import annotations

from typing import Any

from bot import limits
from bot.commands import Registry
from bot.config import CommunitySettings
from bot.context import Context
from bot.errors import UserError
from bot.handlers.onboarding import new_helper
from bot.matching import fits, propose
from bot.model import Category, Draft, NewOffer, Offer
from bot.people import may_be_asked
from bot.when import Availability, DayPart, describe_availability, parse_availability
from bot.words import CATEGORY_WORDS, category_at, category_name, close_word, postcode_of

KIND = "offer"
DAY_CHOICES = {"weekdays": [0, 1, 2, 3, 4], "weekend": [5, 6], "all": []}
PART_CHOICES = {
    "morning": ["morning"],
    "afternoon": ["afternoon"],
    "evening": ["evening"],
    "all": [],
}
MAX_OFFERS = 10


# "om de week": an offer cannot skip weeks, so it is asked at most once a week (shown when saved)
EVERY_OTHER_WEEK = (
    ("om", "de", "week"),
    ("om", "de", "twee", "weken"),
    ("om", "de", "2", "weken"),
    ("tweewekelijks",),
    ("every", "other", "week"),
    ("every", "two", "weeks"),
    ("every", "2", "weeks"),
    ("fortnightly",),
)


def _without_every_other_week(tokens: list[str]) -> tuple[list[str], bool]:
    words = [word.lower().strip(".") for word in tokens]
    for index in range(len(words)):
        for phrase in EVERY_OTHER_WEEK:
            if tuple(words[index : index + len(phrase)]) == phrase:
                return [*tokens[:index], *tokens[index + len(phrase) :]], True
    return tokens, False


def parse_offer_line(ctx: Context, text: str) -> dict[str, Any]:
    tokens, every_other_week = _without_every_other_week(text.replace(",", " ").split())
    categories: list[str] = []
    while tokens:
        category, tokens = category_at(tokens)
        if category is None:
            break
        if category.value not in categories:
            categories.append(category.value)
    data: dict[str, Any] = {}
    if categories:
        data["categories"] = categories
    availability, tokens = parse_availability(tokens)
    if availability is not None:
        data["days"] = sorted(availability.days)
        data["parts"] = sorted(p.value for p in availability.parts)
    while tokens:
        word = tokens[0].lower()
        if postcode := postcode_of(word):
            data["area"] = postcode
            tokens = tokens[1:]
        elif word in ("max", "maximaal", "maximum") and len(tokens) > 1 and tokens[1].isdecimal():
            data["max_per_week"] = int(tokens[1])
            tokens = tokens[2:]
            while tokens and tokens[0].lower() in ("per", "keer", "times", "a", "week", "x"):
                tokens = tokens[1:]
        else:
            break
    if tokens:
        guess = close_word(tokens[0], list(CATEGORY_WORDS))
        if guess:
            raise UserError("offer.unknown_word_suggest", word=tokens[0][:30], suggestion=guess)
        raise UserError("offer.unknown_word", word=tokens[0][:30])
    if every_other_week:
        data.setdefault("max_per_week", 1)
    if "max_per_week" in data and not 1 <= data["max_per_week"] <= 21:
        raise UserError("offer.bad_max")
    return data


def next_step(data: dict[str, Any]) -> str:
    if not data.get("categories"):
        return "category"
    if "days" not in data:
        return "days"
    if "parts" not in data:
        return "parts"
    return "save"


async def continue_offer(ctx: Context, data: dict[str, Any]) -> None:
    step = next_step(data)
    me = ctx.member.id
    if step == "save":
        await ctx.tx.drop_draft(me)
        await save_offer(ctx, data)
        return
    await ctx.tx.save_draft(Draft(me, KIND, step, data, ctx.now))
    if step == "category":
        categories = ctx.settings().categories
        rows = [
            [(f"category.{c.value}", f"offer:cat:{c.value}") for c in categories[i : i + 3]]
            for i in range(0, len(categories), 3)
        ]
        await ctx.tell(me, "offer.ask_category", buttons=rows)
    elif step == "days":
        await ctx.tell(
            me,
            "offer.ask_days",
            buttons=[
                [
                    ("button.weekdays", "offer:days:weekdays"),
                    ("button.weekend", "offer:days:weekend"),
                ],
                [("button.every_day", "offer:days:all")],
            ],
        )
    else:
        await ctx.tell(
            me,
            "offer.ask_parts",
            buttons=[
                [
                    ("button.morning", "offer:parts:morning"),
                    ("button.afternoon", "offer:parts:afternoon"),
                    ("button.evening", "offer:parts:evening"),
                ],
                [("button.any_time", "offer:parts:all")],
            ],
        )


def availability_of(offer: Offer) -> Availability:
    return Availability(offer.days, frozenset(DayPart(p) for p in offer.parts))


def offer_summary(ctx: Context, offer: Offer, lang: str) -> str:
    names = ctx.catalog.text(lang, "list.comma").join(
        category_name(ctx.catalog, lang, c)
        for c in sorted(offer.categories, key=list(Category).index)
    )
    when = describe_availability(availability_of(offer), lang)
    area = ctx.catalog.text(lang, "offer.area", area=offer.area) if offer.area else ""
    return ctx.catalog.text(lang, "offer.summary", categories=names, when=when, area=area)


async def save_offer(ctx: Context, data: dict[str, Any]) -> None:
    community = ctx.need_community()
    if len(await ctx.tx.offers_of(ctx.member.id)) >= MAX_OFFERS:
        raise UserError("offer.too_many", limit=MAX_OFFERS)
    offer = await ctx.tx.add_offer(
        NewOffer(
            community_id=community.id,
            member_id=ctx.member.id,
            categories=frozenset(Category(c) for c in data["categories"]),
            days=frozenset(int(d) for d in data["days"]),
            parts=frozenset(str(p) for p in data["parts"]),
            area=data.get("area"),
            max_per_week=int(data.get("max_per_week", ctx.settings().max_per_week)),
        ),
        ctx.now,
    )
    await new_helper(ctx)
    await ctx.tell(
        ctx.member.id,
        "offer.saved",
        summary=offer_summary(ctx, offer, ctx.lang),
        max=offer.max_per_week,
    )
    await offer_waiting_requests(ctx, offer)


async def offer_waiting_requests(ctx: Context, offer: Offer) -> None:
    """A new helper may fit requests that nobody could take yet: ask them about those."""
    community = await ctx.tx.community(offer.community_id)
    settings = CommunitySettings.of(community, ctx.config.community)
    asked = 0
    waiting = await ctx.tx.requests_waiting_for(
        offer.community_id, offer.categories, offer.member_id
    )
    for request in waiting:
        if asked >= ctx.settings().helpers_to_ask:
            break
        if not fits(offer, request, community.timezone):
            continue
        if not await may_be_asked(ctx, offer.member_id, offer.community_id, request.category):
            return
        if not await limits.may_ask_now(ctx, offer.member_id, offer.max_per_week, settings):
            return
        await propose(ctx, request, offer.member_id, community.timezone)
        asked += 1


async def my_offer(ctx: Context, args: list[str]) -> Offer:
    if len(args) != 1 or not args[0].isdecimal():
        raise UserError("error.button_unknown")
    offer = await ctx.tx.offer(int(args[0]))
    if offer is None or offer.member_id != ctx.member.id:
        raise UserError("offer.gone")
    return offer


def register(registry: Registry) -> None:
    @registry.command("aanbod", "offer", help="help.aanbod", needs_rules=True)
    async def offer_cmd(ctx: Context, args: str) -> None:
        ctx.need_community()
        await ctx.tx.drop_draft(ctx.member.id)
        await continue_offer(ctx, parse_offer_line(ctx, args))

    @registry.draft(KIND)
    async def offer_text(ctx: Context, text: str) -> None:
        draft = await ctx.tx.draft(ctx.member.id)
        if draft is None:
            raise UserError("offer.draft_gone")
        data = dict(draft.data)
        parsed = parse_offer_line(ctx, text)
        if not parsed:
            raise UserError("request.use_buttons")
        data.update(parsed)
        await continue_offer(ctx, data)

    @registry.action("offer", needs_rules=True)
    async def offer_button(ctx: Context, args: list[str]) -> None:
        if args == ["start"]:
            await ctx.tx.drop_draft(ctx.member.id)
            await continue_offer(ctx, {})
            return
        if len(args) == 2 and args[0] in ("pause", "resume", "delete"):
            await change_offer(ctx, args[0], await my_offer(ctx, args[1:]))
            return
        draft = await ctx.tx.draft(ctx.member.id)
        if draft is None or draft.kind != KIND:
            raise UserError("offer.draft_gone")
        data = dict(draft.data)
        match args:
            case ["cat", value] if draft.step == "category":
                data["categories"] = [Category(value).value]
            case ["days", choice] if draft.step == "days" and choice in DAY_CHOICES:
                data["days"] = DAY_CHOICES[choice]
            case ["parts", choice] if draft.step == "parts" and choice in PART_CHOICES:
                data["parts"] = PART_CHOICES[choice]
            case _:
                raise UserError("offer.draft_gone")
        await continue_offer(ctx, data)

    @registry.command("pauze", "pause", help="help.pauze")
    async def pause_all(ctx: Context, args: str) -> None:
        offers = [o for o in await ctx.tx.offers_of(ctx.member.id) if not o.paused]
        if not offers:
            raise UserError("offer.nothing_to_pause")
        for offer in offers:
            await ctx.tx.set_offer_paused(offer.id, True)
        await ctx.tell(ctx.member.id, "offer.paused_all")

    @registry.command("hervat", "resume", help="help.hervat")
    async def resume_all(ctx: Context, args: str) -> None:
        offers = [o for o in await ctx.tx.offers_of(ctx.member.id) if o.paused]
        if not offers:
            raise UserError("offer.nothing_to_resume")
        for offer in offers:
            await ctx.tx.set_offer_paused(offer.id, False)
        await ctx.tell(ctx.member.id, "offer.resumed_all")


async def change_offer(ctx: Context, verb: str, offer: Offer) -> None:
    if verb == "delete":
        await ctx.tx.delete_offer(offer.id)
        await ctx.settle_pressed("offer.deleted_short")
        await ctx.reply("offer.deleted", summary=offer_summary(ctx, offer, ctx.lang))
        return
    paused = verb == "pause"
    await ctx.tx.set_offer_paused(offer.id, paused)
    await ctx.settle_pressed("offer.paused_short" if paused else "offer.resumed_short")
    await ctx.reply(
        "offer.paused" if paused else "offer.resumed",
        summary=offer_summary(ctx, offer, ctx.lang),
    )


__all__ = ["register"]
