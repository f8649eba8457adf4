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
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from bot import dashboard, weblogin
from bot.app import Bot
from bot.errors import UserError
from bot.model import WebSession
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


@dataclass
class Page:
    """One signed-in request: who, for which community, in which language."""

    session: WebSession
    token: str
    lang: str
    who: dashboard.Organiser
    community_name: str
    timezone: ZoneInfo
    member_name: str


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
        catalog = self.bot.catalog

        def t(key: str, /, **params: object) -> str:
            return catalog.text(lang, key, **params)

        html = self.templates.get_template(name).render(
            t=t, lang=lang, page=page, csrf=page.session.csrf_token if page else "", **values
        )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def show(self, name: str, page: Page, **values: Any) -> web.Response:
        """A signed-in page, ``pages/<name>.html``, with ``name`` marked in the menu."""
        return self.render(f"pages/{name}.html", page.lang, page=page, here=name, **values)

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
            community.name,
            ZoneInfo(community.timezone),
            member.display_name,
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
    async def overview(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            weeks = await dashboard.weekly_figures(tx, page.who, self.now)
        from adapters.web.figures import requests_chart

        return self.show(
            "overview",
            page,
            chart=requests_chart(self.bot.catalog, page.lang, weeks),
            requests_html=await self.requests_fragment(page),
        )

    async def requests_fragment(self, page: Page) -> str:
        return "<!-- filled in by organising -->"

    async def live_requests(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
        return web.Response(
            text=await self.requests_fragment(page), content_type="text/html", charset="utf-8"
        )

    async def tables(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            coming = await dashboard.coming_tables(tx, page.who, self.now)
        return self.show("tables", page, tables=coming)

    async def circles(self, request: web.Request) -> web.Response:
        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
        return self.show(
            "circles",
            page,
        )

    async def figures(self, request: web.Request) -> web.Response:
        from adapters.web.figures import all_charts

        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            weeks = await dashboard.weekly_figures(tx, page.who, self.now)
        charts = all_charts(self.bot.catalog, page.lang, weeks)
        return self.show("figures", page, charts=charts)

    async def figure_csv(self, request: web.Request) -> web.Response:
        from adapters.web.figures import all_charts

        async with self.bot.store.transaction() as tx:
            page = await self.signed_in(request, tx)
            weeks = await dashboard.weekly_figures(tx, page.who, self.now)
        charts = {c.name: c for c in all_charts(self.bot.catalog, page.lang, weeks)}
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
