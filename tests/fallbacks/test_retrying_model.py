from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from fallback_faults import (
    FaultyModel,
    bad_request,
    connection_reset,
    http,
    overloaded,
    quota,
    server_error,
    too_long,
    unauthorized,
)
from openai import AsyncOpenAI
from pydantic_ai import Agent
from pydantic_ai.exceptions import (
    ModelAuthenticationError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelRequestTimeout,
    ModelServerError,
)
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.function import AgentInfo, DeltaToolCalls, FunctionModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

import podium
from podium import ConfigurationError
from podium.fallbacks import (
    Backoff,
    CircuitBreaker,
    RateLimit,
    RateLimitExhausted,
    RetryBudget,
    RetryingModel,
    VirtualClock,
    collect_attempts,
    is_retryable,
    retry,
    without_sdk_retries,
)
from podium.testing import Fault, FaultServer

pytestmark = pytest.mark.anyio

NO_JITTER = Backoff(base=0.5, cap=8, jitter='none')


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


async def ask(model: RetryingModel | FallbackModel) -> str:
    return (await Agent(model).run('hi')).output


async def test_rate_limit_waits_as_long_as_retry_after_ms_says(clock: VirtualClock):
    limited = http(ModelRateLimitError, 429, {'retry-after-ms': '1500'})
    inner = FaultyModel(limited, limited, default='answer')
    with collect_attempts() as attempts:
        result = await Agent(RetryingModel(inner, clock=clock)).run('hi')
    assert result.output == 'answer'
    assert inner.calls == 3
    assert clock.sleeps == [1.5, 1.5]
    assert [(a.number, a.error, a.status_code, a.waited_s) for a in attempts] == [
        (1, 'ModelRateLimitError', 429, 0.0),
        (2, 'ModelRateLimitError', 429, 1.5),
        (3, None, None, 1.5),
    ]
    failed = result.response.failed_attempts
    assert failed is not None
    assert [a.error.split(':')[0] for a in failed if a.error] == ['ModelRateLimitError', 'ModelRateLimitError']


@pytest.mark.parametrize(
    ('header', 'wait'),
    [
        pytest.param({'retry-after': '2'}, 2.0, id='seconds'),
        pytest.param({'retry-after-ms': '250', 'retry-after': '3'}, 0.25, id='ms-first'),
    ],
)
async def test_retry_after_header_forms(clock: VirtualClock, header: dict[str, str], wait: float):
    inner = FaultyModel(http(ModelRateLimitError, 429, header))
    assert await ask(RetryingModel(inner, clock=clock)) == 'ok'
    assert clock.sleeps == [wait]


async def test_retry_after_as_http_date(clock: VirtualClock):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    inner = FaultyModel(http(ModelRateLimitError, 429, {'retry-after': when}))
    assert await ask(RetryingModel(inner, retry_after_cap=30, clock=clock)) == 'ok'
    assert 18 < clock.sleeps[0] <= 20


async def test_retry_after_above_the_cap_is_not_waited_for(clock: VirtualClock):
    inner = FaultyModel(http(ModelRateLimitError, 429, {'retry-after': '3600'}))
    with pytest.raises(ModelRateLimitError):
        await ask(RetryingModel(inner, retry_after_cap=60, clock=clock))
    assert (inner.calls, clock.sleeps) == (1, [])


async def test_backoff_doubles_up_to_the_cap_and_stops_after_attempts(clock: VirtualClock):
    inner = FaultyModel(default=server_error)
    backoff = Backoff(base=1, cap=3, jitter='none')
    with pytest.raises(ModelServerError):
        await ask(RetryingModel(inner, attempts=4, backoff=backoff, clock=clock))
    assert (inner.calls, clock.sleeps) == (4, [1.0, 2.0, 3.0])


async def test_full_jitter_stays_under_the_bound(clock: VirtualClock):
    draws = iter([0.9, 0.1])
    inner = FaultyModel(overloaded, connection_reset)
    backoff = Backoff(base=0.5, cap=8, random=lambda: next(draws))
    assert await ask(RetryingModel(inner, backoff=backoff, clock=clock)) == 'ok'
    assert clock.sleeps == [pytest.approx(0.45), pytest.approx(0.1)]


