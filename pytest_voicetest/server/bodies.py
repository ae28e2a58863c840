"""Request bodies are validated without coercion: a `0` is not `false`, `"3"` is not `3`.

The server's own request models derive from `StrictBody`. Bodies that are core models
(`Settings`, `MetricsConfig`, lax by design for files) are validated again, strictly,
from the raw JSON (`RawJson`) with `strictly`.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import InputError
from ..yamlio import format_loc

M = TypeVar("M", bound=BaseModel)


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def strictly(model: type[M], data: Any, prefix: str = "body") -> M:
    """`data` as `model`, no coercion; the first error names its field."""
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InputError(str(error["msg"]), field=format_loc((prefix, *error["loc"]))) from None


async def raw_json(request: Request) -> Any:
    """The request's JSON as sent; None when there is none (the route's own body
    validation then answers 422 or 400)."""
    try:
        return await request.json()
    except ValueError:  # no body, not JSON, not UTF-8
        return None


RawJson = Annotated[Any, Depends(raw_json)]
