"""Runs, points and evaluations persisted in SQLite (default) or PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and every write is one short transaction
(`BEGIN IMMEDIATE`) retried while another process holds the lock, so several xdist
workers can write to one file at once. Inserts ignore rows that already exist, so a
resumed sweep never stores an evaluation twice. `open_store("postgresql://...")` gives
the same interface on PostgreSQL (needs `pip install pytest-voicetest[postgres]`).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InputError

DEFAULT_PATH = Path(".voicetest") / "voicesim.db"
LOCK_RETRIES = 200

SCHEMA = """
CREATE TABLE IF NOT EXISTS vs_runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    status TEXT NOT NULL,
    seed INTEGER NOT NULL,
    space TEXT NOT NULL,
    scenarios TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vs_evaluations (
    id {serial},
    run_id TEXT NOT NULL,
    point_key TEXT NOT NULL,
    scenario TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    penalties TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (run_id, point_key, scenario)
);
CREATE INDEX IF NOT EXISTS vs_evaluations_run ON vs_evaluations (run_id, scenario, score);
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def point_key(point: Sequence[int]) -> str:
    return ",".join(str(int(i)) for i in point)


def parse_point_key(key: str) -> tuple[int, ...]:
    return tuple(int(part) for part in key.split(","))


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

    def to_data(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "created_at": self.created_at, "completed_at": self.completed_at,
            "status": self.status, "seed": self.seed, "scenarios": self.scenarios,
        }


@dataclass(frozen=True)
class EvaluationRecord:
    run_id: str
    point: tuple[int, ...]
    scenario: str
    score: float
    penalties: list[dict[str, Any]]
    created_at: str

    def to_data(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "point": list(self.point), "scenario": self.scenario,
            "score": round(self.score, 6), "penalties": self.penalties, "created_at": self.created_at,
        }