@pytest.mark.parametrize(
    ('fault', 'error'),
    [
        pytest.param(quota, ModelQuotaExceededError, id='quota'),
        pytest.param(unauthorized, ModelAuthenticationError, id='auth'),
        pytest.param(too_long, ModelContextWindowExceededError, id='context'),
        pytest.param(bad_request, ModelHTTPError, id='400'),
        pytest.param(
            http(ModelServerError, 500, {'x-should-retry': 'false'}), ModelServerError, id='should-retry-false'
        ),
        pytest.param(
            http(ModelRequestRejectedError, 400, {'x-should-retry': 'true'}),
            ModelRequestRejectedError,
            id='hint-cannot-retry-a-rejection',
        ),
    ],
)
async def test_not_retried(clock: VirtualClock, fault: object, error: type[Exception]):
    inner = FaultyModel(fault)  # type: ignore[arg-type]
    with pytest.raises(error):
        await ask(RetryingModel(inner, clock=clock))
    assert (inner.calls, clock.sleeps) == (1, [])


async def test_should_retry_true_makes_an_unknown_status_retryable(clock: VirtualClock):
    inner = FaultyModel(http(None, 418, {'x-should-retry': 'true'}))
    assert await ask(RetryingModel(inner, backoff=NO_JITTER, clock=clock)) == 'ok'
    assert inner.calls == 2


async def test_attempt_timeout_cuts_a_hanging_attempt_and_moves_on():
    inner = FaultyModel(30.0, default='second')
    with collect_attempts() as attempts, pytest.raises(ModelRequestTimeout):
        await ask(RetryingModel(inner, attempt_timeout=0.05, clock=VirtualClock()))
    assert [a.error for a in attempts] == ['ModelRequestTimeout']
    assert 0.04 < attempts[0].duration_s < 1


async def test_retrying_timeouts_is_a_choice():
    inner = FaultyModel(30.0, default='second')
    model = RetryingModel(
        inner,
        attempt_timeout=0.05,
        retry_on=lambda exc: is_retryable(exc) or isinstance(exc, ModelRequestTimeout),
        clock=VirtualClock(),
    )
    assert await ask(model) == 'second'
    assert inner.calls == 2


async def test_deadline_bounds_the_loop_including_waits(clock: VirtualClock):
    inner = FaultyModel(default=server_error)
    backoff = Backoff(base=1, cap=8, jitter='none')
    with pytest.raises(ModelServerError):
        await ask(RetryingModel(inner, attempts=5, backoff=backoff, deadline=2.5, clock=clock))
    assert (inner.calls, clock.sleeps) == (2, [1.0])  # a 2 s wait after the second try would end past 2.5 s


async def test_deadline_cuts_a_slow_attempt():
    inner = FaultyModel(30.0)
    with pytest.raises(ModelRequestTimeout):
        await ask(RetryingModel(inner, deadline=0.05))
    assert inner.calls == 1


async def test_open_breaker_fails_fast_and_fallback_model_moves_on(clock: VirtualClock):
    breaker = CircuitBreaker(failure_threshold=2, reset_after=30, clock=clock)
    primary = FaultyModel(default=server_error, name='primary')
    backup = FaultyModel(default='from backup', name='backup')
    model = FallbackModel(RetryingModel(primary, attempts=1, breaker=breaker, clock=clock), backup)
    for _ in range(3):
        assert await ask(model) == 'from backup'
    assert (primary.calls, backup.calls, breaker.state) == (2, 3, 'open')
    with collect_attempts() as attempts:
        await ask(model)
    assert [(a.number, a.model, a.error) for a in attempts] == [(1, 'primary', 'ModelCircuitOpenError')]


async def test_budget_shared_across_requests_caps_retries(clock: VirtualClock):
    budget = RetryBudget(ratio=0, per_second=0, capacity=1, clock=clock)
    first = FaultyModel(default=server_error)
    second = FaultyModel(default=server_error)
    for inner in (first, second):
        with pytest.raises(ModelServerError):
            await ask(RetryingModel(inner, attempts=3, budget=budget, clock=clock))
    assert (first.calls, second.calls) == (2, 1)
    assert (budget.spent, budget.denied) == (1, 2)


async def test_step_retry_owns_the_attempts_of_the_model_loops_beneath_it(clock: VirtualClock):
    inner = FaultyModel(default=server_error)
    agent_step = podium.agent(Agent(RetryingModel(inner, attempts=5, clock=clock), name='ask'))
    with pytest.raises(podium.WorkflowError):
        await retry(agent_step, attempts=3, clock=clock).run('hi')
    assert inner.calls == 3  # one request per try of the step, not 3 x 5


def settings_seen(seen: list[object]) -> Callable[[list[ModelMessage], AgentInfo], ModelResponse]:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append((info.model_settings or {}).get('max_retries'))
        return ModelResponse(parts=[TextPart('ok')])

    return respond


async def test_models_without_an_sdk_are_not_sent_the_sdk_setting():
    seen: list[object] = []
    await ask(RetryingModel(FunctionModel(settings_seen(seen))))
    await Agent(without_sdk_retries(FunctionModel(settings_seen(seen)))).run('hi')
    assert seen == [None, None]  # a function sees the settings it was given; the real SDK case is tested below


