"""Figure 3: events per second through matrix-nio and a real Synapse, ours against echo.

A Synapse homeserver on 127.0.0.1 (``tests.synapse.SynapseServer``, as the Matrix tests
start it); the bot accounts and the residents have the rate-limit override. Each bot runs
in a process of its own (``bench.bots``): Buurtbot's ``run_matrix`` with its outbox unpaced,
and a bare matrix-nio client that echoes every text. Each resident has a private room with
the bot. The bot is started once to join its rooms, and stopped; then every resident
writes ``N / residents`` messages (``!mijn``, ``!help``: each answered with one message), and
the bot is started again: the rate is ``N`` divided by the time from its start until every
message has been answered, read back from the rooms. (At most 20 messages per resident:
Buurtbot answers a member's 21st command within a minute with a request to slow down, and
then stays silent.) Synapse is shared by both bots and
takes its part of the time: it is the platform.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, RoomCreateResponse, RoomPreset, RoomSendResponse

from bench import data
from bench.common import Figure, Measurement, cli, emit
from tests.synapse import MatrixUser, SynapseServer

TEXTS = ("!mijn", "!help")


class Bot:
    def __init__(self, server: SynapseServer, which: str, folder: Path) -> None:
        self.server, self.which, self.folder = server, which, folder
        self.password = secrets.token_urlsafe(12)
        self.account: MatrixUser | None = None
        self.process: asyncio.subprocess.Process | None = None
        self.database = folder / f"matrix-{which}.db"

    async def register(self) -> str:
        self.account = await asyncio.to_thread(
            self.server.register, f"bot-{self.which}-{secrets.token_hex(3)}", password=self.password
        )
        await asyncio.to_thread(self.server.override_ratelimit, self.account.user_id)
        await data.migrated(self.database)
        return self.account.user_id

    async def start(self) -> None:
        assert self.account is not None
        environment = {
            **os.environ,
            "BUURTBOT_DATABASE_URL": f"sqlite:///{self.database}",
            "BUURTBOT_MATRIX_HOMESERVER": self.server.base_url,
            "BUURTBOT_MATRIX_USER": self.account.user_id,
            "BUURTBOT_MATRIX_PASSWORD": self.password,
            "BUURTBOT_LOG_LEVEL": "WARNING",
            "BUURTBOT_HOUSE_RULES_REQUIRED": "false",
            "BENCH_MATRIX_TOKEN_FILE": str(self.folder / f"{self.which}.token"),
        }
        log = (self.folder / f"matrix-{self.which}.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.bots",
            f"matrix-{self.which}",
            env=environment,
            stdout=log,
            stderr=log,
        )
        log.close()

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
            self.process = None


async def resident(server: SynapseServer) -> AsyncClient:
    user = await asyncio.to_thread(server.register, f"buur-{secrets.token_hex(4)}")
    await asyncio.to_thread(server.override_ratelimit, user.user_id)
    client = AsyncClient(server.base_url, user.user_id, config=AsyncClientConfig(max_timeouts=0))
    client.restore_login(user.user_id, user.device_id, user.access_token)
    return client


async def bot_messages(client: AsyncClient, room_id: str, bot_id: str) -> int:
    """How many messages the bot wrote in the room (edits and reactions not counted)."""
    count, start = 0, ""
    while True:
        page = await client.room_messages(room_id, start=start, limit=1000)
        chunk = getattr(page, "chunk", [])
        count += sum(
            1
            for e in chunk
            if e.sender == bot_id
            and e.source.get("type") == "m.room.message"
            and "m.new_content" not in e.source.get("content", {})
        )
        end = getattr(page, "end", None)
        if not chunk or not end or end == start:
            return count
        start = end


async def one_bot(server: SynapseServer, which: str, folder: Path, per: int, people: int) -> float:
    bot = Bot(server, which, folder)
    bot_id = await bot.register()
    residents = [await resident(server) for _ in range(people)]
    rooms: list[str] = []
    try:
        for client in residents:
            created = await client.room_create(
                is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[bot_id]
            )
            assert isinstance(created, RoomCreateResponse), created
            rooms.append(created.room_id)
        await bot.start()  # joins the rooms
        deadline = time.monotonic() + 90
        while True:
            joined = 0
            for client, room in zip(residents, rooms, strict=True):
                members = await client.joined_members(room)
                joined += any(m.user_id == bot_id for m in getattr(members, "members", []))
            if joined == len(rooms):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {which} bot did not join its rooms")
            await asyncio.sleep(0.5)
        await asyncio.sleep(2.0)  # let it sync past its joins
        await bot.stop()

        async def write(client: AsyncClient, room: str) -> None:
            for n in range(per):
                content = {"msgtype": "m.text", "body": TEXTS[n % len(TEXTS)]}
                sent = await client.room_send(room, "m.room.message", content)
                assert isinstance(sent, RoomSendResponse), sent

        await asyncio.gather(*(write(c, r) for c, r in zip(residents, rooms, strict=True)))
        total = per * people
        began = time.monotonic()
        await bot.start()
        deadline = began + 600
        while True:
            await asyncio.sleep(0.5)
            counts = await asyncio.gather(
                *(bot_messages(c, r, bot_id) for c, r in zip(residents, rooms, strict=True))
            )
            if all(n >= per for n in counts):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {which} bot answered {sum(counts)} of {total}")
        return total / (time.monotonic() - began)
    finally:
        await bot.stop()
        for client in residents:
            await client.close()


async def run(folder: Path, per: int, people: int) -> list[Figure]:
    measurement = Measurement()
    synapse_dir = folder / "synapse"
    synapse_dir.mkdir()
    with SynapseServer(synapse_dir) as server:
        rates = {}
        for which in ("ours", "echo"):
            rates[which] = await one_bot(server, which, folder, per, people)
            print(f"  {which}: {rates[which]:.1f} events/s", flush=True)
    measurement.add(
        Figure(
            key="matrix.ratio",
            title="3. Matrix end to end: ours / bare matrix-nio echo bot",
            value=rates["ours"] / rates["echo"],
            unit="×",
            target=0.7,
            comparison=">=",
            reference=1.0,
            reference_name="echo bot",
            details={
                "ours events/s": round(rates["ours"], 1),
                "echo events/s": round(rates["echo"], 1),
                "messages": per * people,
                "rooms": people,
            },
        )
    )
    return measurement.figures


async def main() -> None:
    args = cli(__doc__ or "")
    per, people = (10, 5) if args.quick else (15, 20)
    with tempfile.TemporaryDirectory(prefix="buurtbot-bench-") as folder:
        figures = await run(Path(folder), per, people)
    emit(figures, args.out)


if __name__ == "__main__":
    asyncio.run(main())
