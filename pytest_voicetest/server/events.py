"""Server-Sent Events: worker threads publish, streaming responses follow one channel.

A channel is one object's progress (a VoiceSim run's samples, a test run's results).
Publishing is thread-safe and never blocks; while something is in progress the last
event is kept, so a client that connects late starts from where things are. A stream
ends after a terminal event, or when the client goes away; a comment line every
`KEEPALIVE_S` seconds keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import StreamingResponse

KEEPALIVE_S = 15.0
QUEUE_SIZE = 10_000
Finished = Callable[[], tuple[str, dict[str, Any]] | None]


@dataclass(frozen=True)
class Event:
    number: int
    name: str
    data: dict[str, Any]
    terminal: bool

    def encode(self) -> str:
        return f"id: {self.number}\nevent: {self.name}\ndata: {json.dumps(self.data, separators=(',', ':'))}\n\n"


class Broker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]]] = {}
        self._last: dict[str, Event] = {}
        self._count = 0

    def publish(self, channel: str, name: str, data: dict[str, Any], *, terminal: bool = False) -> None:
        with self._lock:
            self._count += 1
            event = Event(self._count, name, data, terminal)
            if terminal:
                self._last.pop(channel, None)
            else:
                self._last[channel] = event
            targets = list(self._subscribers.get(channel, ()))
        for loop, queue in targets:
            try:
                loop.call_soon_threadsafe(_offer, queue, event)
            except RuntimeError:  # that subscriber's loop is closed
                continue

    async def follow(self, channel: str, finished: Finished | None = None) -> AsyncIterator[str]:
        """The channel's events as SSE text, from the latest one in progress; `finished()`
        (checked once subscribed) gives the terminal event of something already over."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        entry = (loop, queue)
        with self._lock:
            self._subscribers.setdefault(channel, []).append(entry)
            last = self._last.get(channel)
        try:
            yield ": following " + channel.split(":", 1)[0] + " events\n\n"
            over = await asyncio.to_thread(finished) if finished is not None else None
            if over is not None:
                yield Event(0, over[0], over[1], True).encode()
                return
            if last is not None:
                yield last.encode()
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if last is not None and event.number <= last.number:
                    continue
                yield event.encode()
                if event.terminal:
                    return
        finally:
            with self._lock:
                subscribers = self._subscribers.get(channel, [])
                if entry in subscribers:
                    subscribers.remove(entry)
                if not subscribers:
                    self._subscribers.pop(channel, None)

    def stream(self, channel: str, finished: Finished | None = None) -> StreamingResponse:
        return StreamingResponse(
            self.follow(channel, finished),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


def _offer(queue: asyncio.Queue[Event], event: Event) -> None:
    if not queue.full():  # a reader that stopped reading loses events, never blocks a worker
        queue.put_nowait(event)
