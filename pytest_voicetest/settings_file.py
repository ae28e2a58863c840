"""Finding the settings file, without importing anything heavy (the plugin does this at start-up)."""

from __future__ import annotations

from pathlib import Path

SETTINGS_FILE = ".voicetest.toml"


def find_settings_file(start: Path) -> tuple[Path, bool] | None:
    """The nearest settings file at or above `start`: (path, is_pyproject)."""
    for directory in [start, *start.parents]:
        own = directory / SETTINGS_FILE
        if own.is_file():
            return own, False
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and "[tool.voicetest" in pyproject.read_text(encoding="utf-8", errors="replace"):
            return pyproject, True
    return None
