"""The HTTP server: aiohttp on an asyncio event loop in a thread of its own.

One event loop holds every live-stream client (a waiting SSE client costs a coroutine, not a
thread), while the gRPC server, the feeder and the event consumers keep their own threads.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from aiohttp import web

from services.common.config import ConfigError
from services.gateway.http_api.routes import Context, build_app

log = logging.getLogger(__name__)


class HttpServer:
    def __init__(self, context: Context, host: str, port: int):
        self.context = context
        self.host = host
        self.requested_port = port
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None

    @property
    def app(self) -> web.Application:
        return self._runner.app

    def start(self) -> int:
        self._thread = threading.Thread(target=self._run, name="gateway-http", daemon=True)
        self._thread.start()
        self._started.wait(30)
        if isinstance(self._failure, OSError):
            # The port is taken or privileged: the operator's to fix, named, and no traceback.
            raise ConfigError(f"configuration error: HTTP_PORT={self.requested_port} cannot be listened on "
                              f"({self._failure.strerror or self._failure}); expected a free TCP port")
        if self._failure is not None:
            raise OSError(f"cannot serve HTTP on {self.host}:{self.requested_port}: {self._failure}")
        return self.port

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._failure = exc
            self._started.set()
            return
        self._started.set()
        loop.run_forever()
        loop.run_until_complete(self._shutdown())
        loop.close()

    async def _serve(self) -> None:
        self.context.hub.attach(asyncio.get_running_loop())
        # Keep-alive must outlast an idle stream between heartbeats; access logs are the metrics' job.
        self._runner = web.AppRunner(build_app(self.context), access_log=None, handler_cancellation=True,
                                     shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.requested_port, backlog=2048, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        self.context.hub.close()
        self.context.hub.detach()
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
