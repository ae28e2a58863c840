"""Turning pydantic validation errors into one located, actionable InputError."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .errors import InputError, did_you_mean
from .yamlio import format_loc, line_of


def describe(error: ErrorDetails | dict[str, Any], known: Iterable[str] = ()) -> tuple[str, str | None]:
    """(message, fix) for one pydantic error; unknown keys get a did-you-mean from `known`."""
    key = error["loc"][-1] if error["loc"] else ""
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{key}'{did_you_mean(str(key), known)}", "remove it or fix the spelling"
    if kind == "missing":
        return f"'{key}' is required", f"add {key}:"
    if kind == "literal_error":
        return f"{error['msg']}, got {error['input']!r}", None
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind in {"value_error", "assertion_error"}:
        return message, None
    return f"{message} (got {error['input']!r})", None


def known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) model an error location points into."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = _model_of(field.annotation)
    return list(getattr(current, "model_fields", {}))


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()) or ():
        found = _model_of(argument)
        if found is not None:
            return found
    return None


def located_error(
    exc: ValidationError,
    model: type[BaseModel],
    *,
    source: str | Path | None,
    root: Any,
    prefix: tuple[Any, ...] = (),
    fix: str | None = None,
) -> InputError:
    """The first error of `exc` (an unknown key first: it often explains a missing one)
    as an InputError with the file, line and field."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(error["loc"])
    message, own_fix = describe(error, known_keys(model, loc))
    where = prefix + loc
    return InputError(message, source=source, line=line_of(root, where), field=format_loc(where), fix=own_fix or fix)


def validate(
    model: type[BaseModel], data: Any, *, source: str | Path | None, root: Any = None, prefix: tuple[Any, ...] = (), fix: str | None = None
) -> Any:
    """`model.model_validate(data)` with errors as located InputErrors."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise located_error(exc, model, source=source, root=data if root is None else root, prefix=prefix, fix=fix) from None
