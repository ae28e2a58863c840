"""One async call path to every model.

`scripted/...` models answer in-process (see `scripted`); cassette replays answer from
the recording; every other request goes through litellm, imported once per process in a
background thread (`preload`, started early by the plugin when a run will call a model;
otherwise by the first call, which waits for it without blocking the event loop).
Retries 429, 5xx, timeouts, connection errors and malformed responses with capped
exponential backoff and full jitter, honouring Retry-After; never retries other 4xx
or an authentication failure (401, 403, a missing or rejected key). Every attempt is
cut by `timeout` (the request is cancelled, not abandoned), passes the budget gate and
is counted in the client's `usage`, failed attempts included.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from ..errors import BudgetExceeded, LLMError
from ..models.results import Usage
from ..redact import redact
from . import LITELLM_NOISE
from .scripted import scripted_reply

_litellm: Any = None
_warm = False
_preload: Future[None] | None = None
_preload_lock = threading.Lock()
_AUTH_TEXT = re.compile(
    r"api[_ ]key (client option )?must be set|missing credentials|no api key|incorrect api key|invalid[_ ]api[_ ]key"
    r"|invalid x-api-key|api key not valid|unauthori[sz]ed",
    re.IGNORECASE,
)
RETRYABLE_NAMES = {
    "RateLimitError",
    "InternalServerError",
    "ServiceUnavailableError",
    "BadGatewayError",
    "APIConnectionError",
    "Timeout",
    "APITimeoutError",
    "APIResponseValidationError",
    "JSONDecodeError",
}


def litellm_module() -> Any:
    """litellm, imported once, quiet, offline cost map."""
    global _litellm
    if _litellm is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        os.environ.setdefault("LITELLM_LOG", "CRITICAL")
        import logging
        import warnings

        warnings.filterwarnings("ignore", message=LITELLM_NOISE, category=UserWarning)

        import litellm

        litellm.suppress_debug_info = True
        litellm.telemetry = False
        for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        for name in ("openai", "httpx", "httpcore"):  # their debug logs carry whole request bodies
            logging.getLogger(name).setLevel(logging.WARNING)
        _litellm = litellm
    return _litellm


async def warm_up(litellm: Any) -> None:
    """Send one request to a closed local port, once per process.

    litellm imports about 500 modules lazily during its first HTTP call; doing that here
    keeps the cost out of the first real call's timeout. The request fails at once.
    """
    global _warm
    if _warm:
        return
    _warm = True
    try:
        await litellm.acompletion(
            model="openai/warm-up",
            messages=[{"role": "user", "content": "."}],
            api_base="http://127.0.0.1:9/v1",
            api_key="warm-up",
            max_retries=0,
            num_retries=0,
            timeout=5,
        )
    except Exception:  # expected: connection refused
        return


def preload() -> Future[None]:
    """Import litellm and send the warm-up request in a background thread, once per process.

    The import (about 2,700 modules, 3-5 s) then overlaps whatever the process does
    meanwhile (collection, scripted calls) instead of blocking the event loop inside the
    first call's timeouts.
    """
    global _preload
    with _preload_lock:
        if _preload is None:
            done: Future[None] = Future()
            done.set_running_or_notify_cancel()  # a cancelled waiter must not cancel the import

            def load() -> None:
                try:
                    asyncio.run(warm_up(litellm_module()))
                except BaseException as exc:  # handed to whoever waits: the first call raises it
                    done.set_exception(exc)
                else:
                    done.set_result(None)

            threading.Thread(target=load, name="voicetest-litellm-import", daemon=True).start()
            _preload = done
        return _preload


async def ready() -> Any:
    """litellm, imported and warmed up; waits for `preload` without blocking the event loop."""
    await asyncio.wrap_future(preload())
    return litellm_module()


def wait_for_preload(timeout: float | None = None) -> bool:
    """Wait (up to `timeout` s) for a preload in progress; whether litellm is now loaded.
    Never raises: a failed import is raised by the first call, as without a preload."""
    if _preload is None:
        return False
    try:
        return _preload.exception(timeout=timeout) is None
    except TimeoutError:
        return False


def freeze_loaded_objects() -> None:
    """Move every object alive now (litellm's ~360,000 among them) out of the cyclic
    collector, after a full collection: otherwise each full collection rescans them
    (~250 ms) and so does interpreter exit (~1.5 s). Call it once, between tests, on the
    main thread: an object alive at this moment that later becomes cyclic garbage stays
    until the process exits."""
    gc.collect()
    gc.freeze()


def normalise_model(model: str) -> str:
    """`scripted` alone means the default scripted model."""
    return "scripted/default" if model == "scripted" else model


def is_scripted(model: str | None) -> bool:
    return bool(model) and (model == "scripted" or str(model).startswith("scripted/"))


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass
class LLMRequest:
    """What to ask a model. `context` carries engine facts for the scripted provider."""

    role: str
    kind: str
    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    repeat_index: int = 0

    def key_material(self) -> dict[str, Any]:
        """What identifies the request in a cassette (no context, no secrets)."""
        material: dict[str, Any] = {
            "model": self.model,
            "messages": self.messages,
            "tools": self.tools,
            "tool_choice": self.tool_choice,
            "params": self.params,
        }
        if self.repeat_index:
            material["repeat"] = self.repeat_index
        return material


@dataclass
class LLMReply:
    content: str
    tool_calls: list[ToolCall]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    retries: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in self.tool_calls],
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "latency_ms": self.latency_ms,
            "retries": self.retries,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LLMReply:
        return cls(
            content=data.get("content") or "",
            tool_calls=[ToolCall(**c) for c in data.get("tool_calls") or []],
            prompt_tokens=int(data.get("prompt_tokens") or 0),
            completion_tokens=int(data.get("completion_tokens") or 0),
            cost_usd=float(data.get("cost_usd") or 0.0),
            latency_ms=float(data.get("latency_ms") or 0.0),
            retries=int(data.get("retries") or 0),
        )


@dataclass
class ClientOptions:
    timeout: float = 60.0
    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    api_base: str | None = None
    streaming: bool = False  # stream the agent's replies; their latency is the time to the first token


class Recorder(Protocol):
    """What the client needs of a cassette (see `cassette.Cassette`)."""

    @property
    def replaying(self) -> bool: ...

    def replay(self, request: LLMRequest) -> LLMReply: ...

    def record(self, request: LLMRequest, reply: LLMReply) -> None: ...


class Gate:
    """Checked before every model call; raises BudgetExceeded to stop spending."""

    def check(self) -> None:
        """Allow or refuse the next call."""

    def spent(self, reply: LLMReply) -> None:
        """Account for a finished call."""


def split_userinfo(url: str) -> tuple[str, str | None]:
    """(the URL without `user:password@`, the matching Basic authorization header or None)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    credentials = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}".encode()
    return urlunsplit(parts._replace(netloc=netloc)), "Basic " + base64.b64encode(credentials).decode()


