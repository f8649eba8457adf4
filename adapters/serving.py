"""One aiohttp application on a host and port, as the health endpoint and the dashboard
are served: no access log (a monitor's polling would fill it, and a login link's path holds
its token), no signal handlers (the process owns those)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web


class AppServer:
    """Serves an application on ``host``:``port`` (port 0: any free port, for tests)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` actually bound."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("the server is not running")
        host, port = self._runner.addresses[0][:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    async def serve(self, app: web.Application) -> None:
        from aiohttp import web

        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await self.close()
            raise

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
