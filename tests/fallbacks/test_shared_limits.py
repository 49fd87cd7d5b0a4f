"""Rate limits, breakers and retry budgets: kept per process, and shared by worker processes through a store."""

from __future__ import annotations

import multiprocessing
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fallback_faults import FaultyModel
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelAPIError
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage
from shared_limits_workers import call_until_open, send_for, withdraw

import podium
from podium.fallbacks import (
    CircuitBreaker,
    LimitStore,
    PostgresLimitStore,
    RateLimit,
    RateLimitExhausted,
    RetryBudget,
    RetryingModel,
    SQLiteLimitStore,
    VirtualClock,
    collect_attempts,
)

pytestmark = pytest.mark.needs_extras  # reaches an optional extra (evals, durable, psycopg, bench peers) at run time

ROOT = Path(__file__).parents[2]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


async def ask(model: RetryingModel | FallbackModel) -> str:
    return (await Agent(model).run('hi')).output


# One process, time injected.


@pytest.mark.anyio
async def test_a_request_over_the_limit_waits_for_the_window_to_move(clock: VirtualClock):
    limit = RateLimit(requests_per_minute=2, clock=clock)
    model = FaultyModel(default='ok')
    for _ in range(3):
        assert await ask(RetryingModel(model, deadline=120, rate_limit=limit, clock=clock)) == 'ok'
    assert model.calls == 3
    [wait] = clock.sleeps
    assert 60 < wait <= 61.01  # until the 1-second slice of the first two requests leaves the last minute


@pytest.mark.anyio
async def test_no_capacity_before_the_deadline_fails_fast_and_fallback_model_moves_on(clock: VirtualClock):
    limit = RateLimit(requests_per_minute=1, clock=clock)
    primary, backup = FaultyModel(default='primary', name='primary'), FaultyModel(default='backup', name='backup')
    model = FallbackModel(RetryingModel(primary, deadline=5, rate_limit=limit, clock=clock), backup)
    assert [await ask(model), await ask(model)] == ['primary', 'backup']
    assert (primary.calls, clock.sleeps, limit.denied) == (1, [], 1)
    with collect_attempts() as attempts, pytest.raises(RateLimitExhausted, match='no capacity for 6'):
        await ask(RetryingModel(primary, deadline=5, rate_limit=limit, clock=clock))
    assert [(a.number, a.error) for a in attempts] == [(1, 'RateLimitExhausted')]  # not retried
    assert issubclass(RateLimitExhausted, ModelAPIError)
    assert issubclass(RateLimitExhausted, podium.PodiumError)


@pytest.mark.anyio
async def test_tokens_are_counted_from_the_responses_and_the_key_spans_models(clock: VirtualClock):
    def costly(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart('ok')], usage=RequestUsage(input_tokens=700, output_tokens=300))

    limit = RateLimit(tokens_per_minute=1500, key='provider', clock=clock)
    first = RetryingModel(FunctionModel(costly, model_name='a'), deadline=120, rate_limit=limit, clock=clock)
    second = RetryingModel(FunctionModel(costly, model_name='b'), deadline=120, rate_limit=limit, clock=clock)
    await ask(first)
    await ask(second)  # 1,000 tokens so far: under the limit, so it is let through
    assert clock.sleeps == []
    await ask(first)  # 2,000 tokens in the last minute, across both models: waits for the window
    assert len(clock.sleeps) == 1
    assert clock.sleeps[0] > 59


@pytest.mark.anyio
async def test_two_connections_to_one_sqlite_file_share_one_window(tmp_path: Path, clock: VirtualClock):
    path = tmp_path / 'limits.db'
    limits = [RateLimit(requests_per_minute=3, store=SQLiteLimitStore(path), clock=clock) for _ in '12']

    async def take(limit: RateLimit) -> bool:
        try:
            await limit.acquire('model', within=0)
        except RateLimitExhausted:
            return False
        return True

    granted = [await take(limit) for limit in (*limits, *limits)]
    assert granted == [True, True, True, False]


