"""VoiceSim throughput on one core: vectorised vs one point at a time, and a full sweep.

Reports:
- point-scenario evaluations per second, vectorised (all points of a scenario in one
  numpy pass; goal: at least 50,000 per second) and one point at a time;
- a 256-point Latin-hypercube sweep over all built-in scenarios, end to end through the
  SQLite store (sampling, simulation, storing), and the same sweep resumed.

Usage: python benchmarks/voicesim_throughput.py [--points 20000]
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"  # one core

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_voicetest.voicesim import runs  # noqa: E402
from pytest_voicetest.voicesim.pipeline import simulate  # noqa: E402
from pytest_voicetest.voicesim.sampling import random_points  # noqa: E402
from pytest_voicetest.voicesim.scenarios import BUILTIN_SCENARIOS  # noqa: E402
from pytest_voicetest.voicesim.space import DEFAULT_SPACE  # noqa: E402
from pytest_voicetest.voicesim.store import open_store  # noqa: E402


def best_of(repeat: int, action) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--single", type=int, default=200, help="points per scenario for the one-at-a-time run")
    args = parser.parse_args()
    scenarios = list(BUILTIN_SCENARIOS.values())
    points = random_points(DEFAULT_SPACE, args.points, seed=1)

    def vectorised() -> None:
        for scenario in scenarios:
            simulate(DEFAULT_SPACE, scenario, points).scores()

    def one_at_a_time() -> None:
        for scenario in scenarios:
            for row in points[: args.single]:
                simulate(DEFAULT_SPACE, scenario, row[None, :]).scores()

    vector_rate = len(points) * len(scenarios) / best_of(3, vectorised)
    single_rate = args.single * len(scenarios) / best_of(3, one_at_a_time)
    print(f"voicesim_throughput: {len(scenarios)} built-in scenarios, 18 dimensions, one core")
    print(f"  vectorised:      {vector_rate:12,.0f} point-scenario evaluations/s ({len(points):,} points per pass; goal >= 50,000)")
    print(f"  one at a time:   {single_rate:12,.0f} point-scenario evaluations/s ({vector_rate / single_rate:,.0f}x slower)")

    with tempfile.TemporaryDirectory(prefix="vt-sweep-") as folder:
        store = open_store(Path(folder) / "voicesim.db")
        started = time.perf_counter()
        run = runs.create(store, "benchmark sweep", seed=7)
        done = runs.sample(store, run.id, 256)
        summary = runs.summary(store, run.id)
        sweep = time.perf_counter() - started
        started = time.perf_counter()
        resumed = runs.sample(store, run.id, 256)
        resume = time.perf_counter() - started
        store.close()
    print(f"  256-point LHS sweep x {done['scenarios']} scenarios through SQLite: {done['evaluated']:,} evaluations stored in {sweep:.2f} s "
          f"({done['evaluated'] / sweep:,.0f}/s incl. sampling, storing and the summary)")
    print(f"  resumed sweep: {resumed['evaluated']} new, {resumed['skipped']:,} already stored, {resume:.2f} s")
    print(f"  best overall mean score {summary['config_diff']['best_mean_score']:.3f} vs production defaults {summary['config_diff']['default_mean_score']:.3f}")


if __name__ == "__main__":
    main()
