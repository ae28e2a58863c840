"""Which model each role uses, and every substitution made on the way.

Precedence, highest first: command line, the test's `models:`, the file's
`defaults.models`, settings (`[tool.voicetest.models]`), the environment
(`VOICETEST_AGENT_MODEL`, `VOICETEST_SIMULATOR_MODEL`, `VOICETEST_JUDGE_MODEL`, then
`VOICETEST_MODEL` for every role), in replay mode the model the cassette recorded for
the role, then the role defaults: the test's `llm_model` (simulator only, the voicetest
harness's meaning) and the graph's `default_model` (agent only).
`test_model_precedence` puts the test's choices (its `models:`, then the role defaults)
above the command line, as the harness does. A test with a `script:` runs the scripted
provider for every role its `models:` leaves unset, and the command line does not replace it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..models.results import ModelOverride

ROLES = ("agent", "simulator", "judge")
SOURCES = ("command line", "test", "file defaults", "settings", "environment", "cassette", "test llm_model", "agent config")
ROLE_DEFAULTS = (6, 7)


@dataclass
class ResolvedModels:
    """The chosen model per role (None when nothing configures it) and the overrides."""

    models: dict[str, str | None]
    overrides: list[ModelOverride] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, role: str) -> str | None:
        return self.models.get(role)


def environment_models(environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    environ = os.environ if environ is None else environ
    fallback = environ.get("VOICETEST_MODEL") or None
    return {role: environ.get(f"VOICETEST_{role.upper()}_MODEL") or fallback for role in ROLES}


def resolve_models(
    *,
    cli: Mapping[str, str | None],
    test: Mapping[str, str | None],
    file_defaults: Mapping[str, str | None],
    settings: Mapping[str, str | None],
    environment: Mapping[str, str | None],
    graph_default: str | None,
    recorded: Mapping[str, str | None] | None = None,
    test_default: Mapping[str, str | None] | None = None,
    test_model_precedence: bool = False,
    scripted: bool = False,
) -> ResolvedModels:
    resolved = ResolvedModels(models={})
    for role in ROLES:
        candidates = [
            cli.get(role),
            test.get(role) or ("scripted" if scripted else None),
            file_defaults.get(role),
            settings.get(role),
            environment.get(role),
            (recorded or {}).get(role),
            (test_default or {}).get(role),
            graph_default if role == "agent" else None,
        ]
        test_pinned = scripted and not test.get(role)
        levels = len(candidates)
        if test_model_precedence:
            order = [1, *ROLE_DEFAULTS, 0, *(i for i in range(2, levels) if i not in ROLE_DEFAULTS)]
        elif test_pinned:
            order = [1, 0, *range(2, levels)]
        else:
            order = list(range(levels))
        default_index = next((i for i in range(levels) if candidates[i]), None)
        chosen_index = next((i for i in order if candidates[i]), None)
        if chosen_index is None:
            resolved.models[role] = None
            continue
        chosen = candidates[chosen_index]
        resolved.models[role] = chosen
        resolved.sources[role] = SOURCES[chosen_index]
        if chosen_index != default_index and default_index is not None:
            why = "the test's script" if test_pinned else "test_model_precedence"
            resolved.overrides.append(
                ModelOverride(
                    role=role, requested=candidates[default_index], actual=chosen, reason=f"{why} keeps the test's model over the command line"
                )
            )
        else:
            lower = next((i for i in range(chosen_index + 1, levels) if candidates[i]), None)
            if lower is not None and candidates[lower] != chosen:
                resolved.overrides.append(
                    ModelOverride(
                        role=role,
                        requested=candidates[lower],
                        actual=chosen,
                        reason=f"the {SOURCES[chosen_index]} overrides the {SOURCES[lower]} model",
                    )
                )
    return resolved
