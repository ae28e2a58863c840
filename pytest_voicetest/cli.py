"""The `voicetest` command: import, export, settings (more verbs register below).

Bad input prints one line `voicetest: error: ...` to stderr and exits with 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import VoicetestError

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other bad input
        self.exit(2, f"voicetest: error: {message}\n")


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str) if args.json else text)


def cmd_import(args: argparse.Namespace) -> int:
    from .importers import import_agent

    graph = import_agent(Path(args.file), format=args.agent_format)
    _emit(args, graph.model_dump(mode="json"), graph.summary())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .exporters import export_agent
    from .importers import import_agent

    graph = import_agent(Path(args.file), format=args.agent_format)
    text = export_agent(graph, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    from .settings import load_settings, masked, update_settings, write_settings

    directory = Path(args.dir)
    settings = load_settings(directory)
    if args.set:
        pairs = {}
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep:
                raise VoicetestError(f"--set expects KEY=VALUE, got '{item}'")
            pairs[key.strip()] = value.strip()
        settings = update_settings(settings, pairs)
        path = write_settings(settings, directory)
        print(f"wrote {path}", file=sys.stderr)
    data = masked(settings)
    lines = [f"{table}.{key} = {value}" for table, values in data.items() for key, value in values.items()]
    _emit(args, data, "\n".join(lines))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="voicetest", description="Test voice agents: import, export, run, evaluate, sweep.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.set_defaults(handler=handler)
        return cmd

    cmd = command("import", cmd_import, "Import an agent config and print its graph summary.")
    cmd.add_argument("file")
    cmd.add_argument("--agent-format", default="auto", help="force an importer (default: auto-detect)")

    cmd = command("export", cmd_export, "Export an agent config to another format.")
    cmd.add_argument("file")
    cmd.add_argument("--format", required=True, help="mermaid, retell_llm, retell_flow, vapi, native, native_yaml")
    cmd.add_argument("--agent-format", default="auto")
    cmd.add_argument("-o", "--output", help="write to this file instead of stdout")

    cmd = command("settings", cmd_settings, "Show settings, or change them with --set KEY=VALUE.")
    cmd.add_argument("--dir", default=".", help="project directory")
    cmd.add_argument("--set", action="append", metavar="KEY=VALUE", help="e.g. models.agent=openai/gpt-4o-mini")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except VoicetestError as exc:
        print(f"voicetest: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("voicetest: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