def is_auth_failure(exc: BaseException) -> bool:
    """A missing, rejected or unauthorised key: retrying cannot help."""
    status = getattr(exc, "status_code", None)
    if status in (401, 403) or type(exc).__name__ in {"AuthenticationError", "PermissionDeniedError"}:
        return True
    return bool(_AUTH_TEXT.search(str(exc)))


def classify(exc: BaseException) -> tuple[bool, float | None]:
    """(retryable, retry-after seconds) for an exception raised by a model call."""
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return True, None
    if is_auth_failure(exc):
        return False, None
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    retry_after = None
    headers = getattr(exc, "litellm_response_headers", None) or getattr(getattr(exc, "response", None), "headers", None)
    if headers is not None:
        try:
            value = headers.get("retry-after")
            retry_after = float(value) if value is not None else None
        except (TypeError, ValueError):
            retry_after = None
    if name in {"Timeout", "APITimeoutError"}:
        return True, None
    if isinstance(status, int):
        return (status == 429 or status >= 500), retry_after
    return name in RETRYABLE_NAMES or isinstance(exc, json.JSONDecodeError), retry_after


class LLMClient:
    """Sends requests, retrying and accounting; optionally through a cassette."""

    def __init__(
        self,
        options: ClientOptions | None = None,
        cassette: Recorder | None = None,
        gate: Gate | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.options = options or ClientOptions()
        self.cassette = cassette
        self.gate = gate or Gate()
        self.sleep = sleep
        self.rng = rng or random.Random(0)
        self.usage = Usage()

    async def complete(self, request: LLMRequest) -> LLMReply:
        request.model = normalise_model(request.model)
        if is_scripted(request.model):
            reply = LLMReply.from_dict(scripted_reply(request.context, request.kind, request.tool_choice))
            self.usage.add(Usage(scripted_calls=1))  # tokens count only what a model was sent
            return reply
        if self.cassette is not None and self.cassette.replaying:
            reply = self.cassette.replay(request)
            self.usage.add(Usage(replayed_calls=1))
            return reply
        reply = await self._call_with_retries(request)
        if self.cassette is not None:
            self.cassette.record(request, reply)
        return reply

    async def _call_with_retries(self, request: LLMRequest) -> LLMReply:
        await ready()
        started = time.perf_counter()
        attempt = 0
        while True:
            self.gate.check()
            self.usage.calls += 1
            try:
                reply = await asyncio.wait_for(self._call_once(request), self.options.timeout)
            except BudgetExceeded:
                raise
            except Exception as exc:  # litellm raises provider-specific types
                self.gate.spent(LLMReply(content="", tool_calls=[]))
                retryable, retry_after = classify(exc)
                if not retryable or attempt >= self.options.max_retries:
                    raise LLMError(self._describe_failure(request, exc, attempt)) from None
                delay = min(self.options.backoff_cap, self.options.backoff_base * 2**attempt)
                delay = self.rng.uniform(0, delay)
                if retry_after is not None:
                    delay = max(delay, min(retry_after, self.options.backoff_cap))
                attempt += 1
                self.usage.retries += 1
                await self.sleep(delay)
                continue
            self.gate.spent(reply)
            reply.retries = attempt
            if not reply.latency_ms:  # a streamed reply already holds its time to the first token
                reply.latency_ms = round((time.perf_counter() - started) * 1000, 1)
            self.usage.add(Usage(prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens, cost_usd=reply.cost_usd))
            return reply

    def _describe_failure(self, request: LLMRequest, exc: BaseException, attempt: int) -> str:
        kind = "timed out" if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) else type(exc).__name__
        detail = str(exc).split("\n")[0][:300]
        hint = ""
        if is_auth_failure(exc):
            kind = "authentication failed"
            hint = " (set the provider's API key, e.g. OPENAI_API_KEY, in the environment or the settings' [env] table; not retried)"
        tries = f" after {attempt + 1} attempts" if attempt else ""
        return redact(f"{request.role} model {request.model} failed{tries}: {kind}: {detail}{hint}")

    async def _call_once(self, request: LLMRequest) -> LLMReply:
        litellm = litellm_module()
        kwargs: dict[str, Any] = dict(request.params)
        if request.tools:
            kwargs["tools"] = request.tools
            # Our tools are plain functions, never MCP servers: skip litellm's MCP gateway
            # check, which would import the optional `mcp` package.
            kwargs["_skip_mcp_handler"] = True
            if request.tool_choice is not None:
                kwargs["tool_choice"] = request.tool_choice
        if self.options.api_base:
            base, basic = split_userinfo(self.options.api_base)
            kwargs["api_base"] = base
            if basic:  # `user:password@` in the base URL: sent as HTTP basic auth (the client would drop it)
                kwargs["extra_headers"] = {"Authorization": basic}
            if request.model.startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
                kwargs["api_key"] = "no-key-needed"  # local OpenAI-compatible servers take any key
        stream = self.options.streaming and request.role == "agent"
        if stream:
            kwargs.update(stream=True, stream_options={"include_usage": True})
        started = time.perf_counter()
        response = await litellm.acompletion(
            model=request.model,
            messages=request.messages,
            timeout=self.options.timeout,
            max_retries=0,
            num_retries=0,
            drop_params=True,
            **kwargs,
        )
        if not stream:
            return _reply_from_response(litellm, response)
        chunks, first_token = [], None
        async for chunk in response:
            if first_token is None:
                first_token = time.perf_counter()
            chunks.append(chunk)
        reply = _reply_from_response(litellm, litellm.stream_chunk_builder(chunks, messages=request.messages))
        reply.latency_ms = round(((first_token or time.perf_counter()) - started) * 1000, 1)
        return reply


def _reply_from_response(litellm: Any, response: Any) -> LLMReply:
    choice = response.choices[0]
    message = choice.message
    tool_calls = [
        ToolCall(id=str(call.id or f"call_{i}"), name=call.function.name or "", arguments=call.function.arguments or "")
        for i, call in enumerate(message.tool_calls or [])
    ]
    usage = getattr(response, "usage", None)
    hidden = getattr(response, "_hidden_params", {}) or {}
    cost = hidden.get("response_cost")
    if cost is None:
        try:
            cost = litellm.completion_cost(completion_response=response)
        except Exception:  # unknown model price: cost stays 0
            cost = 0.0
    return LLMReply(
        content=message.content or "",
        tool_calls=tool_calls,
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cost_usd=float(cost or 0.0),
    )
