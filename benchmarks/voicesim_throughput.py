"""VoiceSim throughput: the simulation alone, and whole sweeps through the SQLite store.

Reports, each as the median of --repeat runs measured in this one process:
- point-scenario evaluations per second of the simulation, vectorised (all points of a
  scenario in one numpy pass) and one point at a time;
- a 1,024-point x 16-scenario Latin-hypercube sweep end to end in one process: create
  the run, draw the points, simulate, store every evaluation in SQLite, summarise
  (goal: >= 100,000 evaluations/s);
- the same sweep split between two processes that write one store at once, as two
  xdist workers do (each evaluates 8 scenarios of the same points), summarised after
  both finish; the stored rows are counted (nothing may be lost or doubled);
- an interrupted sweep resumed: what the second call computes and skips.

Process start-up and imports are not counted (they are paid once per process, not per
evaluation); opening the store is not counted either.

Usage: python benchmarks/voicesim_throughput.py [--repeat 5] [--points 1024]
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"  # one core per process

import argparse  # noqa: E402
import contextlib  # noqa: E402
import multiprocessing  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_voicetest.voicesim import runs  # noqa: E402
from pytest_voicetest.voicesim.pipeline import simulate  # noqa: E402
from pytest_voicetest.voicesim.sampling import random_points  # noqa: E402
from pytest_voicetest.voicesim.scenarios import BUILTIN_SCENARIOS  # noqa: E402
from pytest_voicetest.voicesim.space import DEFAULT_SPACE  # noqa: E402
from pytest_voicetest.voicesim.store import open_store  # noqa: E402

GOAL = 100_000
SCENARIOS = list(BUILTIN_SCENARIOS)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def one_process_sweep(folder: Path, points: int) -> tuple[float, int]:
    """Seconds for create + sample + summary of a fresh run, and the evaluations stored."""
    store = open_store(folder / "one.db")
    started = time.perf_counter()
    run = runs.create(store, "benchmark sweep", seed=7)
    runs.sample(store, run.id, points)
    summary = runs.summary(store, run.id)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed, summary["evaluations"]


def _shard(
    path: str, run_id: str, points: int, scenarios: list[str], barrier: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue
) -> None:
    store = open_store(path)
    barrier.wait()
    started = time.time()
    result = runs.sample(store, run_id, points, only=scenarios)
    out.put((started, time.time(), result["evaluated"]))
    store.close()


def two_process_sweep(folder: Path, points: int) -> tuple[float, int, int, int]:
    """Seconds from the run's creation to its summary with two shard processes writing
    one store at once; evaluations stored, distinct (point, scenario) pairs, and the
    evaluations the workers reported."""
    path = str(folder / "two.db")
    store = open_store(path)
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(3), context.Queue()
    started = time.time()
    run = runs.create(store, "two workers", seed=7, run_id="two-workers")
    created = time.time() - started
    halves = [SCENARIOS[0::2], SCENARIOS[1::2]]
    workers = [context.Process(target=_shard, args=(path, run.id, points, half, barrier, out)) for half in halves]
    for worker in workers:
        worker.start()
    barrier.wait()
    reports = [out.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(timeout=300)
        if worker.exitcode != 0:
            raise SystemExit(f"a worker failed with exit code {worker.exitcode}")
    finished = max(end for _, end, _ in reports)
    begun = min(start for start, _, _ in reports)
    summarised = timed(lambda: runs.summary(store, run.id))
    stored = store.evaluations(run.id)
    store.close()
    return created + (finished - begun) + summarised, len(stored), len({(e.point, e.scenario) for e in stored}), sum(n for _, _, n in reports)


def interrupted_sweep(folder: Path, points: int) -> tuple[dict, float]:
    store = open_store(folder / "resume.db")
    run = runs.create(store, "interrupted", seed=7)

    def stop(done: int, total: int) -> None:
        if done >= total // 2:
            raise KeyboardInterrupt

    with contextlib.suppress(KeyboardInterrupt):
        runs.sample(store, run.id, points, chunk=256, progress=stop)
    started = time.perf_counter()
    resumed = runs.sample(store, run.id, points, chunk=256)
    elapsed = time.perf_counter() - started
    store.close()
    return resumed, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (the median is printed)")
    parser.add_argument("--points", type=int, default=1024, help="points per sweep")
    parser.add_argument("--sim-points", type=int, default=5000, help="points per pass for the vectorised simulation figure")
    parser.add_argument("--single", type=int, default=100, help="points per scenario for the one-at-a-time figure")
    args = parser.parse_args()
    scenarios = list(BUILTIN_SCENARIOS.values())
    points = random_points(DEFAULT_SPACE, args.sim_points, seed=1)
    evaluations = args.points * len(scenarios)

    def vectorised() -> None:
        for scenario in scenarios:
            simulate(DEFAULT_SPACE, scenario, points).scores()

    def one_at_a_time() -> None:
        for scenario in scenarios:
            for row in points[: args.single]:
                simulate(DEFAULT_SPACE, scenario, row[None, :]).scores()

    vector_rate = statistics.median(len(points) * len(scenarios) / timed(vectorised) for _ in range(args.repeat))
    single_rate = statistics.median(args.single * len(scenarios) / timed(one_at_a_time) for _ in range(min(args.repeat, 3)))

    one, two = [], []
    with tempfile.TemporaryDirectory(prefix="vt-sweep-") as folder:
        for index in range(args.repeat):
            run_folder = Path(folder) / str(index)
            run_folder.mkdir()
            seconds, stored = one_process_sweep(run_folder, args.points)
            if stored != evaluations:
                raise SystemExit(f"one process stored {stored} evaluations, expected {evaluations}")
            one.append(seconds)
            two.append(two_process_sweep(run_folder, args.points))
        resumed, resume_seconds = interrupted_sweep(Path(folder), args.points)

    one_rate = evaluations / statistics.median(one)
    two_rate = evaluations / statistics.median(seconds for seconds, _, _, _ in two)
    lost = sum(evaluations - stored for _, stored, _, _ in two)
    doubled = sum(stored - distinct for _, stored, distinct, _ in two)
    print(f"voicesim_throughput: {len(scenarios)} built-in scenarios, 18 dimensions, median of {args.repeat} runs, {os.cpu_count()} cores")
    print(f"  simulation, vectorised:   {vector_rate:12,.0f} evaluations/s ({len(points):,} points per pass)")
    print(f"  simulation, one at a time:{single_rate:12,.0f} evaluations/s ({vector_rate / single_rate:,.0f}x slower)")
    print(f"  sweep {args.points:,} points x {len(scenarios)} scenarios, one process, sampled + simulated + stored in SQLite + summarised:")
    print(f"    {one_rate:12,.0f} evaluations/s = {one_rate / GOAL:.2f}x the goal of {GOAL:,}/s ({statistics.median(one) * 1000:.0f} ms per sweep)")
    print("  the same sweep, two processes writing one store at once (8 scenarios each), then summarised:")
    print(f"    {two_rate:12,.0f} evaluations/s = {two_rate / GOAL:.2f}x the goal; {two_rate / one_rate:.2f}x one process")
    print(
        f"    rows counted: {sum(s for _, s, _, _ in two):,} stored of {evaluations * args.repeat:,} expected over {args.repeat} sweeps; lost {lost}, doubled {doubled}"
    )
    print(
        f"  interrupted at half and resumed: {resumed['evaluated']:,} computed, {resumed['skipped']:,} already stored, {resume_seconds * 1000:.0f} ms"
    )
    if lost or doubled:
        raise SystemExit("evaluations were lost or stored twice")


if __name__ == "__main__":
    main()
