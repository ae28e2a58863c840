"""The `scripted/...` models: deterministic answers from a test's `script:`, in-process.

The engine sends, with each request, the script and where the call stands (`kind`,
the per-kind `index`, how many caller lines came before, the node, the edge tools).
`respond` is a pure function of that context:

- agent: each agent step becomes up to two responses, first its `tools` calls, then
  its text with the edge to `goto` and/or the end-call tool; a step must be asked for
  after as many caller lines as precede it in the script, or it is a ScriptError;
- simulator: the caller steps in order; when they run out the caller hangs up;
- extract / function: the `extract` and `function_args` values in order;
- judge: `script.judge[criterion]` (or `"*"`), with `flaky: {fail, of, seed}` failing a
  seeded `fail` of every `of` repeats; flow: `script.flow_violations`; campaign:
  `script.campaign`; campaign summary: the failed calls as given, no suggestions.
"""

from __future__ import annotations

import json
import random
from typing import Any

from ..errors import ScriptError


def _caller_steps(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in turns if t.get("user") is not None or t.get("hangup")]


def agent_responses(turns: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """(caller lines before, step, response) for every agent response the script holds."""
    responses: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    callers = 0
    for step in turns:
        if step.get("user") is not None or step.get("hangup"):
            callers += 1
            continue
        if step.get("tools"):
            calls = [{"name": c["name"], "arguments": c.get("arguments") or {}} for c in step["tools"]]
            responses.append((callers, step, {"content": "", "calls": calls}))
        if step.get("agent") is not None or step.get("goto") or step.get("end"):
            responses.append((callers, step, {"content": step.get("agent") or "", "goto": step.get("goto"), "end": step.get("end")}))
    return responses


def _tool_call(index: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"call_{index}", "name": name, "arguments": json.dumps(arguments, sort_keys=True)}


def _failing_repeats(flaky: dict[str, int]) -> set[int]:
    of = int(flaky.get("of", 1))
    fail = min(int(flaky.get("fail", 0)), of)
    return set(random.Random(int(flaky.get("seed", 0))).sample(range(of), fail))


def _agent(context: dict[str, Any]) -> dict[str, Any]:
    turns = context["script"].get("turns") or []
    responses = agent_responses(turns)
    index, callers, node = context["index"], context.get("caller_turns", 0), context.get("node")
    if index >= len(responses):
        raise ScriptError(
            f"the script has no agent response #{index + 1} (asked at node '{node}' after caller line {callers}); add an agent step there"
        )
    expected_callers, step, response = responses[index]
    if expected_callers != callers:
        raise ScriptError(
            f"the script's agent response #{index + 1} ({_describe(step)}) follows caller line {expected_callers}, "
            f"but the engine asked for it at node '{node}' after caller line {callers}"
            + (" (the graph speaks a fixed greeting first)" if expected_callers == 0 and callers == 1 else "")
        )
    if "calls" in response:
        return {"content": "", "tool_calls": [_tool_call(i, c["name"], c["arguments"]) for i, c in enumerate(response["calls"])]}
    calls = []
    if response.get("goto"):
        routes = context.get("routes") or {}
        target = response["goto"]
        calls.append(_tool_call(0, routes.get(target, f"route_to_{target}"), {}))
    if response.get("end"):
        end_tools = context.get("end_tools") or ["end_call"]
        calls.append(_tool_call(1, end_tools[0], {}))
    return {"content": response["content"], "tool_calls": calls}


def _describe(step: dict[str, Any]) -> str:
    if step.get("agent"):
        return f"'{str(step['agent'])[:40]}'"
    if step.get("goto"):
        return f"goto {step['goto']}"
    return "tool calls" if step.get("tools") else "end"


def _simulator(context: dict[str, Any]) -> dict[str, Any]:
    steps = _caller_steps(context["script"].get("turns") or [])
    index = context["index"]
    if index >= len(steps):
        return {"content": "", "tool_calls": [_tool_call(0, "end_call", {"reason": "script finished"})]}
    step = steps[index]
    calls = [_tool_call(0, "end_call", {"reason": "hangup"})] if step.get("hangup") else []
    return {"content": step.get("user") or "", "tool_calls": calls}


def _nth_value(context: dict[str, Any], field: str) -> dict[str, Any] | None:
    values = [t[field] for t in context["script"].get("turns") or [] if t.get(field) is not None]
    index = context["index"]
    return values[index] if index < len(values) else None


def _judge(context: dict[str, Any]) -> dict[str, Any]:
    script = context["script"]
    criterion = context.get("criterion", "")
    scores = script.get("judge") or {}
    flaky = script.get("flaky")
    if criterion in scores:
        score = float(scores[criterion])
    elif "*" in scores:
        score = float(scores["*"])
    elif flaky:
        score = 1.0
    else:
        raise ScriptError(f"the scripted judge has no score for '{criterion}'; add it under script.judge (or '*')")
    if flaky and context.get("repeat", 0) % max(int(flaky.get("of", 1)), 1) in _failing_repeats(flaky):
        score = 0.0
    verdict = {"score": score, "reasoning": f"scripted score {score}", "confidence": 1.0}
    return {"content": json.dumps(verdict), "tool_calls": []}


def respond(context: dict[str, Any], tool_choice: Any = None) -> dict[str, Any]:
    """The scripted answer for one request: {content, tool_calls}."""
    kind = context.get("kind")
    if kind == "agent":
        return _agent(context)
    if kind == "simulator":
        return _simulator(context)
    if kind == "extract":
        values = _nth_value(context, "extract")
        if values is None:
            raise ScriptError(
                f"the script has no extract values for extraction #{context['index'] + 1} at node '{context.get('node')}'; "
                "add `extract: {...}` to the script"
            )
        return {"content": "", "tool_calls": [_tool_call(0, "record_variables", values)]}
    if kind == "function":
        arguments = _nth_value(context, "function_args") or {}
        name = (tool_choice or {}).get("function", {}).get("name") or context.get("function", "")
        return {"content": "", "tool_calls": [_tool_call(0, name, arguments)]}
    if kind == "judge":
        return _judge(context)
    if kind == "flow":
        return {"content": json.dumps({"violations": context["script"].get("flow_violations") or []}), "tool_calls": []}
    if kind == "campaign":
        verdict = (context.get("script") or {}).get("campaign") or {"passed": True, "sentiment": "Neutral", "reasoning": "scripted verdict"}
        return {"content": json.dumps(verdict), "tool_calls": []}
    if kind == "campaign_summary":  # a scripted judge reports the failures and invents no advice
        findings = {"what_went_wrong": context.get("failures") or [], "suggestions_for_improvement": []}
        return {"content": json.dumps(findings), "tool_calls": []}
    raise ScriptError(f"the scripted provider cannot answer a '{kind}' request")


def scripted_latency(context: dict[str, Any], kind: str) -> float:
    """The simulated model time of a scripted agent response (`latency_ms` on its step)."""
    if kind != "agent":
        return 0.0
    responses = agent_responses(context.get("script", {}).get("turns") or [])
    index = context.get("index", 0)
    return float(responses[index][1].get("latency_ms") or 0.0) if index < len(responses) else 0.0


def scripted_reply(context: dict[str, Any] | None, kind: str, tool_choice: Any = None) -> dict[str, Any]:
    """The scripted answer as reply fields (content, tool calls, latency), computed
    in-process: no network, no litellm, no tokens."""
    if context is None:
        raise ScriptError("scripted models answer only requests sent by pytest-voicetest")
    answer = respond(context | {"kind": kind}, tool_choice)
    return {
        "content": answer["content"] or "",
        "tool_calls": answer["tool_calls"],
        "latency_ms": scripted_latency(context, kind),
    }
