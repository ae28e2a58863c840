"""What every route reaches through `request.app.state.context`: stores, runner, events."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from ..voicesim.store import Store
from .events import Broker
from .runner import Runner
from .store import ServerStore


@dataclass
class Context:
    root: Path
    store: ServerStore
    sims: Store
    broker: Broker
    runner: Runner


def context(request: Request) -> Context:
    found: Context = request.app.state.context
    return found


Ctx = Annotated[Context, Depends(context)]
