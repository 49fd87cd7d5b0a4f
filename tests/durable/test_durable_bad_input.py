"""Each way to point podium at the wrong thing ends in one clear error, never a hang or a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dbos import DBOS
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel

import podium
from podium import ConfigurationError
from podium.durable import RunNotFound, StoreUnavailable, approval, approve, durable, list_runs, show_run

pytestmark = pytest.mark.anyio

UNREACHABLE = 'postgresql://podium@127.0.0.1:1/podium'


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, '-m', 'podium.cli', *args], capture_output=True, text=True, timeout=60)


async def test_an_unreachable_database_is_a_clear_error() -> None:
    desk = durable(podium.agent(Agent(TestModel(), name='unreachable')), db=UNREACHABLE)
    with pytest.raises(StoreUnavailable, match=r'cannot reach the run store at postgresql://podium@127\.0\.0\.1:1/'):
        await desk.run('hello')
    with pytest.raises(StoreUnavailable, match='Connection refused'):
        list_runs(UNREACHABLE)
    done = cli('runs', '--db', UNREACHABLE)
    assert done.returncode == 2
    assert 'error: cannot reach the run store' in done.stderr


@pytest.mark.parametrize('content', [b'not a database at all', b'SQLite format 3\x00' + b'\xff' * 4000])
def test_a_corrupt_sqlite_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / 'runs.sqlite'
    path.write_bytes(content)
    with pytest.raises(StoreUnavailable, match=r'is unreadable .*: it is corrupt or not a run store'):
        list_runs(f'sqlite:///{path}')
    done = cli('runs', 'show', 'x', '--db', f'sqlite:///{path}')
    assert done.returncode == 2
    assert 'is unreadable' in done.stderr


def test_a_missing_store_and_an_unknown_run_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match='no run store at'):
        show_run('nope', f'sqlite:///{tmp_path / "none.sqlite"}')
    store = f'sqlite:///{tmp_path / "runs.sqlite"}'
    DBOS.migrate(store)
    with pytest.raises(RunNotFound, match="no durable run 'nope'"):
        show_run('nope', store)
    with pytest.raises(RunNotFound, match="no durable run 'nope'"):
        approve('nope', db=store)
    done = cli('approve', 'nope', '--db', store)
    assert done.returncode == 2
    assert "error: no durable run 'nope'" in done.stderr


async def test_an_approval_outside_a_durable_run_pauses_the_run() -> None:
    wait = approval(name='outside', input_type=str)
    result = await wait.run('refund 10')
    assert result.status == 'paused'
    assert result.paused is not None
    assert result.paused.step == 'outside'


def test_an_approval_inside_a_parallel_step_is_refused_when_made_durable(tmp_path: Path) -> None:
    check = podium.step(lambda text: text, name='check')
    both = podium.parallel(check, approval(name='sign_off', input_type=str), name='both')
    with pytest.raises(ConfigurationError, match="approval step 'sign_off' sits inside 'both'"):
        durable(both, db=f'sqlite:///{tmp_path / "runs.sqlite"}')
