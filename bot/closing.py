"""Closing a request that is still open or matched, and tidying up around it."""

from __future__ import annotations

from bot import duework
from bot.context import Context
from bot.matching import settle_group_posts, withdraw_pending
from bot.model import HelpRequest, RequestStatus


async def close(
    ctx: Context,
    request: HelpRequest,
    status: RequestStatus,
    *,
    helper_key: str,
    group_key: str = "match.withdrawn_short",
    name: str = "",
) -> HelpRequest | None:
    """Close the request; then nothing scheduled about it runs, its group posts show
    ``group_key``, helpers who were asked are told, and a helper who said yes hears
    ``helper_key`` (with the request's number and ``name``). None when already closed."""
    if not await ctx.tx.close_request(request.id, status, ctx.now):
        return None
    await duework.request_closed(ctx, request.id)
    closed = await ctx.tx.request(request.id)
    assert closed is not None
    await settle_group_posts(ctx, closed, group_key)
    await withdraw_pending(ctx, closed, "match.withdrawn")
    if closed.helper_id is not None:
        # ``name`` is the requester's or an organiser's, never the helper's own
        named = (closed.requester_id,) if name else ()
        await ctx.tell(closed.helper_id, helper_key, concerning=named, nr=closed.id, name=name)
    return closed
