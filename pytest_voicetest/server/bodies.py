"""Requests are validated strictly: bodies without coercion (a `0` is not `false`, `"3"` is
not `3`), and a query parameter the operation does not take is an error.

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


def _query_names(dependant: Any) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for inner in dependant.dependencies:
        names |= _query_names(inner)
    return names


def reject_unknown_query(request: Request) -> None:
    """A query parameter the operation does not take is an error naming it, not ignored."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise InputError(
            f"unknown query parameter {unknown[0]!r}",
            field=f"query.{unknown[0]}",
            fix="use " + (", ".join(sorted(known)) or "no query parameters here"),
        )
