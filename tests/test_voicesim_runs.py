"""VoiceSim operations through the store (SQLite, PostgreSQL), the CLI, adapters and plots."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pytest_voicetest.cli import main
from pytest_voicetest.errors import InputError
from pytest_voicetest.voicesim import runs
from pytest_voicetest.voicesim.adapters import adapter_log, export_snippet
from pytest_voicetest.voicesim.space import DEFAULT_SPACE
from pytest_voicetest.voicesim.store import open_store

DEFAULT = list(DEFAULT_SPACE.default_point())


@pytest.fixture
def store(tmp_path: Path):
    opened = open_store(tmp_path / "vs.db")
    yield opened
    opened.close()


def test_create_list_newest_first_and_limits(store) -> None:
    made = [runs.create(store, f"run {i}", scenarios=["normal_faq"]) for i in range(25)]
    listed = runs.list_runs(store)
    assert len(listed) == 20
    assert [r.id for r in listed[:3]] == [made[24].id, made[23].id, made[22].id]
    assert len(runs.list_runs(store, 100)) == 25
    for bad in (0, 101, "5", True):
        with pytest.raises(InputError, match="limit must be a whole number 1..100"):
            runs.list_runs(store, bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown scenario 'crisis_at_11' \\(did you mean 'crisis_at_10'\\?\\)"):
        runs.create(store, "x", scenarios=["crisis_at_11"])
    with pytest.raises(InputError, match="a run needs a non-empty name"):
        runs.create(store, "  ")


def test_evaluate_validates_and_stores(store) -> None:
    run = runs.create(store, "eval", scenarios=["crisis_at_10", "normal_faq"])
    result = runs.evaluate(store, run.id, DEFAULT, "crisis_at_10")
    assert 0 <= result.score <= 1 and result.penalties
    [stored] = store.evaluations(run.id)
    assert (stored.point, stored.scenario, stored.score) == (tuple(DEFAULT), "crisis_at_10", result.score)
    with pytest.raises(InputError, match="a point has 18 bin indices"):
        runs.evaluate(store, run.id, DEFAULT[:5], "crisis_at_10")
    with pytest.raises(InputError, match=r"point\[0\]: end_of_turn_timeout_ms has 6 bins"):
        runs.evaluate(store, run.id, [6] + DEFAULT[1:], "crisis_at_10")
    with pytest.raises(InputError, match="has no scenario 'silent_caller'"):
        runs.evaluate(store, run.id, DEFAULT, "silent_caller")
    with pytest.raises(InputError, match="no VoiceSim run 'missing'"):
        runs.evaluate(store, "missing", DEFAULT, "normal_faq")


def test_sample_is_deterministic_and_resumes(store, tmp_path: Path) -> None:
    run = runs.create(store, "sweep", scenarios=["normal_faq", "crisis_at_10", "greeting_barge_in"], seed=4)
    progress: list[tuple[int, int]] = []

    def stop_after_first_chunk(done: int, total: int) -> None:
        progress.append((done, total))
        if len(progress) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runs.sample(store, run.id, 100, progress=stop_after_first_chunk, chunk=40)
    stored = len(store.evaluations(run.id))
    assert stored == 80  # two chunks reached the store before the interrupt
    resumed = runs.sample(store, run.id, 100, chunk=40)
    assert resumed == {"run_id": run.id, "points": 100, "scenarios": 3, "evaluated": 300 - stored, "skipped": stored}
    again = runs.sample(store, run.id, 100)
    assert (again["evaluated"], again["skipped"]) == (0, 300)
    other = open_store(tmp_path / "other.db")
    twin = runs.create(other, "twin", scenarios=["normal_faq", "crisis_at_10", "greeting_barge_in"], seed=4)
    runs.sample(other, twin.id, 100)
    mine = sorted((e.point, e.scenario, e.score) for e in store.evaluations(run.id))
    theirs = sorted((e.point, e.scenario, e.score) for e in other.evaluations(twin.id))
    assert mine == theirs  # same seed, same points, same scores
    other.close()


def test_show_points_summary_complete(store) -> None:
    run = runs.create(store, "summary", scenarios=["normal_faq", "backchanneler"], seed=1)
    runs.sample(store, run.id, 60)
    shown = runs.show(store, run.id)
    assert (shown["status"], shown["evaluations"], shown["points"]) == ("running", 120, 60)
    best = max(store.evaluations(run.id), key=lambda e: e.score)
    assert shown["best"]["score"] == round(best.score, 6)
    top = runs.points(store, run.id)
    assert len(top) == 50 and [e.score for e in top] == sorted((e.score for e in top), reverse=True)
    faq = runs.points(store, run.id, scenario="normal_faq", limit=200, order_by="time")
    assert len(faq) == 60 and {e.scenario for e in faq} == {"normal_faq"}
    for bad in ({"limit": 201}, {"limit": 0}, {"order_by": "name"}, {"scenario": "crisis_at_10"}):
        with pytest.raises(InputError):
            runs.points(store, run.id, **bad)
    summary = runs.summary(store, run.id)
    assert set(summary["best_per_scenario"]) == {"normal_faq", "backchanneler"}
    frequencies = [row["evaluations"] for row in summary["penalty_frequency"]]
    assert frequencies == sorted(frequencies, reverse=True)
    diff = summary["config_diff"]
    assert diff["default_mean_score"] is not None and len(diff["best_point"]) == 18
    changed = {c["dimension"] for c in diff["changes"]}
    assert changed == {name for name, i, d in zip(DEFAULT_SPACE.names, diff["best_point"], DEFAULT) if i != d}
    completed = runs.complete(store, run.id)
    assert completed.status == "completed" and completed.completed_at


def test_concurrent_writers_share_one_sqlite_file(tmp_path: Path) -> None:
    """Four processes create the same new database and run at once, then write 800 rows."""
    path = tmp_path / "shared.db"
    scenarios = ["normal_faq", "crisis_at_10", "backchanneler", "silent_caller"]
    code = (
        "import sys\n"
        "from pytest_voicetest.voicesim import runs\n"
        "from pytest_voicetest.voicesim.store import open_store\n"
        f"store = open_store({str(path)!r})\n"
        f"runs.create(store, 'shared', scenarios={scenarios!r}, seed=9, run_id='shared-run')\n"
        "runs.sample(store, 'shared-run', 200, only=[sys.argv[1]], chunk=5)\n"
    )
    workers = [subprocess.Popen([sys.executable, "-c", code, name]) for name in scenarios]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0, 0]
    store = open_store(path)
    rows = store.evaluations("shared-run")
    assert len(rows) == 800
    assert len({(e.point, e.scenario) for e in rows}) == 800
    assert [r.id for r in runs.list_runs(store)] == ["shared-run"]
    store.close()


def test_adapter_log_and_snippets() -> None:
    entries = adapter_log(DEFAULT_SPACE, DEFAULT)
    by_key = {(e.platform, e.dimension): e for e in entries}
    assert {e.platform for e in entries} == {"retell", "vapi", "livekit"}
    assert by_key[("vapi", "end_of_turn_timeout_ms")].field == "startSpeakingPlan.waitSeconds"
    assert by_key[("vapi", "end_of_turn_timeout_ms")].platform_value == 0.6
    assert by_key[("retell", "end_of_turn_timeout_ms")].field == "responsiveness"
    assert 0 < by_key[("retell", "end_of_turn_timeout_ms")].platform_value < 1
    assert by_key[("livekit", "barge_in_min_speech_s")].platform_value == 0.3
    assert by_key[("retell", "silence_reminder_s")].platform_value == 8000
    snippet = export_snippet(DEFAULT_SPACE, DEFAULT, "vapi")
    assert snippet["startSpeakingPlan"]["waitSeconds"] == 0.6
    assert snippet["stopSpeakingPlan"] == {"voiceSeconds": 0.3, "backoffSeconds": 1.0}
    assert any(line.startswith("context_strategy=full") for line in snippet["_apply_by_hand"])
    with pytest.raises(InputError, match="unknown platform 'vappi' \\(did you mean 'vapi'\\?\\)"):
        adapter_log(DEFAULT_SPACE, DEFAULT, ["vappi"])


def test_plot_writes_a_png(store, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")
    from pytest_voicetest.voicesim.summary import plot

    run = runs.create(store, "plot", scenarios=["normal_faq"])
    runs.sample(store, run.id, 30)
    path = plot(DEFAULT_SPACE, store.evaluations(run.id), tmp_path / "plot.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cli.db")
    assert main(["sim", "create", "cli run", "--scenarios", "normal_faq,crisis_at_10", "--seed", "2", "--store", db, "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out)["id"]
    assert main(["sim", "sample", run_id, "--n", "20", "--store", db]) == 0
    out = capsys.readouterr()
    assert "evaluated 40, already stored 0" in out.out and "40/40 evaluations" in out.err
    assert main(["sim", "evaluate", run_id, "--point", ",".join(map(str, DEFAULT)), "--scenario", "crisis_at_10", "--store", db]) == 0
    assert capsys.readouterr().out.startswith("crisis_at_10: score ")
    assert main(["sim", "points", run_id, "--limit", "2", "--store", db, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main(["sim", "summary", run_id, "--store", db, "--plot", str(tmp_path / "s.png")]) == 0
    assert "best crisis_at_10" in capsys.readouterr().out
    assert main(["sim", "show", run_id, "--store", db]) == 0
    assert "41 evaluations" in capsys.readouterr().out
    assert main(["sim", "complete", run_id, "--store", db]) == 0
    capsys.readouterr()
    assert main(["sim", "list", "--store", db, "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["status"]) == (run_id, "completed")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sim", "evaluate", "RUN", "--point", "1,2", "--scenario", "normal_faq"], "a point has 18 bin indices"),
        (["sim", "evaluate", "RUN", "--point", "a,b", "--scenario", "normal_faq"], "--point takes comma-separated whole numbers"),
        (["sim", "sample", "RUN", "--n", "0"], "the number of points must be a whole number"),
        (["sim", "points", "RUN", "--limit", "500"], "limit must be a whole number 1..200"),
        (["sim", "show", "nope"], "no VoiceSim run 'nope'"),
        (["sim", "create", "x", "--scenarios", "nope"], "unknown scenario 'nope'"),
    ],
)
def test_cli_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    db = str(tmp_path / "bad.db")
    store = open_store(db)
    run = runs.create(store, "bad", scenarios=["normal_faq"])
    store.close()
    argv = [a.replace("RUN", run.id) for a in args] + ["--store", db]
    result = subprocess.run([sys.executable, "-m", "pytest_voicetest.cli", *argv], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr


def _initdb() -> str | None:
    for candidate in [shutil.which("initdb"), *sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))]:
        if candidate:
            return str(candidate)
    return None


@pytest.fixture
def postgres_url():
    """A throw-away PostgreSQL cluster, when the server binaries are installed."""
    pytest.importorskip("psycopg", reason="psycopg (the postgres extra) is not installed")
    initdb = _initdb()
    if initdb is None:
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    import tempfile

    bin_dir = Path(initdb).parent
    folder = Path(tempfile.mkdtemp(prefix="vt-pg-"))  # outside pytest's root-only tmp tree
    data = folder / "pgdata"
    data.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(folder, "postgres")
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    tmp_path = folder
    port = 25432 + os.getpid() % 1000
    subprocess.run([*run_as, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "vt"], check=True, capture_output=True)
    server = subprocess.Popen([*run_as, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(tmp_path), "-h", "127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"postgresql://vt@127.0.0.1:{port}/postgres"
    import psycopg

    for _ in range(100):
        try:
            psycopg.connect(url, connect_timeout=1).close()
            break
        except psycopg.OperationalError:
            time.sleep(0.1)
    else:
        server.terminate()
        pytest.fail("the temporary PostgreSQL server did not start")
    yield url
    server.terminate()
    server.wait(timeout=30)
    shutil.rmtree(folder, ignore_errors=True)


def test_postgres_store_has_the_same_behaviour(postgres_url: str) -> None:
    store = open_store(postgres_url)
    run = runs.create(store, "pg", scenarios=["normal_faq", "crisis_at_10"], seed=3)
    first = runs.sample(store, run.id, 25)
    again = runs.sample(store, run.id, 25)
    assert (first["evaluated"], again["skipped"]) == (50, 50)
    assert runs.show(store, run.id)["evaluations"] == 50
    assert len(runs.points(store, run.id, scenario="crisis_at_10", limit=10)) == 10
    assert runs.summary(store, run.id)["best_per_scenario"].keys() == {"normal_faq", "crisis_at_10"}
    assert runs.list_runs(store)[0].id == run.id
    assert runs.complete(store, run.id).status == "completed"
    store.close()
    sqlite = open_store(Path(os.environ.get("TMPDIR", "/tmp")) / f"vs-compare-{os.getpid()}.db")
    twin = runs.create(sqlite, "twin", scenarios=["normal_faq", "crisis_at_10"], seed=3)
    runs.sample(sqlite, twin.id, 25)
    pg = open_store(postgres_url)
    assert sorted((e.point, e.scenario, round(e.score, 9)) for e in pg.evaluations(run.id)) == sorted(
        (e.point, e.scenario, round(e.score, 9)) for e in sqlite.evaluations(twin.id)
    )
    pg.close()
    sqlite.close()


def test_vectorised_points_evaluate_like_single_ones() -> None:
    points = np.array([DEFAULT, [0] * 18, [1] * 18])
    from pytest_voicetest.voicesim.scenarios import BUILTIN_SCENARIOS

    batch = runs.evaluate_points(DEFAULT_SPACE, BUILTIN_SCENARIOS["long_intake_30"], points)
    single = [runs.evaluate_points(DEFAULT_SPACE, BUILTIN_SCENARIOS["long_intake_30"], points[i:i + 1])[0] for i in range(3)]
    assert [b.score for b in batch] == [s.score for s in single]
    assert [b.penalties for b in batch] == [s.penalties for s in single]
