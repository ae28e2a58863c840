"""One small SQL layer over SQLite (the default, a file) and PostgreSQL (a URL).

Foundation layer: imports only the standard library and `errors`; psycopg is imported
when a PostgreSQL URL is opened. Every component (the VoiceSim store, the HTTP
server's own tables) writes through the same code:

- `open_database(where)`: a path opens SQLite in WAL mode with a busy timeout; a
  `postgresql://` URL opens PostgreSQL. Bad locations (an empty path, a folder, a file
  that is not SQLite, a FIFO, an unwritable place, a server that does not answer) are
  `InputError`s naming the location (never its password) and the fix.
- `Database.write(action)`: `action(cursor)` in one short transaction (SQLite
  `BEGIN IMMEDIATE`, retried while another process holds the lock; PostgreSQL retried on
  serialization failures and deadlocks), optionally serialised on a named lock.
- SQL is written once with `?` placeholders and translated per dialect (cached, so each
  statement is prepared once by the driver's statement cache).
- `Database.ensure_schema(component, version, statements)` creates a component's tables
  once and refuses a store written with another schema version.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import InputError

T = TypeVar("T")

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_HEADER = b"SQLite format 3\x00"
LOCK_TIMEOUT_S = 60.0
BUSY_TIMEOUT_MS = 5000
SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "sslpassword", "token", "secret", "api_key", "apikey", "key"})
STORE_FIX = "give a file path such as .voicetest/voicesim.db, or a postgresql://user@host/db URL"
# SQLite result codes that mean the location, not the SQL, is at fault.
SQLITE_LOCATION_ERRORS = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_PERM")


def is_postgres_url(where: str | Path) -> bool:
    return str(where).startswith(POSTGRES_SCHEMES)


def display_url(where: str | Path) -> str:
    """`where` as it may be shown: a URL's password and secret query values become ***."""
    text = str(where)
    if "://" not in text:
        return text
    parts = urlsplit(text)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k.lower() in SECRET_QUERY_KEYS else v) for k, v in pairs], safe="*")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def translate(sql: str, dialect: str) -> str:
    """SQL written with `?` placeholders in the given dialect's style.

    For PostgreSQL (psycopg's `%s`), every literal `%` is doubled and each `?` outside
    quoted strings and identifiers becomes `%s`.
    """
    if dialect == "sqlite":
        return sql
    out: list[str] = []
    quote = ""
    for char in sql:
        if char == "%":
            out.append("%%")
        elif quote:
            out.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


