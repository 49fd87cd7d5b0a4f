"""One case per row of /work/shared/FAULTS.md that is reachable offline, run against the FaultServer.

Every case runs the same resilient composition: an agent step on `FallbackModel(RetryingModel(primary),
RetryingModel(backup))`, a step-level `fallback` to an agent on a `large` model (larger context, larger
`max_tokens`), and, for the `resilient` shape, a `default` around both. Each asserts the outcome, the requests each
model received (from the server's request log), the time it took against its bound, and what the record shows.

Rows 16 (valid but unauthorised route), 21 (process crash under DBOS) and 22 (secret canaries in spans) belong to
routers, durable runs and tracing; row 7 checks that the API key is in no record.
"""

from __future__ import annotations

import gc
import random
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from openai import AsyncOpenAI
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.models import Model
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.profiles.openai import OpenAIModelProfile, openai_model_profile
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.usage import UsageLimits

import podium
from podium import BudgetExceeded, RunResult, Step, WorkflowError
from podium.fallbacks import (
    Backoff,
    CircuitBreaker,
    FallbackError,
    Refused,
    RetryingModel,
    VirtualClock,
    default,
    fallback,
)
from podium.testing import Behaviour, Fault, FaultServer, Reply

pytestmark = pytest.mark.anyio

MODELS = ('primary', 'backup', 'large')
STALL_TIMEOUT = 0.3
"""The attempt timeout of the case that needs one to fire: a stalled request."""
ATTEMPT_TIMEOUT = 2.0
"""Every other case's attempt timeout, far above its bound: a real timeout that short would turn any pause of the test
process into a spurious timeout and a fallback."""
PARIS = {'name': 'Paris', 'population': 2_100_000}
OK = Reply.tool_call('final_result', PARIS)
LOOKUP = Reply.tool_call('lookup', {})


class City(BaseModel):
    name: str
    population: int


UNKNOWN = City(name='unknown', population=0)


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture(autouse=True)
def no_collector_pause() -> Iterator[None]:
    """Each case's bound is in real seconds; a full garbage collection of a long suite's heap takes 0.3 to 0.7 s here.

    A case allocates little, so leaving the collector off while it runs keeps the bound about podium alone.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.fixture(scope='module')
def server() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


Shape = Literal['desk', 'resilient', 'stream', 'tool_loop', 'chain']


@dataclass(frozen=True)
class Case:
    """A FAULTS.md row: what each model does, and what must come of it."""

    faults: dict[str, Sequence[Behaviour]]
    """Per model, the behaviours for its requests in order; the last one repeats. Unlisted models answer OK."""
    outcome: str
    """`recovered`, `fell_back`, `degraded`, or the name of the error the run raises."""
    hits: tuple[int, int, int]
    """Requests received by primary, backup and large."""
    bound: float
    """Seconds the run may take (backoff is skipped by the virtual clock, timeouts are real)."""
    attempts: Sequence[tuple[str | None, str | None]]
    """(model, error) of every attempt on the outermost record, or on the error."""
    reason: str | None = None
    """The outermost record's `fallback_reason`."""
    shape: Shape = 'desk'
    primary_refuses_connections: bool = False
    attempt_timeout: float = ATTEMPT_TIMEOUT
    check: Callable[[Any], None] = field(default=lambda _: None)


def rate_limited() -> Behaviour:
    return Fault.rate_limit(retry_after=None, retry_after_ms=100)


