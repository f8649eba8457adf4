"""The organisers' web pages over HTTP: signing in through the chat, sessions, CSRF, and
who sees what. (The same pages in a real browser: tests/test_web_browser.py.)"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.types import ChatKind, ChatRef, Sender
from storage.rows import web_login_t, web_session_t
from tests.web_site import Site, web_site


def browser() -> aiohttp.ClientSession:
    """A client that keeps cookies of 127.0.0.1 too, as a browser does."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


ANNA, KEES, FATIMA = "1", "2", "3"  # member ids, in the order they first wrote
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with web_site(f"sqlite:///{tmp_path / 'bot.db'}") as site:
        await site.chat.say(
            "@organiser anna",
            "kees (dm): /aanbod klusje boodschappen elke dag",
            "fatima (dm): /vraag boodschappen morgen 14:00 3021 melk en brood",
            "fatima (dm): [Alleen helpers die gevraagd worden]",
        )
        yield site


async def sign_in(site: Site, http: aiohttp.ClientSession, who: str = "anna") -> str:
    """Open the link from /dashboard and press the button; the overview's HTML."""
    link = await site.link_for(who)
    async with http.get(link) as page:
        assert page.status == 200
        assert "Open het dashboard" in await page.text()
    async with http.post(link) as page:
        assert page.status == 200, await page.text()
        assert str(page.url).endswith("/")
        return await page.text()


async def test_the_link_works_once_and_signs_in(site: Site) -> None:
    async with browser() as http:
        link = await site.link_for("anna")
        async with http.post(link) as page:
            html = await page.text()
        assert page.status == 200
        assert "Open hulpvragen" in html and "Anna" in html
        cookie = page.history[0].headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "Secure" not in cookie  # plain http on 127.0.0.1
    async with browser() as other:  # someone who got hold of the link
        async with other.post(link) as page:
            assert page.status == 403
            assert "al gebruikt of verlopen" in await page.text()
        async with other.get(site.url + "/") as page:
            assert page.status == 401
    async with site.chat.runtime.store.engine.connect() as conn:
        stored = (await conn.execute(select(web_login_t.c.token_hash))).scalars().all()
    token = link.rsplit("/", 1)[1]
    assert token not in stored and len(stored) == 1  # only a hash is kept


async def test_a_link_opened_after_fifteen_minutes_does_nothing(site: Site) -> None:
    link = await site.link_for("anna")
    site.chat.clock.advance(timedelta(minutes=16))
    async with browser() as http, http.post(link) as page:
        assert page.status == 403
        assert "/dashboard" in await page.text()


async def test_without_a_session_no_page_shows_anything(site: Site) -> None:
    async with browser() as http:
        for path in (
            "/",
            "/live/requests",
            "/tables",
            "/figures",
            "/figures/requests.csv",
            "/places",
            "/members",
            "/circles",
        ):
            async with http.get(site.url + path) as page:
                text = await page.text()
                assert page.status == 401, path
                assert "Fatima" not in text and "3021" not in text and "Kees" not in text
        http.cookie_jar.update_cookies({"buurtbot_session": "made-up"})
        async with http.get(site.url + "/members") as page:
            assert page.status == 401


async def test_only_organisers_get_a_link(site: Site) -> None:
    answer = await site.chat.say("kees (dm): /dashboard")
    assert "/login/" not in "\n".join(answer)
    assert "organisator" in "\n".join(answer)
    # typed in the group: the group hears, politely and naming nobody, where to ask
    answer = await site.chat.say("anna: /dashboard")
    assert answer == [
        "buurtbot -> group: Dat doen we liever in een privégesprek."
        " Stuur me /dashboard in een privébericht."
    ]


async def test_behind_https_the_session_cookie_is_secure(site: Site) -> None:
    from adapters.web import WebServer

    proxied = WebServer(
        site.chat.runtime.bot, host="127.0.0.1", port=0, base_url="https://buurt.example.org"
    )
    await proxied.start()
    try:
        token = (await site.link_for("anna")).rsplit("/", 1)[1]
        async with (
            browser() as http,
            http.post(f"{proxied.url}/login/{token}", allow_redirects=False) as page,
        ):
            assert page.status == 303
            cookie = page.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    finally:
        await proxied.close()


