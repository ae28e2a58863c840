"""The caller: an LLM that plays the test's `user_prompt` persona.

It sees only what was said aloud (agent lines as the other party, its own lines as
its own), never routing, tools or node ids. It ends the call with a structured
signal, the `end_call` function (reason: goal_met, gave_up or agent_said_goodbye).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..llm.client import LLMClient, LLMRequest
from ..models.results import Turn

SYSTEM = """You are role-playing a caller on a phone call with a voice agent.

Your persona and goal:
{persona}

Rules:
- Say only your next line, as you would speak it: one or two short sentences, no stage directions.
- Stay in character; answer the agent's questions with the details your persona gives.
- When your goal is met, when the agent says goodbye, or when you give up, call end_call
  (you may say a last line in the same reply)."""

END_CALL_TOOL = {
    "type": "function",
    "function": {
        "name": "end_call",
        "description": "Hang up. Call when your goal is met, the agent said goodbye, or you give up.",
        "parameters": {
            "type": "object",
            "properties": {
                "reason": {"type": "string", "enum": ["goal_met", "gave_up", "agent_said_goodbye"]},
            },
            "required": ["reason"],
        },
    },
}


@dataclass
class CallerLine:
    text: str
    hangup: bool
    reason: str = ""
    latency_ms: float = 0.0


class Simulator:
    """Produces the caller's lines for one call."""

    def __init__(self, llm: LLMClient, model: str, persona: str, context: dict[str, Any], repeat_index: int = 0) -> None:
        self.llm = llm
        self.model = model
        self.persona = persona or "A caller with a routine question. Be brief and polite."
        self.context = context
        self.repeat_index = repeat_index
        self.calls = 0

    def messages(self, transcript: list[Turn]) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM.format(persona=self.persona)}]
        spoken = [t for t in transcript if t.role in {"agent", "user"}]
        if not spoken or spoken[0].role == "user":
            messages.append({"role": "user", "content": "(The call has connected. You speak first.)"})
        for turn in spoken:
            messages.append({"role": "user" if turn.role == "agent" else "assistant", "content": turn.content})
        return messages

    async def next_line(self, transcript: list[Turn]) -> CallerLine:
        request = LLMRequest(
            role="simulator",
            kind="simulator",
            model=self.model,
            messages=self.messages(transcript),
            tools=[END_CALL_TOOL],
            tool_choice="auto",
            context=self.context | {"index": self.calls},
            repeat_index=self.repeat_index,
        )
        self.calls += 1
        reply = await self.llm.complete(request)
        hangup = next((c for c in reply.tool_calls if c.name == "end_call"), None)
        reason = ""
        if hangup is not None:
            try:
                reason = str(json.loads(hangup.arguments or "{}").get("reason", ""))
            except (json.JSONDecodeError, AttributeError):
                reason = ""
        text = reply.content.strip()
        return CallerLine(
            text=text, hangup=hangup is not None or not text, reason=reason or ("" if text else "empty line"), latency_ms=reply.latency_ms
        )
