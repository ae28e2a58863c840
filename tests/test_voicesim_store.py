"""The database layer and the VoiceSim store under hostile locations and old formats."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_voicetest.database import display_url, open_database, translate
from pytest_voicetest.errors import InputError
from pytest_voicetest.voicesim import runs
from pytest_voicetest.voicesim.space import DEFAULT_SPACE
from pytest_voicetest.voicesim.store import open_store


def _refused(where: str | Path) -> InputError:
    with pytest.raises(InputError) as raised:
        open_store(where)
    assert raised.value.field == "store"
    assert raised.value.fix
    return raised.value


def test_empty_store_paths_are_refused() -> None:
    for where in ("", "   ", "."):
        assert "the store path is empty" in str(_refused(where))


def test_a_folder_is_not_a_store(tmp_path: Path) -> None:
    error = _refused(tmp_path)
    assert f"the store {tmp_path} is a folder" in error.message
    assert str(tmp_path / "voicesim.db") in (error.fix or "")


def test_a_file_that_is_not_sqlite_is_refused_and_kept(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n")
    error = _refused(notes)
    assert f"the store {notes} is not a SQLite database" in error.message
    assert notes.read_text() == "my notes, not a database\n"
    header_only = tmp_path / "broken.db"
    header_only.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    assert "is not a usable SQLite database" in _refused(header_only).message


def test_fifos_and_devices_are_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    assert "is not a regular file" in _refused(fifo).message
    link = tmp_path / "zero.db"
    link.symlink_to("/dev/zero")
    assert "is not a regular file" in _refused(link).message


def test_unwritable_locations_are_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    error = _refused(blocker / "sub" / "voicesim.db")
    assert "cannot create the folder of the store" in error.message and str(blocker / "sub" / "voicesim.db") in error.message
    error = _refused("/proc/voicetest-cannot-write-here.db")  # not writable, even by root
    assert "/proc/voicetest-cannot-write-here.db" in error.message


def test_cli_reports_bad_stores_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    for where, message in (
        (str(tmp_path), "is a folder"),
        (str(tmp_path / "notes.txt"), "is not a SQLite database"),
        ("", "the store path is empty"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "pytest_voicetest.cli", "sim", "list", "--store", where], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and message in done.stderr and "Traceback" not in done.stderr


def test_display_url_hides_passwords_and_secret_query_values() -> None:
    assert display_url("postgresql://vt:hunter2@db.example:5432/sims") == "postgresql://vt:***@db.example:5432/sims"
    assert display_url("postgresql://db.example/sims?password=hunter2&sslmode=require") == "postgresql://db.example/sims?password=***&sslmode=require"
    assert display_url("postgresql://vt@db.example/sims") == "postgresql://vt@db.example/sims"
    assert display_url(".voicetest/voicesim.db") == ".voicetest/voicesim.db"


def test_placeholders_translate_outside_quotes() -> None:
    assert translate("SELECT * FROM t WHERE a = ? AND b LIKE 'x?%'", "sqlite") == "SELECT * FROM t WHERE a = ? AND b LIKE 'x?%'"
    assert translate("SELECT * FROM t WHERE a = ? AND b LIKE 'x?%'", "postgresql") == "SELECT * FROM t WHERE a = %s AND b LIKE 'x?%%'"
    assert translate('SELECT "odd?name" FROM t WHERE c IN (?, ?)', "postgresql") == 'SELECT "odd?name" FROM t WHERE c IN (%s, %s)'


def test_another_component_keeps_its_own_tables_in_the_same_file(tmp_path: Path) -> None:
    """What the HTTP server does: its own tables next to VoiceSim's, through the same layer."""
    path = tmp_path / "shared.db"
    store = open_store(path)
    run = runs.create(store, "sims", scenarios=["normal_faq"])
    database = open_database(path)
    database.ensure_schema("server", 1, ["CREATE TABLE agents (id {serial}, name TEXT NOT NULL, config {blob})"])
    database.ensure_schema("server", 1, ["CREATE TABLE agents (id {serial}, name TEXT NOT NULL, config {blob})"])  # once only
    added = database.write(lambda cursor: cursor.executemany("INSERT INTO agents (name, config) VALUES (?, ?)", [("clinic", b"{}"), ("bank", None)]))
    assert added == 2
    assert database.read("SELECT name FROM agents ORDER BY id") == [("clinic",), ("bank",)]
    with pytest.raises(InputError, match="holds server data of schema 1; this pytest-voicetest uses schema 2"):
        database.ensure_schema("server", 2, ["CREATE TABLE agents2 (id {serial})"])
    assert runs.show(store, run.id)["name"] == "sims"
    database.close()
    store.close()


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    open_store(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE voicetest_schema SET version = 99 WHERE component = 'voicesim'")
    error = _refused(path)
    assert "holds voicesim data of schema 99; this pytest-voicetest uses schema 2" in error.message


def test_a_held_lock_times_out_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    database = open_database(path, lock_timeout_s=0.3)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(InputError, match="stayed locked for 0 s") as raised:
            database.write(lambda cursor: cursor.execute("CREATE TABLE t (x INTEGER)"))
        assert time.monotonic() - started < 3  # the timeout holds as a whole, no hang
        assert raised.value.fix == "check for a stuck process holding the database"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        database.close()


SCHEMA_1 = """
CREATE TABLE vs_runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL, completed_at TEXT,
    status TEXT NOT NULL, seed INTEGER NOT NULL, space TEXT NOT NULL, scenarios TEXT NOT NULL);
CREATE TABLE vs_evaluations (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, point_key TEXT NOT NULL,
    scenario TEXT NOT NULL, score DOUBLE PRECISION NOT NULL, penalties TEXT NOT NULL, created_at TEXT NOT NULL,
    UNIQUE (run_id, point_key, scenario));
CREATE INDEX vs_evaluations_run ON vs_evaluations (run_id, scenario, score);
"""


def test_a_schema_1_store_is_converted_keeping_every_result(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    default = list(DEFAULT_SPACE.default_point())
    other = [0] * 18
    penalty = {"type": "dead_air", "weight": 0.03, "amount": 1.25, "time_s": 12.5, "turn": 3}
    with sqlite3.connect(path) as connection:
        connection.executescript(SCHEMA_1)
        connection.execute(
            "INSERT INTO vs_runs VALUES ('old-run', 'before', '2025-01-01T00:00:00+00:00', NULL, 'running', 7, ?, ?)",
            (json.dumps(DEFAULT_SPACE.to_data()), json.dumps(["normal_faq", "crisis_at_10"])),
        )
        rows = [
            (",".join(map(str, default)), "normal_faq", 0.9, [penalty]),
            (",".join(map(str, other)), "normal_faq", 0.4, []),
            (",".join(map(str, default)), "crisis_at_10", 0.7, [penalty, penalty | {"turn": 4}]),
        ]
        connection.executemany(
            "INSERT INTO vs_evaluations (run_id, point_key, scenario, score, penalties, created_at) VALUES ('old-run', ?, ?, ?, ?, '2025-01-01T00:00:01+00:00')",
            [(key, scenario, score, json.dumps(penalties)) for key, scenario, score, penalties in rows],
        )
    store = open_store(path)
    [run] = runs.list_runs(store)
    assert (run.id, run.name, run.seed, run.status) == ("old-run", "before", 7, "running")
    kept = sorted((e.point, e.scenario, e.score, json.dumps(e.penalties)) for e in store.evaluations("old-run"))
    assert kept == sorted((tuple(map(int, key.split(","))), scenario, score, json.dumps(penalties)) for key, scenario, score, penalties in rows)
    shown = runs.show(store, "old-run")
    assert (shown["evaluations"], shown["points"], shown["best_per_scenario"]["normal_faq"]["score"]) == (3, 2, 0.9)
    assert runs.sample(store, "old-run", 4)["evaluated"] == 8  # and it keeps working
    store.close()
    assert len(open_store(path).evaluations("old-run")) == 11  # converted once


def test_unique_points_matches_numpy_for_small_and_huge_spaces() -> None:
    import numpy as np

    from pytest_voicetest.voicesim.store import unique_points

    rng = np.random.default_rng(1)
    for high in (3, 1000):  # 3**18 fits one integer per row; 1000**18 takes the slow path
        points = rng.integers(0, high, (400, 18))
        points[200:] = points[:200]  # every point twice
        unique, inverse = unique_points(points)
        expected, expected_inverse = np.unique(points, axis=0, return_inverse=True)
        assert (unique == expected).all() and (inverse == expected_inverse.reshape(-1)).all()
        assert len(unique) == 200
