"""Where paused runs wait: a snapshot per run, in memory or in a SQLite file that outlives the process.

A snapshot is a pydantic model, so any store that keeps JSON can keep it. The step outputs inside it are pickled
(as a durable run's checkpoints are): the steps after the pause must get back exactly the values they would have got,
tuples of models and exceptions included. Load snapshots only from a store you trust, as you would a pickle.
"""

from __future__ import annotations

import pickle
import sqlite3
import threading
from abc import ABC, abstractmethod
from contextlib import closing
from pathlib import Path
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict

from ._errors import AlreadyResumed, RunNotFound, StoreUnavailable
from ._records import PausedRun

__all__ = (
    'TABLE',
    'InMemoryRunStore',
    'RunSnapshot',
    'RunStore',
    'SQLiteRunStore',
    'SnapshotStatus',
    'StoredStep',
    'is_run_store',
)

SnapshotStatus: TypeAlias = Literal['waiting', 'decided', 'resumed']
"""`waiting` for a decision; `decided` (by `podium runs approve|reject`) but not resumed yet; `resumed`."""


class StoredStep(BaseModel):
    """A finished step of a paused run: its pickled output, records and usage, and a plain summary of them."""

    model_config = ConfigDict(ser_json_bytes='base64', val_json_bytes='base64', frozen=True)

    value: bytes
    fingerprint: str | None = None
    """The JSON schemas of the output's models: a changed class is noticed before the replay hands it on."""
    records: list[dict[str, Any]] = []
    usage: dict[str, Any] = {}
    error: bytes | None = None
    failure: str | None = None


class RunSnapshot(BaseModel):
    """Everything a paused run needs to resume: its input, what its finished steps returned, and where it waits."""

    model_config = ConfigDict(ser_json_bytes='base64', val_json_bytes='base64')

    paused: PausedRun
    shape: str
    """A fingerprint of the workflow's steps, so a token is never resumed by another workflow of the same name."""
    status: SnapshotStatus = 'waiting'
    input: bytes
    """The run's input, pickled."""
    message_history: bytes | None = None
    """The conversation the run was a turn of (Pydantic-AI's JSON of its messages)."""
    steps: dict[str, StoredStep] = {}
    """Finished steps by position id."""
    tapes: dict[str, bytes] = {}
    """The model responses of each LLM router on the way to the pause (Pydantic-AI's JSON), by position id."""
    decision: bytes | None = None
    """A decision recorded before the resume (`podium runs approve|reject`), pickled."""

    @property
    def token(self) -> str:
        return self.paused.token

    def decided(self) -> object | None:
        """The decision recorded with the snapshot, if any."""
        return None if self.decision is None else pickle.loads(self.decision)


class RunStore(ABC):
    """Keeps paused runs until they are resumed. Subclass it to keep them elsewhere (every method is short)."""

    @abstractmethod
    def save(self, snapshot: RunSnapshot) -> None:
        """Store a new paused run, or replace it."""

    @abstractmethod
    def load(self, token: str) -> RunSnapshot:
        """The snapshot of `token`; raises `RunNotFound` when the store has none."""

    @abstractmethod
    def claim(self, token: str) -> RunSnapshot:
        """Mark `token` resumed and return its snapshot, once: `AlreadyResumed` when it was claimed before."""

    @abstractmethod
    def waiting(self) -> list[PausedRun]:
        """The runs waiting for a decision or a resume, oldest first."""

    def decide(self, token: str, decision: object) -> None:
        """Record a decision for `token`, which its resume uses when given none."""
        snapshot = self.load(token)
        if snapshot.status == 'resumed':
            raise _resumed(token)
        snapshot.decision = pickle.dumps(decision)
        snapshot.status = 'decided'
        self.save(snapshot)


