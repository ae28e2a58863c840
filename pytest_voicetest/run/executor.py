"""Run coroutines on one background event loop so several calls can be in flight at once.

`LoopThread` owns the loop; `Executor` starts keyed calls on it, keeps up to `window` of
the calls queued ahead running, and hands results back in the order they are asked for.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from typing import Any

Job = Callable[[], Coroutine[Any, Any, Any]]
QUEUED_PER_SLOT = 4  # how many calls per slot may queue ahead: how far past a slow call the others run


class LoopThread:
    """A daemon thread owning an asyncio loop; `submit` returns a concurrent Future."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    ready.set()
                    loop.run_forever()

                self._thread = threading.Thread(target=serve, name="voicetest-loop", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def start(self) -> None:
        """Start the loop thread now rather than with the first call."""
        self._ensure()

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._ensure())

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.submit(coroutine).result()

    def close(self) -> None:
        """Cancel what is still running and stop the loop."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None:
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        loop.close()


class Executor:
    """Keyed calls on one loop: `wait` for each in turn while up to `window` run at once.

    The calls named ahead are queued; while a call is waited for, a queued call starts as
    soon as fewer than `window` are running (the moment one finishes, not when the one
    waited for does), so a slow call does not hold the others back.
    """

    def __init__(self) -> None:
        self.loop = LoopThread()
        self.futures: dict[str, Future[Any]] = {}
        self._queued: dict[str, Job] = {}
        self._running = 0
        self._window = 1
        self._lock = threading.RLock()

    def _start(self, key: str, job: Job) -> None:
        with self._lock:
            self._queued.pop(key, None)
            if key in self.futures:
                return
            future = self.futures[key] = self.loop.submit(job())
            self._running += 1
        future.add_done_callback(self._finished)

    def _finished(self, _: Future[Any]) -> None:
        with self._lock:
            self._running -= 1
            self._fill()

    def _fill(self) -> None:
        with self._lock:
            while self._queued and self._running < self._window:
                key = next(iter(self._queued))
                self._start(key, self._queued.pop(key))

    def wait(self, key: str, job: Job, ahead: Sequence[tuple[str, Job]] = (), window: int = 1) -> Any:
        """Start `job` and return its result; meanwhile the calls of `ahead` (the next ones,
        in order) start while fewer than `window` are running. Queued calls start only while
        a call is waited for: once this returns or raises (a failure that stops the session,
        Ctrl-C), no new call starts until the next `wait`."""
        with self._lock:
            self._window = max(window, 1)
            self._queued = {other: upcoming for other, upcoming in ahead if other not in self.futures and other != key}
            self._start(key, job)
            self._fill()
            future = self.futures[key]
        try:
            return future.result()
        finally:
            with self._lock:
                self._queued.clear()
                self.futures.pop(key, None)

    def cancel(self, key: str) -> None:
        """Cancel a started call (its coroutine gets CancelledError) or drop a queued one."""
        with self._lock:
            self._queued.pop(key, None)
            future = self.futures.pop(key, None)
        if future is not None:
            future.cancel()

    def close(self) -> None:
        with self._lock:
            futures = list(self.futures.values())
            self.futures.clear()
            self._queued.clear()
        for future in futures:
            future.cancel()
        self.loop.close()
