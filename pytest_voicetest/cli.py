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


def _models(args: argparse.Namespace) -> dict[str, str | None]:
    return {role: getattr(args, f"{role}_model", None) for role in ("agent", "simulator", "judge")}


def cmd_run(args: argparse.Namespace) -> int:
    from .api import run_tests

    run = run_tests(Path(args.file), select=args.k, models=_models(args), api_base=args.api_base, concurrency=args.concurrency)
    lines = []
    for result in run.results:
        lines.append(f"{result.status.upper():7s} {result.test_name}" + (f"  ({result.error_message})" if result.error_message and result.status != "pass" else ""))
        lines += [f"          x {failure}" for failure in result.failures()]
    counts = run.counts()
    lines.append(f"run {run.id}: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v))
    _emit(args, run.model_dump(mode="json"), "\n".join(lines))
    return 1 if counts["fail"] or counts["error"] else 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .api import evaluate_transcript

    results = evaluate_transcript(
        Path(args.transcript), args.metric, judge_model=args.judge_model, threshold=args.threshold,
        agent=Path(args.agent) if args.agent else None, api_base=args.api_base,
    )
    text = "\n".join(f"{'PASS' if m.passed else 'FAIL'} {m.score:.2f} (>= {m.threshold:.2f}) {m.metric}: {m.reasoning or m.error}" for m in results)
    _emit(args, [m.model_dump() for m in results], text)
    return 0 if all(m.passed for m in results) else 1


def cmd_export_tests(args: argparse.Namespace) -> int:
    from .api import export_tests

    data = export_tests(Path(args.file), args.format)
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from .api import get_metrics_config, set_metrics_config
    from .models.graph import MetricsConfig

    path = Path(args.agent)
    config = get_metrics_config(path)
    if args.threshold is not None or args.add or args.remove:
        metrics = [m for m in config.global_metrics if m not in (args.remove or [])] + [m for m in args.add or [] if m not in config.global_metrics]
        threshold = config.threshold if args.threshold is None else args.threshold
        from .validation import validate

        config = validate(MetricsConfig, {"threshold": threshold, "global_metrics": metrics}, source=None)
        print(f"wrote {set_metrics_config(path, config)}", file=sys.stderr)
    text = f"threshold: {config.threshold}\n" + "\n".join(f"global metric: {m}" for m in config.global_metrics)
    _emit(args, config.model_dump(), text)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .schema import SCHEMAS

    print(json.dumps(SCHEMAS[args.kind](), indent=2))
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


def _point(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part != ""]
    except ValueError:
        raise VoicetestError(f"--point takes comma-separated whole numbers (bin indices), got '{text}'") from None


def _custom(args: argparse.Namespace) -> Any:
    if not getattr(args, "scenario_file", None):
        return None
    from .voicesim.scenarios import load_scenarios

    return load_scenarios(Path(args.scenario_file))


def _progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} evaluations")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_sim(args: argparse.Namespace) -> int:
    from .voicesim import runs
    from .voicesim.store import open_store
    from .voicesim.summary import summary_lines

    store = open_store(args.store)
    try:
        action = args.sim_command
        custom = _custom(args)
        if action == "create":
            space = None
            if args.space:
                from .voicesim.space import Space
                from .yamlio import load_data_file

                space = Space.from_data(load_data_file(Path(args.space)))
            scenarios = [s for s in (args.scenarios or "").split(",") if s] or None
            run = runs.create(store, args.name, space=space, scenarios=scenarios, seed=args.seed, custom=custom)
            _emit(args, run.to_data(), f"created run {run.id} ({run.name}): {len(run.scenarios)} scenarios, seed {run.seed}")
        elif action == "list":
            found = runs.list_runs(store, args.limit)
            text = "\n".join(f"{r.id}  {r.created_at[:19]}  {r.status:9s}  {r.name}" for r in found) or "no runs"
            _emit(args, [r.to_data() for r in found], text)
        elif action == "evaluate":
            result = runs.evaluate(store, args.run, _point(args.point), args.scenario, custom)
            penalties = ", ".join(f"{p['type']} {p['weight'] * p['amount']:.3f}" for p in result.penalties) or "none"
            _emit(args, result.to_data(), f"{result.scenario}: score {result.score:.3f}; penalties: {penalties}")
        elif action == "sample":
            done = runs.sample(store, args.run, args.n, seed=args.seed, custom=custom, progress=None if args.json else _progress)
            _emit(args, done, f"evaluated {done['evaluated']}, already stored {done['skipped']} ({done['points']} points x {done['scenarios']} scenarios)")
        elif action == "show":
            data = runs.show(store, args.run)
            best = data["best"]
            text = f"{data['id']} {data['name']}: {data['status']}, {data['evaluations']} evaluations of {data['points']} points"
            if best:
                text += f"\nbest so far: {best['score']:.3f} on {best['scenario']} at {best['point']}"
            _emit(args, data, text)
        elif action == "summary":
            data = runs.summary(store, args.run, custom)
            if args.plot:
                from .voicesim.space import Space
                from .voicesim.summary import plot

                run = store.get_run(args.run)
                data["plot"] = str(plot(Space.from_data(run.space), store.evaluations(args.run), Path(args.plot)))
            _emit(args, data, "\n".join(summary_lines(data) + ([f"plot: {data['plot']}"] if args.plot else [])))
        elif action == "points":
            found = runs.points(store, args.run, scenario=args.scenario, limit=args.limit, order_by=args.order_by)
            text = "\n".join(f"{e.score:.3f}  {e.scenario:24s} {list(e.point)}" for e in found) or "no evaluations"
            _emit(args, [e.to_data() for e in found], text)
        elif action == "complete":
            run = runs.complete(store, args.run)
            _emit(args, run.to_data(), f"run {run.id} completed at {run.completed_at}")
        elif action == "adapters" and args.snippet:
            from .voicesim.adapters import export_snippet
            from .voicesim.space import Space

            if not args.platform:
                raise VoicetestError("--snippet needs --platform (retell, vapi or livekit)")
            snippet = export_snippet(Space.from_data(store.get_run(args.run).space), _point(args.point), args.platform)
            print(json.dumps(snippet, indent=2, default=str))
        elif action == "adapters":
            entries = runs.adapters_for(store, args.run, _point(args.point), [args.platform] if args.platform else None)
            text = "\n".join(
                f"{e['platform']:8s} {e['dimension']:30s} {e['value']!s:>6} -> {e['field'] or '-'} = {e['platform_value']}" + (f"  ({e['note']})" if e["note"] else "")
                for e in entries
            )
            _emit(args, entries, text)
    finally:
        store.close()
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

    cmd = command("run", cmd_run, "Run the tests of a test_*.yaml file (outside pytest); exit 1 if any fails.")
    cmd.add_argument("file")
    cmd.add_argument("-k", help="only tests whose name contains this")
    for role in ("agent", "simulator", "judge"):
        cmd.add_argument(f"--{role}-model", help=f"litellm model for the {role}")
    cmd.add_argument("--api-base", help="OpenAI-compatible base URL")
    cmd.add_argument("--concurrency", type=int, default=1, help="calls at once")

    cmd = command("evaluate", cmd_evaluate, "Judge a recorded call (native or Retell export) against metrics.")
    cmd.add_argument("transcript")
    cmd.add_argument("--metric", action="append", required=True, help="a criterion (repeat for more)")
    cmd.add_argument("--judge-model")
    cmd.add_argument("--threshold", type=float, help="default: the agent's, else 0.7")
    cmd.add_argument("--agent", help="agent config whose metrics config applies")
    cmd.add_argument("--api-base")

    cmd = command("export-tests", cmd_export_tests, "Export the tests of a test_*.yaml file in the Retell test format.")
    cmd.add_argument("file")
    cmd.add_argument("--format", default="retell", choices=["retell"])
    cmd.add_argument("-o", "--output")

    cmd = command("metrics", cmd_metrics, "Show or change an agent's metrics config (threshold, global metrics).")
    cmd.add_argument("agent")
    cmd.add_argument("--threshold", type=float)
    cmd.add_argument("--add", action="append", metavar="CRITERION", help="add a global metric")
    cmd.add_argument("--remove", action="append", metavar="CRITERION", help="remove a global metric")

    sim = sub.add_parser("sim", help="VoiceSim: sweep voice-pipeline settings over built-in scenarios.")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True, parser_class=_Parser)

    def sim_command(name: str, help_text: str, run: bool = True) -> argparse.ArgumentParser:
        cmd = sim_sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.add_argument("--store", default=".voicetest/voicesim.db", help="SQLite path or postgresql:// URL")
        cmd.set_defaults(handler=cmd_sim)
        if run:
            cmd.add_argument("run", help="run id")
        return cmd

    cmd = sim_command("create", "Create a run.", run=False)
    cmd.add_argument("name")
    cmd.add_argument("--scenarios", help="comma-separated scenario names (default: all)")
    cmd.add_argument("--seed", type=int, default=0)
    cmd.add_argument("--space", help="YAML/JSON space (dimensions or overrides)")
    cmd.add_argument("--scenario-file", help="YAML/JSON file of custom scenarios")
    cmd = sim_command("list", "List runs, newest first.", run=False)
    cmd.add_argument("--limit", type=int, help="how many (default 20, max 100)")
    cmd = sim_command("evaluate", "Evaluate one point against one scenario.")
    cmd.add_argument("--point", required=True, help="18 comma-separated bin indices")
    cmd.add_argument("--scenario", required=True)
    cmd.add_argument("--scenario-file")
    cmd = sim_command("sample", "Sample N points by Latin hypercube and evaluate each against every scenario.")
    cmd.add_argument("--n", type=int, required=True, help="number of points")
    cmd.add_argument("--seed", type=int, help="default: the run's seed")
    cmd.add_argument("--scenario-file")
    sim_command("show", "Show a run's status and best evaluation so far.")
    cmd = sim_command("summary", "Best point per scenario, penalty frequency, changes from production defaults.")
    cmd.add_argument("--plot", help="also write a PNG heatmap here")
    cmd.add_argument("--scenario-file")
    cmd = sim_command("points", "List evaluations.")
    cmd.add_argument("--scenario")
    cmd.add_argument("--limit", type=int, help="default 50, max 200")
    cmd.add_argument("--order-by", choices=["score", "time"], default="score")
    sim_command("complete", "Mark a run completed.")
    cmd = sim_command("adapters", "Show how a point maps to Retell, VAPI and LiveKit settings.")
    cmd.add_argument("--point", required=True)
    cmd.add_argument("--platform", choices=["retell", "vapi", "livekit"])
    cmd.add_argument("--snippet", action="store_true", help="print the point as a config fragment for --platform")

    cmd = command("schema", cmd_schema, "Print the JSON Schema of test, campaign or sweep files (for editors).")
    cmd.add_argument("--kind", choices=["test", "campaign", "sweep"], default="test")

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