class Cursor:
    """A driver cursor that takes `?` SQL in both dialects."""

    def __init__(self, raw: Any, database: Database) -> None:
        self.raw = raw
        self._database = database

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        self.raw.execute(self._database.sql(sql), tuple(params))
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run `sql` once per row; returns the number of rows changed."""
        self.raw.executemany(self._database.sql(sql), rows)
        return max(int(self.raw.rowcount), 0)

    def fetchone(self) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.raw.fetchone()
        return row

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.raw.fetchall()
        return rows

    @property
    def rowcount(self) -> int:
        return int(self.raw.rowcount)


class Database:
    """A connection to one SQLite file or PostgreSQL database, safe to share between threads."""

    dialect = ""
    types: dict[str, str] = {}

    def __init__(self, connection: Any, where: str) -> None:
        self.connection = connection
        self.where = where
        self._lock = threading.RLock()
        self._sql: dict[str, str] = {}

    def sql(self, text: str) -> str:
        """`text` in this dialect (cached)."""
        translated = self._sql.get(text)
        if translated is None:
            translated = self._sql[text] = translate(text, self.dialect)
        return translated

    def write(self, action: Callable[[Cursor], T], *, lock: str | None = None) -> T:
        """Run `action(cursor)` in one transaction and commit; `lock` serialises writers
        that share its name (SQLite serialises every writer anyway)."""
        raise NotImplementedError

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of one query, outside any write transaction."""
        raise NotImplementedError

    def table_exists(self, cursor: Cursor, name: str) -> bool:
        raise NotImplementedError

    def ensure_schema(self, component: str, version: int, statements: Sequence[str], *, upgrade: Callable[[Cursor, int], bool] | None = None) -> None:
        """Create `component`'s tables (statements may use {serial}, {blob}, {float},
        {bigint}) unless this store already has them at `version`.

        `upgrade(cursor, found)` may convert an older layout in the same transaction
        (`found` is 0 when no version was recorded) and returns True when it made the
        current tables itself. A newer version, or an older one without `upgrade`, is
        refused with the fix.
        """

        def create(cursor: Cursor) -> None:
            cursor.execute("CREATE TABLE IF NOT EXISTS voicetest_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
            row = cursor.execute("SELECT version FROM voicetest_schema WHERE component = ?", (component,)).fetchone()
            found = int(row[0]) if row else None
            if found == version:
                return
            if found is not None and (found > version or upgrade is None):
                raise InputError(
                    f"the store {self.where} holds {component} data of schema {found}; this pytest-voicetest uses schema {version}",
                    field="store",
                    fix="use another store, or the pytest-voicetest version that wrote this one",
                )
            if not (upgrade is not None and upgrade(cursor, found or 0)):
                for statement in statements:
                    cursor.execute(statement.format(**self.types))
            if found is None:
                cursor.execute("INSERT INTO voicetest_schema (component, version) VALUES (?, ?)", (component, version))
            else:
                cursor.execute("UPDATE voicetest_schema SET version = ? WHERE component = ?", (version, component))

        self.write(create, lock="voicetest-schema")

    def close(self) -> None:
        with self._lock:
            self.connection.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SQLiteDatabase(Database):
    """SQLite in WAL mode: readers never block, writers take turns (`BEGIN IMMEDIATE`)."""

    dialect = "sqlite"
    types = {"serial": "INTEGER PRIMARY KEY", "blob": "BLOB", "float": "REAL", "bigint": "INTEGER"}

    def __init__(self, path: Path, *, lock_timeout_s: float = LOCK_TIMEOUT_S) -> None:
        self.lock_timeout_s = lock_timeout_s
        busy_ms = int(min(BUSY_TIMEOUT_MS, lock_timeout_s * 1000))
        _check_sqlite_path(path)
        try:
            connection = sqlite3.connect(str(path), timeout=busy_ms / 1000, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise _location_error(str(path), exc) from None
        super().__init__(connection, str(path))
        try:
            connection.execute(f"PRAGMA busy_timeout={busy_ms}")
            self._retry_locked(lambda: connection.execute("PRAGMA journal_mode=WAL"))  # does not wait on a busy file by itself
            connection.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            connection.close()
            raise _location_error(str(path), exc) from None

    def _retry_locked(self, action: Callable[[], T]) -> T:
        deadline = time.monotonic() + self.lock_timeout_s
        attempt = 0
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc):
                    raise
                if time.monotonic() > deadline:
                    raise InputError(
                        f"the store {self.where} stayed locked for {self.lock_timeout_s:.0f} s",
                        field="store",
                        fix="check for a stuck process holding the database",
                    ) from None
                attempt += 1
                time.sleep(min(0.2, 0.005 * attempt))

    def write(self, action: Callable[[Cursor], T], *, lock: str | None = None) -> T:
        connection = self.connection

        def attempt() -> T:
            raw = connection.cursor()
            try:
                raw.execute("BEGIN IMMEDIATE")
                result = action(Cursor(raw, self))
                raw.execute("COMMIT")
                return result
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            finally:
                raw.close()

        with self._lock:
            try:
                return self._retry_locked(attempt)
            except sqlite3.Error as exc:
                if _is_location_error(exc):
                    raise _location_error(self.where, exc) from None
                raise

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._retry_locked(lambda: self.connection.execute(sql, tuple(params)).fetchall())
            except sqlite3.Error as exc:
                if _is_location_error(exc):
                    raise _location_error(self.where, exc) from None
                raise

    def table_exists(self, cursor: Cursor, name: str) -> bool:
        return cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


class PostgresDatabase(Database):
    """PostgreSQL through psycopg 3: autocommit reads, one transaction per write."""

    dialect = "postgresql"
    types = {"serial": "BIGSERIAL PRIMARY KEY", "blob": "BYTEA", "float": "DOUBLE PRECISION", "bigint": "BIGINT"}
    RETRIES = 20

    def __init__(self, url: str, *, connect_timeout_s: int = 10) -> None:
        try:
            import psycopg
        except ImportError:
            raise InputError("PostgreSQL stores need psycopg", field="store", fix="pip install 'pytest-voicetest[postgres]'") from None
        self._psycopg = psycopg
        where = display_url(url)
        try:
            connection = psycopg.connect(url, connect_timeout=connect_timeout_s, autocommit=True)
        except (psycopg.Error, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                f"cannot connect to the PostgreSQL store {where}: {first.replace(url, where)}",
                field="store",
                fix="check the URL and that the server runs and accepts this user",
            ) from None
        super().__init__(connection, where)

    def write(self, action: Callable[[Cursor], T], *, lock: str | None = None) -> T:
        errors = self._psycopg.errors
        retry = (errors.SerializationFailure, errors.DeadlockDetected, errors.LockNotAvailable)
        with self._lock:
            for attempt in range(self.RETRIES):
                try:
                    with self.connection.transaction(), self.connection.cursor() as raw:
                        cursor = Cursor(raw, self)
                        if lock is not None:
                            cursor.execute("SELECT pg_advisory_xact_lock(?)", (_lock_key(lock),))
                        return action(cursor)
                except retry:
                    time.sleep(min(0.5, 0.01 * (attempt + 1)))
                except self._psycopg.OperationalError as exc:
                    raise self._lost(exc) from None
            raise InputError(f"the store {self.where} kept failing with conflicts", field="store", fix="retry; check for long-running transactions")

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                with self.connection.cursor() as cursor:
                    cursor.execute(self.sql(sql), tuple(params))
                    rows: list[tuple[Any, ...]] = cursor.fetchall()
                    return rows
            except self._psycopg.OperationalError as exc:
                raise self._lost(exc) from None

    def _lost(self, exc: Exception) -> InputError:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return InputError(f"the PostgreSQL store {self.where} failed: {first}", field="store", fix="check that the server runs, then retry")

    def table_exists(self, cursor: Cursor, name: str) -> bool:
        return cursor.execute("SELECT to_regclass(?)", (name,)).fetchone()[0] is not None  # type: ignore[index]


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for a lock name."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def _is_location_error(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    return name.startswith(SQLITE_LOCATION_ERRORS) or any(
        phrase in text
        for phrase in ("readonly database", "unable to open", "not a database", "disk image is malformed", "disk is full", "disk I/O error")
    )


