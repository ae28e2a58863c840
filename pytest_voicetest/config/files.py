"""Finding the project root and its settings file, without importing anything heavy.

Settings files, nearest first (the first found wins):
`.voicetest.toml`, then the voicetest harness's `.voicetest/settings.toml`, then a
`pyproject.toml` with a `[tool.voicetest]` table.

The project root is found as pytest finds its rootdir, so every door agrees on test
ids and on what "inside the project" means: the nearest folder at or above the start
holding `pytest.ini`, `.pytest.ini`, `pyproject.toml`, `tox.ini`, `setup.cfg` or a
voicetest settings file; else the nearest folder with any `pyproject.toml`; else the
start folder itself. Under pytest, pytest's own rootdir is used.
"""

from __future__ import annotations

from pathlib import Path

SETTINGS_FILE = ".voicetest.toml"
HARNESS_SETTINGS = Path(".voicetest") / "settings.toml"
ROOT_MARKERS = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg", SETTINGS_FILE)


def _mentions(path: Path, table: str) -> bool:
    return path.is_file() and table in path.read_text(encoding="utf-8", errors="replace")


def find_settings_file(start: Path) -> tuple[Path, bool] | None:
    """The nearest settings file at or above `start`: (path, is_pyproject)."""
    for directory in [start, *start.parents]:
        for candidate in (directory / SETTINGS_FILE, directory / HARNESS_SETTINGS):
            if candidate.is_file():
                return candidate, False
        pyproject = directory / "pyproject.toml"
        if _mentions(pyproject, "[tool.voicetest"):
            return pyproject, True
    return None


def _is_root(directory: Path) -> bool:
    for name in ROOT_MARKERS:
        path = directory / name
        if name == "pyproject.toml":
            if _mentions(path, "[tool.pytest") or _mentions(path, "[tool.voicetest"):
                return True
        elif name in {"tox.ini", "setup.cfg"}:
            if _mentions(path, "[pytest]") or _mentions(path, "[tool:pytest]"):
                return True
        elif path.is_file():
            return True
    return (directory / HARNESS_SETTINGS).is_file()


def find_project_root(start: Path) -> Path:
    """The project root for `start` (a file or folder), found as pytest finds its rootdir
    (a plain `pyproject.toml` counts only when no folder above has a pytest or voicetest file)."""
    start = start.resolve()
    if not start.is_dir():
        start = start.parent
    folders = [start, *start.parents]
    for directory in folders:
        if _is_root(directory):
            return directory
    return next((d for d in folders if (d / "pyproject.toml").is_file()), start)
