"""A real Synapse homeserver on 127.0.0.1 for the test suite, and helpers to drive it.

Test modules load the fixtures with::

    pytest_plugins = ["tests.synapse"]

`synapse` starts one homeserver per test run (and skips when matrix-synapse is not
installed); `matrix` makes logged-in matrix-nio clients for fresh users, rooms and messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import importlib.util
import logging
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self, TypeVar
from urllib.parse import quote

import httpx
import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinResponse,
    LoginResponse,
    RoomCreateResponse,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
)

log = logging.getLogger(__name__)

SERVER_NAME = "localhost"

_Response = TypeVar("_Response")


class HomeserverError(RuntimeError):
    """The homeserver did not start, or refused an admin request."""


@dataclass(frozen=True)
class MatrixUser:
    """An account registered on the test homeserver, with the device it was logged in on."""

    user_id: str
    access_token: str
    device_id: str
    password: str


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SynapseServer:
    """A Synapse process serving the client and admin APIs from `directory`.

    The database, signing key and media live in `directory`, so the server can be stopped
    and started again on the same folder without losing users or rooms.
    """

    def __init__(self, directory: Path, *, server_name: str = SERVER_NAME) -> None:
        self.directory = directory
        self.server_name = server_name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = directory / "homeserver.log"
        self._output_path = directory / "homeserver.out"
        self._config_path = directory / "homeserver.yaml"
        self._shared_secret = secrets.token_hex(32)
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        self._admin: MatrixUser | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        """Start Synapse and return once its client API answers."""
        if self._process is not None:
            raise HomeserverError("Synapse is already running")
        self._write_config()
        started = time.monotonic()
        self._output = self._output_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "--config-path", self._config_path],
            cwd=self.directory,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_ready(started + timeout)
        except BaseException:
            self.stop()
            raise
        log.info("Synapse answered after %.1f s", time.monotonic() - started)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Synapse: SIGTERM, then SIGKILL if it has not exited after `timeout` seconds."""
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._output is not None:
            self._output.close()
            self._output = None

    def restart(self) -> None:
        """Stop and start again on the same folder and port; users and rooms are kept."""
        self.stop()
        self.start()

    def register(
        self, localpart: str, *, admin: bool = False, password: str | None = None
    ) -> MatrixUser:
        """Register a user through the shared-secret admin API and log it in on a new device."""
        password = password or secrets.token_urlsafe(16)
        url = f"{self.base_url}/_synapse/admin/v1/register"
        nonce = self._check(httpx.get(url))["nonce"]
        mac = hmac.new(self._shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(f"{nonce}\0{localpart}\0{password}\0".encode())
        mac.update(b"admin" if admin else b"notadmin")
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        registered = self._check(httpx.post(url, json=body))
        return MatrixUser(
            user_id=registered["user_id"],
            access_token=registered["access_token"],
            device_id=registered["device_id"],
            password=password,
        )

    def override_ratelimit(
        self, user_id: str, *, messages_per_second: int = 0, burst_count: int = 0
    ) -> None:
        """Set the per-user rate-limit override; zeros switch rate limiting off for the user.

        The bot account needs this in production: Synapse allows a normal account only
        0.2 messages per second after a burst of 10.
        """
        if self._admin is None:
            self._admin = self.register(f"admin-{secrets.token_hex(4)}", admin=True)
        url = f"{self.base_url}/_synapse/admin/v1/users/{quote(user_id)}/override_ratelimit"
        limits = {"messages_per_second": messages_per_second, "burst_count": burst_count}
        headers = {"Authorization": f"Bearer {self._admin.access_token}"}
        self._check(httpx.post(url, json=limits, headers=headers))

    def _write_config(self) -> None:
        # PyYAML comes with matrix-synapse, so it is imported only once a server is started.
        import yaml

        log_config = {
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "plain",
                    "filename": str(self.log_path),
                    "encoding": "utf8",
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        unlimited = {"per_second": 1000, "burst_count": 1000}
        config = {
            "server_name": self.server_name,
            "pid_file": str(self.directory / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self.directory / "homeserver.db")},
            },
            "log_config": str(self.directory / "log.yaml"),
            "media_store_path": str(self.directory / "media"),
            # Generated by Synapse on first start when missing.
            "signing_key_path": str(self.directory / "signing.key"),
            "trusted_key_servers": [],
            "report_stats": False,
            "enable_registration": False,
            "registration_shared_secret": self._shared_secret,
            # Password hashing at the production cost makes every registration slow.
            "bcrypt_rounds": 4,
            # Every test logs in from 127.0.0.1; message limits stay at production values.
            "rc_login": {
                "address": unlimited,
                "account": unlimited,
                "failed_attempts": unlimited,
            },
        }
        (self.directory / "log.yaml").write_text(yaml.safe_dump(log_config))
        self._config_path.write_text(yaml.safe_dump(config))

    def _wait_until_ready(self, deadline: float) -> None:
        assert self._process is not None
        url = f"{self.base_url}/_matrix/client/versions"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise HomeserverError(
                    f"Synapse exited with code {self._process.returncode}.\n{self._log_tail()}"
                )
            try:
                if httpx.get(url, timeout=1.0).is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise HomeserverError(f"Synapse did not answer on {url} in time.\n{self._log_tail()}")

    def _log_tail(self, lines: int = 30) -> str:
        parts = []
        for path in (self._output_path, self.log_path):
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- last lines of {path} ---\n" + "\n".join(tail))
        return "\n".join(parts) or "(Synapse wrote no log)"

    @staticmethod
    def _check(response: httpx.Response) -> dict[str, Any]:
        if response.is_error:
            raise HomeserverError(
                f"{response.request.method} {response.request.url.path}: "
                f"{response.status_code} {response.text}"
            )
        body: dict[str, Any] = response.json()
        return body


