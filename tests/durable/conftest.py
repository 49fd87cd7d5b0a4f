"""Real processes on real databases: SQLite files in tmp, and Postgres from scripts/postgres.sh."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from durable_harness import ROOT, App, stop


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[App]:
    app = App(db=f'sqlite:///{tmp_path / "runs.sqlite"}', log=tmp_path / 'requests.log')
    yield app
    stop(app)


@pytest.fixture(scope='session')
def postgres_server() -> str:
    """A running Postgres (scripts/postgres.sh starts a throwaway one); never skipped when $CI is set."""
    url = os.environ.get('PODIUM_POSTGRES_URL')
    if not url:
        try:
            done = subprocess.run(
                ['bash', str(ROOT / 'scripts' / 'postgres.sh')], capture_output=True, text=True, timeout=600
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            done = subprocess.CompletedProcess([], 1, '', str(exc))
        if done.returncode != 0 or not done.stdout.strip():
            message = f'cannot start Postgres with scripts/postgres.sh: {done.stderr.strip()[-2000:]}'
            if os.environ.get('CI'):
                pytest.fail(message)
            pytest.skip(message)
        url = done.stdout.strip().splitlines()[-1]
    return url


@pytest.fixture
def postgres_app(postgres_server: str, tmp_path: Path) -> Iterator[App]:
    """An app on a database of its own (DBOS creates it), so tests never see each other's runs."""
    base = postgres_server.rsplit('/', 1)[0]
    app = App(db=f'{base}/podium_test_{uuid.uuid4().hex[:10]}', log=tmp_path / 'requests.log')
    yield app
    stop(app)
