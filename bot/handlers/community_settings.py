"""/instellingen: organisers see and change their community's own settings in the chat.

A thin caller of ``bot.organising`` (which checks who may, validates and writes the audit
log); here the results are put into words. ``/instellingen`` lists every setting,
``/instellingen <naam>`` explains one, ``/instellingen <naam> <waarde>`` changes it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot import organising
from bot import settings as schema
from bot.commands import Registry, Where
from bot.context import ButtonRows, Context
from bot.errors import UserError
from bot.model import Category

if TYPE_CHECKING:
    from bot.organising import SettingChanged, SettingValue

SHORT = 40  # characters of a long text (the house rules) in the list


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHORT else flat[: SHORT - 1] + "…"


def _line(ctx: Context, item: SettingValue) -> str:
    name = item.setting.typed_name(ctx.lang)
    if item.is_default:
        return ctx.t("settings.line_default", name=name, value=_short(item.shown))
    return ctx.t(
        "settings.line_own", name=name, value=_short(item.shown), default=_short(item.default_shown)
    )


def _how(ctx: Context, setting: schema.Setting) -> str:
    kinds = ", ".join(ctx.t(f"category.{c.value}").lower() for c in Category)
    low, high = schema.bounds(ctx.catalog, ctx.lang, setting)
    return ctx.t(
        f"settings.kind_{setting.kind.value}",
        low=low,
        high=high,
        kinds=kinds,
        limit=schema.MAX_RULES,
    )


def _buttons(item: SettingValue) -> ButtonRows:
    index = schema.SCHEMA.index(item.setting)
    rows: list[list[tuple[str, str]]] = []
    if item.setting.kind is schema.Kind.YES_NO:
        yes, no = f"cset:{index}:yes", f"cset:{index}:no"
        rows.append([("settings.button_yes", yes), ("settings.button_no", no)])
    if not item.is_default:
        rows.append([("settings.button_default", f"cset:{index}:default")])
    return rows


def split_name(text: str) -> tuple[str, str]:
    """ "stille uren 22:00-8:00" -> ("stille_uren", "22:00-8:00"): a name may be typed in
    words; the longest start of the text that names a setting is the name."""
    words = re.split(r"(\s+)", text.strip(), maxsplit=6)
    parts = words[::2]
    for count in (3, 2, 1):
        if len(parts) < count:
            continue
        name = "_".join(p.lower() for p in parts[:count])
        if schema.is_name(name):
            rest = "".join(words[2 * count :]).strip()
            return name, rest
    head, _, rest = text.strip().partition(" ")
    return head, rest.strip()


async def _changed(ctx: Context, result: SettingChanged) -> None:
    after = result.after
    name = after.setting.typed_name(ctx.lang)
    if not result.changed:
        await ctx.reply("settings.same", name=name, value=after.shown)
        return
    key = "settings.changed_default" if after.is_default else "settings.changed"
    await ctx.reply(key, name=name, old=result.before.shown, new=after.shown)


def register(registry: Registry) -> None:
    @registry.command(
        "instellingen",
        "settings",
        help="help.instellingen",
        where=Where.PRIVATE,
        organisers_only=True,
    )
    async def settings_command(ctx: Context, args: str) -> None:
        community = await organising.organiser_in(ctx)
        if not args.strip():
            items = await organising.community_settings(ctx, community.id)
            await ctx.reply(
                "settings.intro",
                items="\n".join(_line(ctx, item) for item in items),
                example=schema.BY_NAME["widen_after_hours"].typed_name(ctx.lang),
            )
            return
        name, value = split_name(args)
        if not value:
            item = await organising.community_setting(ctx, community.id, name)
            await ctx.reply(
                "settings.one",
                buttons=_buttons(item),
                name=item.setting.typed_name(ctx.lang),
                description=ctx.t(item.setting.description_key),
                value=item.shown,
                default=item.default_shown,
                how=_how(ctx, item.setting),
            )
            return
        await _changed(ctx, await organising.change_setting(ctx, community.id, name, value))

    @registry.action("cset")
    async def settings_button(ctx: Context, args: list[str]) -> None:
        community = await organising.organiser_in(ctx)
        if len(args) != 2 or not args[0].isdecimal() or int(args[0]) >= len(schema.SCHEMA):
            raise UserError("error.button_unknown")
        setting = schema.SCHEMA[int(args[0])]
        choice = args[1]
        if choice == "default":
            result = await organising.reset_setting(ctx, community.id, setting.name)
        elif choice in ("yes", "no") and setting.kind is schema.Kind.YES_NO:
            result = await organising.change_setting(ctx, community.id, setting.name, choice)
        else:
            raise UserError("error.button_unknown")
        await ctx.settle_pressed(
            "settings.settled_short",
            name=setting.typed_name(ctx.lang),
            value=result.after.shown,
        )
        await _changed(ctx, result)