def _expect(response: object, kind: type[_Response]) -> _Response:
    """`response` if it is a `kind`; otherwise fail with the error the server gave."""
    if not isinstance(response, kind):
        raise AssertionError(f"expected {kind.__name__}, got {type(response).__name__}: {response}")
    return response


class MatrixUsers:
    """Fresh users on a test homeserver, each with a logged-in matrix-nio client.

    User names get a random suffix, so every test has its own users. The clients give up
    at the first rate-limit answer (M_LIMIT_EXCEEDED) instead of waiting and retrying.
    """

    def __init__(self, server: SynapseServer) -> None:
        self.server = server
        self._clients: list[AsyncClient] = []

    async def client(
        self, name: str = "buur", *, admin: bool = False, rate_limited: bool = True
    ) -> AsyncClient:
        """A client logged in as a new user called `name-<random>`.

        With `rate_limited=False` the user gets the admin override the bot account has.
        """
        localpart = f"{name}-{secrets.token_hex(4)}"
        user = await asyncio.to_thread(self.server.register, localpart, admin=admin)
        if not rate_limited:
            await asyncio.to_thread(self.server.override_ratelimit, user.user_id)
        client = self._new_client(user.user_id)
        client.restore_login(user.user_id, user.device_id, user.access_token)
        return client

    async def login(self, user: MatrixUser) -> AsyncClient:
        """A client for an existing account, logged in with its password on a new device."""
        client = self._new_client(user.user_id)
        _expect(await client.login(user.password), LoginResponse)
        return client

    async def create_room(
        self, owner: AsyncClient, *members: AsyncClient, name: str | None = None
    ) -> str:
        """A private room made by `owner` that all `members` have been invited to and joined."""
        created = _expect(
            await owner.room_create(
                name=name,
                preset=RoomPreset.private_chat,
                invite=[member.user_id for member in members],
            ),
            RoomCreateResponse,
        )
        for member in members:
            _expect(await member.join(created.room_id), JoinResponse)
        return created.room_id

    async def send_text(self, sender: AsyncClient, room_id: str, text: str) -> str:
        """Send `text` as a plain message in the room; returns the event id."""
        content = {"msgtype": "m.text", "body": text}
        sent = _expect(await sender.room_send(room_id, "m.room.message", content), RoomSendResponse)
        return sent.event_id

    async def receive_texts(
        self, client: AsyncClient, room_id: str, count: int = 1, timeout: float = 10.0
    ) -> list[RoomMessageText]:
        """Sync until `count` texts have arrived in the room since the client's last sync.

        The first sync of a client starts at the room's recent history.
        """
        received: list[RoomMessageText] = []
        deadline = time.monotonic() + timeout
        timeline_filter = {"room": {"timeline": {"limit": 100}}}
        while len(received) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{client.user_id} received {len(received)} of {count} texts in {room_id}"
                )
            synced = _expect(
                await client.sync(timeout=int(remaining * 1000), sync_filter=timeline_filter),
                SyncResponse,
            )
            room = synced.rooms.join.get(room_id)
            if room is not None:
                received += [e for e in room.timeline.events if isinstance(e, RoomMessageText)]
        return received

    def _new_client(self, user_id: str) -> AsyncClient:
        config = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0)
        client = AsyncClient(self.server.base_url, user_id, config=config)
        self._clients.append(client)
        return client

    async def close(self) -> None:
        for client in self._clients:
            await client.close()
        self._clients.clear()


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    """One homeserver for the whole test run."""
    if importlib.util.find_spec("synapse") is None:
        pytest.skip("matrix-synapse is not installed (pip install -e '.[test]')")
    with SynapseServer(tmp_path_factory.mktemp("synapse")) as server:
        yield server


@pytest.fixture
async def matrix(synapse: SynapseServer) -> AsyncIterator[MatrixUsers]:
    """Fresh users with logged-in clients on the shared homeserver; clients closed after."""
    users = MatrixUsers(synapse)
    try:
        yield users
    finally:
        await users.close()
