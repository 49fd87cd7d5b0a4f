from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import pytest
from fallback_faults import rate_limited, server_error, unauthorized
from pydantic_ai.exceptions import ModelServerError

import podium
from podium import ConfigurationError, StepFailed
from podium.fallbacks import (
    AllModelsFailed,
    Backoff,
    ProviderAuthError,
    RetryBudget,
    StepTimeout,
    VirtualClock,
    default,
    retry,
    timeout,
)

pytestmark = pytest.mark.anyio

NO_JITTER = Backoff(base=0.5, cap=8, jitter='none')


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


def scripted(*failures: Callable[[], BaseException], name: str = 'answer') -> podium.FunctionStep[str, str]:
    """A step that raises each of `failures` in turn, then echoes its input."""
    queue = list(failures)

    async def answer(message: str) -> str:
        if queue:
            raise queue.pop(0)()
        return f'answer: {message}'

    return podium.step(answer, name=name)


async def test_retry_recovers_and_records_every_try(clock: VirtualClock):
    result = await retry(scripted(rate_limited, server_error), backoff=NO_JITTER, clock=clock).run('hi')
    assert result.output == 'answer: hi'
    assert clock.sleeps == [0.5, 1.0]
    assert result.status == 'ok'
    record = result.record('retry(answer)').summary()
    assert record == {
        'name': 'retry(answer)',
        'kind': 'retry',
        'status': 'ok',
        'detail': {'retry_reason': 'server_error'},
        'attempts': [
            {'number': 1, 'error': 'ModelRateLimitError', 'status_code': 429},
            {'number': 2, 'error': 'ModelServerError', 'status_code': 500},
            {'number': 3},
        ],
        'output': 'answer: hi',
    }
    assert [a.waited_s for a in result.record('retry(answer)').attempts] == [0.0, 0.5, 1.0]


async def test_retry_gives_up_with_every_cause(clock: VirtualClock):
    workflow = retry(scripted(server_error, server_error, server_error), attempts=3, clock=clock)
    with pytest.raises(AllModelsFailed) as raised:
        await workflow.run('hi')
    error = raised.value
    assert [type(c) for c in error.causes] == [type(server_error())] * 3
    assert all(isinstance(c, ModelServerError) for c in error.causes)
    assert [a.number for a in error.attempts] == [1, 2, 3]
    assert error.step == 'retry(answer)'
    assert error.records[0].detail == {'stop_reason': 'attempts'}


async def test_retry_stops_at_once_on_a_rejected_request(clock: VirtualClock):
    with pytest.raises(ProviderAuthError, match='check the API key'):
        await retry(scripted(unauthorized), clock=clock).run('hi')
    assert clock.sleeps == []


async def test_retry_leaves_bugs_alone(clock: VirtualClock):
    @podium.step
    def broken(message: str) -> str:
        raise ValueError('a bug')

    with pytest.raises(StepFailed, match='a bug'):
        await retry(broken, clock=clock).run('hi')
    assert clock.sleeps == []


async def test_retry_deadline_cuts_a_hanging_try():
    @podium.step
    async def hangs(message: str) -> str:
        await anyio.sleep(30)
        return message

    started = time.monotonic()
    with pytest.raises(StepTimeout):
        await retry(hangs, deadline=0.05).run('hi')
    assert time.monotonic() - started < 1


async def test_retry_budget_is_shared_across_runs(clock: VirtualClock):
    budget = RetryBudget(ratio=0, per_second=0, capacity=1, clock=clock)
    assert (await retry(scripted(server_error), budget=budget, clock=clock).run('a')).output == 'answer: a'
    with pytest.raises(AllModelsFailed):
        await retry(scripted(server_error), budget=budget, clock=clock).run('b')
    assert (budget.spent, budget.denied) == (1, 1)


async def test_timeout_passes_a_fast_step_through():
    result = await timeout(scripted(), 5).run('hi')
    assert [r.summary() for r in result.steps] == [
        {'name': 'timeout(answer)', 'kind': 'timeout', 'status': 'ok', 'output': 'answer: hi'},
        {'name': 'answer', 'kind': 'function', 'status': 'ok', 'output': 'answer: hi'},
    ]


async def test_timeout_cancels_a_slow_step_into_a_typed_error():
    @podium.step
    async def slow(message: str) -> str:
        await anyio.sleep(30)
        return message

    started = time.monotonic()
    with pytest.raises(StepTimeout) as raised:
        await timeout(slow, 0.05).run('hi')
    assert time.monotonic() - started < 1
    assert (raised.value.seconds, raised.value.step) == (0.05, 'slow')
    wrapper, inner = raised.value.records
    assert (wrapper.status, inner.status) == ('failed', 'failed')
    assert inner.error is not None
    assert inner.error.startswith('CancelledError')
    assert isinstance(raised.value, TimeoutError)


async def test_default_after_timeout_degrades_the_run():
    @podium.step
    async def slow(message: str) -> str:
        await anyio.sleep(30)
        return message

    result = await default(timeout(slow, 0.05), 'too slow').run('hi')
    assert (result.output, result.status, result.degraded_reasons) == (
        'too slow',
        'degraded',
        ('default(timeout(slow)): timeout',),
    )


def test_retry_and_timeout_configuration_errors_name_the_argument():
    with pytest.raises(ConfigurationError, match='attempts'):
        retry(scripted(), attempts=0)
    with pytest.raises(ConfigurationError, match='deadline'):
        retry(scripted(), deadline=0)
    with pytest.raises(ConfigurationError, match='retry_after_cap'):
        retry(scripted(), retry_after_cap=-1)
    with pytest.raises(ConfigurationError, match='seconds'):
        timeout(scripted(), 0)
