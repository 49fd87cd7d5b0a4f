"""`LimitStore`: where a breaker, a retry budget or a rate limit keeps its state, so worker processes can share it.

A store holds one small JSON record per key and changes it with `update(key, change)`: the store reads the record,
calls `change` with it, writes back what `change` returns, all in one transaction, so two workers never both spend
the last retry or the last request of a window. The limiter's logic lives in `change` (plain Python), written once
for every store; a store only has to make read-modify-write atomic.

- `InProcessLimitStore`: a dict, for one process (the default of `RateLimit`).
- `SQLiteLimitStore(path)`: processes on one machine; `BEGIN IMMEDIATE` takes the database's write lock first.
- `PostgresLimitStore(dsn)`: workers on many machines; the record's row is locked (`FOR UPDATE` via an upsert) for
  the transaction, so workers changing other keys never wait.

Calls are synchronous: a breaker's `acquire` never awaits, and one transaction on a local SQLite file or a nearby
Postgres takes well under a millisecond, less than handing it to a thread would cost.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    import psycopg

__all__ = ('InProcessLimitStore', 'LimitStore', 'PostgresLimitStore', 'SQLiteLimitStore')

T = TypeVar('T')

_TABLE = 'podium_limits'
_SQLITE_BUSY_TIMEOUT = 10.0  # seconds a transaction waits for another worker's lock before failing
_PG_SETUP_LOCK = 0x706F6469  # advisory lock id that serialises creating the table ('podi')


class LimitStore(Protocol):
    """Atomic read-modify-write of small JSON records, one per key."""

    def update(self, key: str, change: Callable[[str | None], tuple[str, T]]) -> T:
        """Store what `change` makes of the record under `key` (`None` if none) and return its result, atomically.

        `change` returns the new record and the result; it runs inside the transaction, so it must not await.
        """
        ...

    def read(self, key: str) -> str | None:
        """The record under `key`, or `None`."""
        ...


class InProcessLimitStore:
    """Records in a dict: state shared by every limiter of this process that is given the same store.

    `change` never awaits, so within one event loop nothing interleaves and no lock is needed.
    """

    def __init__(self) -> None:
        self._records: dict[str, str] = {}

    def update(self, key: str, change: Callable[[str | None], tuple[str, T]]) -> T:
        record, result = change(self._records.get(key))
        self._records[key] = record
        return result

    def read(self, key: str) -> str | None:
        return self._records.get(key)

    def __repr__(self) -> str:
        return f'InProcessLimitStore({len(self._records)} keys)'


class SQLiteLimitStore:
    """Records in a SQLite file, shared by the processes of one machine.

    The connection opens on first use, so a store can be built before a worker process starts (or pickled to it).
    The file is in write-ahead-log mode, so reads (`read`) do not wait for a writer.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def update(self, key: str, change: Callable[[str | None], tuple[str, T]]) -> T:
        with self._lock:
            db = self._connect()
            db.execute('BEGIN IMMEDIATE')
            try:
                row = db.execute(f'SELECT state FROM {_TABLE} WHERE key = ?', (key,)).fetchone()
                record, result = change(None if row is None else str(row[0]))
                db.execute(
                    f'INSERT INTO {_TABLE} (key, state) VALUES (?, ?) '
                    'ON CONFLICT (key) DO UPDATE SET state = excluded.state',
                    (key, record),
                )
            except BaseException:
                db.execute('ROLLBACK')
                raise
            db.execute('COMMIT')
            return result

    def read(self, key: str) -> str | None:
        with self._lock:
            row = self._connect().execute(f'SELECT state FROM {_TABLE} WHERE key = ?', (key,)).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        """Close the connection; the next call opens a new one."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            # isolation_level=None: transactions are the explicit BEGIN IMMEDIATE above, nothing implicit.
            db = sqlite3.connect(self.path, timeout=_SQLITE_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
            db.execute('PRAGMA journal_mode = WAL')
            db.execute('PRAGMA synchronous = NORMAL')
            db.execute(f'CREATE TABLE IF NOT EXISTS {_TABLE} (key TEXT PRIMARY KEY, state TEXT NOT NULL)')
            self._connection = db
        return self._connection

    def __reduce__(self) -> tuple[type[SQLiteLimitStore], tuple[Path]]:
        return SQLiteLimitStore, (self.path,)  # a worker process opens its own connection

    def __repr__(self) -> str:
        return f'SQLiteLimitStore({str(self.path)!r})'


class PostgresLimitStore:
    """Records in a Postgres table, shared by workers on any number of machines.

    One transaction per change: an upsert that locks the key's row and returns its record, the new record, commit.
    Workers changing different keys never wait for each other. The connection (psycopg, from the `durable` extra)
    opens on first use; the table is created then if missing.
    """

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._connection: psycopg.Connection[tuple[str]] | None = None
        self._lock = threading.Lock()

    def update(self, key: str, change: Callable[[str | None], tuple[str, T]]) -> T:
        with self._lock:
            db = self._connect()
            with db.transaction():
                # Setting the key to itself makes the upsert take the row lock and return the stored record.
                row = db.execute(
                    f"INSERT INTO {_TABLE} (key, state) VALUES (%s, '') "
                    'ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING state',
                    (key,),
                ).fetchone()
                stored = row[0] if row is not None and row[0] else None
                record, result = change(stored)
                db.execute(f'UPDATE {_TABLE} SET state = %s WHERE key = %s', (record, key))
            return result

    def read(self, key: str) -> str | None:
        with self._lock:
            db = self._connect()
            with db.transaction():
                row = db.execute(f'SELECT state FROM {_TABLE} WHERE key = %s', (key,)).fetchone()
        return row[0] if row is not None and row[0] else None

    def close(self) -> None:
        """Close the connection; the next call opens a new one."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _connect(self) -> psycopg.Connection[tuple[str]]:
        if self._connection is None or self._connection.closed:
            try:
                import psycopg
            except ImportError as exc:  # pragma: no cover - the durable extra is missing
                raise ImportError('PostgresLimitStore needs psycopg: pip install "podium[durable]"') from exc
            db: psycopg.Connection[tuple[str]] = psycopg.connect(self.dsn, autocommit=True)
            with db.transaction():
                db.execute('SELECT pg_advisory_xact_lock(%s)', (_PG_SETUP_LOCK,))
                db.execute(f'CREATE TABLE IF NOT EXISTS {_TABLE} (key TEXT PRIMARY KEY, state TEXT NOT NULL)')
            self._connection = db
        return self._connection

    def __reduce__(self) -> tuple[type[PostgresLimitStore], tuple[str]]:
        return PostgresLimitStore, (self.dsn,)  # a worker process opens its own connection

    def __repr__(self) -> str:
        return 'PostgresLimitStore(...)'  # the DSN may hold a password
