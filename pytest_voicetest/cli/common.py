"""What every `voicetest` command shares: the parser that errors in one line, JSON output."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import InputError


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line, exit 2, like every other bad input
        self.exit(2, f"voicetest: error: {message}\n")


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    """Print `data` as JSON with --json, else `text`."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str) if args.json else text)


def write_output(path: str, text: str) -> Path:
    """Write a command's output file, refusing a folder or a missing parent clearly."""
    target = Path(path)
    if target.is_dir():
        raise InputError("is a folder", source=target, fix="give a file name, e.g. out.json")
    if not target.parent.is_dir():
        raise InputError(f"the folder {target.parent} does not exist", source=target, fix=f"create it first: mkdir -p {target.parent}")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", source=target, fix="choose a writable path") from None
    return target
