"""One neighbourhood on two platforms: a Telegram group and a Matrix room.

Fatima asks on Matrix, Kees offers on Telegram; the bot runs both channels on one database,
as ``buurtbot run`` does with both configured. Only after Kees says yes do they learn each
other's name and how to reach each other, each on their own platform.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from nio import RoomCreateResponse, RoomPreset
from pydantic import SecretStr

from adapters.bootstrap import Runtime, bootstrap
from adapters.matrix import run_matrix
from adapters.settings import Settings
from adapters.telegram import run_telegram
from bot.clock import FakeClock
from tests.botapi import BotApiServer
from tests.conftest import MONDAY_MORNING
from tests.test_matrix import FAST, Resident, nl
from tests.test_telegram import paced_as

if TYPE_CHECKING:
    from tests.synapse import MatrixUsers, SynapseServer

pytest_plugins = ["tests.synapse"]

GROUP_ID = -1009876543210


@pytest.fixture(autouse=True)
def retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def telegram() -> AsyncIterator[BotApiServer]:
    async with BotApiServer(time_scale=0.01) as server:
        yield server


async def both_channels(
    settings: Settings, telegram: BotApiServer
) -> tuple[Runtime, asyncio.Event, list[asyncio.Task[None]]]:
    runtime = await bootstrap(settings, clock=FakeClock(MONDAY_MORNING))
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(run_telegram(runtime, settings, stop, limits=paced_as(telegram))),
        asyncio.create_task(run_matrix(runtime, settings, stop, limits=FAST)),
    ]
    return runtime, stop, tasks


async def test_asked_on_matrix_helped_from_telegram(
    synapse: SynapseServer, matrix: MatrixUsers, telegram: BotApiServer, tmp_path: Path
) -> None:
    account = await asyncio.to_thread(synapse.register, f"buurtbot-{secrets.token_hex(4)}")
    await asyncio.to_thread(synapse.override_ratelimit, account.user_id)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        telegram_token=SecretStr(telegram.token),
        telegram_base_url=telegram.base_url,
        matrix_homeserver=synapse.base_url,
        matrix_user=account.user_id,
        matrix_password=SecretStr(account.password),
        house_rules_required=False,
    )
    runtime, stop, tasks = await both_channels(settings, telegram)

    def alive() -> None:
        for task in tasks:
            if task.done():
                task.result()
                raise AssertionError("a channel stopped by itself")

    try:
        # The neighbourhood starts as a Telegram group; Kees offers help there.
        group = telegram.group(GROUP_ID, "Buurt Middelland")
        kees = telegram.user(2002, "Kees", "kees_b")
        telegram.send_text(group, kees, "/start")
        await telegram.wait_sent(1, chat_id=group.id)
        telegram.send_text(kees, kees, "/aanbod boodschappen ma-vr middag")
        await telegram.wait_for(
            lambda: any("Je biedt aan" in (s.text or "") for s in telegram.sent_to(kees)),
            what="the offer saved",
        )

        # Its Matrix room joins the same neighbourhood; Fatima asks there.
        client = await matrix.client("fatima", rate_limited=False)
        await client.set_displayname("Fatima")
        fatima = Resident("Fatima", client, account.user_id, alive)
        created = await client.room_create(
            name="Burenhulp Middelland", preset=RoomPreset.private_chat, invite=[account.user_id]
        )
        assert isinstance(created, RoomCreateResponse), created
        await fatima.expect(nl("general.welcome_group"), room=created.room_id)
        dm = await fatima.open_direct_room()
        await fatima.say(dm, "!vraag boodschappen morgen middag melk en brood")
        visibility = await fatima.expect(nl("request.ask_visibility"), room=dm)
        await fatima.reply(visibility, "3")  # only helpers who are asked
        await fatima.expect(nl("request.placed_helpers"), room=dm)

        # Kees is asked on Telegram, without her name; he says yes there.
        def proposal() -> bool:
            return any("Kun jij helpen?" in (s.text or "") for s in telegram.sent_to(kees))

        await telegram.wait_for(proposal, what="the proposal to Kees")
        [asked] = [m for m in telegram.messages_in(kees) if "Kun jij helpen?" in (m.text or "")]
        assert "Fatima" not in (asked.text or "")
        assert "melk en brood" in (asked.text or "")
        telegram.press(kees, kees, asked.message_id, asked.callback_data("Ik help"))

        # Now each learns the other's name and how to reach them, on their own platform.
        found = await fatima.expect(nl("match.found_requester", name="Kees"), room=dm)
        assert "@kees_b" in found.body

        def introduced() -> str | None:
            for sent in telegram.sent_to(kees):
                if "Je helpt Fatima" in (sent.text or ""):
                    return sent.text
            return None

        await telegram.wait_for(lambda: introduced() is not None, what="Kees's introduction")
        assert fatima.user_id in (introduced() or "")
        async with runtime.store.transaction() as tx:
            communities = await tx.communities()
            linked = await tx.group_chats(communities[0].id)
        assert len(communities) == 1
        assert {chat.platform for chat in linked} == {"telegram", "matrix"}
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=30)
        await runtime.close()
