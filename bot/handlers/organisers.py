"""Organisers' tools: the overview, requests on behalf of a neighbour, figures, export."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from bot import duework
from bot.commands import Registry, Where
from bot.context import Context, Literal
from bot.errors import UserError
from bot.handlers.requests import match_helper, parse_request_line, request_from
from bot.matching import find_helpers, group_text_of, look_for_help, public_summary
from bot.model import Category, MemberStatus, NewRequest, RequestStatus, Role, Visibility
from bot.people import audit, member_named
from bot.when import When
from bot.words import record_number

OVERVIEW_LIMIT = 10
ACTIVE = (RequestStatus.OPEN, RequestStatus.MATCHED)


def age(ctx: Context, since: datetime) -> str:
    hours = int((ctx.now - since).total_seconds() // 3600)
    if hours < 1:
        return ctx.t("overview.age_new")
    if hours < 48:
        return ctx.t("overview.age_hours", hours=hours)
    return ctx.t("overview.age_days", days=hours // 24)


def register(registry: Registry) -> None:
    @registry.command("organisator", "organiser", help="help.organisator", organisers_only=True)
    async def appoint(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        member = await member_named(ctx, args)
        membership = await ctx.tx.membership(member.id, community.id)
        if membership is not None and membership.role is Role.ORGANISER:
            raise UserError("organiser.already", name=member.display_name)
        await ctx.tx.set_role(member.id, community.id, Role.ORGANISER)
        await audit(ctx, "appoint_organiser", f"member:{member.id}")
        await ctx.reply("organiser.appointed", concerning=(member.id,), name=member.display_name)
        await ctx.tell(
            member.id,
            "organiser.you_are_appointed",
            concerning=(ctx.member.id,),
            name=ctx.member.display_name,
        )

    @registry.command(
        "overzicht", "overview", help="help.overzicht", where=Where.PRIVATE, organisers_only=True
    )
    async def overview(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        requests = await ctx.tx.community_requests(community.id, ACTIVE)
        if not requests:
            await ctx.reply("overview.nothing")
            return
        # unanswered first, longest waiting first; then those with a helper
        requests.sort(key=lambda r: (r.status is not RequestStatus.OPEN, r.created_at, r.id))
        lines, buttons = [], []
        named: set[int] = set()
        for request in requests[:OVERVIEW_LIMIT]:
            named.add(request.requester_id)
            # organisers see the group text; the whole text is for who helps (bot.details)
            summary = await public_summary(ctx, request, ctx.lang)
            if request.helper_id is None:
                asked = len(await ctx.tx.proposals(request.id))
                status = ctx.t("overview.open", asked=asked)
                buttons.append(
                    [
                        (
                            Literal(ctx.t("button.pick_up_nr", nr=request.id)),
                            f"org:take:{request.id}",
                        ),
                        (Literal(ctx.t("button.assign_nr", nr=request.id)), f"assign:{request.id}"),
                    ]
                )
            else:
                named.add(request.helper_id)
                status = ctx.t("overview.matched", name=await ctx.name_of(request.helper_id))
            lines.append(
                ctx.t(
                    "overview.line",
                    nr=request.id,
                    summary=summary,
                    name=await ctx.name_of(request.requester_id),
                    age=age(ctx, request.created_at),
                    status=status,
                )
            )
        more = len(requests) - OVERVIEW_LIMIT
        if more > 0:
            lines.append(ctx.t("overview.more", count=more))
        await ctx.reply("overview.intro", buttons=buttons, concerning=named, items="\n".join(lines))

    @registry.action("assign")
    async def assign(ctx: Context, args: list[str]) -> None:
        request = await request_from(ctx, args[:1])
        community = await ctx.require_organiser(request.community_id)
        if request.status is not RequestStatus.OPEN:
            raise UserError(
                "match.taken" if request.status is RequestStatus.MATCHED else "request.closed"
            )
        if len(args) == 1:
            candidates = await find_helpers(ctx, request, 6, include_asked=True)
            if not candidates:
                raise UserError("assign.nobody", nr=request.id)
            await ctx.reply(
                "assign.choose",
                concerning=[c.member_id for c in candidates],
                buttons=[
                    [
                        (
                            Literal(await ctx.name_of(c.member_id)),
                            f"assign:{request.id}:{c.member_id}",
                        )
                    ]
                    for c in candidates
                ],
                nr=request.id,
            )
            return
        helper_id = record_number(args[1])
        if helper_id is None or len(args) != 2:
            raise UserError("error.button_unknown")
        helper = await ctx.tx.membership(helper_id, community.id)
        if (
            helper is None
            or helper.left_at is not None
            or helper.status is not MemberStatus.ACTIVE
            or helper_id == request.requester_id
        ):
            raise UserError("assign.not_a_helper")
        await ctx.settle_pressed(
            "assign.done_short", concerning=(helper_id,), name=await ctx.name_of(helper_id)
        )
        await match_helper(ctx, request, helper_id)
        await audit(ctx, "assign", f"request:{request.id} member:{helper_id}")
        await ctx.tell(
            helper_id,
            "assign.you_were_assigned",
            concerning=(ctx.member.id,),
            nr=request.id,
            name=ctx.member.display_name,
        )

    @registry.command(
        "namens", "on_behalf", help="help.namens", where=Where.PRIVATE, organisers_only=True
    )
    async def on_behalf(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        who, colon, line = args.partition(":")
        who = who.strip()
        if not colon or not who or not line.strip():
            raise UserError("behalf.how")
        if len(who) > 60:
            raise UserError("behalf.name_too_long")
        data = parse_request_line(ctx, line)
        missing = [part for part in ("category", "description") if part not in data]
        if missing:
            raise UserError("behalf.incomplete")
        neighbour = await ctx.tx.create_proxy_member(who, ctx.member.id, community.id, ctx.now)
        screened = ctx.screened(community.language, data["description"])
        when = (
            When(
                datetime.fromisoformat(data["starts_at"]),
                datetime.fromisoformat(data["ends_at"]),
                bool(data.get("exact")),
            )
            if data.get("starts_at")
            else None
        )
        request = await ctx.tx.add_request(
            NewRequest(
                community_id=community.id,
                requester_id=neighbour.id,
                category=Category(data["category"]),
                starts_at=when.start if when else None,
                ends_at=when.end if when else None,
                exact=when.exact if when else False,
                place=data.get("place"),
                description=data["description"],
                visibility=Visibility.ANONYMOUS,
                advance=False,
                group_text=screened.text,
            ),
            ctx.now,
        )
        await audit(ctx, "on_behalf", f"request:{request.id} member:{neighbour.id}")
        await ctx.reply("behalf.placed", concerning=(neighbour.id,), nr=request.id, name=who)
        if screened.changed:
            await ctx.reply(
                "details.behalf_group_text", concerning=(neighbour.id,), text=screened.text
            )
        await look_for_help(ctx, request)
        await duework.request_opened(ctx, request)

    @registry.command(
        "statistiek", "stats", help="help.statistiek", where=Where.PRIVATE, organisers_only=True
    )
    async def stats(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        days_text = args.strip().split()[0] if args.strip() else "30"
        if not days_text.isdecimal() or not 1 <= int(days_text) <= 3660:
            raise UserError("stats.bad_period")
        days = int(days_text)
        since = ctx.now - timedelta(days=days)
        requests = await ctx.tx.community_requests(community.id, since=since)
        counts = {status: 0 for status in RequestStatus}
        for request in requests:
            counts[request.status] += 1
        helpers = {r.helper_id for r in requests if r.helper_id is not None}
        members = await ctx.tx.members_of(community.id)
        await ctx.reply(
            "stats.report",
            days=days,
            asked=len(requests),
            matched=sum(1 for r in requests if r.matched_at is not None),
            done=counts[RequestStatus.DONE],
            open=counts[RequestStatus.OPEN],
            cancelled=counts[RequestStatus.CANCELLED],
            unknown=counts[RequestStatus.UNKNOWN],
            helpers=len(helpers),
            members=sum(1 for _, m in members if m.left_at is None),
        )

    @registry.command("export", help="help.export", where=Where.PRIVATE, organisers_only=True)
    async def export(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        requests = await ctx.tx.community_requests(community.id)
        names: dict[int, str] = {}

        async def name(member_id: int | None) -> str:
            if member_id is None:
                return ""
            if member_id not in names:
                names[member_id] = await ctx.name_of(member_id)
            return names[member_id]

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "nummer",
                "soort",
                "status",
                "gevraagd_op",
                "vanaf",
                "tot",
                "plaats",
                "omschrijving",
                "zichtbaarheid",
                "vrager",
                "helper",
                "gekoppeld_op",
                "gesloten_op",
            ]
        )
        for r in requests:
            writer.writerow(
                [
                    r.id,
                    r.category.value,
                    r.status.value,
                    r.created_at.isoformat(),
                    r.starts_at.isoformat() if r.starts_at else "",
                    r.ends_at.isoformat() if r.ends_at else "",
                    r.place or "",
                    await group_text_of(ctx, r),  # a file travels: no personal details
                    r.visibility.value,
                    await name(r.requester_id),
                    await name(r.helper_id),
                    r.matched_at.isoformat() if r.matched_at else "",
                    r.closed_at.isoformat() if r.closed_at else "",
                ]
            )
        await audit(ctx, "export", f"community:{community.id}")
        stamp = ctx.local_now().strftime("%Y-%m-%d")
        await ctx.tell(
            ctx.member.id,
            "export.ready",
            concerning=[r.requester_id for r in requests] + list(names),
            attachment=(f"buurtbot-vragen-{stamp}.csv", out.getvalue().encode("utf-8")),
            count=len(requests),
        )

    @registry.command(
        "logboek", "log", help="help.logboek", where=Where.PRIVATE, organisers_only=True
    )
    async def log(ctx: Context, args: str) -> None:
        community = ctx.need_community()
        entries = await ctx.tx.audit_log(community.id, 20)
        if not entries:
            await ctx.reply("auditlog.empty")
            return
        tz = ctx.tz()
        named = {entry.actor_id for entry in entries if entry.actor_id}
        lines = [
            ctx.t(
                "auditlog.line",
                when=entry.created_at.astimezone(tz).strftime("%d-%m %H:%M"),
                who=await ctx.name_of(entry.actor_id) if entry.actor_id else "-",
                action=ctx.t(f"auditlog.action.{entry.action}"),
                subject=entry.subject,
            )
            for entry in entries
        ]
        await ctx.reply("auditlog.intro", concerning=named, items="\n".join(lines))
