"""Tool mocks: answer the agent's tool calls from the test's `tool_mocks`.

The first mock for the tool whose `when` matches the arguments answers: `returns`
every time, `sequence` one item per call (a used-up sequence stops matching), or
`error`. A call nothing answers is recorded and gets an error result; real URLs are
never called unless the test allows real tools.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..models.graph import ToolDefinition
from ..models.testcase import ToolMock


def arguments_match(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    """Subset match: every expected key is present with an equal value.

    Strings compare case- and space-insensitively; numbers and numeric strings compare
    as numbers; mappings match recursively as subsets.
    """
    return all(key in actual and _equal(value, actual[key]) for key, value in expected.items())


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and arguments_match(expected, actual)
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(map(_equal, expected, actual))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return str(expected).lower() == str(actual).lower()
    try:
        return float(expected) == float(actual)
    except (TypeError, ValueError):
        return str(expected).strip().casefold() == str(actual).strip().casefold()


@dataclass
class ToolAnswer:
    result: Any
    mocked: bool
    error: str | None = None


@dataclass
class ToolMocker:
    """Per-call mock state (sequence positions)."""

    mocks: list[ToolMock]
    used: dict[int, int] = field(default_factory=dict)

    def answer(self, name: str, arguments: dict[str, Any]) -> ToolAnswer:
        for index, mock in enumerate(self.mocks):
            if mock.tool != name or (mock.when and not arguments_match(mock.when, arguments)):
                continue
            if mock.error is not None:
                return ToolAnswer({"error": mock.error}, mocked=True, error=mock.error)
            if mock.sequence is not None:
                position = self.used.get(index, 0)
                if position >= len(mock.sequence):
                    continue
                self.used[index] = position + 1
                return ToolAnswer(mock.sequence[position], mocked=True)
            self.used[index] = self.used.get(index, 0) + 1
            return ToolAnswer(mock.returns, mocked=True)
        detail = f"no tool mock answers {name}({json.dumps(arguments, sort_keys=True)})"
        return ToolAnswer({"error": detail}, mocked=False, error=detail)


def openai_tool(tool: ToolDefinition) -> dict[str, Any]:
    """The OpenAI function-calling definition of a tool."""
    parameters = tool.parameters or {"type": "object", "properties": {}}
    if parameters.get("type") != "object":
        parameters = {"type": "object", "properties": {}}
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description or tool.name, "parameters": parameters},
    }


def parse_arguments(raw: str | dict[str, Any] | None) -> tuple[dict[str, Any], str | None]:
    """Tool-call arguments as a dict, with an error message when they are not a JSON object."""
    if isinstance(raw, dict):
        return raw, None
    if not raw:
        return {}, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, f"arguments are not JSON ({exc.msg})"
    return (value, None) if isinstance(value, dict) else ({}, "arguments are not a JSON object")


async def call_url(tool: ToolDefinition, arguments: dict[str, Any], timeout: float) -> Any:
    """Call a tool's real HTTP endpoint (only when the test allows real tools)."""
    import asyncio
    import urllib.parse
    import urllib.request

    url = tool.url or ""
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        return {"error": f"{tool.name}: only http(s) URLs can be called, not {url!r}"}
    method = str(tool.metadata.get("method") or "POST").upper()
    data = None
    if method == "GET":
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(arguments)
    else:
        data = json.dumps(arguments).encode("utf-8")

    def send() -> Any:
        request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - opted in
            body = response.read(1_000_000).decode("utf-8", "replace")
        try:
            return json.loads(body)
        except json.JSONDecodeError:
            return body

    try:
        return await asyncio.to_thread(send)
    except Exception as exc:  # network errors become the tool's error result
        return {"error": f"{tool.name} at {tool.url} failed: {exc}"}
