"""A PostgreSQL server of a test's own, in a temporary folder, that the test may stop and start.

The shared server on 127.0.0.1:5432 is never touched: this one is made with ``initdb`` and
run with ``pg_ctl`` on a free port, with trust authentication for ``postgres``::

    with PostgresServer.create() as server:   # skips when initdb is not on the PATH
        url = server.url                      # postgresql+asyncpg://postgres@127.0.0.1:port/postgres
        server.stop()                         # connections are refused from now on
        server.start()                        # the same data, the same port

PostgreSQL refuses to run as root; when the tests run as root, the server runs as the
``postgres`` user (with ``runuser``), in a folder that user owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

SERVER_USER = "postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    def __init__(self, directory: Path, port: int, run_as: str | None) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.port = port
        self._run_as = run_as
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"

    @classmethod
    def create(cls) -> PostgresServer:
        """A new, stopped cluster; skips the test with the reason when it cannot be made."""
        if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
            pytest.skip("initdb and pg_ctl (PostgreSQL server binaries) are not on the PATH")
        run_as: str | None = None
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(SERVER_USER)
            except KeyError:
                pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL")
            if shutil.which("runuser") is None:
                pytest.skip("running as root and runuser is missing to run PostgreSQL")
            run_as = SERVER_USER
        directory = Path(tempfile.mkdtemp(prefix="buurtbot-pg-"))
        if run_as is not None:
            os.chown(directory, account.pw_uid, account.pw_gid)
        server = cls(directory, free_port(), run_as)
        server._run(
            "initdb",
            "--pgdata",
            str(server.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-sync",
        )
        return server

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self._run_as, "--"] if self._run_as else []
        done = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, cwd=self.directory, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        """Start the server and return once it takes connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} -c fsync=off"
        )
        self._run(
            "pg_ctl",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.directory / "server.log"),
            "--options",
            options,
            "--wait",
            "start",
        )

    def stop(self) -> None:
        """Stop at once: open connections are cut, new ones refused."""
        self._run("pg_ctl", "--pgdata", str(self.data), "--mode", "fast", "--wait", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "--pgdata", str(self.data), "--mode", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()


__all__ = ["PostgresServer"]