def _location_error(where: str, exc: sqlite3.Error) -> InputError:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return InputError(
            f"the store {where} is not a usable SQLite database ({text})",
            field="store",
            fix=f"point the store at a new file or an existing VoiceSim store; {STORE_FIX}",
        )
    if "readonly" in text or "unable to open" in text:
        return InputError(f"cannot write the store {where} ({text})", field="store", fix="use a location this user can create and write files in")
    return InputError(f"the store {where} failed: {text}", field="store", fix="check the disk and the file, or use another store")


def _check_sqlite_path(path: Path) -> None:
    """Refuse locations SQLite would trip over, each with a clear reason."""
    text = str(path)
    if not text.strip() or text == ".":
        raise InputError("the store path is empty", field="store", fix=STORE_FIX)
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):  # not there yet (creating its folder says why it cannot be)
        info = None
    except OSError as exc:
        raise InputError(f"cannot use the store {text} ({exc.strerror or exc})", field="store", fix=STORE_FIX) from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"the store {text} is a folder", field="store", fix=f"name a file inside it, e.g. {path / 'voicesim.db'}")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"the store {text} is not a regular file (a device, FIFO or socket)", field="store", fix=STORE_FIX)
        if info.st_size:
            try:
                with path.open("rb") as handle:
                    header = handle.read(len(SQLITE_HEADER))
            except OSError as exc:
                raise InputError(f"cannot read the store {text} ({exc.strerror or exc})", field="store", fix="check its permissions") from None
            if header != SQLITE_HEADER:
                raise InputError(
                    f"the store {text} is not a SQLite database",
                    field="store",
                    fix="point the store at a new file (it is created) or at an existing VoiceSim store",
                )
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the folder of the store {text} ({exc.strerror or exc})", field="store", fix="use a location this user can create files in"
        ) from None
    if not os.access(path.parent, os.W_OK):
        raise InputError(
            f"cannot write the store {text}: its folder is not writable", field="store", fix="use a location this user can create files in"
        )


def open_database(where: str | Path, *, lock_timeout_s: float = LOCK_TIMEOUT_S) -> Database:
    """A database at a SQLite path or a postgresql:// URL; a SQLite writer waits at most
    `lock_timeout_s` for another process's write to finish."""
    if isinstance(where, str) and is_postgres_url(where):
        return PostgresDatabase(where)
    if not isinstance(where, (str, Path)):
        raise InputError(f"a store is a file path or a postgresql:// URL, not {type(where).__name__}", field="store", fix=STORE_FIX)
    return SQLiteDatabase(Path(where), lock_timeout_s=lock_timeout_s)
