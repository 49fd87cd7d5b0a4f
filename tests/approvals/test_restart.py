"""A run paused in one process resumes in another from a `SQLiteRunStore`; `podium runs approve|reject` decide it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import podium
from podium.cli import main

HERE = Path(__file__).parent
SRC = Path(podium.__file__).parents[1]


def desk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `_desk.py` in a process of its own, logging its model calls to tmp_path/calls.log."""
    env = {
        **os.environ,
        'PYTHONPATH': os.pathsep.join([str(SRC), str(HERE)]),
        'APPROVAL_LOG': str(tmp_path / 'calls.log'),
    }
    done = subprocess.run(
        [sys.executable, str(HERE / '_desk.py'), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def calls(tmp_path: Path) -> list[str]:
    return (tmp_path / 'calls.log').read_text().split()


def pause(tmp_path: Path) -> tuple[str, str]:
    store = str(tmp_path / 'paused.sqlite')
    token = desk(tmp_path, 'pause', store, 'please refund 80 dollars').stdout.strip()
    assert calls(tmp_path) == ['router', 'drafter']
    return store, token


@pytest.mark.parametrize(
    ('decision', 'output'),
    [('approve', 'paid 80'), ('reject', 'declined: over the limit'), ('edit:30', 'paid 30 (edited)')],
)
def test_a_run_paused_in_one_process_resumes_in_another(tmp_path: Path, decision: str, output: str) -> None:
    store, token = pause(tmp_path)

    resumed = json.loads(desk(tmp_path, 'resume', store, token, decision).stdout)

    assert resumed['output'] == output
    assert resumed['calls'] == {}  # the resuming process called no model
    assert calls(tmp_path) == ['router', 'drafter']
    assert resumed['steps'][:4] == ['desk', 'refunds', 'draft', 'refund_ok']


def test_podium_runs_approve_records_the_decision_the_resume_uses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, token = pause(tmp_path)

    assert main(['runs', '--db', store]) == 0
    assert f'{token}  desk  waiting at {"refund_ok"!r}: refund of 80' in capsys.readouterr().out
    assert main(['runs', 'approve', token, '--db', f'sqlite:///{store}', '--by', 'ana']) == 0
    assert f'approved {token}' in capsys.readouterr().out
    resumed = json.loads(desk(tmp_path, 'resume', store, token, 'recorded').stdout)

    assert resumed['output'] == 'paid 80'
    assert resumed['calls'] == {}
    assert main(['runs', 'approve', token, '--db', store]) == 2
    assert 'was resumed already' in capsys.readouterr().err


def test_podium_runs_reject_needs_a_reason_and_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, token = pause(tmp_path)

    assert main(['runs', 'reject', token, '--db', store]) == 2
    assert '--reason' in capsys.readouterr().err
    assert main(['runs', 'reject', token, '--db', store, '--reason', 'not eligible']) == 0
    resumed = json.loads(desk(tmp_path, 'resume', store, token, 'recorded').stdout)

    assert resumed['output'] == 'declined: not eligible'
    assert calls(tmp_path) == ['router', 'drafter']
