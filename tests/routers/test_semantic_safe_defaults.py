"""A semantic router protects its embedding provider as an agent step does, against the FaultServer.

Each router is built the way a user builds it: no `RetryingEmbeddingModel`, an SDK client with its own retries on
(`max_retries=2`, the SDK's default) or a model name podium resolves. Requests are counted where they land.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import anyio
import pytest
from openai import AsyncOpenAI
from pydantic_ai.embeddings import EmbeddingModel
from pydantic_ai.embeddings.openai import OpenAIEmbeddingModel
from pydantic_ai.providers.openai import OpenAIProvider

import podium
from podium import RunResult, Step
from podium.fallbacks import CircuitBreaker, RetryBudget, RetryingEmbeddingModel, default, fallback
from podium.routers import EmbeddingFailed
from podium.routers._semantic import SemanticRouter
from podium.testing import Behaviour, Fault, FaultServer

pytestmark = pytest.mark.anyio

RUNS = 100
UTTERANCES = {'billing': ['my invoice is wrong', 'refund my payment'], 'tech': ['the app crashes', 'login error']}


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture
def provider() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


def specialist(name: str) -> Step[str, str]:
    return podium.step(lambda text: f'{name}: {text}', name=name)


def routes() -> dict[str, Step[str, str]]:
    return {name: specialist(name) for name in ('billing', 'tech')}


def router(embedder: EmbeddingModel | str, *, escalate: bool = True) -> SemanticRouter[str, str]:
    backup = podium.step(lambda text: f'escalated: {text}', name='llm_router')
    return SemanticRouter(
        routes(),
        utterances=UTTERANCES,
        embedder=embedder,
        fallback='billing',
        escalate=backup if escalate else None,
    )


def embedder_of(server: FaultServer, kind: str, monkeypatch: pytest.MonkeyPatch) -> EmbeddingModel | str:
    """The user's own client with the SDK's retries on, or a model name whose client podium builds."""
    if kind == 'own-client':
        return server.openai_embedding_model(max_retries=2)
    monkeypatch.setenv('OPENAI_BASE_URL', server.base_url)
    monkeypatch.setenv('OPENAI_API_KEY', 'test-key')
    return 'openai:text-embedding-3-small'


async def test_a_healthy_provider_routes_by_similarity(provider: FaultServer):
    result = await router(provider.openai_embedding_model()).run('the app crashes again')

    assert (result.output, result.status, provider.hits) == ('tech: the app crashes again', 'ok', 2)
    assert result.steps[0].attempts == ()


STORMS: dict[str, Behaviour] = {'429': Fault.rate_limit(retry_after=None), '529': Fault.overloaded()}


@pytest.mark.parametrize('kind', ['own-client', 'model-name'])
@pytest.mark.parametrize('storm', STORMS)
async def test_a_storm_sends_at_most_a_fifth_more_requests_than_runs(
    provider: FaultServer, monkeypatch: pytest.MonkeyPatch, kind: str, storm: str
):
    step = router(embedder_of(provider, kind, monkeypatch))
    await step.run('the app crashes')  # the utterances are embedded and cached while the provider is well
    provider.reset()
    provider.default = STORMS[storm]
    statuses: list[str] = []

    async def one() -> None:
        result = await step.run('the app crashes')
        statuses.append(result.status)

    started = time.perf_counter()
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(RUNS):
                tg.start_soon(one)
    elapsed = time.perf_counter() - started
    assert statuses == ['degraded'] * RUNS
    # The default budget's contract: a fifth of first attempts, plus the bucket it starts with and its refill.
    budget = RetryBudget()
    assert RUNS <= provider.hits <= (1 + budget.ratio) * RUNS + budget.capacity + budget.per_second * elapsed
    # the SDK's own retries are off: every request is the client's first try
    assert {r.headers.get('x-stainless-retry-count') for r in provider.requests} == {'0'}


async def test_a_long_retry_after_escalates_at_once_and_the_record_shows_the_attempt(provider: FaultServer):
    provider.default = Fault.rate_limit(retry_after=3600)
    started = time.perf_counter()
    with anyio.fail_after(5):
        result = await router(provider.openai_embedding_model(max_retries=2)).run('the app crashes')
    assert time.perf_counter() - started < 1.0
    assert (result.output, result.status, provider.hits) == ('escalated: the app crashes', 'degraded', 1)
    record = result.steps[0]
    assert record.fallback_reason == 'embedding_failed'
    attempts = [(a.model, a.error, a.status_code, a.retry_after_s) for a in record.attempts]
    assert attempts == [('text-embedding-3-small', 'ModelRateLimitError', 429, 3600)]


async def test_retried_attempts_show_in_the_router_record(provider: FaultServer):
    provider.push(Fault.server_error(), Fault.overloaded())
    result = await router(provider.openai_embedding_model()).run('the app crashes')

    assert (result.output, result.status, provider.hits) == ('tech: the app crashes', 'ok', 4)
    errors = [(a.number, a.error, a.status_code) for a in result.steps[0].attempts]
    assert errors == [(1, 'ModelServerError', 500), (2, 'ModelOverloadedError', 529), (3, None, None), (1, None, None)]


class OwnEmbeddingModel(OpenAIEmbeddingModel):
    """A subclass of the user's own: podium leaves its client alone (it may build requests otherwise)."""


