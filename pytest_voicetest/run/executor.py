"""Run coroutines on one background event loop so several calls can be in flight at once.

`LoopThread` owns the loop; `Executor` starts keyed calls on it, looks ahead to keep up
to `window` calls in flight, and hands results back in the order they are asked for.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from typing import Any

Job = Callable[[], Coroutine[Any, Any, Any]]


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
    """Keyed calls on one loop: `start` them early, `wait` for each in turn."""

    def __init__(self) -> None:
        self.loop = LoopThread()
        self.futures: dict[str, Future[Any]] = {}

    def start(self, key: str, job: Job) -> None:
        if key not in self.futures:
            self.futures[key] = self.loop.submit(job())

    def wait(self, key: str, job: Job, ahead: Sequence[tuple[str, Job]] = ()) -> Any:
        """Start `job` (and `ahead`, the next calls to keep in flight) and return its result."""
        self.start(key, job)
        for other, upcoming in ahead:
            self.start(other, upcoming)
        return self.futures.pop(key).result()

    def cancel(self, key: str) -> None:
        """Cancel a started call (its coroutine gets CancelledError)."""
        future = self.futures.pop(key, None)
        if future is not None:
            future.cancel()

    def close(self) -> None:
        for future in self.futures.values():
            future.cancel()
        self.futures.clear()
        self.loop.close()