async def test_the_organiser_sees_their_neighbourhood(site: Site) -> None:
    async with browser() as http:
        await sign_in(site, http)
        async with http.get(site.url + "/members") as page:
            html = await page.text()
        assert "Kees" in html and "Fatima" in html and "organisator" in html
        async with http.get(site.url + "/places") as page:
            assert "3021" in await page.text()
        async with http.get(site.url + "/figures") as page:
            html = await page.text()
        assert html.count("<svg") == 6 and "Hulpvragen per week" in html
        assert "Check-ins gemist en opgevolgd" in html
        assert "<title>wk 48, Boodschappen: 1</title>" in html  # the bar of this week
        async with http.get(site.url + "/figures/requests.csv") as page:
            assert page.headers["Content-Type"].startswith("text/csv")
            rows = (await page.text()).splitlines()
        assert rows[0].startswith("Week van,Boodschappen")
        assert rows[-1].endswith(",1")  # this week: one request


async def test_another_neighbourhoods_organiser_sees_nothing_of_this_one(site: Site) -> None:
    bot = site.chat.runtime.bot
    elsewhere = ChatRef("console", "group2", ChatKind.GROUP, "Andere buurt")
    await bot.register_group(elsewhere)
    await bot.appoint_organiser(elsewhere, Sender("console", "bram", "Bram", handle="@bram"))
    async with browser() as http:
        await sign_in(site, http, "bram")
        for path in ("/", "/members", "/places", "/figures/requests.csv", "/live/requests"):
            async with http.get(site.url + path) as page:
                text = await page.text()
            assert page.status == 200, path
            assert "Fatima" not in text and "3021" not in text and "Kees" not in text, path


async def test_a_form_without_the_right_csrf_token_is_refused(site: Site) -> None:
    async with browser() as http:
        html = await sign_in(site, http)
        assert CSRF.search(html)
        async with http.post(site.url + "/logout", data={"csrf": "wrong"}) as page:
            assert page.status == 403
            assert "verlopen" in await page.text()
        async with http.get(site.url + "/") as page:
            assert page.status == 200  # still signed in
        token = CSRF.search(html)
        assert token is not None
        async with http.post(site.url + "/logout", data={"csrf": token[1]}) as page:
            assert page.status == 200
        async with http.get(site.url + "/") as page:
            assert page.status == 401


async def test_a_session_ends_after_twelve_hours(site: Site) -> None:
    async with browser() as http:
        await sign_in(site, http)
        site.chat.clock.advance(timedelta(hours=12, minutes=1))
        async with http.get(site.url + "/") as page:
            assert page.status == 401


async def test_a_forgotten_organiser_loses_her_sessions(site: Site) -> None:
    async with browser() as http:
        await sign_in(site, http)
        await site.chat.say("anna (dm): /vergeetmij", "anna (dm): [Ja, wis alles]")
        async with http.get(site.url + "/") as page:
            assert page.status == 401
    async with site.chat.runtime.store.engine.connect() as conn:
        for table in (web_login_t, web_session_t):
            assert (await conn.execute(select(func.count()).select_from(table))).scalar() == 0


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html
    return found[1]


async def test_assigning_on_the_web_tells_the_helper_in_the_chat(site: Site) -> None:
    site.chat.clock.advance(timedelta(hours=2))  # two hours without a helper
    async with browser() as http:
        html = await sign_in(site, http)
        assert "#1" in html and "Kees" in html  # the request, and Kees to choose
        async with http.post(
            site.url + "/requests/1/assign", data={"csrf": csrf_of(html), "helper": KEES}
        ) as page:
            html = await page.text()
        assert page.status == 200 and "Vraag 1 heeft een helper" in html
        async with http.get(site.url + "/figures/wait.csv") as page:
            rows = (await page.text()).splitlines()
        assert rows[0] == "Week van,mediaan (p50),p90 (9 op de 10 sneller),Met helper"
        assert rows[-1] == "23-11-2026,2.0,2.0,1"
    await site.deliver()
    told = site.chat.to("kees")[-1]
    assert "Anna" in told and "1" in told
    assert any("Kees" in line for line in site.chat.to("fatima"))
    async with site.chat.runtime.store.transaction() as tx:
        request = await tx.request(1)
        assert request is not None and request.helper_id == int(KEES)
        assert [e.action for e in await tx.audit_log(1)][:2] == ["assign", "web_login"]


