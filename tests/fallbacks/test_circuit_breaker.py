from __future__ import annotations

import anyio
import pytest
from fallback_faults import bad_request, server_error

import podium
from podium import ConfigurationError
from podium.fallbacks import CircuitBreaker, CircuitOpen, RetryBudget, StepTimeout, VirtualClock, fallback

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


def fail_once(breaker: CircuitBreaker, exc: BaseException | None) -> None:
    permit = breaker.acquire()
    assert permit is not None
    breaker.release(permit, exc)


async def test_opens_after_consecutive_failures_and_fails_fast(clock: VirtualClock):
    breaker = CircuitBreaker(failure_threshold=3, reset_after=10, clock=clock)
    fail_once(breaker, server_error())
    fail_once(breaker, server_error())
    fail_once(breaker, None)  # a success resets the count
    fail_once(breaker, server_error())
    fail_once(breaker, bad_request())  # the provider answered: the request was at fault, not the provider
    fail_once(breaker, server_error())
    fail_once(breaker, server_error())
    assert breaker.state == 'closed'
    fail_once(breaker, server_error())
    assert (breaker.state, breaker.opened) == ('open', 1)
    assert breaker.acquire() is None


async def test_half_open_lets_trials_through_and_closes_on_success(clock: VirtualClock):
    breaker = CircuitBreaker(failure_threshold=1, reset_after=10, trials=1, trial_timeout=2, clock=clock)
    fail_once(breaker, server_error())
    clock.advance(9.9)
    assert breaker.state == 'open'
    clock.advance(0.1)
    assert breaker.state == 'half_open'
    trial = breaker.acquire()
    assert trial is not None
    assert (trial.trial, trial.timeout) == (True, 2)
    assert breaker.acquire() is None  # one trial at a time
    breaker.release(trial, None)
    assert (breaker.state, breaker.failures) == ('closed', 0)


async def test_failed_trial_opens_again(clock: VirtualClock):
    breaker = CircuitBreaker(failure_threshold=1, reset_after=10, clock=clock)
    fail_once(breaker, server_error())
    clock.advance(10)
    fail_once(breaker, server_error())
    assert (breaker.state, breaker.opened) == ('open', 2)
    clock.advance(10)
    assert breaker.state == 'half_open'


async def test_a_cancelled_trial_frees_its_slot(clock: VirtualClock):
    breaker = CircuitBreaker(failure_threshold=1, reset_after=10, clock=clock)
    fail_once(breaker, server_error())
    clock.advance(10)
    trial = breaker.acquire()
    assert trial is not None
    breaker.release(trial, anyio.get_cancelled_exc_class()())
    assert breaker.state == 'half_open'
    assert breaker.acquire() is not None


@podium.step
async def flaky(message: str) -> str:
    raise server_error()


@podium.step
async def steady(message: str) -> str:
    return f'steady: {message}'


async def test_protected_step_fails_fast_into_the_fallback(clock: VirtualClock):
    breaker = CircuitBreaker(name='flaky', failure_threshold=2, reset_after=30, clock=clock)
    workflow = fallback(breaker.protect(flaky), steady)
    for _ in range(2):
        await workflow.run('hi')
    assert breaker.state == 'open'
    result = await workflow.run('hi')
    assert result.output == 'steady: hi'
    assert [r.name for r in result.steps] == ['fallback(circuit(flaky), steady)', 'circuit(flaky)', 'steady']
    assert result.record('circuit(flaky)').summary() == {
        'name': 'circuit(flaky)',
        'kind': 'circuit',
        'status': 'failed',
        'fallback_reason': 'circuit_open',
        'detail': {'breaker': 'open'},
        'error': "CircuitOpen: step 'flaky' was not called: circuit breaker 'flaky' is open",
    }
    assert result.record('fallback(circuit(flaky), steady)').fallback_reason == 'circuit_open'


async def test_open_breaker_alone_raises_circuit_open(clock: VirtualClock):
    breaker = CircuitBreaker(failure_threshold=1, reset_after=30, clock=clock)
    fail_once(breaker, server_error())
    with pytest.raises(CircuitOpen) as raised:
        await breaker.protect(steady).run('hi')
    assert raised.value.step == 'circuit(steady)'


async def test_trial_is_bounded_by_its_own_timeout(clock: VirtualClock):
    @podium.step
    async def hangs(message: str) -> str:
        await anyio.sleep(30)
        return message

    breaker = CircuitBreaker(failure_threshold=1, reset_after=10, trial_timeout=0.05, clock=clock)
    fail_once(breaker, server_error())
    clock.advance(10)
    with anyio.fail_after(2), pytest.raises(StepTimeout):
        await breaker.protect(hangs).run('hi')
    assert (breaker.state, breaker.opened) == ('open', 2)


def test_breaker_configuration_errors_name_the_argument():
    for kwargs, argument in [
        ({'failure_threshold': 0}, 'failure_threshold'),
        ({'reset_after': 0}, 'reset_after'),
        ({'trials': 0}, 'trials'),
        ({'trial_timeout': -1}, 'trial_timeout'),
    ]:
        with pytest.raises(ConfigurationError, match=argument):
            CircuitBreaker(**kwargs)  # type: ignore[arg-type]


def test_budget_earns_by_traffic_and_time(clock: VirtualClock):
    budget = RetryBudget(ratio=0.5, per_second=1, capacity=2, clock=clock)
    assert [budget.withdraw(), budget.withdraw(), budget.withdraw()] == [True, True, False]
    budget.deposit()
    budget.deposit()
    assert budget.withdraw()
    assert not budget.withdraw()
    clock.advance(1)
    assert budget.withdraw()
    clock.advance(100)
    assert budget.tokens == 2  # never more than the capacity
    assert (budget.spent, budget.denied) == (4, 2)


def test_budget_configuration_errors_name_the_argument():
    for kwargs, argument in [
        ({'ratio': 2}, 'ratio'),
        ({'per_second': -1}, 'per_second'),
        ({'capacity': 0}, 'capacity'),
    ]:
        with pytest.raises(ConfigurationError, match=argument):
            RetryBudget(**kwargs)  # type: ignore[arg-type]