async def test_sdk_retries_are_off_against_a_real_sdk_client(fault_server: FaultServer):
    fault_server.default = Fault.server_error()
    async with AsyncOpenAI(base_url=fault_server.base_url, api_key='test-key') as client:  # the SDK retries twice
        model = OpenAIChatModel('gpt-4o', provider=OpenAIProvider(openai_client=client))
        with pytest.raises(ModelServerError):
            await Agent(without_sdk_retries(model)).run('hi')
        assert fault_server.hits == 1
        with pytest.raises(ModelServerError):
            await ask(RetryingModel(model, attempts=2, backoff=NO_JITTER, clock=VirtualClock()))
        assert fault_server.hits == 3


async def test_models_without_the_setting_are_left_alone():
    class NoRetrySetting(FunctionModel):
        unsupported_settings = frozenset({'max_retries'})

    seen: list[object] = []
    model = NoRetrySetting(settings_seen(seen))
    await ask(RetryingModel(model))
    assert seen == [None]


async def test_retries_opening_a_stream(clock: VirtualClock):
    calls: list[int] = []

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str | DeltaToolCalls]:
        calls.append(1)
        if len(calls) == 1:
            raise server_error()
        yield 'streamed'

    agent = Agent(RetryingModel(FunctionModel(stream_function=stream), clock=clock))
    async with agent.run_stream('hi') as result:
        assert await result.get_output() == 'streamed'
    assert len(calls) == 2


def test_configuration_errors_name_the_argument():
    with pytest.raises(ConfigurationError, match='attempts'):
        RetryingModel(FaultyModel(), attempts=0)
    with pytest.raises(ConfigurationError, match='attempt_timeout'):
        RetryingModel(FaultyModel(), attempt_timeout=0)
    with pytest.raises(ConfigurationError, match='deadline'):
        RetryingModel(FaultyModel(), deadline=-1)
    with pytest.raises(ConfigurationError, match='cap'):
        Backoff(base=2, cap=1)
    with pytest.raises(ConfigurationError, match='jitter'):
        Backoff(jitter='sometimes')  # type: ignore[arg-type]


async def test_a_call_the_open_breaker_refuses_takes_no_rate_limit_slot(clock: VirtualClock):
    breaker = CircuitBreaker(failure_threshold=1, reset_after=30, clock=clock)
    limit = RateLimit(requests_per_minute=2, clock=clock)
    primary = FaultyModel(default=server_error, name='primary')
    model = FallbackModel(RetryingModel(primary, attempts=1, breaker=breaker, rate_limit=limit, clock=clock), 'test')
    await ask(model)  # one slot taken, the breaker opens
    assert breaker.state == 'open'
    for _ in range(3):
        with collect_attempts() as attempts:
            await ask(model)
        assert [a.error for a in attempts] == ['ModelCircuitOpenError']
    clock.advance(30)  # half-open, within the same minute: the trial finds the slot the refused calls left
    primary.default = 'recovered'
    assert await ask(model) == 'recovered'
    assert (primary.calls, limit.denied, clock.sleeps, breaker.state) == (2, 0, [], 'closed')


async def test_a_trial_that_finds_no_rate_limit_capacity_frees_its_slot_without_counting(clock: VirtualClock):
    breaker = CircuitBreaker(failure_threshold=1, reset_after=30, clock=clock)
    limit = RateLimit(requests_per_minute=1, clock=clock)
    primary = FaultyModel(default=server_error, name='primary')
    retrying = RetryingModel(primary, attempts=1, deadline=5, breaker=breaker, rate_limit=limit, clock=clock)
    with pytest.raises(ModelServerError):
        await ask(retrying)
    clock.advance(30)  # half-open, but the minute's one request is still counted
    with pytest.raises(RateLimitExhausted):
        await ask(retrying)
    assert (breaker.state, breaker.opened, primary.calls) == ('half_open', 1, 1)
    assert breaker.acquire() is not None  # the trial slot was given back


@pytest.mark.parametrize('fault', ['html-page', 'empty-choices'])
async def test_a_provider_answering_garbage_opens_the_breaker(fault_server: FaultServer, fault: str):
    fault_server.default = Fault.html_page() if fault == 'html-page' else Fault.empty_choices()
    breaker = CircuitBreaker(failure_threshold=3)
    model = FallbackModel(RetryingModel(fault_server.openai_model(), breaker=breaker), 'test')
    for _ in range(5):
        await ask(model)
    assert (fault_server.hits, breaker.state) == (3, 'open')
