"""Runs, sampler state and evaluations, persisted through `database` (SQLite or PostgreSQL).

Tables (schema 2):
- `vs_runs`: one row per run (its space, scenarios, seed, status, workspace) plus the
  Latin-hypercube sampler state: how many samples were drawn and the random
  generator's state after the last draw.
- `vs_batches`: one row per `sample` call: its points (one blob), its chunk size, a
  lease (owner and heartbeat) while a process works on it, and when it was finished.
- `vs_blocks`: evaluations, one row per stored chunk of one scenario: the points, their
  scores, and their penalties as packed records with per-point offsets. A batch's
  chunks sit on a fixed grid (`slot` = batch:first point), so a resumed sample, a
  repeated shard or two processes racing on the same chunk store it once; a single
  evaluation is a block of one point (`slot` = its indices).

Storing a chunk is one row, not one per evaluation: a 1,024 x 16 sweep is 16 inserts,
which is what lets the store keep up with the vectorised simulation. Points are bin
indices as big-endian uint16 (so blobs sort like index tuples); penalty records hold the
type code, turn, amount and time (weights come from `scoring.WEIGHTS`, fixed by this
schema version). Reads decode blocks with numpy and only build Python objects for the
evaluations they return.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..database import Cursor, Database, open_database
from ..errors import InputError
from .scoring import PENALTY_DTYPE, PENALTY_TYPES, encode_penalties, penalty_data, penalty_stats

DEFAULT_PATH = Path(".voicetest") / "voicesim.db"
SCHEMA_VERSION = 2
LEASE_S = 30.0

SCHEMA = (
    """CREATE TABLE vs_runs (
        seq {serial},
        id TEXT NOT NULL UNIQUE,
        workspace TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        completed_at TEXT,
        status TEXT NOT NULL,
        seed {bigint} NOT NULL,
        space TEXT NOT NULL,
        scenarios TEXT NOT NULL,
        samples INTEGER NOT NULL,
        sampler TEXT
    )""",
    "CREATE INDEX vs_runs_listing ON vs_runs (workspace, seq)",
    """CREATE TABLE vs_batches (
        run_id TEXT NOT NULL,
        batch INTEGER NOT NULL,
        n_points INTEGER NOT NULL,
        chunk INTEGER NOT NULL,
        seed {bigint},
        points {blob} NOT NULL,
        created_at TEXT NOT NULL,
        owner TEXT,
        heartbeat {float},
        completed_at TEXT,
        PRIMARY KEY (run_id, batch)
    )""",
    """CREATE TABLE vs_blocks (
        id {serial},
        run_id TEXT NOT NULL,
        scenario TEXT NOT NULL,
        slot TEXT NOT NULL,
        batch INTEGER,
        first INTEGER,
        count INTEGER NOT NULL,
        best {float} NOT NULL,
        created_at TEXT NOT NULL,
        stats {blob} NOT NULL,
        scores {blob} NOT NULL,
        points {blob} NOT NULL,
        offsets {blob} NOT NULL,
        penalties {blob} NOT NULL,
        UNIQUE (run_id, scenario, slot)
    )""",
    "CREATE INDEX vs_blocks_batch ON vs_blocks (run_id, batch)",
)
RUN_COLUMNS = "seq, id, workspace, name, created_at, completed_at, status, seed, space, scenarios, samples, sampler"
INSERT_BLOCK = (
    "INSERT INTO vs_blocks (run_id, scenario, slot, batch, first, count, best, created_at, stats, scores, points, offsets, penalties) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, scenario, slot) DO NOTHING"
)


class RunNotFound(InputError):
    """No run of that id (in that workspace): a server answers 404."""


class RunCompleted(InputError):
    """The run is completed and takes no more writes: a server answers 409."""


def completed_error(run_id: str) -> RunCompleted:
    return RunCompleted(
        f"run {run_id} is completed, so it takes no more evaluations or samples",
        field="run_id",
        fix="create a new run to keep sampling; a completed run stays readable (get, points, summary)",
    )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def pack_points(points: np.ndarray) -> bytes:
    """Rows of bin indices as one blob (big-endian uint16 each)."""
    return np.ascontiguousarray(np.asarray(points, dtype=">u2")).tobytes()


def encode_points(points: np.ndarray) -> list[bytes]:
    """One blob per point (rows of bin indices)."""
    data = pack_points(points)
    width = 2 * np.shape(points)[1]
    return [data[i : i + width] for i in range(0, len(data), width)]


def decode_points(blobs: Sequence[bytes], dimensions: int) -> np.ndarray:
    """Rows of bin indices from point blobs."""
    return np.frombuffer(b"".join(blobs), dtype=">u2").reshape(-1, dimensions).astype(np.int64)


def unique_points(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct points (sorted by index tuple) and, per row, the index of its distinct point.

    Rows become one integer each (mixed radix) when they fit in 63 bits, which sorts far
    faster than `np.unique(axis=0)`."""
    if not len(points):
        return points, np.zeros(0, dtype=np.int64)
    sizes = (points.max(axis=0) + 1).tolist()
    if math.prod(sizes) < 2**63:
        radix = np.cumprod([1, *sizes[:0:-1]])[::-1].astype(np.int64)
        _, first, inverse = np.unique(points @ radix, return_index=True, return_inverse=True)
        return points[first], inverse.reshape(-1)
    unique, inverse = np.unique(points, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)