async def test_assigning_what_is_taken_or_someone_else_says_so(site: Site) -> None:
    async with browser() as http:
        html = await sign_in(site, http)
        token = csrf_of(html)
        async with http.post(
            site.url + "/requests/1/assign", data={"csrf": token, "helper": FATIMA}
        ) as page:  # Fatima herself
            assert page.status == 400
            assert "Die buur doet niet (meer) mee" in await page.text()
        async with http.post(site.url + "/requests/1/assign", data={"csrf": token}) as page:
            assert page.status == 400
            assert "Kies eerst een helper" in await page.text()
        async with http.post(site.url + "/requests/1/pick-up", data={"csrf": token}) as page:
            assert "Je helpt zelf bij vraag 1" in await page.text()
        async with http.post(
            site.url + "/requests/1/assign", data={"csrf": token, "helper": KEES}
        ) as page:
            assert page.status == 400
    async with site.chat.runtime.store.transaction() as tx:
        request = await tx.request(1)
        assert request is not None and request.helper_id == 1  # Anna took it herself
    log = "\n".join(await site.chat.say("anna (dm): /logboek"))
    assert "zelf een vraag opgepakt" in log and "aangemeld op het dashboard" in log


async def test_an_organiser_elsewhere_cannot_act_on_this_neighbourhood(site: Site) -> None:
    bot = site.chat.runtime.bot
    elsewhere = ChatRef("console", "group2", ChatKind.GROUP, "Andere buurt")
    await bot.register_group(elsewhere)
    await bot.appoint_organiser(elsewhere, Sender("console", "bram", "Bram", handle="@bram"))
    async with browser() as http:
        html = await sign_in(site, http, "bram")
        async with http.post(
            site.url + "/requests/1/assign", data={"csrf": csrf_of(html), "helper": KEES}
        ) as page:
            assert page.status == 400
            assert "organisatoren" in await page.text()
    async with site.chat.runtime.store.transaction() as tx:
        request = await tx.request(1)
        assert request is not None and request.helper_id is None


async def test_a_request_on_behalf_of_a_neighbour(site: Site) -> None:
    async with browser() as http:
        html = await sign_in(site, http)
        async with http.post(
            site.url + "/behalf",
            data={"csrf": csrf_of(html), "name": "Mevrouw Jansen", "line": "klusje morgen lamp"},
        ) as page:
            html = await page.text()
        assert "Vraag 2 staat erin" in html and "Mevrouw Jansen" in html
        async with http.post(
            site.url + "/behalf",
            data={"csrf": csrf_of(html), "name": "Piet", "line": "eh"},
        ) as page:
            html = await page.text()
        assert page.status == 400 and 'value="eh"' in html  # kept, to fix


async def test_the_widen_time_set_on_the_settings_page_counts_at_once(site: Site) -> None:
    async with browser() as http:
        await sign_in(site, http)
        async with http.get(site.url + "/settings") as page:
            html = await page.text()
        assert "Na hoeveel tijd" in html or "verbreden" in html.lower() or "groep" in html
        async with http.post(
            site.url + "/settings",
            data={"csrf": csrf_of(html), "name": "widen_after_hours", "value": "1u"},
        ) as page:
            html = await page.text()
        assert page.status == 200 and "Opgeslagen: 1 uur" in html
        async with http.post(
            site.url + "/settings",
            data={"csrf": csrf_of(html), "name": "widen_after_hours", "value": "morgen"},
        ) as page:
            html = await page.text()
        assert page.status == 400 and 'aria-invalid="true"' in html and "morgen" in html
    await site.chat.say(
        "fatima (dm): /vraag klusje morgen middag lamp ophangen",
        "fatima (dm): [In de groep, zonder mijn naam]",
    )
    before = len(site.chat.to("group"))
    await site.chat.say("@wait 1h")
    assert "Een buur vraagt om hulp" in "\n".join(site.chat.to("group")[before:])
    async with site.chat.runtime.store.transaction() as tx:
        assert (await tx.audit_log(1))[0].action == "setting"


async def test_buurtbot_run_serves_the_dashboard_beside_the_channels(tmp_path: Path) -> None:
    import asyncio

    from adapters.bootstrap import Runtime
    from adapters.service import serve
    from adapters.settings import Settings

    async with browser() as http:
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}", web_port=port)
        stop = asyncio.Event()
        ready: list[Runtime] = []
        serving = asyncio.create_task(
            serve(settings, stop, platforms=[], on_ready=lambda runtime, _: ready.append(runtime))
        )
        async with asyncio.timeout(30):
            while not ready:
                await asyncio.sleep(0.01)
        async with http.get(f"http://127.0.0.1:{port}/") as page:
            assert page.status == 401 and "/dashboard" in await page.text()
        assert ready[0].bot.config.web_base_url == "http://127.0.0.1:8088"
        stop.set()
        assert await asyncio.wait_for(serving, 30) is True


