"""JUnit XML: per-test properties and the transcript as system-out, XML-safe and redacted.

Per-test properties survive xdist (testsuite properties do not). Control characters a
transcript may carry (NUL, ESC, BEL, ...) are not allowed in XML 1.0; they are written
as visible `\\xNN` escapes so the file stays well-formed.
"""

from __future__ import annotations

import re
from typing import Any

from ..models.results import TestResult
from ..redact import redact
from .text import transcript_lines

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` with characters XML 1.0 cannot hold shown as \\xNN escapes."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def junit_properties(result: TestResult) -> list[tuple[str, object]]:
    """Per-test JUnit properties (xdist keeps these, unlike testsuite properties)."""
    properties: list[tuple[str, object]] = [
        ("voicetest.status", result.status),
        ("voicetest.end_reason", result.end_reason or ""),
        ("voicetest.turn_count", result.turn_count),
        ("voicetest.nodes_visited", " -> ".join(result.nodes_visited)),
        ("voicetest.llm_calls", result.usage.calls),
        ("voicetest.cost_usd", f"{result.usage.cost_usd:.6f}"),
    ]
    properties += [(f"voicetest.score.{m.metric[:80]}", f"{m.score:.2f}") for m in result.metric_results]
    if result.repeat:
        stats = result.repeat
        properties += [
            ("voicetest.repeat.runs", stats.runs),
            ("voicetest.repeat.passed", stats.passed),
            ("voicetest.repeat.rate", f"{stats.rate:.4f}"),
            ("voicetest.repeat.pass_all", str(stats.pass_all).lower()),
            ("voicetest.repeat.ci95", f"{stats.ci_low:.4f}-{stats.ci_high:.4f}"),
        ]
    return [(name, xml_safe(redact(str(value)))) for name, value in properties]


def system_out(result: dict[str, Any]) -> str:
    """The transcript of a result as JUnit system-out text."""
    return xml_safe(redact("\n".join(["voicetest transcript:", *transcript_lines(result["transcript"])])))
