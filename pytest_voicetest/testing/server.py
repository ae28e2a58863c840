"""A local OpenAI-compatible chat server for offline tests, benchmarks and trying the examples.

Start it with `python -m pytest_voicetest.testing.server [--port 8931] [--latency 0.2]`
and point every model at it: `VOICETEST_MODEL=openai/fake pytest example_project
--vt-api-base http://127.0.0.1:8931/v1`.

Binds 127.0.0.1 only, answers `POST /v1/chat/completions`, stops after `max_requests`
requests, and never holds a connection longer than `max_hang` seconds. Faults are
injected from an explicit queue (`inject`) or at a seeded random `fault_rate`:
latency, 429 with Retry-After, 500, malformed JSON, a truncated body, a hung request.

The default responder plays every role well enough for the engine: the caller says
`caller_lines` lines then calls end_call; the agent answers; a judge gets
`judge_score`; forced tool calls get empty arguments. A responder may instead return
`{"status": 4xx, "error": "..."}` to answer with that HTTP error.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("latency", "429", "500", "malformed", "truncated", "hang")
Responder = Callable[[dict[str, Any]], dict[str, Any]]


def default_responder(caller_lines: int = 2, judge_score: float = 0.9) -> Responder:
    """Deterministic answers derived from the request alone."""

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages") or []
        system = str(messages[0].get("content", "")) if messages else ""
        tools = [t["function"]["name"] for t in body.get("tools") or []]
        choice = body.get("tool_choice")
        if "role-playing a caller" in system:
            said = sum(1 for m in messages if m.get("role") == "assistant")
            if said >= caller_lines:
                return {"content": "Thanks, goodbye.", "tool_calls": [("end_call", {"reason": "goal_met"})]}
            return {"content": f"Caller line {said + 1}: I would like to book a visit."}
        if "grade phone calls" in system:
            return {"content": json.dumps({"score": judge_score, "reasoning": "The agent helped.", "confidence": 0.8})}
        if "audit whether" in system:
            return {"content": json.dumps({"violations": []})}
        if "You judge a phone call" in system:  # a campaign call against its expected result
            verdict = {"passed": judge_score >= 0.5, "sentiment": "Positive", "reasoning": "The expected result was reached."}
            return {"content": json.dumps(verdict)}
        if "review the failed calls" in system:
            return {
                "content": json.dumps(
                    {"what_went_wrong": ["The agent did not finish the task."], "suggestions_for_improvement": ["Confirm the result before ending."]}
                )
            }
        if isinstance(choice, dict):
            return {"content": None, "tool_calls": [(choice["function"]["name"], {})]}
        if choice == "required" and tools:
            return {"content": None, "tool_calls": [(tools[0], {})]}
        turns = sum(1 for m in messages if m.get("role") == "user")
        return {"content": f"Agent reply {turns}: happy to help with that."}

    return respond


@dataclass
class ServerStats:
    requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    authorization_seen: list[str] = field(default_factory=list)


class FakeLLMServer:
    """Start with `with FakeLLMServer() as server:`; point litellm at `server.api_base`."""

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        fault_kinds: tuple[str, ...] = FAULTS,
        seed: int = 0,
        max_requests: int = 10_000,
        max_hang: float = 5.0,
        retry_after: float = 0.05,
        chunk_delay: float = 0.0,
        port: int = 0,
    ) -> None:
        unknown = set(fault_kinds) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; use {FAULTS}")
        self.responder = responder or default_responder()
        self.latency = latency
        self.fault_rate = fault_rate
        self.fault_kinds = fault_kinds
        self.rng = random.Random(seed)
        self.max_requests = max_requests
        self.max_hang = max_hang
        self.retry_after = retry_after
        self.chunk_delay = chunk_delay
        self.port = port
        self.queue: list[str] = []
        self.stats = ServerStats()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    @property
    def api_base(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def inject(self, *kinds: str) -> None:
        """Queue faults for the next requests, in order."""
        for kind in kinds:
            if kind not in FAULTS:
                raise ValueError(f"unknown fault {kind!r}; use {FAULTS}")
        with self._lock:
            self.queue.extend(kinds)

    def _next_fault(self) -> str | None:
        with self._lock:
            self.stats.requests += 1
            if self.queue:
                fault: str | None = self.queue.pop(0)
            elif self.fault_rate and self.rng.random() < self.fault_rate:
                fault = self.rng.choice(self.fault_kinds)
            else:
                fault = None
            if fault:
                self.stats.faults[fault] = self.stats.faults.get(fault, 0) + 1
            return fault

    def start(self) -> FakeLLMServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stall

            def log_message(self, *args: Any) -> None:
                return

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None, length: int | None = None) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body) if length is None else length))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def _stream(self, body: dict[str, Any], answer: dict[str, Any]) -> None:
                """Server-sent chunks, as OpenAI streams: the first right away, the rest `chunk_delay` apart."""
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                for index, chunk in enumerate(_chunks(body, answer)):
                    if index:
                        time.sleep(server.chunk_delay)
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    server.stats.authorization_seen.append(self.headers.get("authorization", ""))
                if server.stats.requests >= server.max_requests:
                    self._send(503, b'{"error": {"message": "request budget of the fake server is used up"}}')
                    return
                fault = server._next_fault()
                if server.latency or fault == "latency":
                    time.sleep(server.latency or 0.2)
                if fault == "429":
                    error = b'{"error": {"message": "rate limited", "type": "rate_limit_error"}}'
                    self._send(429, error, {"retry-after": str(server.retry_after)})
                    return
                if fault == "500":
                    self._send(500, b'{"error": {"message": "internal error"}}')
                    return
                if fault == "hang":
                    server._closing.wait(server.max_hang)
                    self.close_connection = True
                    return
                answer = server.responder(body)
                if "status" in answer:
                    problem = {"error": {"message": answer.get("error", "error"), "type": "invalid_request_error"}}
                    self._send(int(answer["status"]), json.dumps(problem).encode())
                    return
                if body.get("stream"):
                    self._stream(body, answer)
                    return
                payload = json.dumps(_completion(body, answer)).encode()
                if fault == "malformed":
                    self._send(200, payload[: len(payload) // 2])
                    return
                if fault == "truncated":
                    self._send(200, payload[: len(payload) // 2], length=len(payload))
                    self.close_connection = True
                    return
                self._send(200, payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _completion(request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer.get("content")}
    calls = answer.get("tool_calls") or []
    if calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}} for i, (name, args) in enumerate(calls)
        ]
    text = json.dumps(request.get("messages") or [])
    prompt_tokens = len(text) // 4 + 1
    completion_tokens = len(str(answer.get("content") or "")) // 4 + len(calls) + 1
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "fake"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
    }


def _chunks(request: dict[str, Any], answer: dict[str, Any]) -> list[dict[str, Any]]:
    """A completion as streamed chunks: the words of the content, then the tool calls, the finish and the usage."""
    whole = _completion(request, answer)
    message, usage = whole["choices"][0]["message"], whole["usage"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": whole["id"],
            "object": "chat.completion.chunk",
            "created": 0,
            "model": whole["model"],
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    words = str(message.get("content") or "").split(" ")
    chunks = [chunk({"role": "assistant", "content": words[0]})]
    chunks += [chunk({"content": " " + word}) for word in words[1:]]
    for index, call in enumerate(message.get("tool_calls") or []):
        chunks.append(chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function", "function": call["function"]}]}))
    chunks.append(chunk({}, whole["choices"][0]["finish_reason"]))
    chunks.append({**chunk({}), "choices": [], "usage": usage})
    return chunks


def _port(text: str) -> int:
    import argparse

    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port 0..65535")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    """Serve on 127.0.0.1 until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pytest_voicetest.testing.server", description="A local OpenAI-compatible fake model server.")
    parser.add_argument("--port", type=_port, default=8931, help="port on 127.0.0.1, 0..65535 (0: any free port)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--judge-score", type=float, default=0.9, help="what the judge scores every metric")
    parser.add_argument("--caller-lines", type=int, default=2, help="caller lines before the caller hangs up")
    args = parser.parse_args(argv)
    try:
        server = FakeLLMServer(
            default_responder(args.caller_lines, args.judge_score), latency=args.latency, max_requests=10**9, port=args.port
        ).start()
    except OSError as exc:
        parser.exit(2, f"{parser.prog}: error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc} Fix: pick another --port\n")
    print(f"fake model server at {server.api_base} (any model name, e.g. openai/fake); Ctrl-C stops it", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