async def test_the_pages_speak_the_organisers_language(site: Site) -> None:
    await site.chat.say("anna (dm): /taal en")
    async with browser() as http:
        link = await site.link_for("anna")
        assert "Open your dashboard with this link" in site.chat.to("anna")[-1]
        async with http.post(link) as page:
            html = await page.text()
        assert '<html lang="en">' in html and "Open requests" in html
        assert "Shopping" in html and "Requests per week, by kind" in html
        async with http.post(site.url + "/behalf", data={"csrf": csrf_of(html)}) as page:
            assert page.status == 400  # nothing filled in: said in English
            assert "Fill in the neighbour&#39;s name and the request" in await page.text()


@pytest.mark.parametrize(
    ("lang", "html_tag", "open_requests", "shopping"),
    [
        ("tr", '<html lang="tr">', "Açık istekler", "Alışveriş"),
        ("ar", '<html lang="ar" dir="rtl">', "الطلبات المفتوحة", "التسوق"),
    ],
)
async def test_the_pages_speak_turkish_or_arabic_right_to_left(
    site: Site, lang: str, html_tag: str, open_requests: str, shopping: str
) -> None:
    await site.chat.say(f"anna (dm): /taal {lang}")
    async with browser() as http:
        link = await site.link_for("anna")
        async with http.post(link) as page:
            html = await page.text()
        assert html_tag in html and open_requests in html and shopping in html


async def test_the_meal_tables_page_shows_seats_waiting_list_and_diets(site: Site) -> None:
    await site.chat.say(
        "kees (dm): /tafel di 18:00 Wijkpaleis, 2 plaatsen, € 3, stamppot, vegetarisch",
        "fatima: [Schuif aan]",
        "fatima (dm): geen vis",
        "piet: [Schuif aan]",
        "piet (dm): geen vis",
        "joris: [Schuif aan]",
    )
    async with browser() as http:
        await sign_in(site, http)
        async with http.get(site.url + "/tables") as page:
            html = await page.text()
    row = html[html.index("24-11 18:00") :]
    row = row[: row.index("</tr>")]
    cells = [c.split(">")[-1].strip() for c in row.split("</td>")][:-1]
    assert cells == ["Wijkpaleis", "Kees", "2", "2", "1", "geen vis: 2"]


def form_values(html: str, name: str) -> dict[str, str]:
    """What the settings form ``name`` sends when it is saved as it is shown."""
    import html as markup

    form = html[html.index(f'id="{name}"') :]
    form = form[: form.index("</form>")]
    value = re.search(r"<textarea[^>]*>(.*?)</textarea>", form, re.S) or re.search(
        r'<input id="value-[^"]*" name="value" value="([^"]*)"', form
    )
    assert value is not None, form
    return {"csrf": csrf_of(html), "name": name, "value": markup.unescape(value.group(1))}


async def test_saving_a_setting_unchanged_changes_nothing(site: Site) -> None:
    async with browser() as http:
        await sign_in(site, http)
        async with http.get(site.url + "/settings") as page:
            html = await page.text()
        sent = form_values(html, "house_rules")
        assert sent["value"] == ""  # no own rules: an empty box, not the words for them
        async with http.post(site.url + "/settings", data=sent) as page:
            html = await page.text()
        assert page.status == 200
        async with http.post(
            site.url + "/settings", data=form_values(html, "widen_after_hours")
        ) as page:
            html = await page.text()
        assert page.status == 200
        async with site.chat.runtime.store.transaction() as tx:
            assert (await tx.community(1)).settings == {}
            assert "setting" not in [e.action for e in await tx.audit_log(1)]
        # own rules are shown as written, and kept as written when saved unchanged
        rules = {"csrf": csrf_of(html), "name": "house_rules", "value": "Wees lief.\nVraag gerust."}
        async with http.post(site.url + "/settings", data=rules) as page:
            html = await page.text()
        assert form_values(html, "house_rules")["value"] == "Wees lief.\nVraag gerust."
        async with http.post(site.url + "/settings", data=form_values(html, "house_rules")):
            pass
        async with site.chat.runtime.store.transaction() as tx:
            assert (await tx.community(1)).settings == {"house_rules": "Wees lief.\nVraag gerust."}
            actions = [e.action for e in await tx.audit_log(1)]
        assert actions.count("setting") == 1