@dataclass(frozen=True)
class RunRecord:
    id: str
    name: str
    created_at: str
    completed_at: str | None
    status: str
    seed: int
    space: dict[str, Any]
    scenarios: list[str]
    workspace: str = ""
    samples: int = 0
    seq: int = 0
    sampler: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def cursor(self) -> str:
        """An opaque cursor for the page of runs listed after this one."""
        return base64.urlsafe_b64encode(f"run:{self.seq}".encode()).decode().rstrip("=")

    def to_data(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created_at": self.created_at,
            "completed_at": self.completed_at,
            "status": self.status,
            "seed": self.seed,
            "scenarios": self.scenarios,
            "samples": self.samples,
            "space": self.space,
        }


def parse_cursor(cursor: Any) -> int:
    """The position a cursor from `RunRecord.cursor` stands for."""
    if not isinstance(cursor, str):
        raise InputError(f"cursor must be a string from a previous page, got {type(cursor).__name__}", field="cursor")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "run" or not number.isdigit():
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InputError(
            f"cursor '{cursor[:40]}' is not a cursor from a previous page",
            field="cursor",
            fix="pass next_cursor from the previous page, or leave it out for the first page",
        ) from None


@dataclass(frozen=True)
class EvaluationRecord:
    """One stored evaluation; its penalties are decoded when first read."""

    run_id: str
    point: tuple[int, ...]
    scenario: str
    score: float
    records: np.ndarray = field(repr=False, compare=False)
    created_at: str = ""

    @property
    def penalties(self) -> list[dict[str, Any]]:
        return penalty_data(self.records)

    def to_data(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "point": list(self.point),
            "scenario": self.scenario,
            "score": round(self.score, 6),
            "penalties": self.penalties,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Batch:
    """The points of one `sample` call; `new` when this call drew them."""

    index: int
    points: np.ndarray
    chunk: int
    new: bool


@dataclass(frozen=True)
class Columns:
    """Every evaluation of a run as columns, and the penalty totals (for summaries)."""

    points: np.ndarray
    scenarios: np.ndarray
    scores: np.ndarray
    penalty_stats: np.ndarray


Draw = Callable[[dict[str, Any] | None, set[bytes]], tuple[np.ndarray, dict[str, Any] | None]]


def _block_row(
    run_id: str,
    scenario: str,
    slot: str,
    batch: int | None,
    first: int | None,
    points: np.ndarray,
    scores: np.ndarray,
    records: np.ndarray,
    counts: np.ndarray,
) -> tuple[Any, ...]:
    offsets = np.concatenate(([0], np.cumsum(counts))).astype("<u4")
    return (
        run_id,
        scenario,
        slot,
        batch,
        first,
        len(scores),
        float(scores.max()),
        now(),
        penalty_stats(records, counts).astype("<f8").tobytes(),
        np.asarray(scores, dtype="<f8").tobytes(),
        pack_points(points),
        offsets.tobytes(),
        records.tobytes(),
    )


class Store:
    """VoiceSim tables in one database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.where = database.where
        database.ensure_schema("voicesim", SCHEMA_VERSION, SCHEMA, upgrade=self._upgrade)

    # Runs ---------------------------------------------------------------

    def create_run(
        self, name: str, space: dict[str, Any], scenarios: list[str], seed: int, *, workspace: str = "", run_id: str | None = None
    ) -> RunRecord:
        """A new run; with `run_id`, the run of that id, created if it does not exist yet
        (safe when several processes race)."""
        chosen = run_id or uuid.uuid4().hex[:12]
        self.database.write(
            lambda c: c.execute(
                "INSERT INTO vs_runs (id, workspace, name, created_at, completed_at, status, seed, space, scenarios, samples, sampler) "
                "VALUES (?, ?, ?, ?, NULL, 'running', ?, ?, ?, 0, NULL) ON CONFLICT (id) DO NOTHING",
                (chosen, workspace, name, now(), int(seed), json.dumps(space), json.dumps(list(scenarios))),
            )
        )
        return self.get_run(chosen)

    def _run(self, row: Sequence[Any]) -> RunRecord:
        seq, run_id, workspace, name, created, completed, status, seed, space, scenarios, samples, sampler = row
        return RunRecord(
            run_id,
            name,
            created,
            completed,
            status,
            int(seed),
            json.loads(space),
            json.loads(scenarios),
            workspace,
            int(samples),
            int(seq),
            json.loads(sampler) if sampler else None,
        )

    def list_runs(self, limit: int, *, offset: int = 0, cursor: str | None = None, workspace: str | None = None) -> list[RunRecord]:
        """Runs newest first; `cursor` (from `RunRecord.cursor`) starts after that run."""
        where, params = self._scope(workspace)
        if cursor is not None:
            where.append("seq < ?")
            params.append(parse_cursor(cursor))
        sql = f"SELECT {RUN_COLUMNS} FROM vs_runs" + (" WHERE " + " AND ".join(where) if where else "")
        return [self._run(row) for row in self.database.read(sql + " ORDER BY seq DESC LIMIT ? OFFSET ?", (*params, limit, offset))]

    @staticmethod
    def _scope(workspace: str | None) -> tuple[list[str], list[Any]]:
        return (["workspace = ?"], [workspace]) if workspace is not None else ([], [])

    def get_run(self, run_id: str, *, workspace: str | None = None) -> RunRecord:
        if not isinstance(run_id, str) or not run_id:
            raise InputError(f"a run id is a non-empty string, got {run_id!r}", field="run_id")
        where, params = self._scope(workspace)
        rows = self.database.read(f"SELECT {RUN_COLUMNS} FROM vs_runs WHERE {' AND '.join(['id = ?', *where])}", (run_id, *params))
        if not rows:
            known = [run.id for run in self.list_runs(5, workspace=workspace)]
            raise RunNotFound(f"no VoiceSim run '{run_id}' in {self.where}", field="run_id", fix=f"recent runs: {', '.join(known) or 'none'}")
        return self._run(rows[0])

    def complete_run(self, run_id: str, *, workspace: str | None = None) -> RunRecord:
        """Mark the run completed (a completed run stays as it is)."""
        run = self.get_run(run_id, workspace=workspace)
        self.database.write(
            lambda c: c.execute("UPDATE vs_runs SET status = 'completed', completed_at = ? WHERE id = ? AND status <> 'completed'", (now(), run.id))
        )
        return self.get_run(run.id)

    def _writable(self, cursor: Cursor, run_id: str) -> RunRecord:
        """The run, read inside a write; a completed run takes no more evaluations."""
        row = cursor.execute(f"SELECT {RUN_COLUMNS} FROM vs_runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFound(f"no VoiceSim run '{run_id}' in {self.where}", field="run_id")
        run = self._run(row)
        if run.status == "completed":
            raise completed_error(run_id)
        return run

    # Sampler state --------------------------------------------------------

    def open_batch(self, run_id: str, n_points: int, *, seed: int | None, chunk: int, owner: str | None, draw: Draw) -> Batch:
        """The batch a `sample` call works on, claimed in one transaction.

        A shard (`owner` None: a process evaluating some scenarios of a shared sample)
        joins the run's latest batch, or draws the first one. Otherwise an interrupted
        batch of the same size and seed is resumed (when nobody holds its lease), else
        `draw(sampler_state, drawn_points)` makes a new one; the sampler state is saved
        unless the call gave its own seed.
        """

        def claim(cursor: Cursor) -> Batch:
            run = self._writable(cursor, run_id)
            dimensions = len(run.space["dimensions"])
            if owner is None:
                row = cursor.execute(
                    "SELECT batch, n_points, points, chunk FROM vs_batches WHERE run_id = ? ORDER BY batch DESC LIMIT 1", (run_id,)
                ).fetchone()
                if row is not None:
                    if int(row[1]) != n_points:
                        raise InputError(
                            f"run {run_id}'s latest sample has {row[1]} points, and a shard (only=...) joins it, so n_points must be {row[1]}; got {n_points}",
                            field="n_points",
                        )
                    return Batch(int(row[0]), decode_points([bytes(row[2])], dimensions), int(row[3]), False)
            else:
                same_seed = "seed IS NULL" if seed is None else "seed = ?"
                row = cursor.execute(
                    f"SELECT batch, points, chunk FROM vs_batches WHERE run_id = ? AND completed_at IS NULL AND n_points = ? AND {same_seed} "
                    "AND (owner IS NULL OR heartbeat < ?) ORDER BY batch LIMIT 1",
                    (run_id, n_points, *([] if seed is None else [seed]), time.time() - LEASE_S),
                ).fetchone()
                if row is not None:
                    cursor.execute(
                        "UPDATE vs_batches SET owner = ?, heartbeat = ? WHERE run_id = ? AND batch = ?", (owner, time.time(), run_id, row[0])
                    )
                    return Batch(int(row[0]), decode_points([bytes(row[1])], dimensions), int(row[2]), False)
            width = 2 * dimensions
            drawn: set[bytes] = set()
            for (blob,) in cursor.execute("SELECT points FROM vs_batches WHERE run_id = ?", (run_id,)).fetchall():
                data = bytes(blob)
                drawn.update(data[i : i + width] for i in range(0, len(data), width))
            points, state = draw(run.sampler, drawn)
            cursor.execute(
                "INSERT INTO vs_batches (run_id, batch, n_points, chunk, seed, points, created_at, owner, heartbeat, completed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (run_id, run.samples, n_points, chunk, seed, pack_points(points), now(), owner, time.time()),
            )
            if state is not None:
                cursor.execute("UPDATE vs_runs SET samples = samples + 1, sampler = ? WHERE id = ?", (json.dumps(state), run_id))
            else:
                cursor.execute("UPDATE vs_runs SET samples = samples + 1 WHERE id = ?", (run_id,))
            return Batch(run.samples, points, chunk, True)

        return self.database.write(claim, lock=f"voicesim-run:{run_id}")

    def stored_chunks(self, run_id: str, batch: int) -> set[tuple[str, int]]:
        """(scenario, first point) of the batch's chunks already stored."""
        return {
            (scenario, int(first))
            for scenario, first in self.database.read("SELECT scenario, first FROM vs_blocks WHERE run_id = ? AND batch = ?", (run_id, batch))
        }

    def release_batch(self, run_id: str, batch: int, owner: str | None, *, finished: bool, chunks: int) -> None:
        """Give up the lease; mark the batch finished once all its `chunks` are stored."""

        def release(cursor: Cursor) -> None:
            if owner is not None:
                cursor.execute("UPDATE vs_batches SET owner = NULL WHERE run_id = ? AND batch = ? AND owner = ?", (run_id, batch, owner))
            if finished:
                [(stored,)] = cursor.execute("SELECT COUNT(*) FROM vs_blocks WHERE run_id = ? AND batch = ?", (run_id, batch)).fetchall()
                if int(stored) >= chunks:
                    cursor.execute(
                        "UPDATE vs_batches SET completed_at = ?, owner = NULL WHERE run_id = ? AND batch = ? AND completed_at IS NULL",
                        (now(), run_id, batch),
                    )

        self.database.write(release)

    # Evaluations ----------------------------------------------------------

    def add_chunk(
        self, run_id: str, scenario: str, batch: Batch, first: int, scores: np.ndarray, records: np.ndarray, counts: np.ndarray, *, owner: str | None
    ) -> int:
        """Store the batch's points first..first+len(scores) on one scenario (unless that
        chunk is stored already). Refused once the run is completed. Returns how many
        evaluations were new."""
        row = _block_row(
            run_id, scenario, f"{batch.index}:{first}", batch.index, first, batch.points[first : first + len(scores)], scores, records, counts
        )

        def insert(cursor: Cursor) -> int:
            self._writable(cursor, run_id)
            if owner is not None:
                cursor.execute("UPDATE vs_batches SET heartbeat = ? WHERE run_id = ? AND batch = ?", (time.time(), run_id, batch.index))
            return cursor.executemany(INSERT_BLOCK, [row]) * len(scores)

        return int(self.database.write(insert))

    def add_single(self, run_id: str, scenario: str, point: tuple[int, ...], score: float, records: np.ndarray) -> bool:
        """Store one evaluation outside any sample (once per point and scenario)."""
        slot = "p:" + ",".join(map(str, point))
        row = _block_row(run_id, scenario, slot, None, None, np.array([point]), np.array([score]), records, np.array([len(records)]))

        def insert(cursor: Cursor) -> bool:
            self._writable(cursor, run_id)
            return cursor.executemany(INSERT_BLOCK, [row]) > 0

        return bool(self.database.write(insert))

    def _blocks(self, run_id: str, scenario: str | None, columns: str) -> list[tuple[Any, ...]]:
        sql = f"SELECT {columns} FROM vs_blocks WHERE run_id = ?"
        params: list[Any] = [run_id]
        if scenario is not None:
            sql += " AND scenario = ?"
            params.append(scenario)
        return self.database.read(sql + " ORDER BY id", params)

    def _records(self, run_id: str, wanted: Sequence[tuple[int, int]]) -> list[EvaluationRecord]:
        """Records for (block id, position) pairs, in that order."""
        ids = sorted({block for block, _ in wanted})
        blocks: dict[int, tuple[Any, ...]] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            rows = self.database.read(
                f"SELECT id, scenario, created_at, count, points, scores, offsets, penalties FROM vs_blocks WHERE id IN ({', '.join('?' * len(part))})",
                part,
            )
            blocks.update({int(row[0]): row for row in rows})
        records = []
        for block, position in wanted:
            _, scenario, created, count, points, scores, offsets, penalties = blocks[block]
            points = np.frombuffer(bytes(points), dtype=">u2").reshape(int(count), -1)
            bounds = np.frombuffer(bytes(offsets), dtype="<u4")
            records.append(
                EvaluationRecord(
                    run_id,
                    tuple(int(v) for v in points[position]),
                    scenario,
                    float(np.frombuffer(bytes(scores), dtype="<f8")[position]),
                    np.frombuffer(bytes(penalties), dtype=PENALTY_DTYPE)[bounds[position] : bounds[position + 1]],
                    created,
                )
            )
        return records

    def evaluations(
        self, run_id: str, scenario: str | None = None, limit: int | None = None, order_by: str = "time", offset: int = 0
    ) -> list[EvaluationRecord]:
        """Evaluations, oldest first (`time`) or best first (`score`, the oldest among equals)."""
        rows = self._blocks(run_id, scenario, "id, scores")
        if not rows:
            return []
        scores = [np.frombuffer(bytes(blob), dtype="<f8") for _, blob in rows]
        sizes = [len(part) for part in scores]
        blocks = np.repeat([int(row[0]) for row in rows], sizes)
        positions = np.concatenate([np.arange(size) for size in sizes])
        order = np.argsort(-np.concatenate(scores), kind="stable") if order_by == "score" else np.arange(len(blocks))
        chosen = order[offset : offset + limit if limit is not None else None]
        return self._records(run_id, list(zip(blocks[chosen].tolist(), positions[chosen].tolist(), strict=False)))

    def best_per_scenario(self, run_id: str) -> dict[str, EvaluationRecord]:
        """The highest-scoring evaluation of each scenario (the oldest among equals)."""
        rows = self.database.read(
            "SELECT id, scenario, scores FROM ("
            " SELECT id, scenario, scores, ROW_NUMBER() OVER (PARTITION BY scenario ORDER BY best DESC, id ASC) AS place"
            " FROM vs_blocks WHERE run_id = ?) ranked WHERE place = 1 ORDER BY scenario",
            (run_id,),
        )
        wanted = [(int(block), int(np.argmax(np.frombuffer(bytes(scores), dtype="<f8")))) for block, _, scores in rows]
        return {record.scenario: record for record in self._records(run_id, wanted)}

    def counts(self, run_id: str, dimensions: int) -> tuple[int, int]:
        """(evaluations, distinct points) of a run."""
        rows = self._blocks(run_id, None, "count, points")
        if not rows:
            return 0, 0
        points = decode_points([bytes(blob) for _, blob in rows], dimensions)
        return sum(int(count) for count, _ in rows), len(unique_points(points)[0])

    def columns(self, run_id: str, dimensions: int) -> Columns:
        """Every evaluation of a run as numpy columns, oldest first, and the per-type
        penalty totals (`scoring.penalty_stats`) summed over the blocks."""
        rows = self._blocks(run_id, None, "scenario, count, stats, scores, points")
        if not rows:
            return Columns(np.zeros((0, dimensions), dtype=np.int64), np.array([], dtype=str), np.zeros(0), np.zeros((len(PENALTY_TYPES), 3)))
        scenario_names, counts, stats, scores, points = zip(*rows, strict=False)
        return Columns(
            decode_points([bytes(blob) for blob in points], dimensions),
            np.repeat(np.array(scenario_names), [int(c) for c in counts]),
            np.frombuffer(b"".join(bytes(blob) for blob in scores), dtype="<f8"),
            np.sum([np.frombuffer(bytes(blob), dtype="<f8").reshape(len(PENALTY_TYPES), 3) for blob in stats], axis=0),
        )

    # Format upgrades ------------------------------------------------------

    def _upgrade(self, cursor: Cursor, found: int) -> bool:
        """Convert schema 1 tables (before versions were recorded: one row per evaluation,
        penalties as JSON) to schema 2, keeping every run and evaluation. True when it
        made the tables."""
        if found or not self.database.table_exists(cursor, "vs_runs"):
            return False
        runs = cursor.execute(
            "SELECT id, name, created_at, completed_at, status, seed, space, scenarios FROM vs_runs ORDER BY created_at, id"
        ).fetchall()
        old = cursor.execute("SELECT run_id, point_key, scenario, score, penalties FROM vs_evaluations ORDER BY id").fetchall()
        cursor.execute("DROP TABLE vs_evaluations")
        cursor.execute("DROP TABLE vs_runs")
        for statement in SCHEMA:
            cursor.execute(statement.format(**self.database.types))
        for run_id, name, created, completed, status, seed, space, scenarios in runs:
            cursor.execute(
                "INSERT INTO vs_runs (id, workspace, name, created_at, completed_at, status, seed, space, scenarios, samples, sampler) "
                "VALUES (?, '', ?, ?, ?, ?, ?, ?, ?, 0, NULL)",
                (run_id, name, created, completed, status, int(seed), space, scenarios),
            )
        groups: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for row in old:
            groups.setdefault((row[0], row[2]), []).append(row)
        blocks = []
        for (run_id, scenario), rows in groups.items():
            penalties = [encode_penalties(json.loads(row[4])) for row in rows]
            blocks.append(
                _block_row(
                    run_id,
                    scenario,
                    "schema-1",
                    None,
                    None,
                    np.array([[int(v) for v in row[1].split(",")] for row in rows]),
                    np.array([float(row[3]) for row in rows]),
                    np.concatenate(penalties),
                    np.array([len(p) for p in penalties]),
                )
            )
        cursor.executemany(INSERT_BLOCK, blocks)
        return True

    def close(self) -> None:
        self.database.close()


def open_store(where: str | Path | None = None) -> Store:
    """A store at a SQLite path (default `.voicetest/voicesim.db`) or a postgresql:// URL."""
    return Store(open_database(DEFAULT_PATH if where is None else where))