CASES = {
    '01-rate-limit-then-ok': Case(
        {'primary': [rate_limited(), rate_limited(), OK]},
        'recovered',
        (3, 0, 0),
        1.0,
        [('primary', 'ModelRateLimitError'), ('primary', 'ModelRateLimitError'), ('primary', None)],
        check=lambda run: run.assert_sleeps([0.1, 0.1]),
    ),
    '02-quota': Case(
        {'primary': [Fault.quota()]},
        'fell_back',
        (1, 1, 0),
        1.0,
        [('primary', 'ModelQuotaExceededError'), ('backup', None)],
        reason='quota',
    ),
    '03-server-error': Case(
        {'primary': [Fault.server_error()]},
        'fell_back',
        (3, 1, 0),
        1.0,
        [('primary', 'ModelServerError')] * 3 + [('backup', None)],
        check=lambda run: run.assert_backoff_within(0.5 + 1.0),
        reason='server_error',
    ),
    '04-unavailable-503': Case(
        {'primary': [Fault.unavailable()]},
        'fell_back',
        (3, 1, 0),
        1.0,
        [('primary', 'ModelUnavailableError')] * 3 + [('backup', None)],
        check=lambda run: run.assert_breaker('primary', failures=3),
        reason='unavailable',
    ),
    '04-overloaded-529': Case(
        {'primary': [Fault.overloaded()]},
        'fell_back',
        (3, 1, 0),
        1.0,
        [('primary', 'ModelOverloadedError')] * 3 + [('backup', None)],
        check=lambda run: run.assert_breaker('primary', failures=3),
        reason='overloaded',
    ),
    '05-should-retry-false': Case(
        {'primary': [Fault.server_error(should_retry=False)]},
        'fell_back',
        (1, 1, 0),
        1.0,
        [('primary', 'ModelServerError'), ('backup', None)],
        reason='server_error',
    ),
    '06-context-length-larger-model': Case(
        {'primary': [Fault.context_length()], 'backup': [Fault.context_length()]},
        'fell_back',
        (1, 1, 1),
        1.0,
        [
            ('primary', 'ModelContextWindowExceededError'),
            ('backup', 'ModelContextWindowExceededError'),
            ('large', None),
        ],
        reason='context_length',
    ),
    '06-context-length-everywhere': Case(
        {model: [Fault.context_length()] for model in MODELS},
        'ContextTooLarge',
        (1, 1, 1),
        1.0,
        [(m, 'ModelContextWindowExceededError') for m in MODELS],
        shape='resilient',
    ),
    '07-invalid-api-key': Case(
        {model: [Fault.auth()] for model in MODELS},
        'ProviderAuthError',
        (1, 1, 1),
        1.0,
        [(m, 'ModelAuthenticationError') for m in MODELS],
        shape='resilient',
        check=lambda run: run.assert_no_secret('test-key'),
    ),
    '07-forbidden-other-provider': Case(
        {'primary': [Fault.forbidden()]},
        'fell_back',
        (1, 1, 0),
        1.0,
        [('primary', 'ModelAuthenticationError'), ('backup', None)],
        reason='auth',
    ),
    '08-connection-refused': Case(
        {},
        'fell_back',
        (0, 1, 0),
        1.0,
        [('primary', 'ModelConnectionError')] * 3 + [('backup', None)],
        primary_refuses_connections=True,
        reason='connection',
    ),
    '09-reset-mid-body': Case(
        {'primary': [Fault.reset_mid_body()]},
        'fell_back',
        (3, 1, 0),
        1.0,
        [('primary', 'ModelConnectionError')] * 3 + [('backup', None)],
        reason='connection',
    ),
    '10-stall': Case(
        {'primary': [Fault.stall(30)]},
        'fell_back',
        (1, 1, 0),
        STALL_TIMEOUT + 0.05 + 0.5,
        [('primary', 'ModelRequestTimeout'), ('backup', None)],
        reason='timeout',
        attempt_timeout=STALL_TIMEOUT,
    ),
    '11-truncated-json-body': Case(
        {'primary': [Fault.truncated()]},
        'fell_back',
        (3, 1, 0),
        1.0,
        [('primary', 'ModelConnectionError')] * 3 + [('backup', None)],
        reason='connection',
    ),
    '11-truncated-stream': Case(
        {'primary': [Fault.truncated()]},
        'fell_back',
        (1, 0, 1),
        1.0,
        [('primary', 'ModelAPIError'), ('large', None)],
        reason='provider_error',
        shape='stream',
    ),
    '12-refusal-everywhere': Case(
        {model: [Fault.refusal('I cannot help with that.')] for model in MODELS},
        'Refused',
        (1, 0, 1),
        1.0,
        [('primary', 'ContentFilterError'), ('large', 'ContentFilterError')],
        shape='resilient',
        check=lambda run: run.assert_refusal("Refusal: 'I cannot help with that.'"),
    ),
    '12-content-filter': Case(
        {'primary': [Fault.content_filter()]},
        'fell_back',
        (1, 0, 1),
        1.0,
        [('primary', 'ContentFilterError'), ('large', None)],
        reason='refused',
    ),
    '13-length-mid-tool-call': Case(
        {'primary': [Fault.length_cut()]},
        'fell_back',
        (2, 0, 1),
        1.0,
        [('primary', None), ('primary', 'IncompleteToolCall'), ('large', None)],
        reason='incomplete_output',
    ),
    '14-malformed-output-degrades': Case(
        {'primary': [Fault.malformed_json()], 'large': [Fault.malformed_json()]},
        'degraded',
        (2, 0, 2),
        1.0,
        [
            ('primary', None),
            ('primary', 'UnexpectedModelBehavior'),
            ('large', None),
            ('large', 'UnexpectedModelBehavior'),
        ],
        reason='invalid_output',
        shape='resilient',
    ),
    '14-schema-invalid-escalates': Case(
        {'primary': [Fault.schema_invalid({'name': 'Paris'})]},
        'fell_back',
        (2, 0, 1),
        1.0,
        [('primary', None), ('primary', 'UnexpectedModelBehavior'), ('large', None)],
        reason='invalid_output',
    ),
    '15-unknown-tool-never-executed': Case(
        {'primary': [Fault.unknown_tool('transfer_funds', {'amount': 1_000_000})]},
        'fell_back',
        (2, 0, 1),
        1.0,
        [('primary', None), ('primary', 'UnexpectedModelBehavior'), ('large', None)],
        reason='invalid_output',
    ),
    '17-empty-response': Case(
        {'primary': [Fault.empty()]},
        'fell_back',
        (2, 0, 1),
        1.0,
        [('primary', None), ('primary', 'UnexpectedModelBehavior'), ('large', None)],
        reason='invalid_output',
    ),
    '18-endless-tool-loop': Case(
        {'primary': [LOOKUP]},
        'BudgetExceeded',
        (3, 0, 0),
        1.0,
        [('primary', None), ('primary', None), ('primary', 'BudgetExceeded')],
        shape='tool_loop',
        check=lambda run: run.assert_budget(step='researcher', limit='request_limit'),
    ),
    '19-chain-wide-budget': Case(
        {},
        'BudgetExceeded',
        (2, 0, 0),
        1.0,
        [('primary', None), ('primary', 'BudgetExceeded')],
        shape='chain',
        check=lambda run: run.assert_budget(step='summarise', limit='total_tokens_limit'),
    ),
    '20-all-models-fail': Case(
        {model: [Fault.server_error()] for model in MODELS},
        'AllModelsFailed',
        (3, 3, 3),
        1.0,
        [(m, 'ModelServerError') for m in MODELS for _ in range(3)],
    ),
}


