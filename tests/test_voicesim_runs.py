"""VoiceSim operations through the store (SQLite, PostgreSQL), the CLI, adapters and plots."""

from __future__ import annotations

import json
import os
import shutil
import signal
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
from pytest_voicetest.voicesim.space import DEFAULT_SPACE, Space
from pytest_voicetest.voicesim.store import RunCompleted, RunNotFound, open_store

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


def test_list_pages_with_offset_and_cursor(store) -> None:
    made = [runs.create(store, f"run {i}", scenarios=["normal_faq"]).id for i in range(7)]
    newest_first = made[::-1]
    assert [r.id for r in runs.list_runs(store, 3, offset=2)] == newest_first[2:5]
    assert runs.list_runs(store, 3, offset=7) == []
    seen, cursor = [], None
    while True:
        page = runs.list_page(store, 3, cursor=cursor)
        seen += [run["id"] for run in page["runs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == newest_first
    assert runs.list_page(store, 7)["next_cursor"] is None  # an exact last page says so
    first_page = runs.list_runs(store, 3)
    runs.create(store, "late", scenarios=["normal_faq"])  # a new run does not shift the next page
    assert [r.id for r in runs.list_runs(store, 3, cursor=first_page[-1].cursor)] == newest_first[3:6]
    with pytest.raises(InputError, match="is not a cursor from a previous page") as bad_cursor:
        runs.list_runs(store, cursor="nonsense!")
    assert bad_cursor.value.field == "cursor"
    with pytest.raises(InputError, match="offset must be a whole number 0..") as bad_offset:
        runs.list_runs(store, offset=-1)
    assert bad_offset.value.field == "offset"


def test_workspaces_do_not_see_each_other(store) -> None:
    mine = runs.create(store, "mine", scenarios=["normal_faq"], workspace="ws-a")
    theirs = runs.create(store, "theirs", scenarios=["normal_faq"], workspace="ws-b")
    assert [r.id for r in runs.list_runs(store, workspace="ws-a")] == [mine.id]
    assert runs.show(store, mine.id, workspace="ws-a")["id"] == mine.id
    with pytest.raises(RunNotFound, match=f"no VoiceSim run '{theirs.id}'") as hidden:
        runs.evaluate(store, theirs.id, DEFAULT, "normal_faq", workspace="ws-a")
    assert theirs.id not in (hidden.value.fix or "")  # the recent-runs hint stays inside the workspace
    assert mine.id in (hidden.value.fix or "")
    assert {r.id for r in runs.list_runs(store)} == {mine.id, theirs.id}  # no workspace: everything (CLI, pytest)


def test_create_and_get_return_the_configuration_space(store) -> None:
    run = runs.create(store, "space", scenarios=["normal_faq", "crisis_at_10"])
    for data in (run.to_data(), runs.show(store, run.id)):
        dimensions = data["space"]["dimensions"]
        assert len(dimensions) == 18
        assert dimensions[0] == {
            "name": "end_of_turn_timeout_ms",
            "unit": "ms",
            "bins": [250, 400, 600, 800, 1200, 1800],
            "default": 2,
            "description": DEFAULT_SPACE.dimensions[0].description,
        }
        assert data["status"] == "running" and data["samples"] == 0


def test_evaluate_returns_adapter_log_and_stores(store) -> None:
    run = runs.create(store, "eval", scenarios=["crisis_at_10", "normal_faq"])
    result = runs.evaluate(store, run.id, DEFAULT, "crisis_at_10")
    assert 0 <= result.score <= 1 and result.penalties
    assert result.adapter_log == [entry.to_data() for entry in adapter_log(DEFAULT_SPACE, DEFAULT)]
    data = result.to_data()
    assert {"point", "scenario", "score", "penalties", "adapter_log"} <= data.keys()
    [stored] = store.evaluations(run.id)
    assert (stored.point, stored.scenario, stored.score) == (tuple(DEFAULT), "crisis_at_10", result.score)
    assert stored.penalties == result.penalties
    again = runs.evaluate(store, run.id, DEFAULT, "crisis_at_10")
    assert again.score == result.score and len(store.evaluations(run.id)) == 1  # stored once


@pytest.mark.parametrize(
    ("point", "scenario", "field", "message"),
    [
        (DEFAULT[:5], "crisis_at_10", "point", "a point has 18 bin indices, one per dimension; got 5"),
        (DEFAULT + [0], "crisis_at_10", "point", "a point has 18 bin indices, one per dimension; got 19"),
        ([6] + DEFAULT[1:], "crisis_at_10", "point[0]", "end_of_turn_timeout_ms has 6 bins, so its index must be 0..5; got 6"),
        (DEFAULT[:3] + [-1] + DEFAULT[4:], "crisis_at_10", "point[3]", "vad_activation_threshold has 6 bins, so its index must be 0..5; got -1"),
        (DEFAULT[:17] + [1.5], "crisis_at_10", "point[17]", "index for silence_reminder_s must be a whole number 0..4, got 1.5"),
        ("0,1,2", "crisis_at_10", "point", "a point is a list of 18 bin indices, not str"),
        (DEFAULT, "silent_caller", "scenario", "has no scenario 'silent_caller'"),
        (DEFAULT, None, "scenario", "has no scenario None"),
    ],
)
def test_evaluate_errors_name_the_field_and_range(store, point, scenario, field: str, message: str) -> None:
    run = runs.create(store, "eval", scenarios=["crisis_at_10", "normal_faq"])
    with pytest.raises(InputError) as raised:
        runs.evaluate(store, run.id, point, scenario)
    assert raised.value.field == field
    assert message in raised.value.message
    if field == "scenario":
        assert raised.value.fix == "use one of: crisis_at_10, normal_faq"
    assert store.evaluations(run.id) == []
    with pytest.raises(InputError, match="no VoiceSim run 'missing'"):
        runs.evaluate(store, "missing", DEFAULT, "normal_faq")


def _stored(store, run_id: str) -> list[tuple[tuple[int, ...], str]]:
    return [(e.point, e.scenario) for e in store.evaluations(run_id)]


def test_every_sample_draws_new_points(store, tmp_path: Path) -> None:
    run = runs.create(store, "sweep", scenarios=["normal_faq", "crisis_at_10"], seed=4)
    first = runs.sample(store, run.id, 20)
    second = runs.sample(store, run.id, 20)
    assert (first["batch"], first["evaluated"], second["batch"], second["evaluated"]) == (0, 40, 1, 40)
    stored = _stored(store, run.id)
    assert len(stored) == len(set(stored)) == 80
    assert len({point for point, _ in stored}) == 40  # 20 more distinct points, not the same 20 again
    assert runs.show(store, run.id)["samples"] == 2
    own_seed = [runs.sample(store, run.id, 10, seed=99) for _ in range(2)]
    assert [s["evaluated"] for s in own_seed] == [20, 20]  # a given seed also draws new points each time
    assert len({point for point, _ in _stored(store, run.id)}) == 60
    # The sampler state lives in the store: a fresh connection continues the same sequence.
    other = open_store(tmp_path / "other.db")
    twin = runs.create(other, "twin", scenarios=["normal_faq", "crisis_at_10"], seed=4)
    runs.sample(other, twin.id, 20)
    other.close()
    reopened = open_store(tmp_path / "other.db")
    runs.sample(reopened, twin.id, 20)
    assert sorted(_stored(reopened, twin.id)) == sorted(stored)
    reopened.close()


def test_interrupted_sample_resumes_without_duplicates_or_gaps(store) -> None:
    run = runs.create(store, "sweep", scenarios=["normal_faq", "crisis_at_10", "greeting_barge_in"], seed=4)
    progress: list[tuple[int, int]] = []

    def stop_after_second_chunk(done: int, total: int) -> None:
        progress.append((done, total))
        if len(progress) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runs.sample(store, run.id, 100, progress=stop_after_second_chunk, chunk=40)
    assert progress == [(40, 300), (80, 300)]
    assert len(store.evaluations(run.id)) == 80  # two chunks reached the store before the interrupt
    resumed = runs.sample(store, run.id, 100, chunk=40)
    assert resumed == {"run_id": run.id, "batch": 0, "points": 100, "scenarios": 3, "evaluated": 220, "skipped": 80}
    stored = _stored(store, run.id)
    assert len(stored) == len(set(stored)) == 300
    assert runs.sample(store, run.id, 100)["batch"] == 1  # finished: the next call draws anew
    uninterrupted = runs.create(store, "twin", scenarios=["normal_faq", "crisis_at_10", "greeting_barge_in"], seed=4)
    runs.sample(store, uninterrupted.id, 100)
    assert sorted(stored) == sorted(_stored(store, uninterrupted.id)[:300])  # same points as an uninterrupted run


KILL_AFTER_TWO_CHUNKS = """
import os, signal, sys
from pytest_voicetest.voicesim import runs
from pytest_voicetest.voicesim.store import RunCompleted, RunNotFound, open_store
calls = []
def progress(done, total):
    calls.append(done)
    if len(calls) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
store = open_store(sys.argv[1])
runs.sample(store, sys.argv[2], 90, chunk=30, progress=progress)
"""


def test_killed_sample_is_resumed_once_its_lease_expires(store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_voicetest.voicesim import store as store_module

    run = runs.create(store, "killed", scenarios=["normal_faq", "backchanneler"], seed=3)
    done = subprocess.run([sys.executable, "-c", KILL_AFTER_TWO_CHUNKS, str(tmp_path / "vs.db"), run.id], timeout=120)
    assert done.returncode == -signal.SIGKILL
    assert len(store.evaluations(run.id)) == 60
    fresh = runs.sample(store, run.id, 90, chunk=30)
    assert fresh["batch"] == 1  # the dead process still holds its lease: its batch is not taken over yet
    monkeypatch.setattr(store_module, "LEASE_S", 0.0)
    resumed = runs.sample(store, run.id, 90, chunk=30)
    assert (resumed["batch"], resumed["evaluated"], resumed["skipped"]) == (0, 120, 60)
    stored = _stored(store, run.id)
    assert len(stored) == len(set(stored)) == 360


def test_completed_run_refuses_writes_and_complete_is_idempotent(store) -> None:
    run = runs.create(store, "done", scenarios=["normal_faq"])
    runs.sample(store, run.id, 5)
    completed = runs.complete(store, run.id)
    assert completed.status == "completed" and completed.completed_at
    again = runs.complete(store, run.id)
    assert (again.status, again.completed_at) == ("completed", completed.completed_at)
    for write in (lambda: runs.evaluate(store, run.id, DEFAULT, "normal_faq"), lambda: runs.sample(store, run.id, 5)):
        with pytest.raises(RunCompleted, match=f"run {run.id} is completed, so it takes no more evaluations or samples") as refused:
            write()
        assert refused.value.field == "run_id" and "create a new run" in (refused.value.fix or "")
    assert len(store.evaluations(run.id)) == 5
    assert runs.show(store, run.id)["evaluations"] == 5 and runs.summary(store, run.id)["status"] == "completed"


def test_a_run_completed_during_a_sample_stops_it(store) -> None:
    run = runs.create(store, "race", scenarios=["normal_faq", "crisis_at_10"])

    def complete_midway(done: int, total: int) -> None:
        if done == 10:
            runs.complete(store, run.id)

    with pytest.raises(InputError, match="is completed"):
        runs.sample(store, run.id, 20, chunk=10, progress=complete_midway)
    assert len(store.evaluations(run.id)) == 10


def test_shards_share_the_latest_sample(store) -> None:
    run = runs.create(store, "shards", scenarios=["normal_faq", "crisis_at_10"], seed=2, run_id="fixed-id")
    assert runs.create(store, "shards", scenarios=["normal_faq"], run_id="fixed-id").scenarios == ["normal_faq", "crisis_at_10"]
    first = runs.sample(store, run.id, 12, only=["normal_faq"])
    second = runs.sample(store, run.id, 12, only=["crisis_at_10"])
    repeat = runs.sample(store, run.id, 12, only=["normal_faq"])
    assert (first["batch"], second["batch"], repeat["batch"]) == (0, 0, 0)
    assert (repeat["evaluated"], repeat["skipped"]) == (0, 12)
    points = {scenario: {p for p, s in _stored(store, run.id) if s == scenario} for scenario in ("normal_faq", "crisis_at_10")}
    assert points["normal_faq"] == points["crisis_at_10"] and len(points["normal_faq"]) == 12
    with pytest.raises(InputError, match="latest sample has 12 points") as size:
        runs.sample(store, run.id, 13, only=["normal_faq"])
    assert size.value.field == "n_points"
    with pytest.raises(InputError, match="has no scenario 'silent_caller'") as unknown:
        runs.sample(store, run.id, 12, only=["silent_caller"])
    assert unknown.value.field == "only"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"n_points": 0}, "n_points", "the number of points must be a whole number 1..100000, got 0"),
        ({"n_points": "5"}, "n_points", "the number of points must be a whole number 1..100000, got '5'"),
        ({"n_points": 5, "seed": -1}, "seed", "seed must be a whole number 0..4294967295, got -1"),
        ({"n_points": 5, "seed": 2**32}, "seed", "seed must be a whole number 0..4294967295, got 4294967296"),
        ({"n_points": 5, "chunk": 0}, "chunk", "chunk must be a whole number 1..100000, got 0"),
    ],
)
def test_sample_argument_errors(store, kwargs: dict, field: str, message: str) -> None:
    run = runs.create(store, "args", scenarios=["normal_faq"])
    with pytest.raises(InputError) as raised:
        runs.sample(store, run.id, **kwargs)
    assert (raised.value.field, raised.value.message) == (field, message)


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True, "7"])
def test_create_refuses_seeds_out_of_range(store, seed) -> None:
    with pytest.raises(InputError, match="seed must be a whole number 0..4294967295") as raised:
        runs.create(store, "seed", seed=seed)
    assert raised.value.field == "seed"
    assert runs.list_runs(store) == []


