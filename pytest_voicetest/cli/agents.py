"""`voicetest import` and `voicetest export`: agent configs in and out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from .common import emit, write_output


def cmd_import(args: argparse.Namespace) -> int:
    from ..importers import import_agent

    graph = import_agent(Path(args.file), format=args.agent_format)
    emit(args, graph.model_dump(mode="json"), graph.summary())
    return 0


def _visited(args: argparse.Namespace) -> list[str]:
    """The path to highlight: --path a,b,c, or the nodes a test of a saved report visited."""
    if args.path and args.from_report:
        raise InputError("--path and --from-report both name a path", field="--path", fix="give one of them")
    if args.path:
        return [node.strip() for node in args.path.split(",") if node.strip()]
    if not args.from_report:
        return []
    if not args.test:
        raise InputError("--from-report needs --test", field="--test", fix="add --test with a test id (file::name) or name from the report")
    from ..yamlio import load_data_file

    report = load_data_file(Path(args.from_report))
    results = report.get("results") if isinstance(report, dict) else None
    if not isinstance(results, list):
        raise InputError(
            "not a voicetest JSON report (no results)", source=args.from_report, fix="give a file written by --vt-report or voicetest run --json"
        )
    wanted = [r for r in results if isinstance(r, dict) and args.test in (r.get("test_id"), r.get("test_name"), r.get("nodeid"))]
    if not wanted:
        raise InputError(
            f"no test {args.test!r} in the report", source=args.from_report, field="--test", fix="give a test id (file::name) or name from the report"
        )
    if len({r.get("test_id") or r.get("nodeid") for r in wanted}) > 1:
        raise InputError(
            f"{len(wanted)} tests are named {args.test!r} in the report", source=args.from_report, field="--test", fix="give the test id (file::name)"
        )
    visited = [str(node) for node in wanted[0].get("nodes_visited") or []]
    if not visited:
        why = wanted[0].get("error_message") or wanted[0].get("status")
        raise InputError(f"test {args.test!r} has no path in the report ({why})", source=args.from_report, field="--test", fix="run the test first")
    return visited


def cmd_export(args: argparse.Namespace) -> int:
    from ..exporters import export_agent
    from ..exporters.mermaid import to_mermaid
    from ..importers import import_agent

    graph = import_agent(Path(args.file), format=args.agent_format)
    path = _visited(args)
    if path and args.format != "mermaid":
        raise InputError("a highlighted path needs --format mermaid", field="--path", fix="add --format mermaid")
    unknown = [node for node in path if node not in graph.nodes]
    if unknown:
        raise InputError(f"the agent has no node {unknown[0]!r}", field="--path", fix="use node ids from `voicetest import FILE`")
    text = to_mermaid(graph, path) if path else export_agent(graph, args.format)
    if args.output:
        write_output(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def add_parsers(command: Any) -> None:
    cmd = command("import", cmd_import, "Import an agent config and print its graph summary.")
    cmd.add_argument("file")
    cmd.add_argument("--agent-format", default="auto", help="force an importer (default: auto-detect)")

    cmd = command("export", cmd_export, "Export an agent config to another format.")
    cmd.add_argument("file")
    cmd.add_argument("--format", required=True, help="mermaid, retell_llm, retell_flow, vapi, livekit, bland, telnyx, native, native_yaml")
    cmd.add_argument("--agent-format", default="auto")
    cmd.add_argument("-o", "--output", help="write to this file instead of stdout")
    cmd.add_argument("--path", help="mermaid: highlight these visited node ids (comma-separated)")
    cmd.add_argument("--from-report", metavar="REPORT.json", help="mermaid: highlight the path a test of this JSON report took (with --test)")
    cmd.add_argument("--test", help="the test id or name in --from-report")