@dataclass
class Run:
    """One case's run: what came out, and what the server and the models saw."""

    server: FaultServer
    clock: VirtualClock
    breakers: dict[str, CircuitBreaker]
    result: RunResult[Any] | None = None
    error: WorkflowError | None = None
    elapsed: float = 0.0

    def hits(self) -> tuple[int, ...]:
        models = [r.body.get('model') if isinstance(r.body, dict) else None for r in self.server.requests]
        return tuple(models.count(m) for m in MODELS)

    def outcome(self) -> str:
        if self.error is not None:
            return type(self.error).__name__
        assert self.result is not None
        top = self.result.steps[0]
        if top.kind == 'default' and top.status == 'degraded':
            return 'degraded'
        answered = [r.model for r in self.result.steps if r.kind == 'agent' and r.status == 'ok']
        return 'recovered' if answered == ['primary'] else 'fell_back'

    def attempts(self) -> list[tuple[str | None, str | None]]:
        source = self.error.attempts if isinstance(self.error, FallbackError) else None
        if source is None:
            records = self.error.records if self.error is not None else self.result.steps  # type: ignore[union-attr]
            source = records[0].attempts if records and records[0].kind != 'agent' else ()
        return [(a.model, a.error) for a in source]

    def reason(self) -> str | None:
        records = self.error.records if self.error is not None else self.result.steps  # type: ignore[union-attr]
        return next((r.fallback_reason for r in records if r.fallback_reason is not None), None)

    def assert_sleeps(self, sleeps: list[float]) -> None:
        assert self.clock.sleeps == sleeps

    def assert_backoff_within(self, total: float) -> None:
        assert len(self.clock.sleeps) == 2
        assert sum(self.clock.sleeps) <= total

    def assert_breaker(self, model: str, *, failures: int) -> None:
        assert (self.breakers[model].failures, self.breakers[model].state) == (failures, 'closed')

    def assert_no_secret(self, secret: str) -> None:
        assert self.error is not None
        text = repr([r.summary() for r in self.error.records]) + str(self.error)
        assert secret not in text

    def assert_refusal(self, reason: str) -> None:
        assert isinstance(self.error, Refused)
        assert self.error.reason == reason

    def assert_budget(self, *, step: str, limit: str) -> None:
        assert isinstance(self.error, BudgetExceeded)
        assert (self.error.step, self.error.limit) == (step, limit)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def script(server: FaultServer, faults: dict[str, Sequence[Behaviour]]) -> None:
    queues = {model: list(behaviours) for model, behaviours in faults.items()}

    def respond(body: Any) -> Behaviour:
        queue = queues.get(body.get('model'), [OK])
        return queue.pop(0) if len(queue) > 1 else queue[0]

    server.reset()
    server.default = respond