def test_space_of_a_run_must_be_simulatable(store) -> None:
    odd = Space.from_data({"dimensions": [d for d in DEFAULT_SPACE.to_data()["dimensions"][:17]]})
    with pytest.raises(InputError, match="the pipeline needs the 18 standard dimensions; got 17 \\(missing silence_reminder_s\\)") as raised:
        runs.create(store, "odd", space=odd)
    assert raised.value.field == "dimensions"


def test_samples_of_a_narrow_space_stay_distinct(store) -> None:
    """2 bins per dimension (262,144 points): 2,000-point draws collide, and are topped up."""
    narrow = Space.from_data({"overrides": {d.name: {"bins": list(d.bins[:2]), "default": 0} for d in DEFAULT_SPACE.dimensions}})
    run = runs.create(store, "narrow", space=narrow, scenarios=["normal_faq"], seed=1)
    sizes = [runs.sample(store, run.id, 2000)["points"] for _ in range(2)]
    points = [p for p, _ in _stored(store, run.id)]
    assert sizes == [2000, 2000] and len(points) == len(set(points)) == 4000


def test_show_points_summary(store) -> None:
    run = runs.create(store, "summary", scenarios=["normal_faq", "backchanneler"], seed=1)
    runs.sample(store, run.id, 60)
    shown = runs.show(store, run.id)
    assert (shown["status"], shown["evaluations"], shown["points"]) == ("running", 120, 60)
    everything = store.evaluations(run.id)
    best = max(everything, key=lambda e: e.score)
    assert shown["best"]["score"] == round(best.score, 6)
    for name in ("normal_faq", "backchanneler"):
        mine = [e for e in everything if e.scenario == name]
        top = max(mine, key=lambda e: e.score)
        assert shown["best_per_scenario"][name]["score"] == round(top.score, 6)
        assert shown["best_per_scenario"][name]["point"] == list(top.point)
        assert shown["best_per_scenario"][name]["values"] == DEFAULT_SPACE.values(top.point)
    top = runs.points(store, run.id)
    assert len(top) == 50 and [e.score for e in top] == sorted((e.score for e in everything), reverse=True)[:50]
    faq = runs.points(store, run.id, scenario="normal_faq", limit=200, order_by="time")
    assert len(faq) == 60 and {e.scenario for e in faq} == {"normal_faq"}
    assert [e.point for e in faq] == [e.point for e in everything if e.scenario == "normal_faq"]
    paged = runs.points(store, run.id, limit=20, offset=40)
    assert [(e.point, e.scenario) for e in paged] == [(e.point, e.scenario) for e in runs.points(store, run.id, limit=60)[40:60]]
    for bad, field in (
        ({"limit": 201}, "limit"),
        ({"limit": 0}, "limit"),
        ({"order_by": "name"}, "order_by"),
        ({"scenario": "crisis_at_10"}, "scenario"),
        ({"offset": -5}, "offset"),
    ):
        with pytest.raises(InputError) as raised:
            runs.points(store, run.id, **bad)
        assert raised.value.field == field
    summary = runs.summary(store, run.id)
    assert set(summary["best_per_scenario"]) == {"normal_faq", "backchanneler"}
    frequencies = [row["evaluations"] for row in summary["penalty_frequency"]]
    assert frequencies == sorted(frequencies, reverse=True)
    by_type: dict[str, set[int]] = {}
    for index, evaluation in enumerate(everything):
        for penalty in evaluation.penalties:
            by_type.setdefault(penalty["type"], set()).add(index)
    assert {row["type"]: row["evaluations"] for row in summary["penalty_frequency"]} == {k: len(v) for k, v in by_type.items()}
    diff = summary["config_diff"]
    assert diff["default_mean_score"] is not None and len(diff["best_point"]) == 18
    changed = {c["dimension"] for c in diff["changes"]}
    assert changed == {name for name, i, d in zip(DEFAULT_SPACE.names, diff["best_point"], DEFAULT, strict=False) if i != d}


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
    page = json.loads(capsys.readouterr().out)
    [listed] = page["runs"]
    assert (listed["id"], listed["status"], page["next_cursor"]) == (run_id, "completed", None)


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
    server = subprocess.Popen(
        [*run_as, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(tmp_path), "-h", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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


@pytest.mark.slow  # starting and stopping the throw-away cluster takes 5-10 s
def test_postgres_store_has_the_same_behaviour(postgres_url: str) -> None:
    store = open_store(postgres_url)
    run = runs.create(store, "pg", scenarios=["normal_faq", "crisis_at_10"], seed=3)
    first = runs.sample(store, run.id, 25)
    again = runs.sample(store, run.id, 25)
    assert (first["evaluated"], again["batch"], again["evaluated"]) == (50, 1, 50)
    shard = runs.sample(store, run.id, 25, only=["normal_faq"])
    assert (shard["batch"], shard["skipped"]) == (1, 25)
    evaluation = runs.evaluate(store, run.id, DEFAULT, "crisis_at_10")
    assert evaluation.adapter_log
    shown = runs.show(store, run.id)
    assert (shown["evaluations"], shown["points"], shown["samples"]) == (101, 51, 2)
    assert set(shown["best_per_scenario"]) == {"normal_faq", "crisis_at_10"}
    assert len(runs.points(store, run.id, scenario="crisis_at_10", limit=10, offset=5)) == 10
    assert runs.summary(store, run.id)["best_per_scenario"].keys() == {"normal_faq", "crisis_at_10"}
    second = runs.create(store, "pg 2", scenarios=["normal_faq"], seed=2**32 - 1)
    page = runs.list_page(store, 1)
    assert [r["id"] for r in page["runs"]] == [second.id]
    assert [r.id for r in runs.list_runs(store, 1, cursor=page["next_cursor"])] == [run.id]
    assert runs.complete(store, run.id).status == "completed"
    with pytest.raises(InputError, match="is completed"):
        runs.sample(store, run.id, 5)
    store.close()
    sqlite = open_store(Path(os.environ.get("TMPDIR", "/tmp")) / f"vs-compare-{os.getpid()}-{time.time_ns()}.db")
    twin = runs.create(sqlite, "twin", scenarios=["normal_faq", "crisis_at_10"], seed=3)
    runs.sample(sqlite, twin.id, 25)
    runs.sample(sqlite, twin.id, 25)
    runs.evaluate(sqlite, twin.id, DEFAULT, "crisis_at_10")
    pg = open_store(postgres_url)
    assert sorted((e.point, e.scenario, round(e.score, 9)) for e in pg.evaluations(run.id)) == sorted(
        (e.point, e.scenario, round(e.score, 9)) for e in sqlite.evaluations(twin.id)
    )
    pg.close()
    sqlite.close()
    _schema_1_on_postgres(postgres_url)


def _schema_1_on_postgres(postgres_url: str) -> None:
    """A PostgreSQL store written by schema 1 is converted in place, keeping its results."""
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("CREATE DATABASE legacy")
    url = postgres_url.rsplit("/", 1)[0] + "/legacy"
    penalty = {"type": "dead_air", "weight": 0.03, "amount": 0.5, "time_s": 3.25, "turn": 1}
    with psycopg.connect(url, autocommit=True) as old:
        old.execute(
            "CREATE TABLE vs_runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL, completed_at TEXT, "
            "status TEXT NOT NULL, seed INTEGER NOT NULL, space TEXT NOT NULL, scenarios TEXT NOT NULL)"
        )
        old.execute(
            "CREATE TABLE vs_evaluations (id BIGSERIAL PRIMARY KEY, run_id TEXT NOT NULL, point_key TEXT NOT NULL, scenario TEXT NOT NULL, "
            "score DOUBLE PRECISION NOT NULL, penalties TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (run_id, point_key, scenario))"
        )
        old.execute(
            "INSERT INTO vs_runs VALUES ('old', 'before', '2025-01-01T00:00:00+00:00', NULL, 'running', 1, %s, %s)",
            (json.dumps(DEFAULT_SPACE.to_data()), json.dumps(["normal_faq"])),
        )
        old.execute(
            "INSERT INTO vs_evaluations (run_id, point_key, scenario, score, penalties, created_at) VALUES ('old', %s, 'normal_faq', 0.8, %s, 'x')",
            (",".join(map(str, DEFAULT)), json.dumps([penalty])),
        )
    store = open_store(url)
    [kept] = store.evaluations("old")
    assert (kept.point, kept.score, kept.penalties) == (tuple(DEFAULT), 0.8, [penalty])
    assert runs.sample(store, "old", 3)["evaluated"] == 3
    store.close()


def test_postgres_url_errors_hide_the_password() -> None:
    pytest.importorskip("psycopg", reason="psycopg (the postgres extra) is not installed")
    with pytest.raises(InputError) as raised:
        open_store("postgresql://vt:s3cret-pw@127.0.0.1:1/db?connect_timeout=1")
    assert "s3cret-pw" not in str(raised.value) and "vt:***@127.0.0.1:1" in str(raised.value)
    assert raised.value.field == "store"


def test_vectorised_points_evaluate_like_single_ones() -> None:
    points = np.array([DEFAULT, [0] * 18, [1] * 18])
    from pytest_voicetest.voicesim.scenarios import BUILTIN_SCENARIOS

    batch = runs.evaluate_points(DEFAULT_SPACE, BUILTIN_SCENARIOS["long_intake_30"], points)
    single = [runs.evaluate_points(DEFAULT_SPACE, BUILTIN_SCENARIOS["long_intake_30"], points[i : i + 1])[0] for i in range(3)]
    assert [b.score for b in batch] == [s.score for s in single]
    assert [b.penalties for b in batch] == [s.penalties for s in single]
