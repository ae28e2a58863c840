"""The `voicetest` command: run, evaluate, import, export, settings, sim, ...

Bad input prints one line `voicetest: error: ...` to stderr and exits with 2; a run
with failures exits 1; a run that executed no test exits 5 (as pytest does).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ..errors import VoicetestError
from . import agents, platform, project, report, serve, sim, tests
from .common import Parser

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="voicetest", description="Test voice agents: import, export, run, evaluate, sweep.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.set_defaults(handler=handler)
        return cmd

    agents.add_parsers(command)
    tests.add_parsers(command)
    project.add_parsers(command)
    report.add_parsers(command)
    serve.add_parsers(command)
    sim.add_parser(sub)
    platform.add_parser(sub)
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
