"""The one HTTP layer every platform client uses (httpx).

Timeouts on every request; retries on 429 (always) and on 5xx, timeouts and
connection errors (idempotent requests only), waiting what `Retry-After` (or
Telnyx's `x-ratelimit-reset`) asks, else a capped exponential backoff with jitter;
never a retry on another 4xx. Errors are one line that names the platform, the
request and the fix; the API key, authorization headers and URL credentials never
appear in an error or a log line.
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import VoicetestError
from ..redact import MASK, redact

try:
    import httpx
except ImportError:  # pragma: no cover - httpx comes with litellm; this is the clear message if not
    raise VoicetestError("the platform clients need httpx. Fix: pip install httpx") from None

log = logging.getLogger("pytest_voicetest.platforms")

IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE", "HEAD"})
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_ERROR_TEXT = 300


class PlatformError(VoicetestError):
    """A platform request failed for good: bad key, missing agent, bad payload, outage."""

    def __init__(self, platform: str, message: str, *, status: int | None = None, fix: str | None = None) -> None:
        self.platform = platform
        self.status = status
        self.message = message
        self.fix = fix
        super().__init__(f"{platform}: {message}" + (f" Fix: {fix}" if fix else ""))


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait for an answer and how to retry; `sleep` is replaceable in tests."""

    timeout: float = 30.0
    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, capped at `max_delay`."""
        return min(self.max_delay, self.base_delay * (2.0**attempt)) * random.uniform(0.5, 1.0)


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """httpx's default verification context, built once per process (it costs ~30 ms)."""
    return httpx.create_ssl_context()


def display_url(url: str) -> str:
    """The URL without credentials, query or fragment: safe to show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks us to wait: Retry-After (seconds or HTTP date), else x-ratelimit-reset."""
    value = response.headers.get("retry-after") or response.headers.get("x-ratelimit-reset")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _vendor_message(response: httpx.Response) -> str:
    """The vendor's own error text (JSON `message`, `error`, `detail`, `errors[0]`), else the raw body."""
    try:
        data: Any = response.json()
    except ValueError:
        return response.text.strip()
    if isinstance(data, dict):
        for key in ("message", "error", "detail", "errors"):
            value = data.get(key)
            if isinstance(value, list) and value:
                value = value[0]
            if isinstance(value, dict):
                value = value.get("detail") or value.get("message") or value.get("title") or value.get("msg")
            if value:
                return str(value)
    return json.dumps(data)[:MAX_ERROR_TEXT]


class Http:
    """A JSON client bound to one platform's base URL and auth headers."""

    def __init__(
        self,
        platform: str,
        base_url: str,
        headers: Mapping[str, str],
        secret: str,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self._secret = secret
        self._client = httpx.Client(
            headers={"accept": "application/json", **headers},
            timeout=self.policy.timeout,
            follow_redirects=False,
            verify=_ssl_context(),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _clean(self, text: str) -> str:
        """`text` with the key masked (even if no environment variable holds it) and other secrets redacted."""
        if self._secret:
            text = text.replace(self._secret, MASK)
        return redact(text)[:MAX_ERROR_TEXT]

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        not_found: str | None = None,
    ) -> Any:
        """Send one request (with retries) and return the decoded JSON body.

        `not_found` is the error text for a 404 (e.g. "agent 'x' not found"); `idempotent`
        defaults to the HTTP method's meaning and decides whether 5xx and network errors retry.
        """
        method = method.upper()
        retry_unsafe = method in IDEMPOTENT if idempotent is None else idempotent
        url = f"{self.base_url}{path}"
        where = f"{method} {path}"
        attempt = 0
        while True:
            try:
                response = self._client.request(method, url, params=params, json=json_body)
            except httpx.TransportError as exc:
                kind = type(exc).__name__
                if retry_unsafe and attempt < self.policy.max_retries:
                    wait = self.policy.backoff(attempt)
                    log.debug("%s %s: %s, retry %d in %.2fs", self.platform, where, kind, attempt + 1, wait)
                    self.policy.sleep(wait)
                    attempt += 1
                    continue
                raise PlatformError(
                    self.platform,
                    f"cannot reach {display_url(self.base_url)} ({kind} on {where})",
                    fix=f"check the network, or the base URL (--base-url / {self.platform.upper()}_BASE_URL)",
                ) from None
            log.debug("%s %s -> %d", self.platform, where, response.status_code)
            status = response.status_code
            if status in RETRYABLE_STATUS and (status == 429 or retry_unsafe) and attempt < self.policy.max_retries:
                asked = _retry_after(response)
                wait = min(asked, self.policy.max_delay) if asked is not None else self.policy.backoff(attempt)
                log.debug("%s %s: HTTP %d, retry %d in %.2fs", self.platform, where, status, attempt + 1, wait)
                self.policy.sleep(wait)
                attempt += 1
                continue
            if status >= 400:
                raise self._error(response, where, not_found)
            if status == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise PlatformError(
                    self.platform,
                    f"answered {where} with a body that is not JSON",
                    status=status,
                    fix="check the base URL points at the platform's API, not a web page or proxy",
                ) from None

    def _error(self, response: httpx.Response, where: str, not_found: str | None) -> PlatformError:
        status = response.status_code
        detail = self._clean(_vendor_message(response))
        said = f": {detail}" if detail else ""
        if status in (401, 403):
            env = f"{self.platform.upper()}_API_KEY"
            return PlatformError(
                self.platform,
                f"the API key was refused (HTTP {status} on {where}){said}",
                status=status,
                fix=f"run `voicetest platform login {self.platform} --replace`, or set {env} to a valid key",
            )
        if status == 404:
            return PlatformError(
                self.platform,
                f"{not_found or 'not found'} (HTTP 404 on {where})",
                status=status,
                fix=f"check the id with `voicetest platform list {self.platform}`",
            )
        if status == 429:
            return PlatformError(
                self.platform,
                f"still rate limited after {self.policy.max_retries} retries (HTTP 429 on {where})",
                status=status,
                fix="wait a minute and run again",
            )
        if status >= 500:
            return PlatformError(
                self.platform,
                f"server error HTTP {status} on {where}{said}",
                status=status,
                fix="the platform is failing; try again later",
            )
        return PlatformError(
            self.platform,
            f"rejected {where} (HTTP {status}){said}",
            status=status,
            fix="check the agent config against the platform's API reference",
        )
