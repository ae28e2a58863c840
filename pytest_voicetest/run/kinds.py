"""Which files are voicetest files (light: the plugin asks this of every file it sees)."""

from __future__ import annotations

from pathlib import Path

SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRS = frozenset({"node_modules", "venv", "__pycache__", "build", "dist"})
KINDS = {"test_": "test", "scenario_": "campaign", "voicesim_": "sweep"}


def file_kind(path: Path) -> str | None:
    """ "test", "campaign" or "sweep" for a voicetest file name, else None."""
    if path.suffix not in SUFFIXES:
        return None
    return next((kind for prefix, kind in KINDS.items() if path.name.startswith(prefix)), None)


def voicetest_files(paths: list[Path]) -> list[Path]:
    """The voicetest files named or found under the given folders (sorted, hidden folders
    and virtual environments skipped), as pytest would collect them."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if file_kind(p) and p.is_file() and not any(part.startswith(".") or part in SKIPPED_DIRS for part in p.relative_to(path).parts[:-1])
            )
        else:
            found.append(path)
    return found
