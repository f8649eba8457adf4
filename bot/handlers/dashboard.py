"""/dashboard: a one-time link to the organisers' web pages."""

from __future__ import annotations

from bot import weblogin
from bot.commands import Registry, Where
from bot.context import Context
from bot.errors import UserError


def register(registry: Registry) -> None:
    @registry.command("dashboard", help="help.dashboard", where=Where.PRIVATE, organisers_only=True)
    async def dashboard(ctx: Context, args: str) -> None:
        community = await ctx.require_organiser()
        base = ctx.config.web_base_url
        if not base:
            raise UserError("dashboard.off")
        token = await weblogin.new_login(ctx.tx, ctx.member.id, community.id, ctx.now)
        if token is None:
            raise UserError("error.organisers_only")
        minutes = int(weblogin.LINK_VALID.total_seconds() // 60)
        await ctx.reply("dashboard.link", link=f"{base.rstrip('/')}/login/{token}", minutes=minutes)
