"""Keep secrets out of reports, cassettes, JUnit XML and logs.

`redact` replaces the values of secret-looking environment variables (names with
KEY, TOKEN, SECRET, PASSWORD or AUTH) and anything shaped like an API key or a
bearer token with `***`.
"""

from __future__ import annotations

import os
import re
from typing import Any

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|AUTH", re.IGNORECASE)
_SHAPES = re.compile(
    r"(?:\bsk-[A-Za-z0-9_\-]{8,}|\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]{8,}"
    r"|\b(?:xox[abp]|ghp|gho|AIza)[A-Za-z0-9_\-]{8,})"
)
MASK = "***"


def _secret_values() -> list[str]:
    values = {v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 6}
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with every known secret masked."""
    for value in _secret_values():
        if value in text:
            text = text.replace(value, MASK)
    return _SHAPES.sub(MASK, text)


def redact_data(data: Any) -> Any:
    """A copy of JSON-like data with secrets masked in every string and secret-named key."""
    secrets = _secret_values()

    def clean(value: Any, key: str = "") -> Any:
        if isinstance(value, str):
            if key and _SECRET_NAME.search(key) and key.lower() not in {"max_tokens", "tokens"} and value:
                return MASK
            for secret in secrets:
                if secret in value:
                    value = value.replace(secret, MASK)
            return _SHAPES.sub(MASK, value)
        if isinstance(value, dict):
            return {k: clean(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return clean(data)
