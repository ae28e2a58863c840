"""The server's own tables, in the same database as the VoiceSim store (`database`).

Tables (component `server`, schema 1): hashed API keys, agents (their graph as native
IR JSON), test case records, runs (test runs and seed-002 simulations) with one result
row per planned test, and per-workspace settings. Every read and write names the
workspace, so one workspace never sees another's rows: they are simply not found.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..database import Cursor, Database

SCHEMA_VERSION = 1
SCHEMA = (
    "CREATE TABLE srv_keys (hash TEXT PRIMARY KEY, workspace TEXT NOT NULL, prefix TEXT NOT NULL, created_at TEXT NOT NULL)",
    """CREATE TABLE srv_agents (
        seq {serial},
        id TEXT NOT NULL UNIQUE,
        workspace TEXT NOT NULL,
        name TEXT NOT NULL,
        source_type TEXT NOT NULL,
        graph TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX srv_agents_listing ON srv_agents (workspace, seq)",
    """CREATE TABLE srv_tests (
        seq {serial},
        id TEXT NOT NULL UNIQUE,
        workspace TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX srv_tests_listing ON srv_tests (workspace, agent_id, seq)",
    """CREATE TABLE srv_runs (
        seq {serial},
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        workspace TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        request TEXT NOT NULL,
        summary TEXT,
        test_count INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        completed_at TEXT
    )""",
    "CREATE INDEX srv_runs_listing ON srv_runs (workspace, agent_id, seq)",
    """CREATE TABLE srv_results (
        run_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        id TEXT NOT NULL,
        test_case_id TEXT,
        test_name TEXT NOT NULL,
        status TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, position)
    )""",
    "CREATE TABLE srv_settings (workspace TEXT PRIMARY KEY, data TEXT NOT NULL)",
)
AGENT_COLUMNS = "seq, id, workspace, name, source_type, graph, created_at, updated_at"
TEST_COLUMNS = "seq, id, workspace, agent_id, data, created_at, updated_at"
RUN_COLUMNS = "seq, id, kind, workspace, agent_id, name, status, request, summary, test_count, started_at, completed_at"
PENDING = "running"  # a result not reported yet (the harness's word for it)
ACTIVE = ("running", "cancelling")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class AgentRow:
    number: int
    id: str
    workspace: str
    name: str
    source_type: str
    graph: dict[str, Any]
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class TestRow:
    __test__ = False

    number: int
    id: str
    workspace: str
    agent_id: str
    case: dict[str, Any]
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class RunRow:
    number: int
    id: str
    kind: str
    workspace: str
    agent_id: str
    name: str
    status: str
    request: dict[str, Any]
    summary: dict[str, Any] | None
    test_count: int
    started_at: str
    completed_at: str | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@dataclass(frozen=True)
class ResultRow:
    position: int
    id: str
    test_case_id: str | None
    test_name: str
    status: str
    data: dict[str, Any]


@dataclass(frozen=True)
class NewResult:
    """A result row to create with a run: pending, or already decided (`data` given)."""

    test_case_id: str | None
    test_name: str
    data: dict[str, Any] | None = None


def _agent(row: Sequence[Any]) -> AgentRow:
    return AgentRow(int(row[0]), row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7])


def _test(row: Sequence[Any]) -> TestRow:
    return TestRow(int(row[0]), row[1], row[2], row[3], json.loads(row[4]), row[5], row[6])


def _run(row: Sequence[Any]) -> RunRow:
    summary = json.loads(row[8]) if row[8] else None
    return RunRow(int(row[0]), row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7]), summary, int(row[9]), row[10], row[11])


class ServerStore:
    """Agents, tests, runs, keys and settings of every workspace, in one database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        database.ensure_schema("server", SCHEMA_VERSION, SCHEMA)

    # Keys ----------------------------------------------------------------

    def add_key(self, digest: str, workspace: str, prefix: str) -> None:
        self.database.write(
            lambda c: c.execute("INSERT INTO srv_keys (hash, workspace, prefix, created_at) VALUES (?, ?, ?, ?)", (digest, workspace, prefix, now()))
        )

    def key_workspace(self, digest: str) -> str | None:
        rows = self.database.read("SELECT workspace FROM srv_keys WHERE hash = ?", (digest,))
        return str(rows[0][0]) if rows else None

    def key_count(self) -> int:
        return int(self.database.read("SELECT COUNT(*) FROM srv_keys")[0][0])

    # Agents ----------------------------------------------------------------

    def create_agent(self, workspace: str, name: str, graph: dict[str, Any]) -> AgentRow:
        agent_id, stamp = new_id(), now()
        source_type = str(graph.get("source_type") or "native")

        def insert(cursor: Cursor) -> int:
            cursor.execute(
                "INSERT INTO srv_agents (id, workspace, name, source_type, graph, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                (agent_id, workspace, name, source_type, json.dumps(graph), stamp, stamp),
            )
            return int(cursor.fetchone()[0])  # type: ignore[index]

        number = self.database.write(insert)
        return AgentRow(number, agent_id, workspace, name, source_type, graph, stamp, stamp)

    def get_agent(self, workspace: str, agent_id: str) -> AgentRow | None:
        rows = self.database.read(f"SELECT {AGENT_COLUMNS} FROM srv_agents WHERE workspace = ? AND id = ?", (workspace, agent_id))
        return _agent(rows[0]) if rows else None

    def agent_by_number(self, workspace: str, number: int) -> AgentRow | None:
        rows = self.database.read(f"SELECT {AGENT_COLUMNS} FROM srv_agents WHERE workspace = ? AND seq = ?", (workspace, number))
        return _agent(rows[0]) if rows else None

    def list_agents(self, workspace: str) -> list[AgentRow]:
        return [_agent(r) for r in self.database.read(f"SELECT {AGENT_COLUMNS} FROM srv_agents WHERE workspace = ? ORDER BY seq DESC", (workspace,))]

    def update_agent(self, workspace: str, agent_id: str, *, name: str | None = None, graph: dict[str, Any] | None = None) -> AgentRow | None:
        def update(cursor: Cursor) -> None:
            if name is not None:
                cursor.execute("UPDATE srv_agents SET name = ? WHERE workspace = ? AND id = ?", (name, workspace, agent_id))
            if graph is not None:
                cursor.execute(
                    "UPDATE srv_agents SET graph = ?, source_type = ? WHERE workspace = ? AND id = ?",
                    (json.dumps(graph), str(graph.get("source_type") or "native"), workspace, agent_id),
                )
            cursor.execute("UPDATE srv_agents SET updated_at = ? WHERE workspace = ? AND id = ?", (now(), workspace, agent_id))

        self.database.write(update)
        return self.get_agent(workspace, agent_id)

    def delete_agent(self, workspace: str, agent_id: str) -> None:
        """The agent with its tests, runs and results."""

        def delete(cursor: Cursor) -> None:
            cursor.execute(
                "DELETE FROM srv_results WHERE run_id IN (SELECT id FROM srv_runs WHERE workspace = ? AND agent_id = ?)",
                (workspace, agent_id),
            )
            cursor.execute("DELETE FROM srv_runs WHERE workspace = ? AND agent_id = ?", (workspace, agent_id))
            cursor.execute("DELETE FROM srv_tests WHERE workspace = ? AND agent_id = ?", (workspace, agent_id))
            cursor.execute("DELETE FROM srv_agents WHERE workspace = ? AND id = ?", (workspace, agent_id))

        self.database.write(delete)

    # Tests -----------------------------------------------------------------

    def create_test(self, workspace: str, agent_id: str, case: dict[str, Any]) -> TestRow:
        test_id, stamp = new_id(), now()

        def insert(cursor: Cursor) -> int:
            cursor.execute(
                "INSERT INTO srv_tests (id, workspace, agent_id, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
                (test_id, workspace, agent_id, json.dumps(case), stamp, stamp),
            )
            return int(cursor.fetchone()[0])  # type: ignore[index]

        return TestRow(self.database.write(insert), test_id, workspace, agent_id, case, stamp, stamp)

    def get_test(self, workspace: str, test_id: str) -> TestRow | None:
        rows = self.database.read(f"SELECT {TEST_COLUMNS} FROM srv_tests WHERE workspace = ? AND id = ?", (workspace, test_id))
        return _test(rows[0]) if rows else None

    def list_tests(self, workspace: str, agent_id: str) -> list[TestRow]:
        rows = self.database.read(f"SELECT {TEST_COLUMNS} FROM srv_tests WHERE workspace = ? AND agent_id = ? ORDER BY seq", (workspace, agent_id))
        return [_test(r) for r in rows]

    def update_test(self, workspace: str, test_id: str, case: dict[str, Any]) -> TestRow | None:
        self.database.write(
            lambda c: c.execute(
                "UPDATE srv_tests SET data = ?, updated_at = ? WHERE workspace = ? AND id = ?", (json.dumps(case), now(), workspace, test_id)
            )
        )
        return self.get_test(workspace, test_id)

    def delete_test(self, workspace: str, test_id: str) -> None:
        self.database.write(lambda c: c.execute("DELETE FROM srv_tests WHERE workspace = ? AND id = ?", (workspace, test_id)))

    # Runs ------------------------------------------------------------------

    def create_run(self, workspace: str, kind: str, agent_id: str, name: str, request: dict[str, Any], results: Sequence[NewResult]) -> RunRow:
        """A run with one result row per planned test, pending unless decided already."""
        run_id, stamp = new_id(), now()

        def insert(cursor: Cursor) -> int:
            cursor.execute(
                "INSERT INTO srv_runs (id, kind, workspace, agent_id, name, status, request, test_count, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                (run_id, kind, workspace, agent_id, name, "running", json.dumps(request), len(results), stamp),
            )
            number = int(cursor.fetchone()[0])  # type: ignore[index]
            cursor.executemany(
                "INSERT INTO srv_results (run_id, position, id, test_case_id, test_name, status, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, position, new_id(), r.test_case_id, r.test_name, (r.data or {}).get("status", PENDING), json.dumps(r.data or {}))
                    for position, r in enumerate(results)
                ],
            )
            return number

        number = self.database.write(insert)
        return RunRow(number, run_id, kind, workspace, agent_id, name, "running", request, None, len(results), stamp, None)

    def get_run(self, workspace: str, run_id: str, kind: str) -> RunRow | None:
        rows = self.database.read(f"SELECT {RUN_COLUMNS} FROM srv_runs WHERE workspace = ? AND id = ? AND kind = ?", (workspace, run_id, kind))
        return _run(rows[0]) if rows else None

    def run_by_number(self, workspace: str, number: int, kind: str) -> RunRow | None:
        rows = self.database.read(f"SELECT {RUN_COLUMNS} FROM srv_runs WHERE workspace = ? AND seq = ? AND kind = ?", (workspace, number, kind))
        return _run(rows[0]) if rows else None

    def list_runs(self, workspace: str, agent_id: str, kind: str, limit: int) -> list[RunRow]:
        rows = self.database.read(
            f"SELECT {RUN_COLUMNS} FROM srv_runs WHERE workspace = ? AND agent_id = ? AND kind = ? ORDER BY seq DESC LIMIT ?",
            (workspace, agent_id, kind, limit),
        )
        return [_run(r) for r in rows]

    def active_runs(self, workspace: str, agent_id: str) -> int:
        marks = ", ".join("?" for _ in ACTIVE)
        rows = self.database.read(
            f"SELECT COUNT(*) FROM srv_runs WHERE workspace = ? AND agent_id = ? AND status IN ({marks})", (workspace, agent_id, *ACTIVE)
        )
        return int(rows[0][0])

    def results(self, run_id: str) -> list[ResultRow]:
        rows = self.database.read(
            "SELECT position, id, test_case_id, test_name, status, data FROM srv_results WHERE run_id = ? ORDER BY position", (run_id,)
        )
        return [ResultRow(int(r[0]), r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def result_counts(self, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per run, how many results have each status."""
        if not run_ids:
            return {}
        marks = ", ".join("?" for _ in run_ids)
        counts: dict[str, dict[str, int]] = {run_id: {} for run_id in run_ids}
        for run_id, status, count in self.database.read(
            f"SELECT run_id, status, COUNT(*) FROM srv_results WHERE run_id IN ({marks}) GROUP BY run_id, status", tuple(run_ids)
        ):
            counts[run_id][status] = int(count)
        return counts

    def save_result(self, run_id: str, position: int, data: dict[str, Any]) -> None:
        self.database.write(
            lambda c: c.execute(
                "UPDATE srv_results SET status = ?, test_name = ?, data = ? WHERE run_id = ? AND position = ?",
                (data["status"], data["test_name"], json.dumps(data), run_id, position),
            )
        )

    def set_status(self, run_id: str, status: str, *, only_if: Sequence[str] = ACTIVE) -> bool:
        """Change an unfinished run's status (e.g. to cancelling); False when it had finished."""
        marks = ", ".join("?" for _ in only_if)
        changed = self.database.write(
            lambda c: c.execute(f"UPDATE srv_runs SET status = ? WHERE id = ? AND status IN ({marks})", (status, run_id, *only_if)).rowcount
        )
        return bool(changed)

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any] | None = None) -> None:
        self.database.write(
            lambda c: c.execute(
                "UPDATE srv_runs SET status = ?, summary = ?, completed_at = ? WHERE id = ?",
                (status, json.dumps(summary) if summary is not None else None, now(), run_id),
            )
        )

    def delete_run(self, workspace: str, run_id: str) -> None:
        def delete(cursor: Cursor) -> None:
            cursor.execute("DELETE FROM srv_results WHERE run_id IN (SELECT id FROM srv_runs WHERE workspace = ? AND id = ?)", (workspace, run_id))
            cursor.execute("DELETE FROM srv_runs WHERE workspace = ? AND id = ?", (workspace, run_id))

        self.database.write(delete)

    def unfinished_runs(self) -> list[RunRow]:
        marks = ", ".join("?" for _ in ACTIVE)
        return [_run(r) for r in self.database.read(f"SELECT {RUN_COLUMNS} FROM srv_runs WHERE status IN ({marks}) ORDER BY seq", ACTIVE)]

    def settle(self, run_id: str, status: str, pending: dict[int, dict[str, Any]], summary: dict[str, Any] | None) -> None:
        """Finish a run that stopped early: its pending results get `pending` data, finished ones stay."""

        def update(cursor: Cursor) -> None:
            cursor.executemany(
                "UPDATE srv_results SET status = ?, data = ? WHERE run_id = ? AND position = ?",
                [(data["status"], json.dumps(data), run_id, position) for position, data in pending.items()],
            )
            cursor.execute(
                "UPDATE srv_runs SET status = ?, summary = ?, completed_at = ? WHERE id = ?",
                (status, json.dumps(summary) if summary is not None else None, now(), run_id),
            )

        self.database.write(update)

    # Settings ----------------------------------------------------------------

    def get_settings(self, workspace: str) -> dict[str, Any]:
        rows = self.database.read("SELECT data FROM srv_settings WHERE workspace = ?", (workspace,))
        data: dict[str, Any] = json.loads(rows[0][0]) if rows else {}
        return data

    def put_settings(self, workspace: str, data: dict[str, Any]) -> None:
        self.database.write(
            lambda c: c.execute(
                "INSERT INTO srv_settings (workspace, data) VALUES (?, ?) ON CONFLICT (workspace) DO UPDATE SET data = excluded.data",
                (workspace, json.dumps(data)),
            )
        )