async def test_tries_the_sdk_still_makes_are_counted_from_its_header(provider: FaultServer):
    provider.default = Fault.overloaded()
    client = AsyncOpenAI(base_url=provider.base_url, api_key='test-key', max_retries=2)
    model = OwnEmbeddingModel('text-embedding-3-small', provider=OpenAIProvider(openai_client=client))
    result = await router(RetryingEmbeddingModel(model, attempts=1)).run('the app crashes')

    assert provider.hits == 3  # the SDK's three tries; podium's loop made one
    notes = [(a.error, a.note is not None) for a in result.steps[0].attempts]
    assert notes == [('ModelOverloadedError', True), ('ModelOverloadedError', True), ('ModelOverloadedError', False)]


@pytest.mark.parametrize('fault', [Fault.empty_choices(), Fault.html_page()], ids=['no-data', 'html-page'])
async def test_an_unreadable_embedding_response_ends_typed_and_escalates(provider: FaultServer, fault: Behaviour):
    provider.default = fault
    result = await router(provider.openai_embedding_model()).run('the app crashes')

    assert (result.output, result.status, provider.hits) == ('escalated: the app crashes', 'degraded', 1)
    assert [a.error for a in result.steps[0].attempts] == ['UnexpectedResponse']


async def test_without_an_escalation_a_provider_outage_ends_typed(provider: FaultServer):
    provider.default = Fault.overloaded()
    with pytest.raises(EmbeddingFailed, match=r"embedding model 'openai:text-embedding-3-small' failed: .*529"):
        await router(provider.openai_embedding_model(), escalate=False).run('the app crashes')


async def test_an_embedding_outage_reaches_the_fallback_and_default_steps(provider: FaultServer):
    provider.default = Fault.rate_limit(retry_after=3600)
    backup = podium.step(lambda text: f'backup: {text}', name='backup')

    fell_back = await fallback(router(provider.openai_embedding_model(), escalate=False), backup).run('hi')
    defaulted: RunResult[str] = await default(router(provider.openai_embedding_model(), escalate=False), 'sorry').run(
        'hi'
    )

    assert (fell_back.output, fell_back.status) == ('backup: hi', 'degraded')
    assert fell_back.degraded_reasons == ('fallback(semantic_router, backup): rate_limit',)
    assert (defaulted.output, defaulted.degraded_reasons) == ('sorry', ('default(semantic_router): rate_limit',))


async def test_an_embedder_the_caller_wrapped_keeps_its_breaker(provider: FaultServer):
    provider.default = Fault.overloaded()
    breaker = CircuitBreaker(name='embeddings', failure_threshold=2)
    step = router(RetryingEmbeddingModel(provider.openai_embedding_model(), attempts=1, breaker=breaker))
    for _ in range(4):
        result = await step.run('the app crashes')
        assert result.status == 'degraded'

    assert (breaker.state, provider.hits) == ('open', 2)  # the last two runs sent nothing
    assert [a.error for a in result.steps[0].attempts] == ['ModelCircuitOpenError']
