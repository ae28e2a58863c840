"""Rule checks: `includes`, `excludes` and `patterns` on the transcript.

Phrases match case-insensitively (Unicode case folding) anywhere in a turn; patterns
are `re.search`-style regexes, case-insensitive, each search cut off after
`REGEX_TIMEOUT` seconds so a catastrophically backtracking pattern fails the check
instead of hanging the run. `rules_on` picks agent turns (default), user turns or all.
"""

from __future__ import annotations

import regex

from ..models.results import CheckResult, Turn

REGEX_TIMEOUT = 1.0
_ROLES = {"agent": {"agent"}, "user": {"user"}, "all": {"agent", "user"}}


def _snippet(text: str, start: int, length: int) -> str:
    left = max(0, start - 30)
    right = min(len(text), start + length + 30)
    return ("…" if left else "") + text[left:right].replace("\n", " ") + ("…" if right < len(text) else "")


def check_rules(turns: list[Turn], includes: list[str], excludes: list[str], patterns: list[str], rules_on: str = "agent") -> list[CheckResult]:
    roles = _ROLES[rules_on]
    selected = [(i, t.content) for i, t in enumerate(turns) if t.role in roles]
    where = f"{rules_on} turns" if rules_on != "all" else "turns"
    results: list[CheckResult] = []
    for phrase in includes:
        needle = phrase.casefold()
        hit = next((i for i, text in selected if needle in text.casefold()), None)
        results.append(
            CheckResult(
                kind="includes",
                name=phrase,
                passed=hit is not None,
                evidence=f"found in turn {hit}" if hit is not None else f"not found in any of {len(selected)} {where}",
            )
        )
    for phrase in excludes:
        needle = phrase.casefold()
        found = [(i, text) for i, text in selected if needle in text.casefold()]
        evidence = "absent"
        if found:
            i, text = found[0]
            evidence = f'turn {i}: "{_snippet(text, text.casefold().find(needle), len(needle))}"'
        results.append(CheckResult(kind="excludes", name=phrase, passed=not found, evidence=evidence))
    for pattern in patterns:
        results.append(_pattern(pattern, selected, where))
    return results


def _pattern(pattern: str, selected: list[tuple[int, str]], where: str) -> CheckResult:
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE)
    except regex.error as exc:
        return CheckResult(kind="pattern", name=pattern, passed=False, evidence=f"invalid regex: {exc}")
    for index, text in selected:
        try:
            match = compiled.search(text, timeout=REGEX_TIMEOUT)
        except TimeoutError:
            return CheckResult(
                kind="pattern",
                name=pattern,
                passed=False,
                evidence=f"regex search on turn {index} took over {REGEX_TIMEOUT}s (catastrophic backtracking?); simplify the pattern",
            )
        if match:
            return CheckResult(
                kind="pattern", name=pattern, passed=True, evidence=f'turn {index}: "{_snippet(text, match.start(), len(match.group(0)))}"'
            )
    return CheckResult(kind="pattern", name=pattern, passed=False, evidence=f"no match in any of {len(selected)} {where}")
