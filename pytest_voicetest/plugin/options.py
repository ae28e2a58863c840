"""The plugin's command-line flags and ini keys, and the config layers they make.

Every run option is `--vt-<option>` on the command line and `voicetest_<option>` in the
ini file; values are checked by the one resolver (`config.resolve`), which names the
flag or key that gave a bad value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROLES = ("agent", "simulator", "judge")
# (RunOptions field, takes a value, metavar, help)
RUN_OPTIONS: tuple[tuple[str, bool, str, str], ...] = (
    ("record", False, "", "record every model exchange to cassettes"),
    ("replay", False, "", "answer model calls only from cassettes (needs no model configured)"),
    ("cassette_dir", True, "DIR", "cassette folder (default: cassettes)"),
    ("max_turns", True, "N", "caller turns per call for tests that set none"),
    ("test_timeout", True, "SECONDS", "deadline of each test: call, judges and retries (default 300)"),
    ("concurrency", True, "N", "calls in flight at once in this process"),
    ("api_base", True, "URL", "OpenAI-compatible base URL for every model"),
    ("allow_outside_paths", False, "", "allow agent, transcript and output paths outside the project"),
    ("allow_real_tools", False, "", "call tools' real URLs when no mock answers"),
    ("repeat", True, "N", "run every LLM test N times (pass_rate decides)"),
    ("max_cost", True, "USD", "stop LLM tests once this much is spent"),
    ("max_calls", True, "N", "stop LLM tests after N model calls"),
    ("strict", False, "", "fail (not skip) tests whose model is not configured"),
    ("offline", False, "", "remote agents (agent: retell://ID) from the cache only, no platform request"),
    ("store", True, "PATH_OR_URL", "VoiceSim store: SQLite path or postgresql:// URL"),
)
OUTPUTS = (
    ("report", "PATH", "write every result as JSON (ini paths are relative to the rootdir)"),
    ("html", "PATH", "write a self-contained HTML report of every call (ini paths are relative to the rootdir)"),
)


REPORT_FORMATS = ("native", "seed")


def report_format(config: pytest.Config) -> str:
    """The JSON report's shape from --vt-report-format or its ini key (checked)."""
    chosen = config.getoption("vt_report_format") or _ini(config, "voicetest_report_format") or "native"
    if chosen not in REPORT_FORMATS:
        raise pytest.UsageError(f"ini file: voicetest_report_format must be native or seed, got {chosen!r}")
    return str(chosen)


def flag(name: str) -> str:
    return "--vt-" + name.replace("_", "-")


def addoptions(parser: pytest.Parser) -> None:
    group = parser.getgroup("voicetest", "voice agent tests (pytest-voicetest)")
    for role in ROLES:
        group.addoption(
            flag(f"{role}_model"), dest=f"vt_{role}_model", metavar="MODEL", help=f"litellm model for the {role} (overrides tests and settings)"
        )
        parser.addini(f"voicetest_{role}_model", f"litellm model for the {role}")
    for name, takes_value, metavar, help_text in RUN_OPTIONS:
        if takes_value:
            group.addoption(flag(name), dest=f"vt_{name}", metavar=metavar, help=help_text)
        else:
            group.addoption(flag(name), dest=f"vt_{name}", action="store_true", default=None, help=help_text)
        parser.addini(f"voicetest_{name}", help_text + (" (true/false)" if not takes_value else ""))
    for name, metavar, help_text in OUTPUTS:
        group.addoption(flag(name), dest=f"vt_{name}", metavar=metavar, help=help_text)
        parser.addini(f"voicetest_{name}", help_text)
    format_help = "the JSON report's shape: native (everything) or seed (the voicetest harness API's TestRun)"
    group.addoption("--vt-report-format", dest="vt_report_format", choices=REPORT_FORMATS, help=format_help)
    parser.addini("voicetest_report_format", format_help)


def _ini(config: pytest.Config, name: str) -> Any:
    value = config.getini(name)
    return value if value not in ("", None, []) else None


def layers(config: pytest.Config) -> list[Any]:
    """The ini layer, then the command-line layer."""
    from ..config.resolve import Layer

    names = [name for name, *_ in RUN_OPTIONS]
    ini = Layer(
        "ini file",
        {name: _ini(config, f"voicetest_{name}") for name in names},
        {name: f"voicetest_{name}" for name in names},
        {role: _ini(config, f"voicetest_{role}_model") for role in ROLES},
        models_are_settings=True,
    )
    command = Layer(
        "command line",
        {name: config.getoption(f"vt_{name}") for name in names},
        {name: flag(name) for name in names},
        {role: config.getoption(f"vt_{role}_model") for role in ROLES},
    )
    return [ini, command]


def output_path(config: pytest.Config, name: str) -> Path | None:
    """An output file from `--vt-<name>` (from the current folder) or its ini key (from the rootdir)."""
    option, ini = config.getoption(f"vt_{name}"), _ini(config, f"voicetest_{name}")
    if option:
        return Path(option).resolve()
    return Path(config.rootpath) / ini if ini else None


def configured(config: pytest.Config) -> bool:
    """Whether this project uses voicetest settings, ini keys or --vt-* flags."""
    from ..config.files import find_settings_file

    if find_settings_file(Path(config.rootpath).resolve()):
        return True
    names = [f"voicetest_{name}" for name, *_ in RUN_OPTIONS] + [f"voicetest_{role}_model" for role in ROLES]
    names += [f"voicetest_{name}" for name, *_ in OUTPUTS]
    if any(_ini(config, name) for name in names):
        return True
    return any(value not in (None, False) for key, value in vars(config.option).items() if key.startswith("vt_"))