@pytest.mark.anyio
async def test_a_shared_breaker_is_seen_open_after_refresh_and_shares_its_trials(tmp_path: Path, clock: VirtualClock):
    first, second = (
        CircuitBreaker(name='llm', failure_threshold=2, reset_after=30, refresh=0.25, store=store, clock=clock)
        for store in (SQLiteLimitStore(tmp_path / 'limits.db'), SQLiteLimitStore(tmp_path / 'limits.db'))
    )
    assert second.state == 'closed'  # read now, trusted for 0.25 s
    for _ in range(2):
        permit = first.acquire()
        assert permit is not None
        first.release(permit, ModelAPIError('m', 'down'))
    assert (first.state, second.state, first.opened) == ('open', 'closed', 1)
    clock.advance(0.25)
    assert (second.state, second.acquire()) == ('open', None)
    clock.advance(30)
    trial = second.acquire()
    assert trial is not None
    assert trial.trial
    assert (first.state, first.acquire()) == ('half_open', None)  # the one trial is taken, by the other worker
    second.release(trial, None)
    assert first.acquire() is not None  # closed again, seen by the breaker that had opened it
    assert first.state == 'closed'


def test_a_shared_budget_is_one_bucket(tmp_path: Path, clock: VirtualClock):
    first, second = (
        RetryBudget(name='llm', ratio=0.5, per_second=0, capacity=2, store=SQLiteLimitStore(path), clock=clock)
        for path in (tmp_path / 'limits.db',) * 2
    )
    assert [first.withdraw(), second.withdraw(), second.withdraw()] == [True, True, False]
    first.deposit()
    first.deposit()  # earned within `refresh`: paid in with the next withdrawal
    assert [second.withdraw(), first.withdraw(), second.tokens] == [False, True, 0]
    assert (first.spent, second.spent, second.denied) == (2, 1, 2)


# Worker processes on SQLite and on Postgres.


@pytest.fixture(params=['sqlite', 'postgres'])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LimitStore]:
    if request.param == 'sqlite':
        store: SQLiteLimitStore | PostgresLimitStore = SQLiteLimitStore(tmp_path / 'limits.db')
    else:
        store = PostgresLimitStore(request.getfixturevalue('postgres_server'))
    yield store
    store.close()


spawn = multiprocessing.get_context('spawn')


def test_workers_together_stay_under_a_rate_limit(store: LimitStore):
    key, limit, workers = f'rate-{uuid.uuid4().hex}', 10, 3
    with spawn.Pool(workers) as pool:
        results = pool.starmap(send_for, [(store, key, limit, 3.0)] * workers)
    grants = sorted(t for times, _ in results for t in times)
    assert sum(sent for _, sent in results) == len(grants)  # every request sent was granted, and only those
    busiest = max(sum(1 for u in grants if t <= u < t + 60) for t in grants)
    assert busiest == limit  # never more than the limit in any minute of the shared clock, and the limit is used
    # Each worker sent for 3 s, 3 minutes of the clock, but they start at different times.
    assert limit * 2 <= len(grants) <= limit * (1 + (grants[-1] - grants[0]) // 60 + 1)


@pytest.mark.anyio
async def test_a_breaker_opened_in_one_worker_stops_another_within_a_second(store: LimitStore):
    name = f'breaker-{uuid.uuid4().hex}'
    ready = spawn.Manager().Event()
    with spawn.Pool(1) as pool:
        other = pool.apply_async(call_until_open, (store, name, ready, 30.0))
        assert ready.wait(30)
        breaker = CircuitBreaker(name=name, failure_threshold=3, reset_after=600, store=store)
        for _ in range(3):
            permit = breaker.acquire()
            assert permit is not None
            breaker.release(permit, ModelAPIError('m', 'down'))
        opened_at = time.time()
        assert breaker.state == 'open'
        calls, last_call = other.get(30)
    assert calls > 0
    assert last_call is not None
    assert last_call - opened_at < 1.0


def test_workers_share_one_retry_budget(store: LimitStore):
    name = f'budget-{uuid.uuid4().hex}'
    with spawn.Pool(4) as pool:
        got = pool.starmap(withdraw, [(store, name, 5)] * 4)
    assert sum(got) == 6  # the capacity, spent once across the workers: 20 tries, 6 retries


def test_the_docs_example_runs_as_written(capsys: pytest.CaptureFixture[str]):
    doc = (ROOT / 'docs' / 'fallbacks.md').read_text().split('## Limits shared across workers')[1]
    code = re.findall(r'```python\n(.*?)```', doc, flags=re.S)[0]
    exec(compile(code, 'docs/fallbacks.md', 'exec'), {'__name__': 'docs_example'})
    assert capsys.readouterr().out == 'success (no tool calls)\n'
