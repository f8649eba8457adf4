"""The organisers' web pages, served by ``buurtbot run`` beside the chat channels.

aiohttp serves them; Jinja2 draws them (autoescaping on). Organisers sign in with a
one-time link from /dashboard in a private chat (``bot.weblogin``): opening it shows a
button, and pressing that starts a session (a link preview fetching the page uses
nothing). The session cookie is HttpOnly, SameSite=Strict and Secure when the base URL is
https. Every form carries the session's CSRF token. What pages show and do comes from core
functions that check the organiser's role themselves (``bot.dashboard``,
``bot.organising``); this module only reads requests and draws answers.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from adapters.web.charts import Chart
from bot import circles, dashboard, organising, weblogin
from bot.app import Bot
from bot.context import Context
from bot.errors import StoreUnavailable, UserError
from bot.i18n import RTL_LANGUAGES, Catalog
from bot.model import Community, Member, WebSession
from bot.store import Tx

log = logging.getLogger("buurtbot.web")

HERE = Path(__file__).parent
COOKIE = "buurtbot_session"
LANG = web.RequestKey("lang", str)  # the signed-in organiser's language, for error pages
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SECURITY_HEADERS = {
    # no script or style from anywhere but here, nothing inline; no framing; no referrer
    # (a login link must not travel on to another site)
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Answer(Exception):
    """Stop handling a page and send this response instead (signed out, refused)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


# what the overview says after an action (?done=...)
DONE = {"pick_up": "web.done_pick_up", "assign": "web.done_assign", "behalf": "web.done_behalf"}
CHOICES_FOR = 20  # open requests shown with a list of helpers to assign


