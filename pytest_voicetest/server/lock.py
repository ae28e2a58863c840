"""One serving process per store, so a starting server may mark every unfinished run as
interrupted: no other process can be running it.

SQLite: an exclusive `flock` on `<store>.serve.lock` (released by the OS if the process
dies). PostgreSQL: a session advisory lock on the server's connection.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..database import Database
from ..errors import InputError

LOCK_NAME = "pytest-voicetest serve"


def _key() -> int:
    return int.from_bytes(hashlib.blake2b(LOCK_NAME.encode(), digest_size=8).digest(), "big", signed=True)


class ServeLock:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._fd: int | None = None

    def acquire(self) -> None:
        busy = InputError(
            f"another voicetest serve already uses the store {self.database.where}",
            field="store",
            fix="stop that server, or give this one its own --store",
        )
        if self.database.dialect != "sqlite":
            if not self.database.read("SELECT pg_try_advisory_lock(?)", (_key(),))[0][0]:
                raise busy
            return
        import fcntl

        fd = os.open(Path(self.database.where + ".serve.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise busy from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
        # a PostgreSQL session lock goes with the connection
