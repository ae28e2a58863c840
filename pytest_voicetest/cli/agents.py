"""`voicetest import` and `voicetest export`: agent configs in and out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import emit, write_output


def cmd_import(args: argparse.Namespace) -> int:
    from ..importers import import_agent

    graph = import_agent(Path(args.file), format=args.agent_format)
    emit(args, graph.model_dump(mode="json"), graph.summary())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ..exporters import export_agent
    from ..importers import import_agent

    graph = import_agent(Path(args.file), format=args.agent_format)
    text = export_agent(graph, args.format)
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
    cmd.add_argument("--format", required=True, help="mermaid, retell_llm, retell_flow, vapi, native, native_yaml")
    cmd.add_argument("--agent-format", default="auto")
    cmd.add_argument("-o", "--output", help="write to this file instead of stdout")
