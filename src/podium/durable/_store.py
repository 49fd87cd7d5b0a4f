"""The run store: a database URL, checked before DBOS touches it, and the DBOS process it backs."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dbos._dbos as dbos_core
import psycopg
import sqlalchemy as sa
from dbos import DBOS, DBOSClient, DBOSConfig

from .._core._errors import ConfigurationError, StoreUnavailable
from ._logging import install_log_redaction

__all__ = ('APP_VERSION', 'DB_ENV', 'DEFAULT_DB', 'Store')

DEFAULT_DB = 'sqlite:///podium_runs.sqlite'
"""Where runs go when no database is named: a SQLite file in the working directory, zero setup."""
DB_ENV = 'PODIUM_DB'
"""The environment variable that names the run store when `db=` / `--db` does not."""
APP_VERSION = 'podium-durable-1'
"""The DBOS application version of every podium run.

DBOS only recovers runs of its own version and by default derives the version from workflow source. podium's
workflow function never changes, so it pins the version and checks replay step by step instead: a changed workflow
is then a clear `ReplayMismatch` on resume, never a run that silently stays pending.
"""

_SQLITE_MAGIC = b'SQLite format 3\x00'


@dataclass(frozen=True, slots=True)
class Store:
    """A run store: a SQLite file or a Postgres database, by URL."""

    url: str

    @classmethod
    def resolve(cls, db: str | None) -> Store:
        """The store `db` names; `$PODIUM_DB` or `sqlite:///podium_runs.sqlite` when `db` is `None`.

        A bare path is taken as a SQLite file.
        """
        url = db or os.environ.get(DB_ENV) or DEFAULT_DB
        if '://' not in url:
            url = f'sqlite:///{url}'
        if url.startswith('postgres://'):
            url = 'postgresql://' + url.removeprefix('postgres://')
        if not url.startswith(('sqlite:///', 'postgresql://', 'postgresql+psycopg://')):
            raise ConfigurationError(
                f'db={_hide(url)!r} is neither sqlite:///path/to/file.sqlite nor postgresql://user@host/database'
            )
        return cls(url)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or `None` for Postgres."""
        return Path(self.url.removeprefix('sqlite:///')) if self.url.startswith('sqlite:///') else None

    @property
    def display(self) -> str:
        """The URL with any password hidden, for messages."""
        return _hide(self.url)

    def check(self, *, create: bool) -> None:
        """Raise `StoreUnavailable` with the reason when the store cannot be used.

        DBOS would otherwise retry an unreachable database forever, or fail deep inside on a corrupt file.

        Args:
            create: Whether a missing store may be created (running workflows) or must exist (inspecting runs).
        """
        path = self.sqlite_path
        if path is not None:
            _check_sqlite(path, create=create)
        else:
            self._check_postgres(create=create)

    def dbos_config(self, *, worker_id: str | None = None) -> DBOSConfig:
        """The DBOS configuration of a process running this store's workflows."""
        config: DBOSConfig = {
            'name': 'podium',
            'system_database_url': self.url,
            'application_version': APP_VERSION,
            'log_level': os.environ.get('PODIUM_DBOS_LOG_LEVEL', 'WARNING'),
            'notification_listener_polling_interval_sec': 0.1,
        }
        if worker_id is not None:
            config['executor_id'] = worker_id
        return config

    def client(self, create: bool = False) -> DBOSClient:
        """A DBOS client for inspecting and steering runs from any process, without running workflows.

        Args:
            create: Create the store when it does not exist yet (to queue runs before any worker started).
        """
        self.check(create=create)
        try:
            if create:
                DBOS.migrate(self.url)
            return DBOSClient(system_database_url=self.url, retry_connection_errors=False)
        except Exception as exc:
            raise StoreUnavailable(f'cannot open the run store at {self.display}: {_first_line(exc)}') from exc

    def launch(self, *, worker_id: str | None = None, queues: Sequence[str] = ()) -> None:
        """Start DBOS on this store in this process (recovering its pending runs); a no-op when already started.

        DBOS runs one store per process, so a second store in the same process is a `ConfigurationError`.

        Args:
            worker_id: The DBOS executor id; a process restarted with the same id resumes that id's runs.
            queues: The queues this process takes runs from; none unless it is a worker.
        """
        install_log_redaction()
        running: DBOS | None = dbos_core._dbos_global_instance  # pyright: ignore[reportPrivateUsage]
        if running is None or not running._launched:  # pyright: ignore[reportPrivateUsage]
            self.check(create=True)
            path = self.sqlite_path
            if path is not None:
                _use_wal(path)
        instance = DBOS(config=self.dbos_config(worker_id=worker_id))
        launched_url = instance._config.get('system_database_url')  # pyright: ignore[reportPrivateUsage]
        if launched_url != self.url:
            raise ConfigurationError(
                f'this process already runs durable workflows on {_hide(str(launched_url))}; DBOS keeps one run '
                f'store per process, so {self.display} needs a process of its own'
            )
        if not instance._launched:  # pyright: ignore[reportPrivateUsage]
            DBOS.listen_queues(queues)
            DBOS.launch()

    def _check_postgres(self, *, create: bool) -> None:
        url = sa.make_url(self.url)
        conninfo = url.set(drivername='postgresql').render_as_string(hide_password=False)
        try:
            psycopg.connect(conninfo, connect_timeout=5).close()
        except psycopg.OperationalError as exc:
            missing = 'does not exist' in str(exc)
            if not (missing and create):
                reason = 'no such database' if missing else _first_line(exc)
                raise StoreUnavailable(
                    f'cannot reach the run store at {self.display}: {reason}. Check the URL and that Postgres runs '
                    '(scripts/postgres.sh starts a local one).'
                ) from exc


def _check_sqlite(path: Path, *, create: bool) -> None:
    if not path.exists():
        if not create:
            raise StoreUnavailable(f'no run store at {path}: no durable run has used it yet (or pass another --db)')
        if not path.parent.is_dir():
            raise StoreUnavailable(f'cannot create the run store {path}: directory {path.parent} does not exist')
        return
    with path.open('rb') as file:
        header = file.read(len(_SQLITE_MAGIC))
    if header and header != _SQLITE_MAGIC:
        raise _corrupt(path, 'it is not a SQLite database')
    try:
        with sqlite3.connect(f'file:{path}?mode=ro', uri=True) as conn:
            (status,) = conn.execute('PRAGMA quick_check').fetchone()
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        conn.close()
    except sqlite3.DatabaseError as exc:
        raise _corrupt(path, str(exc)) from exc
    if status != 'ok':
        raise _corrupt(path, f'integrity check says {status!r}')
    if not create and 'workflow_status' not in tables:
        raise StoreUnavailable(f'{path} is a SQLite database but holds no podium runs')


def _use_wal(path: Path) -> None:
    """Put the SQLite file in write-ahead-log mode (a setting the file keeps).

    With the default rollback journal every checkpoint costs several fsyncs, about 20 ms a step here; in WAL mode
    one, about 3 ms, with the same guarantee: a committed checkpoint survives a crash of the process or the machine.
    """
    with sqlite3.connect(path) as conn:
        conn.execute('PRAGMA journal_mode=WAL')
    conn.close()


def _corrupt(path: Path, why: str) -> StoreUnavailable:
    return StoreUnavailable(
        f'the run store {path} is unreadable ({why}): it is corrupt or not a run store. Move it away to start '
        'afresh, or pass another db='
    )


def _hide(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: nothing to hide that the caller did not type
        return url


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
