"""Keep secrets out of reports, cassettes, JUnit XML, logs and error messages.

A secret is found three ways, and replaced by `***`:
- by name: the values of environment variables, and of mapping keys, whose name has one
  of the words key, token, secret, password, authorization, auth, credential(s) or
  signature (so `OPENAI_API_KEY` and `x-api-key` are secret, `keyboard_layout`,
  `author` and `max_tokens` are not);
- by shape: API keys (`sk-...`, `ghp_...`, `AIza...`, `xox?-...`) and bearer/basic
  credentials;
- in URLs: the password of `user:password@` and the values of query parameters with
  secret names (`?token=...`, `&api_key=...`).
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any

MASK = "***"
SECRET_WORDS = frozenset(
    {"key", "apikey", "token", "secret", "password", "passwd", "pwd", "authorization", "auth", "credential", "credentials", "signature", "sig"}
)
NOT_SECRET = frozenset({"PWD", "OLDPWD"})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_SHAPES = re.compile(
    r"(?:\bsk-[A-Za-z0-9_\-]{8,}|\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]{8,}"
    r"|\b(?:xox[abp]|ghp|gho|AIza)[A-Za-z0-9_\-]{8,})"
)
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>`]+")
_USERINFO = re.compile(r"^(?P<scheme>[^:]+://)(?P<user>[^/@:]*)(?::(?P<password>[^/@]*))?@")
_QUERY = re.compile(r"(?P<lead>[?&;])(?P<name>[A-Za-z0-9_.\-]+)=(?P<value>[^&;#\s'\"<>`]*)")


@functools.lru_cache(maxsize=4096)
def secret_name(name: str) -> bool:
    """Whether a variable or field name means a secret (by its words, not its letters).
    The shell's PWD and OLDPWD variables are folders, not passwords."""
    if name in NOT_SECRET:
        return False
    return any(word.lower() in SECRET_WORDS for word in _WORD.findall(name))


def _environment() -> list[tuple[str, str]]:
    """The environment's items, read while another thread may change it (pytest sets
    PYTEST_CURRENT_TEST on the main thread while calls run on the loop thread)."""
    for _ in range(1000):
        try:
            return list(os.environ.items())
        except (KeyError, RuntimeError):  # a variable went away mid-read: read again
            continue
    raise RuntimeError("the environment kept changing while it was read")


_last_secrets: tuple[dict[Any, Any], tuple[str, ...]] = ({}, ())


def _secret_values() -> tuple[str, ...]:
    """The values of secret-named variables, longest first; worked out again only when the
    environment changed (its raw table is copied in one step, so no thread sees it half-set)."""
    global _last_secrets
    raw = getattr(os.environ, "_data", None)
    if not isinstance(raw, dict):
        return _longest_first(frozenset(v for k, v in _environment() if len(v) >= 6 and secret_name(k)))
    snapshot = raw.copy()
    if snapshot == _last_secrets[0]:
        return _last_secrets[1]
    decode_key, decode_value = os.environ.decodekey, os.environ.decodevalue
    items = ((decode_key(k), decode_value(v)) for k, v in snapshot.items())
    values = _longest_first(frozenset(v for k, v in items if len(v) >= 6 and secret_name(k)))
    _last_secrets = (snapshot, values)
    return values


@functools.lru_cache(maxsize=16)
def _longest_first(values: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(values, key=len, reverse=True))


def _clean_userinfo(match: re.Match[str]) -> str:
    url = match.group(0)
    auth = _USERINFO.match(url)
    if auth and (auth.group("password") is not None or auth.group("user")):
        shown = f"{auth.group('user')}:{MASK}" if auth.group("password") is not None else MASK
        url = f"{auth.group('scheme')}{shown}@{url[auth.end() :]}"
    return url


def _clean_query(match: re.Match[str]) -> str:
    return f"{match.group('lead')}{match.group('name')}={MASK}" if secret_name(match.group("name")) else match.group(0)


def _clean(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    # query parameters anywhere (a server may echo a path without its host)
    return _SHAPES.sub(MASK, _QUERY.sub(_clean_query, _URL.sub(_clean_userinfo, text)))


def redact(text: str) -> str:
    """`text` with every known secret masked."""
    return _clean(text, _secret_values())


def redact_data(data: Any) -> Any:
    """A copy of JSON-like data with secrets masked in every string and secret-named key."""
    secrets = _secret_values()

    def clean(value: Any, key: str = "") -> Any:
        if isinstance(value, str):
            return MASK if key and value and secret_name(key) else _clean(value, secrets)
        if isinstance(value, dict):
            return {k: clean(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return clean(data)
