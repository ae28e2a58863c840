"""A session's spending budget, shared by every process of the session.

The ledger is a small JSON file (`{"cost_usd": ..., "calls": ...}`) updated under an
exclusive `flock`, so xdist workers add to one total. Before each real model call the
budget is checked; once the cost or call limit is reached, `BudgetExceeded` stops the
call and the test is skipped with a reason naming the limit and the spend. Scripted
models and cassette replays cost nothing and do not count.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import BudgetExceeded
from .client import Gate, LLMReply

try:
    import fcntl
except ImportError:  # Windows: one process only, no lock needed there
    fcntl = None  # type: ignore[assignment]


class Budget(Gate):
    """Cost and call limits over a ledger file."""

    def __init__(self, ledger: Path, max_cost: float | None = None, max_calls: int | None = None) -> None:
        self.ledger = ledger
        self.max_cost = max_cost
        self.max_calls = max_calls
        ledger.parent.mkdir(parents=True, exist_ok=True)
        ledger.touch(exist_ok=True)

    def _update(self, change: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        with self.ledger.open("r+", encoding="utf-8") as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            text = handle.read()
            state = json.loads(text) if text.strip() else {"cost_usd": 0.0, "calls": 0}
            if change is not None:
                change(state)
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps(state))
                handle.flush()
                os.fsync(handle.fileno())
            return state

    def state(self) -> dict[str, Any]:
        return self._update()

    def exhausted(self, state: dict[str, Any] | None = None) -> str | None:
        """Why the budget is spent, or None."""
        state = state or self.state()
        if self.max_cost is not None and state["cost_usd"] >= self.max_cost:
            return f"cost budget reached: spent ${state['cost_usd']:.6f} of the ${self.max_cost:g} budget (--vt-max-cost) over {state['calls']} calls"
        if self.max_calls is not None and state["calls"] >= self.max_calls:
            return f"call budget reached: {state['calls']} of {self.max_calls} model calls made (--vt-max-calls), ${state['cost_usd']:.6f} spent"
        return None

    def check(self) -> None:
        reason = self.exhausted()
        if reason:
            raise BudgetExceeded(reason)

    def spent(self, reply: LLMReply) -> None:
        def add(state: dict[str, Any]) -> None:
            state["cost_usd"] = state["cost_usd"] + reply.cost_usd
            state["calls"] = state["calls"] + 1

        self._update(add)
