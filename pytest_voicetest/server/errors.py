"""Every error as a 4xx JSON body naming the field: `{"detail", "field", "fix"}`.

Core `InputError`s become 422 (a `RunNotFound` or a `NotFound` 404, a `RunCompleted` or
a `Conflict` 409, a store failure 503); request validation errors keep FastAPI's list
of `{type, loc, msg}` in `detail` (never the input, which may hold secrets) and name
the first location in `field`. Messages pass through `redact`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from ..errors import InputError, VoicetestError
from ..redact import redact
from ..voicesim.store import RunCompleted, RunNotFound
from ..yamlio import format_loc

log = logging.getLogger("pytest_voicetest.server")


class NotFound(InputError):
    """No such object in this workspace: 404 (another workspace's objects are not found either)."""


class Conflict(InputError):
    """The object is in a state that refuses the request: 409."""


class Unauthorized(InputError):
    """No or an unknown API key: 401."""


class ErrorBody(BaseModel):
    """What every 4xx answer holds."""

    detail: str | list[dict[str, Any]] = Field(description="the message, or the list of validation errors {type, loc, msg}")
    field: str | None = Field(default=None, description="the field at fault, e.g. body.point_indices[3] or options.max_turns")
    fix: str | None = Field(default=None, description="how to fix it, when known")


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "the body could not be parsed (not UTF-8, not JSON, broken multipart)"),
        (401, "missing or unknown API key"),
        (404, "no such object in this workspace"),
        (409, "the object's state refuses the request"),
        (413, "request body too large"),
        (422, "invalid input; `field` names it"),
    )
}


def status_of(exc: InputError) -> int:
    if isinstance(exc, Unauthorized):
        return 401
    if isinstance(exc, (NotFound, RunNotFound)):
        return 404
    if isinstance(exc, (Conflict, RunCompleted)):
        return 409
    if exc.field == "store":
        return 503
    return 422


def error_response(status: int, detail: str | list[dict[str, Any]], field: str | None = None, fix: str | None = None) -> JSONResponse:
    body = ErrorBody(detail=redact(detail) if isinstance(detail, str) else detail, field=field, fix=redact(fix) if fix else None)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def renamed(exc: InputError, names: dict[str, str]) -> InputError:
    """The same error with its field spelled as the HTTP request spells it
    (`point[3]` -> `body.point_indices[3]`); a `""` entry, last, prefixes any other field."""
    field = exc.field or ""
    for core, http in names.items():
        if not core:  # the fallback: everything else lies under `http`
            spelled = f"{http}.{field}" if field and not field.startswith("[") else http + field
        elif field == core or field.startswith((core + "[", core + ".")):
            spelled = http + field[len(core) :]
        else:
            continue
        return type(exc)(exc.message, field=spelled, fix=exc.fix)
    return exc


@contextmanager
def http_fields(names: dict[str, str]) -> Iterator[None]:
    """Core errors raised inside name their field as the request does (see `renamed`)."""
    try:
        yield
    except InputError as exc:
        raise renamed(exc, names) from None


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": redact(str(e.get("msg", "")))}
        | ({"ctx": {k: str(v) for k, v in e["ctx"].items()}} if e.get("ctx") else {})
        for e in exc.errors()
    ]
    field = format_loc(tuple(errors[0]["loc"])) if errors else None
    return error_response(422, errors, field)


def _input(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    status = status_of(exc)
    if status == 503:
        log.warning("store failure on %s %s: %s", request.method, request.url.path, redact(str(exc)))
    message = exc.message
    context = getattr(request.app.state, "context", None)
    if context is not None:  # where the server keeps its data is not the client's business
        message = message.replace(context.store.database.where, "the server's store")
    return error_response(status, message, exc.field, exc.fix)


def _voicetest(request: Request, exc: Exception) -> JSONResponse:
    return error_response(422, str(exc))


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    response = error_response(exc.status_code, str(exc.detail), "body" if exc.status_code == 400 else None)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(InputError, _input)
    app.add_exception_handler(VoicetestError, _voicetest)
    app.add_exception_handler(HTTPException, _http)