class Desk:
    """The composition under test, on three models of the FaultServer."""

    def __init__(self, server: FaultServer, case: Case, clock: VirtualClock) -> None:
        self.clients: list[AsyncOpenAI] = []
        self.clock = clock
        base_url = f'http://127.0.0.1:{closed_port()}/v1' if case.primary_refuses_connections else server.base_url
        stream_profile = OpenAIModelProfile(openai_chat_streaming_requires_finish_reason=True)
        self.breakers = {m: CircuitBreaker(name=m, failure_threshold=5, clock=clock) for m in MODELS}
        self.attempt_timeout = case.attempt_timeout
        primary = self.retrying(self.model('primary', base_url, stream_profile if case.shape == 'stream' else None))
        backup = self.retrying(self.model('backup', server.base_url))
        large = self.retrying(self.model('large', server.base_url))
        self.first = Agent(FallbackModel(primary, backup), output_type=City, name='city')
        self.large = Agent(large, output_type=City, name='city_large', model_settings={'max_tokens': 4096})

    def model(self, name: str, base_url: str, profile: OpenAIModelProfile | None = None) -> Model:
        client = AsyncOpenAI(base_url=base_url, api_key='test-key', max_retries=0)
        self.clients.append(client)
        merged = OpenAIModelProfile({**openai_model_profile(name), **profile}) if profile else None
        return OpenAIChatModel(name, provider=OpenAIProvider(openai_client=client), profile=merged)

    def retrying(self, model: Model) -> RetryingModel:
        return RetryingModel(
            model,
            attempts=3,
            backoff=Backoff(base=0.5, cap=8, random=random.Random(7).random),
            attempt_timeout=self.attempt_timeout,
            deadline=3.0,
            breaker=self.breakers[model.model_name],
            clock=self.clock,
        )

    def workflow(self, shape: Shape) -> Step[str, Any]:
        city = podium.agent(self.first)
        city_large = podium.agent(self.large)
        if shape == 'stream':
            first = self.first

            @podium.step
            async def city_stream(question: str) -> City:
                async with first.run_stream(question) as streamed:
                    return await streamed.get_output()

            return fallback(city_stream, city_large)
        if shape == 'tool_loop':
            researcher = Agent(self.first.model, output_type=City, name='researcher')

            @researcher.tool_plain
            def lookup() -> str:
                return 'nothing yet'

            return default(podium.agent(researcher), UNKNOWN)
        if shape == 'chain':
            summarise = podium.agent(Agent(self.first.model, output_type=City, name='summarise'), input_type=City)
            return default(city >> summarise, UNKNOWN)
        desk = fallback(city, city_large)
        return default(desk, UNKNOWN) if shape == 'resilient' else desk

    async def aclose(self) -> None:
        for client in self.clients:
            await client.close()


LIMITS: dict[Shape, UsageLimits] = {
    'tool_loop': UsageLimits(request_limit=3),
    'chain': UsageLimits(total_tokens_limit=20),  # each request reports 15 tokens
}


@pytest.mark.parametrize('case', [pytest.param(case, id=name) for name, case in CASES.items()])
async def test_fault(server: FaultServer, case: Case):
    script(server, case.faults)
    clock = VirtualClock()
    desk = Desk(server, case, clock)
    run = Run(server, clock, desk.breakers)
    started = time.monotonic()
    try:
        run.result = await desk.workflow(case.shape).run(
            'What is the capital of France?', usage_limits=LIMITS.get(case.shape)
        )
    except WorkflowError as exc:
        run.error = exc
    finally:
        run.elapsed = time.monotonic() - started
        await desk.aclose()

    assert run.outcome() == case.outcome
    assert run.hits() == case.hits
    assert run.elapsed < case.bound
    assert run.attempts() == case.attempts
    assert run.reason() == case.reason
    case.check(run)


def test_matrix_covers_twenty_rows():
    assert len(CASES) >= 20
    assert len({name[:2] for name in CASES}) >= 19
