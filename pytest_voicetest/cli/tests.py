"""`voicetest run`, `voicetest evaluate` and `voicetest export-tests`: tests outside pytest,
on the same loader, config and executor as the pytest plugin."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from .common import emit, write_output

ROLES = ("agent", "simulator", "judge")
# (RunOptions field, takes a value, help) for `voicetest run`
RUN_FLAGS: tuple[tuple[str, bool, str], ...] = (
    ("api_base", True, "OpenAI-compatible base URL for every model"),
    ("concurrency", True, "calls in flight at once"),
    ("max_turns", True, "caller turns per call for tests that set none"),
    ("test_timeout", True, "deadline of each test in seconds"),
    ("record", False, "record every model exchange to cassettes"),
    ("replay", False, "answer model calls only from cassettes"),
    ("cassette_dir", True, "cassette folder (default: cassettes)"),
    ("repeat", True, "run every LLM test N times"),
    ("max_cost", True, "stop LLM tests once this many USD are spent"),
    ("max_calls", True, "stop LLM tests after N model calls"),
    ("strict", False, "fail (not skip) tests whose model is not configured"),
    ("offline", False, "remote agents (agent: retell://ID) from the cache only"),
    ("allow_outside_paths", False, "allow files outside the project"),
    ("allow_real_tools", False, "call tools' real URLs when no mock answers"),
    ("store", True, "VoiceSim store: SQLite path or postgresql:// URL"),
)
EXIT_FAILED, EXIT_NOTHING_RAN = 1, 5


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _config(args: argparse.Namespace, near: Path) -> Any:
    from ..config.files import find_project_root
    from ..config.resolve import Layer, resolve_config

    root = Path(args.rootdir).resolve() if args.rootdir else find_project_root(near)
    layer = Layer(
        "command line",
        {name: getattr(args, name) for name, *_ in RUN_FLAGS},
        {name: _flag(name) for name, *_ in RUN_FLAGS},
        {role: getattr(args, f"{role}_model", None) for role in ROLES},
    )
    return resolve_config(root, [layer])


def result_lines(results: list[Any]) -> list[str]:
    lines = []
    for result in results:
        status = "XFAIL" if result.xfail and result.status == "fail" else result.status.upper()
        detail = f"  ({result.error_message})" if result.error_message and result.status != "pass" else ""
        lines.append(f"{status:7s} {result.test_id}{detail}")
        lines += [f"          x {failure}" for failure in result.failures()]
    return lines


def cmd_run(args: argparse.Namespace) -> int:
    from ..report.text import campaign_lines, voicesim_lines
    from ..run.kinds import voicetest_files
    from ..run.session import Door, Session

    for given in args.paths:
        if not Path(given).exists():
            raise InputError("file not found", source=given, fix="check the path")
    if args.html:
        from ..report.json import check_output_path

        check_output_path(Path(args.html), "--html")
    paths = voicetest_files([Path(p) for p in args.paths])
    if not paths:
        raise InputError("no voicetest files here", source=" ".join(args.paths), fix="name files test_*.yaml, scenario_*.yaml or voicesim_*.yaml")
    config = _config(args, paths[0])
    for warning in config.warnings:
        print(f"voicetest: warning: {warning}", file=sys.stderr)
    door = Door(model_flag="--{role}-model", record_command="voicetest run {file} -k '{name}' --record --agent-model MODEL ...")
    session = Session(config, door=door)
    try:
        wanted = (lambda p: args.k.lower() in p.name.lower()) if args.k else None
        run = session.run_files(paths, wanted)
    finally:
        session.close()
    lines = [f"ERROR   {error.file}: {error.error}" for error in run.errors]
    lines += result_lines(run.results)
    lines += campaign_lines(run.campaigns) + voicesim_lines(run.voicesim)
    counts = run.counts()
    lines.append(f"run {run.run_id}: " + (", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items() if v) or "nothing"))
    reason = run.nothing_ran()
    if reason:
        lines.append(reason)
    if args.html:
        from ..report.html import run_report, write_html

        lines.append(f"html report: {write_html(run_report(run), Path(args.html))}")
    data = run.model_dump(mode="json")
    if args.format == "seed":
        from ..report.seed import seed_run

        data = seed_run(data)
    emit(args, data, "\n".join(lines))
    if run.ok:
        return 0
    if reason and not run.errors:
        print(f"voicetest: {reason}", file=sys.stderr)
        return EXIT_NOTHING_RAN
    return EXIT_FAILED


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..api import evaluate_transcript

    results = evaluate_transcript(
        Path(args.transcript),
        args.metric,
        judge_model=args.judge_model,
        threshold=args.threshold,
        agent=Path(args.agent) if args.agent else None,
        api_base=args.api_base,
        project=args.rootdir,
    )
    text = "\n".join(f"{'PASS' if m.passed else 'FAIL'} {m.score:.2f} (>= {m.threshold:.2f}) {m.metric}: {m.reasoning or m.error}" for m in results)
    emit(args, [m.model_dump() for m in results], text)
    return 0 if all(m.passed for m in results) else EXIT_FAILED


def cmd_export_tests(args: argparse.Namespace) -> int:
    import warnings

    from ..api import VoicetestWarning, export_tests

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", VoicetestWarning)
        data = export_tests(Path(args.file), args.format, test_ids=args.test_id, select=args.k)
    for warning in caught:
        print(f"voicetest: {warning.message}", file=sys.stderr)
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if args.output:
        write_output(args.output, text + "\n")
    else:
        print(text)
    return 0


def add_parsers(command: Any) -> None:
    cmd = command("run", cmd_run, "Run voicetest files (test_*, scenario_*, voicesim_*; folders are searched) outside pytest.")
    cmd.add_argument("paths", nargs="+", metavar="PATH")
    cmd.add_argument("-k", help="only tests whose name contains this")
    cmd.add_argument("--rootdir", help="the project root (default: found as pytest finds it)")
    cmd.add_argument("--html", metavar="PATH", help="also write a self-contained HTML report of every call")
    cmd.add_argument("--format", choices=["native", "seed"], default="native", help="--json shape: native, or seed (the harness API's TestRun)")
    for role in ROLES:
        cmd.add_argument(f"--{role}-model", help=f"litellm model for the {role}")
    for name, takes_value, help_text in RUN_FLAGS:
        if takes_value:
            cmd.add_argument(_flag(name), dest=name, help=help_text)
        else:
            cmd.add_argument(_flag(name), dest=name, action="store_true", default=None, help=help_text)

    cmd = command("evaluate", cmd_evaluate, "Judge a recorded call (native, harness or Retell export) against metrics.")
    cmd.add_argument("transcript")
    cmd.add_argument("--metric", action="append", required=True, help="a criterion (repeat for more)")
    cmd.add_argument("--judge-model")
    cmd.add_argument("--threshold", type=float, help="default: the agent's, else 0.7")
    cmd.add_argument("--agent", help="agent config whose metrics config applies")
    cmd.add_argument("--api-base")
    cmd.add_argument("--rootdir", help="the project root (default: the current folder)")

    cmd = command("export-tests", cmd_export_tests, "Export the tests of a test_*.yaml file (retell, voicetest or native format).")
    cmd.add_argument("file")
    cmd.add_argument("--format", default="retell", choices=["retell", "voicetest", "native"])
    cmd.add_argument("--test-id", action="append", metavar="ID", help="only this test (its id file::name, or its name); repeat for more")
    cmd.add_argument("-k", help="only tests whose name contains this")
    cmd.add_argument("-o", "--output")
