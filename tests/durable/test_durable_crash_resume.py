"""SIGKILL mid-chain, restart: finished steps are not called again and the output is the uncrashed one."""

from __future__ import annotations

import json

import pytest
from durable_harness import App, kill, wait_for


def crash_at(app: App, step: str, run_id: str) -> None:
    """Start a run that hangs in `step`, and SIGKILL its process while the step is in flight."""
    proc = app.spawn('run', 'chain', run_id, APP_HANG_AT=step)
    wait_for(app.hang_marker().exists, what=f'{step} in flight', proc=proc)
    kill(proc)
    app.hang_marker().unlink()


# 600 s: the first Postgres test may install and start the server (scripts/postgres.sh)
@pytest.mark.parametrize('backend', ['sqlite', pytest.param('postgres', marks=pytest.mark.timeout(600))])
def test_sigkill_during_step_2_resumes_without_recalling_step_1(backend: str, request: pytest.FixtureRequest) -> None:
    app: App = request.getfixturevalue(f'{backend}_app')
    crash_at(app, 's2', 'crashed')
    assert app.calls() == {('crashed', 's1'): 1, ('crashed', 's2'): 1}

    resumed = app.run('resume', 'chain', 'crashed')
    assert resumed.returncode == 0, resumed.stderr
    uncrashed = app.run('run', 'chain', 'clean')
    assert uncrashed.returncode == 0, uncrashed.stderr

    assert json.loads(resumed.stdout) == json.loads(uncrashed.stdout)
    calls = app.calls()
    assert {step: n for (run, step), n in calls.items() if run == 'crashed'} == {'s1': 1, 's2': 2, 's3': 1, 's4': 1}
    assert {step: n for (run, step), n in calls.items() if run == 'clean'} == {'s1': 1, 's2': 1, 's3': 1, 's4': 1}


def test_a_streamed_resume_says_which_steps_came_from_their_checkpoints(sqlite_app: App) -> None:
    crash_at(sqlite_app, 's3', 'crashed')

    resumed = sqlite_app.run('stream', 'chain', 'crashed')
    assert resumed.returncode == 0, resumed.stderr
    lines = resumed.stdout.splitlines()
    replayed = [line.split()[1].rsplit('/', 1)[-1] for line in lines if line.startswith('step_replayed ')]
    assert replayed == ['s1', 's2']
    started = [line.split()[1].rsplit('/', 1)[-1] for line in lines if line.startswith('step_started ')]
    assert started[-2:] == ['s3', 's4']
    assert lines[-2].startswith('run_finished')
    calls = sqlite_app.calls()
    assert {step: n for (run, step), n in calls.items() if run == 'crashed'} == {'s1': 1, 's2': 1, 's3': 2, 's4': 1}


def test_a_resumed_run_replays_loop_iterations_and_the_fallback_it_took(sqlite_app: App) -> None:
    proc = sqlite_app.spawn('run', 'retrying', 'fell', APP_HANG_AT='s4')
    wait_for(sqlite_app.hang_marker().exists, what='the fallback step in flight', proc=proc)
    kill(proc)

    resumed = sqlite_app.run('resume', 'retrying', 'fell')
    assert resumed.returncode == 0, resumed.stderr
    uncrashed = sqlite_app.run('run', 'retrying', 'clean')

    assert json.loads(resumed.stdout) == json.loads(uncrashed.stdout)
    calls = sqlite_app.calls()
    assert {step: n for (run, step), n in calls.items() if run == 'fell'} == {'s1': 3, 'bad': 3, 's4': 2}
    shown = sqlite_app.podium('runs', 'show', 'fell').stdout
    assert 'choice   retrying/grow -> "retrying/grow/s1#2"' in shown
    assert 'choice   retrying/fallback(bad, s4) -> "retrying/fallback(bad, s4)/s4"' in shown
    assert 'step     retrying/fallback(bad, s4)/bad  (ModelHTTPError: status_code: 503' in shown


def test_runs_lists_the_crashed_run_and_show_prints_its_records(sqlite_app: App) -> None:
    crash_at(sqlite_app, 's3', 'crashed')

    listed = sqlite_app.podium('runs')
    assert listed.returncode == 0, listed.stderr
    row = next(line.split() for line in listed.stdout.splitlines() if line.startswith('crashed'))
    assert row[:6] == ['crashed', 'chain', 'running', 'chain/s2', '2', row[5]]

    shown = sqlite_app.podium('runs', 'show', 'crashed')
    assert shown.returncode == 0, shown.stderr
    assert 'usage so far: 2 requests' in shown.stdout
    assert '  1 step     chain/s1' in shown.stdout
    assert '  2 step     chain/s2' in shown.stdout
    assert 's2 [agent]: ok {"text": "s2:' in shown.stdout


@pytest.mark.parametrize(
    ('variant', 'crash', 'why'),
    [
        ('renamed', 's3', "step 'chain/s2_renamed' now runs where the run recorded 'chain/s2'"),
        ('retyped', 's3', "step 'chain/s1' finished before the restart, but its output type Draft changed shape"),
        ('shortened', 's4', "it finished without reaching step 'chain/s3', which the run had already completed"),
    ],
    ids=['renamed', 'retyped', 'shortened'],
)
def test_resuming_after_a_breaking_change_names_the_step(sqlite_app: App, variant: str, crash: str, why: str) -> None:
    crash_at(sqlite_app, crash, 'old')

    resumed = sqlite_app.run('resume', 'chain', 'old', APP_VARIANT=variant)

    assert resumed.returncode != 0
    assert f'ReplayMismatch: the workflow changed since run old was recorded: {why}' in resumed.stderr
    assert sqlite_app.calls()[('old', 's1')] == 1
    shown = sqlite_app.podium('runs', 'show', 'old')
    assert 'state failed' in shown.stdout
    assert why in shown.stdout
