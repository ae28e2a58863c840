"""`voicetest sim ...`: VoiceSim runs from the command line (create, list, evaluate, sample,
show, summary, points, complete, adapters)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError, VoicetestError
from .common import Parser, emit


def _point(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part != ""]
    except ValueError:
        raise VoicetestError(f"--point takes comma-separated whole numbers (bin indices), got '{text}'") from None


def _custom(args: argparse.Namespace) -> Any:
    if not getattr(args, "scenario_file", None):
        return None
    from ..voicesim.scenarios import load_scenarios

    return load_scenarios(Path(args.scenario_file))


def _progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} evaluations")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_sim(args: argparse.Namespace) -> int:
    from ..voicesim import runs
    from ..voicesim.store import open_store
    from ..voicesim.summary import summary_lines

    store = open_store(args.store)
    try:
        action = args.sim_command
        custom = _custom(args)
        if action == "create":
            space = None
            if args.space:
                from ..voicesim.space import Space
                from ..yamlio import load_data_file

                try:
                    space = Space.from_data(load_data_file(Path(args.space)))
                except InputError as exc:
                    raise exc.located(args.space) from None
            scenarios = [s for s in (args.scenarios or "").split(",") if s] or None
            run = runs.create(store, args.name, space=space, scenarios=scenarios, seed=args.seed, custom=custom)
            emit(args, run.to_data(), f"created run {run.id} ({run.name}): {len(run.scenarios)} scenarios, seed {run.seed}")
        elif action == "list":
            page = runs.list_page(store, args.limit, offset=args.offset, cursor=args.cursor)
            text = "\n".join(f"{r['id']}  {r['created_at'][:19]}  {r['status']:9s}  {r['name']}" for r in page["runs"]) or "no runs"
            if page["next_cursor"]:
                text += f"\nmore: --cursor {page['next_cursor']}"
            emit(args, page, text)
        elif action == "evaluate":
            result = runs.evaluate(store, args.run, _point(args.point), args.scenario, custom)
            penalties = ", ".join(f"{p['type']} {p['weight'] * p['amount']:.3f}" for p in result.penalties) or "none"
            emit(args, result.to_data(), f"{result.scenario}: score {result.score:.3f}; penalties: {penalties}")
        elif action == "sample":
            done = runs.sample(store, args.run, args.n, seed=args.seed, custom=custom, progress=None if args.json else _progress)
            emit(
                args,
                done,
                f"evaluated {done['evaluated']}, already stored {done['skipped']} ({done['points']} points x {done['scenarios']} scenarios)",
            )
        elif action == "show":
            data = runs.show(store, args.run)
            best = data["best"]
            text = f"{data['id']} {data['name']}: {data['status']}, {data['evaluations']} evaluations of {data['points']} points"
            if best:
                text += f"\nbest so far: {best['score']:.3f} on {best['scenario']} at {best['point']}"
            emit(args, data, text)
        elif action == "summary":
            data = runs.summary(store, args.run, custom)
            if args.plot:
                from ..voicesim.space import Space
                from ..voicesim.summary import plot

                run = store.get_run(args.run)
                data["plot"] = str(plot(Space.from_data(run.space), store.evaluations(args.run), Path(args.plot)))
            emit(args, data, "\n".join(summary_lines(data) + ([f"plot: {data['plot']}"] if args.plot else [])))
        elif action == "points":
            evaluations = runs.points(store, args.run, scenario=args.scenario, limit=args.limit, order_by=args.order_by, offset=args.offset)
            text = "\n".join(f"{e.score:.3f}  {e.scenario:24s} {list(e.point)}" for e in evaluations) or "no evaluations"
            emit(args, [e.to_data() for e in evaluations], text)
        elif action == "complete":
            run = runs.complete(store, args.run)
            emit(args, run.to_data(), f"run {run.id} completed at {run.completed_at}")
        elif action == "adapters" and args.snippet:
            from ..voicesim.adapters import export_snippet
            from ..voicesim.space import Space

            if not args.platform:
                raise VoicetestError("--snippet needs --platform (retell, vapi or livekit)")
            snippet = export_snippet(Space.from_data(store.get_run(args.run).space), _point(args.point), args.platform)
            print(json.dumps(snippet, indent=2, default=str))
        elif action == "adapters":
            entries = runs.adapters_for(store, args.run, _point(args.point), [args.platform] if args.platform else None)
            text = "\n".join(
                f"{e['platform']:8s} {e['dimension']:30s} {e['value']!s:>6} -> {e['field'] or '-'} = {e['platform_value']}"
                + (f"  ({e['note']})" if e["note"] else "")
                for e in entries
            )
            emit(args, entries, text)
    finally:
        store.close()
    return 0


def add_parser(sub: Any) -> None:
    """The `sim` command and its subcommands."""
    sim = sub.add_parser("sim", help="VoiceSim: sweep voice-pipeline settings over built-in scenarios.")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True, parser_class=Parser)

    def sim_command(name: str, help_text: str, run: bool = True) -> argparse.ArgumentParser:
        cmd: argparse.ArgumentParser = sim_sub.add_parser(name, help=help_text, description=help_text)
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
    cmd.add_argument("--offset", type=int, help="skip this many runs")
    cmd.add_argument("--cursor", help="start after this run (the `more:` cursor of the previous page)")
    cmd = sim_command("evaluate", "Evaluate one point against one scenario.")
    cmd.add_argument("--point", required=True, help="18 comma-separated bin indices")
    cmd.add_argument("--scenario", required=True)
    cmd.add_argument("--scenario-file")
    cmd = sim_command("sample", "Draw N new points by Latin hypercube and evaluate each against every scenario (an interrupted sample resumes).")
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
    cmd.add_argument("--offset", type=int, help="skip this many evaluations")
    cmd.add_argument("--order-by", choices=["score", "time"], default="score")
    sim_command("complete", "Mark a run completed.")
    cmd = sim_command("adapters", "Show how a point maps to Retell, VAPI and LiveKit settings.")
    cmd.add_argument("--point", required=True)
    cmd.add_argument("--platform", choices=["retell", "vapi", "livekit"])
    cmd.add_argument("--snippet", action="store_true", help="print the point as a config fragment for --platform")
