"""A run paused at an approval survives a SIGKILL; approving or rejecting resumes it down a typed path."""

from __future__ import annotations

import json

import pytest
from durable_harness import App, is_waiting, kill, wait_for

from podium.durable import NotWaiting, approve, show_run


def test_approval_survives_a_restart_and_approve_resumes(sqlite_app: App) -> None:
    app = sqlite_app
    first = app.spawn('run', 'refund', 'r1')
    wait_for(lambda: is_waiting('r1', app.db), what='the run to wait for approval', proc=first)
    kill(first)
    paused = show_run('r1', app.db)
    assert paused.state == 'waiting'
    assert paused.step == 'refund_ok'
    assert paused.waiting is not None
    assert (paused.waiting['step'], paused.waiting['timeout_s']) == ('refund/refund_ok', 600.0)

    approve('r1', db=app.db, reviewer='ana')
    resumed = app.run('resume', 'refund', 'r1')

    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout).startswith('paid s1:')
    assert json.loads(resumed.stdout).endswith('(ana)')
    assert app.calls() == {('r1', 's1'): 1}
    assert show_run('r1', app.db).state == 'ok'


def test_reject_from_the_command_line_resumes_the_waiting_process(sqlite_app: App) -> None:
    app = sqlite_app
    running = app.spawn('run', 'refund', 'r2')
    wait_for(lambda: is_waiting('r2', app.db), what='the run to wait for approval', proc=running)

    rejected = app.podium('reject', 'r2', '--reason', 'over the limit')
    stdout, stderr = running.communicate(timeout=60)

    assert rejected.returncode == 0, rejected.stderr
    assert running.returncode == 0, stderr
    assert json.loads(stdout) == 'declined: over the limit'
    with pytest.raises(NotWaiting, match='r2 is not waiting for a decision'):
        approve('r2', db=app.db)
    again = app.podium('approve', 'r2')
    assert again.returncode == 2
    assert 'is not waiting for a decision (it is ok)' in again.stderr


def test_a_wait_that_times_out_takes_the_timeout_path(sqlite_app: App) -> None:
    done = sqlite_app.run('run', 'refund', 'r3', APP_TIMEOUT='1')

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == 'escalated: no decision within 1 s'
