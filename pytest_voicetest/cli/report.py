"""`voicetest report REPORT.json -o PATH`: render a saved JSON report as the HTML report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from .common import emit, write_output


def load_report(path: Path) -> dict[str, Any]:
    """A JSON report written by `--vt-report`, or a one-line error saying what is wrong with it."""
    if not path.is_file():
        raise InputError("no such file" if not path.exists() else "is not a file", source=path, fix="give the JSON file written by --vt-report")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError("is not a text file", source=path, fix="give the JSON file written by --vt-report") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"is not valid JSON ({exc.msg})", source=path, line=exc.lineno, fix="give the JSON file written by --vt-report") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise InputError("is not a voicetest JSON report (no 'results' list)", source=path, fix="give the JSON file written by --vt-report")
    if not all(isinstance(result, dict) for result in data["results"]):
        raise InputError("is not a voicetest JSON report (a result is not an object)", source=path, field="results")
    return data


def cmd_report(args: argparse.Namespace) -> int:
    from ..report.html import render_html

    report = load_report(Path(args.report))
    target = write_output(args.output, render_html(report))
    emit(args, {"report": args.report, "html": str(target), "tests": len(report["results"])}, f"wrote {target} ({len(report['results'])} tests)")
    return 0


def add_parsers(command: Any) -> None:
    cmd = command("report", cmd_report, "Render a saved JSON report (--vt-report) as one self-contained HTML page.")
    cmd.add_argument("report", metavar="REPORT.json")
    cmd.add_argument("-o", "--output", required=True, metavar="PATH", help="the HTML file to write")
