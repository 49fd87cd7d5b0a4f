"""The plainest setup protects the provider and lets no failure slip past a fallback, against the FaultServer.

Each case is written the way a user writes it: no `RetryingModel`, no budget, no deadline, an SDK client with its
own retries on (`max_retries=2`, the SDKs' default). Requests are counted where they land, at the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import anyio
import pytest
from pydantic_ai import Agent
from pydantic_ai.models import Model
from pydantic_ai.models.fallback import FallbackModel

import podium
from podium import RunResult, WorkflowError
from podium.fallbacks import RetryingModel, default, fallback, retry
from podium.testing import Behaviour, Fault, FaultServer, Reply

pytestmark = pytest.mark.anyio

RUNS = 100


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture
def provider() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def healthy() -> Iterator[FaultServer]:
    with FaultServer(default=Reply.text('from backup')) as server:
        yield server


def user_model(server: FaultServer, protocol: str) -> Model:
    """A model as users build it: the SDK client keeps its own two retries."""
    if protocol == 'anthropic':
        return server.anthropic_model(max_retries=2)
    return server.openai_model(max_retries=2)


@pytest.mark.parametrize('protocol', ['openai', 'anthropic'])
async def test_an_overload_storm_sends_at_most_a_fifth_more_requests_than_runs(provider: FaultServer, protocol: str):
    provider.default = Fault.overloaded()
    step = retry(podium.agent(Agent(user_model(provider, protocol), name='ask')), attempts=3)
    outcomes: list[str] = []

    async def one() -> None:
        try:
            result = await step.run('hi')
            outcomes.append(result.status)
        except WorkflowError as exc:
            outcomes.append(type(exc).__name__)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(RUNS):
                tg.start_soon(one)
    assert len(outcomes) == RUNS
    assert set(outcomes) == {'AllModelsFailed'}
    assert provider.hits <= 1.2 * RUNS
    # the SDK's own retries are off: every request is the client's first try
    assert {r.headers.get('x-stainless-retry-count') for r in provider.requests} == {'0'}


@pytest.mark.parametrize('protocol', ['openai', 'anthropic'])
async def test_a_bare_agent_step_in_a_storm_stays_within_its_budget(provider: FaultServer, protocol: str):
    provider.default = Fault.overloaded()
    step = podium.agent(Agent(user_model(provider, protocol), name='ask'))
    failed = 0

    async def one() -> None:
        nonlocal failed
        with pytest.raises(WorkflowError):
            await step.run('hi')
        failed += 1

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(RUNS):
                tg.start_soon(one)
    assert failed == RUNS
    assert provider.hits <= 1.2 * RUNS


UNREADABLE: dict[str, Callable[[], Behaviour]] = {
    'empty-choices': Fault.empty_choices,
    'html-page': Fault.html_page,
    'null-body': Fault.null_body,
    'invalid-json': Fault.invalid_json,
}


@pytest.mark.parametrize('fault', UNREADABLE)
async def test_an_unreadable_response_reaches_the_backup_model(provider: FaultServer, healthy: FaultServer, fault: str):
    provider.default = UNREADABLE[fault]()
    model = FallbackModel(provider.openai_model(max_retries=2), healthy.openai_model('backup', max_retries=2))
    result = await podium.agent(Agent(model, name='ask')).run('hi')
    assert (result.output, result.status) == ('from backup', 'ok')
    assert (provider.hits, healthy.hits) == (1, 1)
    assert [a.error for a in result.steps[0].attempts] == [_error(fault), None]


@pytest.mark.parametrize('fault', UNREADABLE)
async def test_an_unreadable_response_reaches_the_fallback_step(
    provider: FaultServer, healthy: FaultServer, fault: str
):
    provider.default = UNREADABLE[fault]()
    primary = podium.agent(Agent(provider.openai_model(), name='primary'))
    backup = podium.agent(Agent(healthy.openai_model('backup'), name='backup'))
    result = await fallback(primary, backup).run('hi')
    assert (result.output, result.status) == ('from backup', 'degraded')
    assert result.degraded_reasons == (f'fallback(primary, backup): {_reason(fault)}',)


@pytest.mark.parametrize('fault', UNREADABLE)
async def test_an_unreadable_response_gets_the_default(provider: FaultServer, fault: str):
    provider.default = UNREADABLE[fault]()
    result: RunResult[str] = await default(podium.agent(Agent(provider.openai_model(), name='ask')), 'sorry').run('hi')
    assert (result.output, result.status) == ('sorry', 'degraded')
    assert result.degraded_reasons == (f'default(ask): {_reason(fault)}',)


async def test_an_empty_anthropic_content_list_reaches_the_backup_model(provider: FaultServer, healthy: FaultServer):
    provider.default = Fault.empty_choices()  # a 200 with `"content": []`
    model = FallbackModel(provider.anthropic_model(max_retries=2), healthy.openai_model('backup', max_retries=2))
    result = await podium.agent(Agent(model, name='ask')).run('hi')
    assert (result.output, result.status) == ('from backup', 'ok')
    assert (provider.hits, healthy.hits) == (1, 1)  # not re-prompted
    assert [a.error for a in result.steps[0].attempts] == ['UnexpectedResponse', None]


async def test_an_empty_anthropic_content_list_reaches_the_fallback_step_and_the_default(
    provider: FaultServer, healthy: FaultServer
):
    provider.default = Fault.empty_choices()
    primary = podium.agent(Agent(provider.anthropic_model(), name='primary'))
    backup = podium.agent(Agent(healthy.openai_model('backup'), name='backup'))
    fell_back = await fallback(primary, backup).run('hi')
    defaulted: RunResult[str] = await default(primary, 'sorry').run('hi')
    assert (fell_back.output, fell_back.degraded_reasons) == (
        'from backup',
        ('fallback(primary, backup): unexpected_response',),
    )
    assert (defaulted.output, defaulted.degraded_reasons) == ('sorry', ('default(primary): unexpected_response',))
    assert provider.hits == 2


def _error(fault: str) -> str:
    return 'ModelAPIError' if fault == 'invalid-json' else 'UnexpectedResponse'  # pydantic-ai types a decode error


def _reason(fault: str) -> str:
    return 'provider_error' if fault == 'invalid-json' else 'unexpected_response'


@pytest.mark.parametrize('retry_after', [3600, 30])
@pytest.mark.parametrize('wrapped', [False, True], ids=['plain', 'retrying-model'])
async def test_a_long_retry_after_falls_back_at_once(
    provider: FaultServer, healthy: FaultServer, retry_after: int, wrapped: bool
):
    provider.default = Fault.rate_limit(retry_after=retry_after)
    primary: Model = provider.openai_model(max_retries=2)
    backup: Model = healthy.openai_model('backup', max_retries=2)
    if wrapped:  # the docs' composition, with RetryingModel's defaults: no deadline given
        primary, backup = RetryingModel(primary), RetryingModel(backup)
    started = time.perf_counter()
    with anyio.fail_after(5):
        result = await podium.agent(Agent(FallbackModel(primary, backup), name='ask')).run('hi')
    assert time.perf_counter() - started < 1.0
    assert (result.output, provider.hits, healthy.hits) == ('from backup', 1, 1)
    attempts = [(a.model, a.error, a.retry_after_s) for a in result.steps[0].attempts]
    assert attempts == [('gpt-4o', 'ModelRateLimitError', retry_after), ('backup', None, None)]
