"""The events only a step knows: routes, failed attempts, fallbacks and replays, each sent when it happens."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel

import podium
from podium import RunHook, StepRecord, StepScope, step
from podium.events import AttemptFailed, FallbackTaken, RouteDecided, RunEvent, StepReplayed, StepStarted
from podium.fallbacks import Backoff, default, fallback, retry

pytestmark = pytest.mark.anyio

NO_WAIT = Backoff(base=0.0, jitter='none')


@step
def billing(text: str) -> str:
    return f'billing: {text}'


@step
def other(text: str) -> str:
    return f'other: {text}'


async def _events(workflow: podium.Step[str, Any], text: str) -> list[RunEvent]:
    async with workflow.stream(text) as events:
        return [event async for event in events]


async def test_an_llm_router_announces_its_route_before_the_specialist_starts():
    decision = {'route': 'billing', 'confidence': 0.9, 'reason': 'mentions an invoice'}
    router = podium.Router(
        {'billing': billing, 'other': other}, fallback='other', model=TestModel(custom_output_args=decision)
    )
    seen = await _events(router, 'my invoice')
    decided = [e for e in seen if isinstance(e, RouteDecided)]
    assert [(e.path, e.route, e.confidence, e.reason) for e in decided] == [
        (('router',), 'billing', 0.9, 'mentions an invoice')
    ]
    order = [(e.type, e.path) for e in seen if e.type in {'route_decided', 'step_started'}]
    assert order.index(('route_decided', ('router',))) < order.index(('step_started', ('router', 'billing')))


async def test_a_router_falling_back_says_why_and_where_to():
    decision = {'route': 'refunds', 'confidence': 0.9, 'reason': 'guess'}
    router = podium.Router(
        {'billing': billing, 'other': other}, fallback='other', model=TestModel(custom_output_args=decision)
    )
    seen = await _events(router, 'hello')
    taken = [e for e in seen if isinstance(e, FallbackTaken)]
    assert [(e.reason, e.to) for e in taken] == [('invalid_decision', 'other')]
    assert [e.route for e in seen if isinstance(e, RouteDecided)] == ['other']


async def test_a_bool_branch_announces_then_or_otherwise():
    workflow = podium.branch(lambda text: 'invoice' in text, then=billing, otherwise=other, name='triage')
    seen = await _events(workflow, 'an invoice')
    assert [(e.path, e.route) for e in seen if isinstance(e, RouteDecided)] == [(('triage',), 'then')]


async def test_a_step_retry_announces_each_failed_try_and_the_wait():
    calls: list[str] = []

    @step
    def flaky(text: str) -> str:
        calls.append(text)
        if len(calls) < 2:
            raise ModelHTTPError(503, 'upstream', body='overloaded')
        return text

    seen = await _events(retry(flaky, attempts=3, backoff=NO_WAIT, name='patient'), 'x')
    failed = [e for e in seen if isinstance(e, AttemptFailed)]
    assert [(e.path, e.attempt, e.retry_in_s) for e in failed] == [(('patient',), 1, 0.0)]
    assert seen[-1].type == 'run_finished'


async def test_a_model_retry_below_an_agent_step_is_announced_on_the_agent_path():
    tries: list[int] = []

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        tries.append(1)
        if len(tries) == 1:
            raise ModelHTTPError(503, 'flaky-model', body='overloaded')
        return ModelResponse(parts=[TextPart('fine')])

    writer = podium.agent(Agent(FunctionModel(answer)), name='writer')
    seen = await _events(writer, 'hi')
    failed = [e for e in seen if isinstance(e, AttemptFailed)]
    assert len(failed) == 1
    assert failed[0].path == ('writer',)
    assert failed[0].status_code == 503
    assert failed[0].retry_in_s is not None
    assert seen[-1].type == 'run_finished'


async def test_a_fallback_and_a_default_announce_what_runs_instead():
    @step
    def broken(text: str) -> str:
        raise ModelHTTPError(503, 'upstream', body='down')

    seen = await _events(fallback(broken, other, name='either'), 'x')
    assert [(e.path, e.to) for e in seen if isinstance(e, FallbackTaken)] == [(('either',), 'other')]
    seen = await _events(default(broken, 'sorry', name='safe'), 'x')
    assert [(e.path, e.to) for e in seen if isinstance(e, FallbackTaken)] == [(('safe',), 'default')]


async def test_a_step_replayed_by_a_hook_says_so():
    class Replay(RunHook):
        wraps_steps = True

        async def around_step(
            self, step: podium.Step[Any, Any, Any], input: Any, scope: StepScope, proceed: Any
        ) -> Any:
            if step.name == 'billing':
                scope.adopt(StepRecord(name='billing', kind='function', status='ok', output='stored'))
                return 'stored'
            return await proceed()

    async with (billing >> other).stream('x', hooks=[Replay()]) as events:
        seen = [event async for event in events]
    replayed = [e for e in seen if isinstance(e, StepReplayed)]
    assert [e.path for e in replayed] == [('billing',)]
    started = [e.path for e in seen if isinstance(e, StepStarted)]
    assert started == [('billing',), ('other',)]
    assert events.result.output == 'other: stored'