class InMemoryRunStore(RunStore):
    """Paused runs in this process's memory: the default, for runs resumed by the process that paused them.

    Snapshots are kept as JSON, as a SQLite store would keep them, so a run that pauses here pauses there too.
    """

    def __init__(self) -> None:
        self._runs: dict[str, str] = {}
        self._lock = threading.Lock()

    def save(self, snapshot: RunSnapshot) -> None:
        with self._lock:
            self._runs[snapshot.token] = snapshot.model_dump_json()

    def load(self, token: str) -> RunSnapshot:
        stored = self._runs.get(token)
        if stored is None:
            raise _not_found(token, 'this process')
        return RunSnapshot.model_validate_json(stored)

    def claim(self, token: str) -> RunSnapshot:
        with self._lock:
            snapshot = self.load(token)
            if snapshot.status == 'resumed':
                raise _resumed(token)
            snapshot.status = 'resumed'
            self._runs[token] = snapshot.model_dump_json()
        return snapshot

    def waiting(self) -> list[PausedRun]:
        snapshots = [RunSnapshot.model_validate_json(s) for s in list(self._runs.values())]
        return sorted((s.paused for s in snapshots if s.status != 'resumed'), key=lambda p: p.since)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS podium_paused_runs (
    token TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    status TEXT NOT NULL,
    since REAL NOT NULL,
    snapshot TEXT NOT NULL
)
"""
TABLE = 'podium_paused_runs'
"""The table a `SQLiteRunStore` keeps its runs in (the CLI tells such a file from a DBOS run store by it)."""


class SQLiteRunStore(RunStore):
    """Paused runs in a SQLite file: a run paused in one process resumes in another, after a restart too."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(str(path).removeprefix('sqlite:///'))
        if not self.path.parent.is_dir():
            raise StoreUnavailable(f'cannot create the run store {self.path}: directory {self.path.parent} is missing')
        with closing(self._connect()) as conn, conn:
            conn.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(self.path, timeout=30)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f'cannot open the run store {self.path}: {exc}') from exc

    def save(self, snapshot: RunSnapshot) -> None:
        with closing(self._connect()) as conn, conn:
            conn.execute(
                f'INSERT OR REPLACE INTO {TABLE} (token, workflow, status, since, snapshot) VALUES (?, ?, ?, ?, ?)',
                (
                    snapshot.token,
                    snapshot.paused.workflow,
                    snapshot.status,
                    snapshot.paused.since,
                    snapshot.model_dump_json(),
                ),
            )

    def load(self, token: str) -> RunSnapshot:
        with closing(self._connect()) as conn:
            row = conn.execute(f'SELECT snapshot FROM {TABLE} WHERE token = ?', (token,)).fetchone()
        if row is None:
            raise _not_found(token, str(self.path))
        return RunSnapshot.model_validate_json(row[0])

    def claim(self, token: str) -> RunSnapshot:
        snapshot = self.load(token)
        snapshot.status = 'resumed'
        with closing(self._connect()) as conn, conn:
            # One UPDATE decides between two processes resuming the same token: only one sees a changed row.
            claimed = conn.execute(
                f"UPDATE {TABLE} SET status = 'resumed', snapshot = ? WHERE token = ? AND status != 'resumed'",
                (snapshot.model_dump_json(), token),
            ).rowcount
        if not claimed:
            raise _resumed(token)
        return snapshot

    def decide(self, token: str, decision: object) -> None:
        snapshot = self.load(token)
        snapshot.decision = pickle.dumps(decision)
        snapshot.status = 'decided'
        with closing(self._connect()) as conn, conn:
            decided = conn.execute(
                f"UPDATE {TABLE} SET status = 'decided', snapshot = ? WHERE token = ? AND status != 'resumed'",
                (snapshot.model_dump_json(), token),
            ).rowcount
        if not decided:
            raise _resumed(token)

    def waiting(self) -> list[PausedRun]:
        with closing(self._connect()) as conn:
            rows = conn.execute(f"SELECT snapshot FROM {TABLE} WHERE status != 'resumed' ORDER BY since").fetchall()
        return [RunSnapshot.model_validate_json(row[0]).paused for row in rows]

    def __repr__(self) -> str:
        return f'SQLiteRunStore({str(self.path)!r})'


def is_run_store(path: Path) -> bool:
    """Whether `path` is a SQLite file holding paused runs (not a DBOS store of durable runs)."""
    if not path.is_file():
        return False
    try:
        with closing(sqlite3.connect(f'file:{path}?mode=ro', uri=True)) as conn:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)).fetchone()
    except sqlite3.DatabaseError:
        return False
    return found is not None


def _not_found(token: str, where: str) -> RunNotFound:
    return RunNotFound(f'no paused run {token!r} in {where}: resume with the store the run paused in (store=...)')


def _resumed(token: str) -> AlreadyResumed:
    return AlreadyResumed(
        f'run {token!r} was resumed already; a paused run resumes once (its new pause has a new token)'
    )