# Els starts circle Kerklaan; Piet joins and says what he likes to do and might need; Els's
# check-in at 10:00 goes unanswered, so at 12:00 Piet is asked and goes to look; Anna
# links a partner.
CIRCLE = (
    "els (dm): /cirkel nieuw Kerklaan",
    "piet (dm): /start",
    "els (dm): /cirkel uitnodigen @piet",
    "piet (dm): [Meedoen]",
    "piet (dm): soep koken",
    "piet (dm): een lift naar het ziekenhuis",
    "els (dm): /omkijken dagelijks 10:00",
    "els (dm): [Ja, zo is het goed]",
    "@wait 3h",
    "piet (dm): [Ik ga even kijken]",
    "anna (dm): /cirkel partner 1 Welzijn Oegstgeest, 071 123 4567",
)
PRIVATE = ("Kerklaan", "Els", "Piet", "soep koken", "ziekenhuis", "Welzijn", "071 123")


def row_cells(html: str, heading: str) -> list[str]:
    row = html[html.index(f'<th scope="row">{heading}</th>') :]
    row = row[: row.index("</tr>")]
    return [c.split(">")[-1].strip() for c in row.split("</td>")][:-1]


async def test_the_circles_page_shows_figures_and_no_names_or_answers(site: Site) -> None:
    await site.chat.say(*CIRCLE)
    assert "Piet komt even bij je kijken of belt je." in site.chat.to("els")
    async with browser() as http:
        await sign_in(site, http)
        async with http.get(site.url + "/circles") as page:
            html = await page.text()
        assert page.status == 200
        summary = (
            "Cirkels: 1 (open voor nieuwe buren: 1). Buren in een cirkel: 2. Met check-in aan: 1."
        )
        assert summary in html and "Partners gekoppeld: 1." in html
        assert row_cells(html, "Cirkel 1") == ["2", "open", "1", "1"]
        assert "<title>wk 48, Geen antwoord: 1</title>" in html
        assert "<title>wk 48, Iemand ging kijken: 1</title>" in html
        for private in PRIVATE:
            assert private not in html, private
        async with http.get(site.url + "/figures/checkins.csv") as page:
            rows = (await page.text()).splitlines()
        assert rows[0] == "Week van,Gevraagd,Geen antwoord,Iemand ging kijken"
        assert rows[-1] == "23-11-2026,1,1,1" and rows[-2].endswith(",0,0,0")
    await site.chat.say("anna (dm): /cirkel cijfers")  # the chat: the same figures
    said = site.chat.to("anna")[-1]
    assert "1. Kerklaan: 2 buren, 1 partner(s)" in said
    assert (
        "1 keer geen antwoord, 1 keer ging iemand kijken. 1 buren hebben een check-in aan" in said
    )


async def test_an_organiser_elsewhere_sees_nothing_of_these_circles(site: Site) -> None:
    await site.chat.say(*CIRCLE)
    bot = site.chat.runtime.bot
    elsewhere = ChatRef("console", "group2", ChatKind.GROUP, "Andere buurt")
    await bot.register_group(elsewhere)
    await bot.appoint_organiser(elsewhere, Sender("console", "bram", "Bram", handle="@bram"))
    async with browser() as http:
        await sign_in(site, http, "bram")
        async with http.get(site.url + "/circles") as page:
            html = await page.text()
        assert (
            page.status == 200
            and "Er zijn nog geen cirkels (voorzorgcirkels) in deze buurt" in html
        )
        assert "Cirkel 1" not in html and "Geen antwoord: 1" not in html
        for private in PRIVATE:
            assert private not in html, private
        async with http.get(site.url + "/figures/checkins.csv") as page:
            rows = (await page.text()).splitlines()
        assert rows[-1] == "23-11-2026,0,0,0"


async def test_the_circles_page_in_english(site: Site) -> None:
    await site.chat.say(*CIRCLE, "anna (dm): /taal en")
    async with browser() as http:
        await sign_in(site, http)
        async with http.get(site.url + "/circles") as page:
            html = await page.text()
        assert '<html lang="en">' in html and "Figures only." in html
        assert row_cells(html, "Circle 1") == ["2", "open", "1", "1"]
        assert "Check-ins missed and followed up" in html
        assert "No answer: 1</title>" in html and "Someone went to look: 1</title>" in html
