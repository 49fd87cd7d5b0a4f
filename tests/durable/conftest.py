"""Real processes on real databases: SQLite files in tmp, and Postgres from scripts/postgres.sh."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from durable_harness import App, stop


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[App]:
    app = App(db=f'sqlite:///{tmp_path / "runs.sqlite"}', log=tmp_path / 'requests.log')
    yield app
    stop(app)


@pytest.fixture
def postgres_app(postgres_server: str, tmp_path: Path) -> Iterator[App]:
    """An app on a database of its own (DBOS creates it), so tests never see each other's runs."""
    base = postgres_server.rsplit('/', 1)[0]
    app = App(db=f'{base}/podium_test_{uuid.uuid4().hex[:10]}', log=tmp_path / 'requests.log')
    yield app
    stop(app)
