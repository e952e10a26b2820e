"""The live stream (Server-Sent Events) at /api/v1/stream, fanned out in the HTTP server's event loop.

A client gets a `snapshot` first (everything a dashboard shows, as it may see it), then each change
as an event whose id is its position in the change log. EventSource reconnects by itself and sends
the last id it received as Last-Event-ID: the stream continues right after it, without a gap and
without a repeat. When that position is gone from the replay buffer (or was issued by another
process), the client gets a fresh snapshot marked `"reset": true` instead.

A stream lives no longer than the token it was opened with: at the token's expiry the client gets a
`token-expired` event and the stream ends, so a revoked or departed user's screen stops receiving
figures within the token's lifetime. The dashboard reconnects with the token it holds then.

Each change is rendered once per visibility (full, or as the ranking shows an office the caller
may not see in detail) and every client waiting on the same event is woken at once, so a change
costs one JSON encoding and one write per client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import web

from services.common.context import Caller, request_id_var
from services.gateway.domain.changes import Entry
from services.gateway.domain.live import ALERT, DISTRICT, FEED, OFFICE, RANKS, SCHEME, SOURCE
from services.gateway.domain.monitor import Monitor
from services.gateway.http_api import present
from services.gateway.metrics import STREAM_CLIENTS, STREAM_REFUSED, STREAM_STARTED, STREAM_STARTS, observe_pushes

log = logging.getLogger(__name__)

RETRY_MILLISECONDS = 1000
BATCH = 500
TOKEN_EXPIRED = "token-expired"


def encode(event: str, position: str, data: Any) -> bytes:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # No position, no id line: an event outside the change log leaves the client's Last-Event-ID as it was.
    head = f"id: {position}\n" if position else ""
    return f"{head}event: {event}\ndata: {body}\n\n".encode()


def _seconds_left(caller: Caller) -> float | None:
    """Until the caller's token expires; None for a caller without one (AUTH_MODE=off, system)."""
    return None if caller.expires_at is None else caller.expires_at - time.time()


class StreamHub:
    def __init__(self, monitor: Monitor, heartbeat_seconds: float, max_clients: int):
        self.monitor = monitor
        self.log = monitor.changes
        self.heartbeat = heartbeat_seconds
        self.max_clients = max_clients
        self.clients = 0
        self._waiter: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called in the loop: changes recorded in other threads wake this loop's clients."""
        self._loop = loop
        self._waiter = asyncio.Event()
        self.log.wakers.append(self._wake_threadsafe)

    def detach(self) -> None:
        if self._wake_threadsafe in self.log.wakers:
            self.log.wakers.remove(self._wake_threadsafe)

    def _wake_threadsafe(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, asyncio.Event()
        waiter.set()

    def close(self) -> None:
        """In the loop, before shutdown: every stream ends."""
        self._closing = True
        self._wake()

    async def serve(self, request: web.Request, caller: Caller, last_event_id: str | None) -> web.StreamResponse:
        # Parsed before answering, so a malformed id is a 400, not a broken stream.
        seq = self.log.parse(last_event_id, "Last-Event-ID") if last_event_id else None
        if self.clients >= self.max_clients:
            STREAM_STARTS.labels("sse", STREAM_REFUSED).inc()
            raise web.HTTPServiceUnavailable(text=json.dumps({"error": {
                "code": 503, "status": "UNAVAILABLE", "message": "too many stream clients; retry later"}}),
                content_type="application/json", headers={"Retry-After": "5"})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                               "Cache-Control": "no-cache", "X-Accel-Buffering": "no",
                                               "X-Request-Id": request_id_var.get()})
        self.clients += 1
        STREAM_CLIENTS.labels("sse").inc()
        try:
            await response.prepare(request)
            await response.write(f"retry: {RETRY_MILLISECONDS}\n\n".encode())
            STREAM_STARTS.labels("sse", STREAM_STARTED).inc()
            await self._pump(response, caller, seq, reset=bool(last_event_id) and seq is None)
        except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.clients -= 1
            STREAM_CLIENTS.labels("sse").dec()
        return response

    async def _pump(self, response: web.StreamResponse, caller: Caller, seq: int | None, reset: bool) -> None:
        while not self._closing:
            left = _seconds_left(caller)
            if left is not None and left <= 0:
                await response.write(encode(TOKEN_EXPIRED, "", {"message": "token expired: sign in again"}))
                return
            if seq is None:
                snapshot = self.log.snapshot(self.monitor.view)
                position = self.log.position(snapshot.seq)
                body = present.snapshot(snapshot.view, caller, position)
                body["reset"] = reset
                await response.write(encode("snapshot", position, body))
                seq, reset = snapshot.seq, True
                continue
            waiter = self._waiter
            entries = self.log.after(seq, BATCH)
            if entries is None:
                seq = None  # fell out of the replay buffer: start again from a snapshot
                continue
            if entries:
                rendered = [(entry.recorded, self._render(entry, caller)) for entry in entries]
                chunk = b"".join(data for _, data in rendered)
                seq = entries[-1].seq
                if chunk:
                    observe_pushes("sse", [recorded for recorded, data in rendered if data])
                    await response.write(chunk)
                continue
            wait = self.heartbeat if left is None else min(self.heartbeat, left)
            try:
                await asyncio.wait_for(waiter.wait(), wait)
            except TimeoutError:
                if wait == self.heartbeat:
                    await response.write(b": keep-alive\n\n")

    def _render(self, entry: Entry, caller: Caller) -> bytes:
        change = entry.change
        detail = not change.office_id or caller.may_see_office(change.office_id)
        key = ("sse", detail)
        cached = entry.rendered.get(key)
        if cached is None:
            cached = entry.rendered[key] = self._encode(entry, detail)
        return cached

    def _encode(self, entry: Entry, detail: bool) -> bytes:
        change, view = entry.change, self.monitor.view
        position = self.log.position(entry.seq)
        if change.kind == OFFICE:
            return encode("office", position, present.office_summary(view, change.data, detail=detail))
        if change.kind == DISTRICT:
            return encode("district", position, present.district(view, change.data, with_indicators=False))
        if change.kind == RANKS:
            return encode("ranks", position, {"ranks": change.data})
        if not detail:
            return b""  # an alert or feed line of another office
        if change.kind == ALERT:
            action, alert = change.data
            return encode("alert", position, {"action": action, "alert": present.alert(alert)})
        if change.kind == FEED:
            return encode("feed", position, present.feed_item(view, change.data))
        if change.kind == SCHEME:
            return encode("scheme", position, present.scheme(change.data))
        if change.kind == SOURCE:
            return encode("source", position, present.source(change.data))
        return b""