def age_text(catalog: Catalog, lang: str, waited: timedelta) -> str:
    hours = int(waited.total_seconds() // 3600)
    if hours < 1:
        return catalog.text(lang, "web.age_new")
    if hours < 48:
        return catalog.text(lang, "web.age_hours", hours=hours)
    return catalog.text(lang, "web.age_days", days=hours // 24)


@dataclass
class Page:
    """One signed-in request: who, for which community, in which language."""

    session: WebSession
    token: str
    lang: str
    who: dashboard.Organiser
    member: Member
    community: Community

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.community.timezone)


class Dashboard:
    def __init__(self, bot: Bot, *, secure: bool = False) -> None:
        self.bot = bot
        self.secure = secure
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    @property
    def now(self) -> datetime:
        return self.bot.clock.now()

    # --- plumbing ---------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._headers], client_max_size=64 * 1024)
        routes = [
            web.get("/login/{token}", self.login_page),
            web.post("/login/{token}", self.login),
            web.post("/logout", self.logout),
            web.get("/", self.overview),
            web.get("/live/requests", self.live_requests),
            web.get("/tables", self.tables),
            web.get("/circles", self.circles),
            web.get("/figures", self.figures),
            web.get("/figures/{name}.csv", self.figure_csv),
            web.get("/places", self.places),
            web.get("/members", self.members),
            web.get("/export.csv", self.export),
            web.post("/requests/{nr:[0-9]{1,9}}/pick-up", self.pick_up),
            web.post("/requests/{nr:[0-9]{1,9}}/assign", self.assign),
            web.post("/behalf", self.on_behalf),
            web.get("/settings", self.settings),
            web.post("/settings", self.change_setting),
        ]
        app.add_routes(routes)
        app.router.add_static("/static", HERE / "static", append_version=True)
        return app

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as problem:
            self._secure(request, problem)
            raise
        except Answer as answer:
            response = answer.response
        except StoreUnavailable as problem:
            log.warning("a web page waits for the database: %s", problem.reason)
            response = self.render_plain(request, "web.error_internal", status=503)
        except UserError as problem:
            lang = request.get(LANG) or self.lang_of_browser(request)
            text = self.bot.catalog.text(lang, problem.key, **problem.params)
            response = self.render("pages/message.html", lang, status=403, message_text=text)
        except Exception:
            log.exception("a web page failed: %s %s", request.method, request.path)
            response = self.render_plain(request, "web.error_internal", status=500)
        self._secure(request, response)
        return response

    @staticmethod
    def _secure(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            if name == "Cache-Control" and request.path.startswith("/static/"):
                continue
            response.headers.setdefault(name, value)

    def lang_of_browser(self, request: web.Request) -> str:
        wanted = request.headers.get("Accept-Language", "")
        first = wanted.split(",")[0].strip()
        if first:
            return self.bot.catalog.language_of(first)
        return self.bot.config.community.language

    def render(
        self, name: str, lang: str, *, status: int = 200, page: Page | None = None, **values: Any
    ) -> web.Response:
        html = self.templates.get_template(name).render(
            t=self.texts(lang),
            lang=lang,
            rtl=lang in RTL_LANGUAGES,  # Arabic pages read right to left
            page=page,
            csrf=page.session.csrf_token if page else "",
            **values,
        )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def texts(self, lang: str) -> Callable[..., str]:
        catalog = self.bot.catalog

        def t(key: str, /, **params: object) -> str:
            return catalog.text(lang, key, **params)

        return t

    def show(self, name: str, page: Page, *, status: int = 200, **values: Any) -> web.Response:
        """A signed-in page, ``pages/<name>.html``, with ``name`` marked in the menu."""
        return self.render(
            f"pages/{name}.html", page.lang, status=status, page=page, here=name, **values
        )

    def message(self, lang: str, key: str, status: int) -> web.Response:
        return self.render("pages/message.html", lang, status=status, message_key=key)

    def render_plain(self, request: web.Request, key: str, *, status: int) -> web.Response:
        return self.message(self.lang_of_browser(request), key, status)

    async def signed_in(self, request: web.Request, tx: Tx) -> Page:
        """The page's organiser; without a valid session: the sign-in explanation (401)."""
        token = request.cookies.get(COOKIE)
        session = await weblogin.session_of(tx, token, self.now)
        if session is None or token is None:
            raise Answer(self.render_plain(request, "web.signed_out", status=401))
        member = await tx.member(session.member_id)
        community = await tx.community(session.community_id)
        request[LANG] = member.language or community.language
        return Page(
            session,
            token,
            member.language or community.language,
            dashboard.Organiser(session.member_id, session.community_id),
            member,
            community,
        )

    async def checked_form(self, request: web.Request, tx: Tx) -> tuple[Page, dict[str, str]]:
        """A posted form of a signed-in organiser with the right CSRF token, else 403."""
        page = await self.signed_in(request, tx)
        form = await request.post()
        sent = form.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(
            sent.encode(), page.session.csrf_token.encode()
        ):
            refused = self.render(
                "pages/message.html", page.lang, status=403, message_key="web.csrf"
            )
            raise Answer(refused)
        return page, {k: v for k, v in form.items() if isinstance(v, str)}

    def notify(self) -> None:
        """Messages were queued: wake the outbox senders."""
        for listener in self.bot.listeners:
            listener()

    # --- signing in and out ------------------------------------------------------------
    async def login_page(self, request: web.Request) -> web.Response:
        lang = self.lang_of_browser(request)
        return self.render("pages/login.html", lang, token=request.match_info["token"])

    async def login(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            started = await weblogin.start_session(tx, request.match_info["token"], self.now)
        if started is None:
            return self.render_plain(request, "web.link_used", status=403)
        token, session = started
        response = web.HTTPSeeOther("/")
        response.set_cookie(
            COOKIE,
            token,
            max_age=int((session.expires_at - self.now).total_seconds()),
            path="/",
            httponly=True,
            samesite="Strict",
            secure=self.secure,
        )
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page, _ = await self.checked_form(request, tx)
            await weblogin.end_session(tx, page.token, self.now)
        response = self.render_plain(request, "web.logged_out", status=200)
        response.del_cookie(COOKIE, path="/")
        return response

    # --- pages -------------------------------------------------------------------------
    def context(self, tx: Tx, page: Page) -> Context:
        """The core's context for this organiser, acting from a web page."""
        return organising.organiser_context(self.bot, tx, page.member, page.community, self.now)

    async def overview(
        self,
        request: web.Request,
        *,
        problem: str | None = None,
        form: dict[str, str] | None = None,
    ) -> web.Response:
        from adapters.web.figures import requests_chart

        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            weeks = await dashboard.weekly_figures(tx, page.who, self.now)
            requests_html = await self.requests_fragment(tx, page)
        done = DONE.get(request.query.get("done", ""))
        return self.show(
            "overview",
            page,
            status=400 if problem else 200,
            chart=requests_chart(self.bot.catalog, page.lang, weeks),
            requests_html=requests_html,
            done=self.bot.catalog.text(page.lang, done, nr=request.query.get("nr", ""))
            if done
            else None,
            problem=problem,
            form=form or {},
        )

    async def requests_fragment(self, tx: Tx, page: Page) -> str:
        """The open requests with what can be done about them (also asked for by live.js)."""
        ctx = self.context(tx, page)
        overview = await organising.open_requests(ctx, page.who.community_id)
        choices: dict[int, list[organising.HelperChoice]] = {}
        for item in overview.requests[:CHOICES_FOR]:
            if item.helper_id is None:
                try:
                    choices[item.id] = await organising.helper_choices(ctx, item.id)
                except UserError:
                    choices[item.id] = []
        return self.templates.get_template("pages/requests.html").render(
            t=self.texts(page.lang),
            csrf=page.session.csrf_token,
            overview=overview,
            choices=choices,
            age=lambda waited: age_text(self.bot.catalog, page.lang, waited),
        )

    async def live_requests(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            html = await self.requests_fragment(tx, page)
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def act(
        self,
        request: web.Request,
        action: Callable[[Context, Page, dict[str, str]], Awaitable[str]],
    ) -> web.Response:
        """Run one organiser action from a posted form, in one transaction; then back to
        the overview, saying what happened, or the overview with what went wrong."""
        try:
            async with self.bot.store.transaction() as tx:
                page, form = await self.checked_form(request, tx)
                ctx = self.context(tx, page)
                query = await action(ctx, page, form)
        except UserError as problem:
            lang = request.get(LANG) or self.lang_of_browser(request)
            text = self.bot.catalog.text(lang, problem.key, **problem.params)
            posted = await request.post()
            kept = {k: v for k, v in posted.items() if isinstance(v, str) and k != "csrf"}
            return await self.overview(request, problem=text, form=kept)
        self.notify()
        raise web.HTTPSeeOther(f"/?{query}")

    async def pick_up(self, request: web.Request) -> web.Response:
        async def take(ctx: Context, page: Page, form: dict[str, str]) -> str:
            picked = await organising.pick_up(ctx, int(request.match_info["nr"]))
            return f"done=pick_up&nr={picked.id}"

        return await self.act(request, take)

    async def assign(self, request: web.Request) -> web.Response:
        async def give(ctx: Context, page: Page, form: dict[str, str]) -> str:
            helper = form.get("helper", "")
            if not helper.isdecimal():
                raise UserError("web.choose_helper_first")
            assigned = await organising.assign(ctx, int(request.match_info["nr"]), int(helper))
            return f"done=assign&nr={assigned.request_id}"

        return await self.act(request, give)

    async def on_behalf(self, request: web.Request) -> web.Response:
        async def place(ctx: Context, page: Page, form: dict[str, str]) -> str:
            name, line = form.get("name", "").strip(), form.get("line", "").strip()
            if not name or not line:  # the chat's explanation speaks of /namens
                raise UserError("web.behalf_missing")
            placed = await organising.on_behalf(ctx, page.who.community_id, name, line)
            return f"done=behalf&nr={placed.request_id}"

        return await self.act(request, place)

    async def export(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            exported = await organising.export_requests(
                self.context(tx, page), page.who.community_id
            )
        return web.Response(
            body=exported.content,
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
        )

    async def settings(
        self,
        request: web.Request,
        *,
        problem: str | None = None,
        failed: str | None = None,
        typed: str = "",
    ) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            values = await organising.community_settings(
                self.context(tx, page), page.who.community_id
            )
        changed = request.query.get("changed", "")
        return self.show(
            "settings",
            page,
            status=400 if problem else 200,
            values=values,
            changed=next((v for v in values if v.setting.name == changed), None),
            problem=problem,
            failed=failed,
            typed=typed,
        )

    async def change_setting(self, request: web.Request) -> web.Response:
        try:
            async with self.bot.store.transaction() as tx:
                page, form = await self.checked_form(request, tx)
                name = form.get("name", "")
                ctx = self.context(tx, page)
                if "default" in form:
                    result = await organising.reset_setting(ctx, page.who.community_id, name)
                else:
                    result = await organising.change_setting_in_form(
                        ctx, page.who.community_id, name, form.get("value", "")
                    )
        except UserError as problem:
            lang = request.get(LANG) or self.lang_of_browser(request)
            text = self.bot.catalog.text(lang, problem.key, **problem.params)
            posted = await request.post()
            failed, value = posted.get("name"), posted.get("value")
            return await self.settings(
                request,
                problem=text,
                failed=failed if isinstance(failed, str) else None,
                typed=value if isinstance(value, str) else "",
            )
        changed = result.after.setting.name  # one of the schema's names, safe in a URL
        raise web.HTTPSeeOther(f"/settings?changed={changed}#{changed}")

    async def tables(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            coming = await dashboard.coming_tables(tx, page.who, self.now)
        return self.show("tables", page, tables=coming)

    async def circles(self, request: web.Request) -> web.Response:
        from adapters.web.figures import checkins_chart

        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            found = await circles.figures(self.context(tx, page))
        return self.show(
            "circles",
            page,
            figures=found,
            chart=checkins_chart(self.bot.catalog, page.lang, found.weeks),
        )

    async def charts(self, tx: Tx, page: Page) -> list[Chart]:
        """Every chart of the figures page, from the same core functions as the chat's."""
        from adapters.web.figures import all_charts

        weeks = await dashboard.weekly_figures(tx, page.who, self.now)
        checkins = (await circles.figures(self.context(tx, page))).weeks
        return all_charts(self.bot.catalog, page.lang, weeks, checkins)

    async def figures(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            charts = await self.charts(tx, page)
        return self.show("figures", page, charts=charts)

    async def figure_csv(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            charts = {c.name: c for c in await self.charts(tx, page)}
        chart = charts.get(request.match_info["name"])
        if chart is None:
            raise web.HTTPNotFound()
        stamp = self.now.astimezone(page.timezone).strftime("%Y-%m-%d")
        return web.Response(
            text=chart.csv(),
            content_type="text/csv",
            charset="utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="buurtbot-{chart.name}-{stamp}.csv"'
            },
        )

    async def places(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            counts = await dashboard.requests_by_postcode(tx, page.who, self.now)
        return self.show("places", page, counts=counts)

    async def members(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            people = await dashboard.members(tx, page.who)
        return self.show("members", page, people=people)
