"""The organisers' web pages in a real browser: Debian's Chromium, driven by Playwright.

One browser for the whole module. The chat goes through the console channel; the pages
are served by the real web server on 127.0.0.1. Screenshots of the main pages are kept
in tmp/artefacts (BUURTBOT_TEST_ARTEFACTS to put them elsewhere); they are not committed.
axe-core (tests/vendor/axe.min.js) checks every main page for accessibility problems.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from tests.test_web import CIRCLE
from tests.web_site import Site, web_site

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).parent.parent
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
ARTEFACTS = Path(os.environ.get("BUURTBOT_TEST_ARTEFACTS", ROOT / "tmp" / "artefacts"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _chromium() -> Path:
    """Debian's Chromium, installed here when it is missing and we may; else a skip."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"no {CHROMIUM}, and apt-get cannot install it here (not root)")

    def apt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["apt-get", *args],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    installed = apt("install", "-y", "-q", "chromium")
    if installed.returncode != 0:  # a new machine may not have read the package lists yet
        apt("update", "-q")
        installed = apt("install", "-y", "-q", "chromium")
    if installed.returncode != 0 or not CHROMIUM.exists():
        pytest.skip(f"could not install chromium: {installed.stderr.strip()[-300:]}")
    return CHROMIUM


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    playwright_api = pytest.importorskip("playwright.async_api")
    executable = _chromium()
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(executable), args=["--no-sandbox"]
        )
        yield browser
        await browser.close()


@pytest_asyncio.fixture(loop_scope="module")
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with web_site(f"sqlite:///{tmp_path / 'bot.db'}") as site:
        await site.chat.say(
            "@organiser anna",
            "kees (dm): /aanbod klusje boodschappen elke dag",
            "joris (dm): /aanbod boodschappen vervoer elke dag",
            "fatima (dm): /vraag boodschappen morgen 14:00 3021 melk en brood",
            "fatima (dm): [Alleen helpers die gevraagd worden]",
        )
        yield site


async def signed_in(browser: Browser, site: Site, **options: Any) -> Page:
    """A fresh browser window in which Anna opened her /dashboard link."""
    context = await browser.new_context(viewport=DESKTOP, locale="nl-NL", **options)
    page = await context.new_page()
    await page.goto(await site.link_for("anna"))
    await page.get_by_role("button", name="Open het dashboard").click()
    await page.wait_for_url(site.url + "/")
    return page


async def shot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


async def test_from_the_chat_to_the_overview_then_assign_a_helper(
    browser: Browser, site: Site
) -> None:
    link = await site.link_for("anna")
    context = await browser.new_context(viewport=DESKTOP, locale="nl-NL")
    page = await context.new_page()
    await page.goto(link)
    await page.get_by_role("button", name="Open het dashboard").click()
    await page.wait_for_url(site.url + "/")
    requests = page.locator("#requests")
    assert "Boodschappen" in await requests.inner_text()
    assert "Fatima" in await requests.inner_text()
    assert await page.locator("svg.chart").count() == 1
    await shot(page, "overview")

    # the same link in another browser window: used
    other = await (await browser.new_context(locale="nl-NL")).new_page()
    await other.goto(link)
    await other.get_by_role("button", name="Open het dashboard").click()
    assert "al gebruikt of verlopen" in await other.inner_text("main")

    await page.get_by_label("Helper voor vraag 1").select_option(label="Kees")
    await page.get_by_role("button", name="Koppel aan vraag 1").click()
    await page.get_by_text("Vraag 1 heeft een helper").wait_for()
    await site.deliver()
    assert "Anna" in site.chat.to("kees")[-1]
    await context.close()


async def test_a_new_request_appears_on_the_overview_by_itself(
    browser: Browser, site: Site
) -> None:
    page = await signed_in(browser, site)
    assert await page.locator("#request-2").count() == 0
    await site.chat.say(
        "piet (dm): /vraag klusje morgen lamp ophangen",
        "piet (dm): [Alleen helpers die gevraagd worden]",
    )
    await page.locator("#request-2").wait_for(timeout=10_000)  # live.js asks every 3 s
    assert "Piet" in await page.locator("#request-2").inner_text()
    await page.context.close()


async def test_without_a_session_the_browser_sees_no_data(browser: Browser, site: Site) -> None:
    page = await (await browser.new_context(locale="nl-NL")).new_page()
    for path in ("/", "/members", "/figures"):
        answer = await page.goto(site.url + path)
        assert answer is not None and answer.status == 401
        text = await page.inner_text("body")
        assert "/dashboard" in text and "Fatima" not in text and "Kees" not in text
    await page.context.close()


async def test_the_widen_time_changed_in_the_browser_counts(browser: Browser, site: Site) -> None:
    page = await signed_in(browser, site)
    await page.get_by_role("link", name="Instellingen").click()
    field = page.locator("#value-widen_after_hours")
    await field.fill("1 uur")
    await page.locator("#widen_after_hours").get_by_role("button", name="Opslaan").click()
    await page.get_by_text("Opgeslagen: 1 uur").wait_for()
    await shot(page, "settings")
    await page.context.close()
    await site.chat.say(
        "piet (dm): /vraag klusje morgen middag lamp ophangen",
        "piet (dm): [In de groep, zonder mijn naam]",
    )
    before = len(site.chat.to("group"))
    await site.chat.say("@wait 1h")
    assert "Een buur vraagt om hulp" in "\n".join(site.chat.to("group")[before:])


async def test_a_form_with_a_wrong_csrf_token_is_refused(browser: Browser, site: Site) -> None:
    page = await signed_in(browser, site)
    await page.locator("input[name=csrf]").first.wait_for(state="attached")
    await page.eval_on_selector_all(
        "input[name=csrf]", "fields => fields.forEach(f => { f.value = 'forged'; })"
    )
    await page.get_by_role("button", name="Ik pak vraag 1 zelf op").click()
    await page.get_by_text("Dit formulier is verlopen").wait_for()
    async with site.chat.runtime.store.transaction() as tx:
        request = await tx.request(1)
        assert request is not None and request.helper_id is None
    await page.context.close()


async def test_the_pages_pass_axe_and_work_on_a_phone(browser: Browser, site: Site) -> None:
    if not AXE.exists():
        pytest.skip("tests/vendor/axe.min.js is missing (npm pack axe-core)")
    # a circle with a missed check-in, so that the circles page has its table and chart
    await site.chat.say(*CIRCLE)
    # axe is put into the page by the test: the pages themselves allow no outside script
    page = await signed_in(browser, site, bypass_csp=True)
    await page.set_viewport_size(PHONE)
    findings: dict[str, list[str]] = {}
    for path, name in (
        ("/", "overview"),
        ("/tables", "tables"),
        ("/circles", "circles"),
        ("/figures", "figures"),
        ("/places", "places"),
        ("/members", "members"),
        ("/settings", "settings"),
    ):
        await page.goto(site.url + path)
        if name == "circles":
            await page.get_by_role("row", name="Cirkel 1").wait_for()
        await page.add_script_tag(path=str(AXE))
        result = await page.evaluate(
            "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', "
            "'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))"
        )
        serious = [
            f"{v['id']} ({v['nodes']})" for v in result if v["impact"] in ("serious", "critical")
        ]
        if serious:
            findings[path] = serious
        # nothing wider than the phone: no sideways scrolling of the page itself
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
        await shot(page, f"phone-{name}")
    assert findings == {}
    # the keyboard reaches the first link of the menu after the skip link
    await page.goto(site.url + "/")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
    await page.context.close()
