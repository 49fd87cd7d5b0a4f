"""200 queued runs on Postgres across two workers, one SIGKILLed mid-way: every run finishes, exactly once."""

from __future__ import annotations

from collections import Counter

import pytest
from dbos import DBOSClient
from durable_harness import App, kill, wait_for

RUNS = 200
CONCURRENCY = 8


def statuses(client: DBOSClient) -> Counter[str]:
    return Counter(s.status for s in client.list_workflows(name='podium.run', load_input=False))


@pytest.mark.timeout(600)  # the first Postgres test may install and start the server
def test_two_workers_one_killed_all_runs_finish_exactly_once(postgres_app: App) -> None:
    app = postgres_app
    app.env.update(APP_CONCURRENCY=str(CONCURRENCY), APP_DELAY='0.02')
    enqueued = app.run('enqueue', str(RUNS))
    assert enqueued.returncode == 0, enqueued.stderr
    victim = app.spawn('worker', 'w1')
    app.spawn('worker', 'w2')
    wait_for(lambda: len(app.calls()) >= RUNS, what='about half of the steps to run')

    kill(victim)
    started = {run for run, _ in app.calls()}
    app.spawn('worker', 'w1')  # the same worker id: it resumes the runs it had in flight
    client = DBOSClient(system_database_url=app.db)
    try:
        try:
            wait_for(lambda: statuses(client)['SUCCESS'] == RUNS, timeout=120, what=f'{RUNS} runs to succeed')
        except AssertionError:
            left = [
                (s.workflow_id, s.status, s.executor_id, repr(s.error))
                for s in client.list_workflows(name='podium.run', load_input=False)
                if s.status != 'SUCCESS'
            ]
            logs = [proc.stderr.read()[-3000:] if proc.stderr and proc.poll() is not None else '' for proc in app.procs]
            raise AssertionError(f'runs left: {left}; worker logs: {logs}') from None
        assert statuses(client) == {'SUCCESS': RUNS}
        outputs = [client.get_event(f'q{i:03d}', 'podium.summary', timeout_seconds=1) for i in range(RUNS)]
    finally:
        client.destroy()

    assert all(o is not None and o['output']['n'] == 4 for o in outputs)
    assert len({o['output']['text'] for o in outputs if o is not None}) == RUNS
    calls = app.calls()
    assert {step for (_, step) in calls} == {'s1', 's2', 's3', 's4'}
    assert len(calls) == RUNS * 4, 'every step of every run ran'
    repeated = [run for (run, _), n in calls.items() if n > 1]
    assert all(n <= 2 for n in calls.values()), 'a step ran again at most once, after the kill'
    assert len(repeated) == len(set(repeated)), 'a resumed run repeated only the step in flight at the kill'
    assert len(repeated) <= CONCURRENCY, 'only the runs in flight on the killed worker repeated a step'
    assert set(repeated) <= started
    workers = Counter(line.split()[2] for line in app.log.read_text().splitlines())
    assert workers['w1'] > 0
    assert workers['w2'] > 0
