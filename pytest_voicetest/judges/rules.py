"""Rule checks: `includes`, `excludes` and `patterns` on the transcript.

Phrases match case-insensitively (Unicode case folding). Patterns are case-insensitive
regexes (`re.search`) or, with `pattern_syntax: glob`, fnmatch globs that match within
one line. Each check as a whole is cut off after `REGEX_TIMEOUT` seconds, so a
catastrophically backtracking pattern fails its check instead of hanging the run.

`rules_on` picks what is searched: each agent turn (default), each user turn, each of
both, or `transcript`: the whole call as `ROLE: text` lines (USER, ASSISTANT, TOOL,
SYSTEM), the way the voicetest harness matches its rule tests.
"""

from __future__ import annotations

import time

import regex

from ..models.results import CheckResult, Turn
from ..models.testcase import compile_pattern

REGEX_TIMEOUT = 1.0
_ROLES = {"agent": {"agent"}, "user": {"user"}, "all": {"agent", "user"}}
HARNESS_ROLES = {"agent": "ASSISTANT", "user": "USER", "tool": "TOOL", "system": "SYSTEM"}


def _snippet(text: str, start: int, length: int) -> str:
    left = max(0, start - 30)
    right = min(len(text), start + length + 30)
    return ("…" if left else "") + text[left:right].replace("\n", " ") + ("…" if right < len(text) else "")


def searched(turns: list[Turn], rules_on: str) -> tuple[list[tuple[int, str]], str]:
    """(index, text) pairs to search and how to name them in evidence."""
    if rules_on == "transcript":
        text = "\n".join(f"{HARNESS_ROLES.get(t.role, t.role.upper())}: {t.content}" for t in turns)
        return [(0, text)], "the transcript"
    selected = [(i, t.content) for i, t in enumerate(turns) if t.role in _ROLES[rules_on]]
    return selected, f"any of {len(selected)} {rules_on} turns" if rules_on != "all" else f"any of {len(selected)} turns"


def _where(index: int, rules_on: str) -> str:
    return "the transcript" if rules_on == "transcript" else f"turn {index}"


def check_rules(
    turns: list[Turn],
    includes: list[str],
    excludes: list[str],
    patterns: list[str],
    rules_on: str = "agent",
    pattern_syntax: str = "regex",
    note: str = "",
) -> list[CheckResult]:
    """One CheckResult per rule, with its evidence (and `note` appended, when given)."""
    selected, where = searched(turns, rules_on)
    results: list[CheckResult] = []
    for phrase in includes:
        needle = phrase.casefold()
        hit = next((i for i, text in selected if needle in text.casefold()), None)
        found = f"found in {_where(hit, rules_on)}" if hit is not None else f"not found in {where}"
        results.append(CheckResult(kind="includes", name=phrase, passed=hit is not None, evidence=found))
    for phrase in excludes:
        needle = phrase.casefold()
        found_at = [(i, text) for i, text in selected if needle in text.casefold()]
        evidence = "absent"
        if found_at:
            i, text = found_at[0]
            evidence = f'{_where(i, rules_on)}: "{_snippet(text, text.casefold().find(needle), len(needle))}"'
        results.append(CheckResult(kind="excludes", name=phrase, passed=not found_at, evidence=evidence))
    results += [_pattern(pattern, pattern_syntax, selected, where, rules_on) for pattern in patterns]
    if note:
        for result in results:
            result.evidence += f" ({note})"
    return results


def _pattern(pattern: str, syntax: str, selected: list[tuple[int, str]], where: str, rules_on: str) -> CheckResult:
    try:
        compiled = compile_pattern(pattern, syntax)
    except regex.error as exc:
        return CheckResult(kind="pattern", name=pattern, passed=False, evidence=f"invalid {syntax}: {exc}")
    deadline = time.monotonic() + REGEX_TIMEOUT
    for index, text in selected:
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            match = compiled.search(text, timeout=left)
        except TimeoutError:
            return CheckResult(
                kind="pattern",
                name=pattern,
                passed=False,
                evidence=f"the search took over {REGEX_TIMEOUT:g} s (catastrophic backtracking?) and was stopped at {_where(index, rules_on)}; simplify the pattern",
            )
        if match:
            return CheckResult(
                kind="pattern",
                name=pattern,
                passed=True,
                evidence=f'{_where(index, rules_on)}: "{_snippet(text, match.start(), len(match.group(0)))}"',
            )
    return CheckResult(kind="pattern", name=pattern, passed=False, evidence=f"no match in {where}")