class Store:
    """SQL storage shared by the SQLite and PostgreSQL backends."""

    placeholder = "?"
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def __init__(self, connection: Any, where: str) -> None:
        self.connection = connection
        self.where = where
        self._write(lambda cursor: [cursor.execute(s) for s in self._schema()])

    def _schema(self) -> list[str]:
        return [s.strip() for s in SCHEMA.format(serial=self.serial).split(";") if s.strip()]

    def _sql(self, text: str) -> str:
        return text.replace("?", self.placeholder)

    # Transactions ------------------------------------------------------

    def _begin(self, cursor: Any) -> None:
        cursor.execute("BEGIN IMMEDIATE")

    def _write(self, action: Any) -> Any:
        for attempt in range(LOCK_RETRIES):
            cursor = self.connection.cursor()
            try:
                self._begin(cursor)
                result = action(cursor)
                self.connection.commit()
                return result
            except sqlite3.OperationalError as exc:
                self.connection.rollback()
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                time.sleep(min(0.5, 0.01 * (attempt + 1)))
            except BaseException:
                self.connection.rollback()
                raise
            finally:
                cursor.close()
        raise InputError(f"the VoiceSim store {self.where} stayed locked", fix="check for a stuck process holding the database")

    def _read(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(self._sql(text), tuple(params))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        self._end_read()
        return rows

    def _end_read(self) -> None:
        """Close the implicit read transaction (PostgreSQL opens one)."""

    # Runs ---------------------------------------------------------------

    def create_run(self, name: str, space: dict[str, Any], scenarios: list[str], seed: int) -> RunRecord:
        record = RunRecord(uuid.uuid4().hex[:12], name, now(), None, "running", int(seed), space, list(scenarios))
        self._write(
            lambda c: c.execute(
                self._sql("INSERT INTO vs_runs (id, name, created_at, completed_at, status, seed, space, scenarios) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                (record.id, record.name, record.created_at, None, record.status, record.seed, json.dumps(space), json.dumps(record.scenarios)),
            )
        )
        return record

    def ensure_run(self, run_id: str, name: str, space: dict[str, Any], scenarios: list[str], seed: int) -> RunRecord:
        """The run with this id, created if it does not exist yet (safe when several processes race)."""
        self._write(
            lambda c: c.execute(
                self._sql(
                    "INSERT INTO vs_runs (id, name, created_at, completed_at, status, seed, space, scenarios) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
                ),
                (run_id, name, now(), None, "running", int(seed), json.dumps(space), json.dumps(list(scenarios))),
            )
        )
        return self.get_run(run_id)

    def _run(self, row: tuple[Any, ...]) -> RunRecord:
        return RunRecord(row[0], row[1], row[2], row[3], row[4], int(row[5]), json.loads(row[6]), json.loads(row[7]))

    def list_runs(self, limit: int) -> list[RunRecord]:
        rows = self._read("SELECT id, name, created_at, completed_at, status, seed, space, scenarios FROM vs_runs ORDER BY created_at DESC, id DESC LIMIT ?", (limit,))
        return [self._run(row) for row in rows]

    def get_run(self, run_id: str) -> RunRecord:
        rows = self._read("SELECT id, name, created_at, completed_at, status, seed, space, scenarios FROM vs_runs WHERE id = ?", (run_id,))
        if not rows:
            known = [r[0] for r in self._read("SELECT id FROM vs_runs ORDER BY created_at DESC LIMIT 5")]
            raise InputError(f"no VoiceSim run '{run_id}' in {self.where}", field="run_id", fix=f"recent runs: {', '.join(known) or 'none'}")
        return self._run(rows[0])

    def complete_run(self, run_id: str) -> RunRecord:
        self.get_run(run_id)
        self._write(lambda c: c.execute(self._sql("UPDATE vs_runs SET status = ?, completed_at = ? WHERE id = ?"), ("completed", now(), run_id)))
        return self.get_run(run_id)

    # Evaluations ----------------------------------------------------------

    def add_evaluations(self, run_id: str, rows: Iterable[tuple[Sequence[int], str, float, list[dict[str, Any]]]]) -> int:
        """Store evaluations; ones already stored are left as they are. Returns how many were new."""
        stamp = now()
        values = [(run_id, point_key(point), scenario, float(score), json.dumps(penalties), stamp) for point, scenario, score, penalties in rows]
        sql = self._sql(
            "INSERT INTO vs_evaluations (run_id, point_key, scenario, score, penalties, created_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, point_key, scenario) DO NOTHING"
        )

        def insert(cursor: Any) -> int:
            before = self._count(cursor, run_id)
            cursor.executemany(sql, values)
            return self._count(cursor, run_id) - before

        return int(self._write(insert)) if values else 0

    def _count(self, cursor: Any, run_id: str) -> int:
        cursor.execute(self._sql("SELECT COUNT(*) FROM vs_evaluations WHERE run_id = ?"), (run_id,))
        return int(cursor.fetchone()[0])

    def evaluated(self, run_id: str) -> set[tuple[str, str]]:
        return {(row[0], row[1]) for row in self._read("SELECT point_key, scenario FROM vs_evaluations WHERE run_id = ?", (run_id,))}

    def evaluations(self, run_id: str, scenario: str | None = None, limit: int | None = None, order_by: str = "time") -> list[EvaluationRecord]:
        order = "score DESC, id ASC" if order_by == "score" else "id ASC"
        sql = "SELECT point_key, scenario, score, penalties, created_at FROM vs_evaluations WHERE run_id = ?"
        params: list[Any] = [run_id]
        if scenario is not None:
            sql += " AND scenario = ?"
            params.append(scenario)
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [
            EvaluationRecord(run_id, parse_point_key(row[0]), row[1], float(row[2]), json.loads(row[3]), row[4])
            for row in self._read(sql, params)
        ]

    def close(self) -> None:
        self.connection.close()


class SQLiteStore(Store):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout=30000")
        for attempt in range(LOCK_RETRIES):  # switching to WAL does not wait on a busy file
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                time.sleep(min(0.5, 0.01 * (attempt + 1)))
        connection.execute("PRAGMA synchronous=NORMAL")
        super().__init__(_AutocommitSQLite(connection), str(path))


class _AutocommitSQLite:
    """sqlite3 in autocommit mode with explicit BEGIN/COMMIT (commit/rollback are SQL)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def cursor(self) -> sqlite3.Cursor:
        return self._connection.cursor()

    def commit(self) -> None:
        if self._connection.in_transaction:
            self._connection.execute("COMMIT")

    def rollback(self) -> None:
        if self._connection.in_transaction:
            self._connection.execute("ROLLBACK")

    def close(self) -> None:
        self._connection.close()


class PostgresStore(Store):
    placeholder = "%s"
    serial = "BIGSERIAL PRIMARY KEY"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise InputError("PostgreSQL stores need psycopg", fix="pip install 'pytest-voicetest[postgres]'") from None
        try:
            connection = psycopg.connect(url, connect_timeout=10)
        except psycopg.Error as exc:
            raise InputError(f"cannot connect to PostgreSQL: {str(exc).splitlines()[0]}", field="store", fix="check the URL and that the server runs") from None
        super().__init__(connection, _without_password(url))

    def _begin(self, cursor: Any) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(727001)")  # serialise writers like BEGIN IMMEDIATE

    def _end_read(self) -> None:
        self.connection.rollback()


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def open_store(where: str | Path | None = None) -> Store:
    """A store at a SQLite path (default `.voicetest/voicesim.db`) or a postgresql:// URL."""
    text = str(where) if where is not None else str(DEFAULT_PATH)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresStore(text)
    return SQLiteStore(Path(text))
