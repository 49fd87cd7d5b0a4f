from __future__ import annotations

import time

import anyio
import pytest
from fallback_faults import server_error
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

import podium
from podium import ConfigurationError
from podium.fallbacks import AllModelsFailed, VirtualClock, hedge

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


class Legs:
    """A step whose legs are scripted: each leg waits for its own event, or fails, or answers at once."""

    def __init__(self, *plans: str) -> None:
        self.plans = list(plans)
        self.started = 0
        self.cancelled = 0
        self.step = podium.step(self.answer, name='answer')

    async def answer(self, message: str) -> str:
        plan = self.plans[self.started]
        self.started += 1
        leg = self.started
        if plan == 'fail':
            raise server_error()
        if plan == 'hang':
            try:
                await anyio.sleep_forever()
            finally:
                self.cancelled += 1
        return f'leg {leg}'


async def test_a_slow_first_leg_is_hedged_and_cancelled():
    legs = Legs('hang', 'answer')
    result = await hedge(legs.step, after=0.5, clock=VirtualClock()).run('hi')
    assert result.output == 'leg 2'
    assert (legs.started, legs.cancelled) == (2, 1)
    record = result.record('hedge(answer)')
    assert record.detail == {'legs': 2, 'winner': 2}
    assert [(a.number, a.error) for a in record.attempts] == [(1, 'CancelledError'), (2, None)]
    assert record.attempts[1].waited_s >= 0.5


async def test_a_fast_first_leg_is_not_hedged():
    legs = Legs('answer', 'answer')
    result = await hedge(legs.step, after=10).run('hi')
    assert (result.output, legs.started) == ('leg 1', 1)
    assert result.record('hedge(answer)').summary() == {
        'name': 'hedge(answer)',
        'kind': 'hedge',
        'status': 'ok',
        'detail': {'winner': 1},
        'output': 'leg 1',
    }


async def test_a_failed_leg_starts_the_next_at_once():
    legs = Legs('fail', 'answer')
    started = time.monotonic()
    result = await hedge(legs.step, after=10).run('hi')
    assert result.output == 'leg 2'
    assert time.monotonic() - started < 1
    assert [(a.number, a.error) for a in result.record('hedge(answer)').attempts] == [
        (1, 'ModelServerError'),
        (2, None),
    ]


async def test_every_leg_failing_is_typed():
    legs = Legs('fail', 'fail', 'fail')
    with pytest.raises(AllModelsFailed) as raised:
        await hedge(legs.step, after=10, hedges=2).run('hi')
    assert len(raised.value.causes) == 3


async def test_what_a_cancelled_leg_completed_is_counted():
    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        tool_returned = any(isinstance(p, ToolReturnPart) for m in messages for p in m.parts)
        if not tool_returned and not calls:
            calls.append('tool')
            return ModelResponse(parts=[ToolCallPart('lookup', {})])
        calls.append('answer')
        return ModelResponse(parts=[TextPart('done')])

    calls: list[str] = []
    hold = anyio.Event()

    async def lookup() -> str:
        await hold.wait()  # the first leg stalls here, after its first request was answered
        return 'found'

    agent = Agent(FunctionModel(model), tools=[lookup], name='researcher')
    result = await hedge(podium.agent(agent), after=0.01).run('hi')
    assert result.output == 'done'
    assert calls == ['tool', 'answer']
    assert result.usage.requests == 2  # the loser's answered request counts too
    record = result.record('hedge(researcher)')
    assert (record.detail, record.fallback_reason) == ({'legs': 2, 'winner': 2}, None)
    # the winner's one request, and the leg cancelled after its own request was answered
    assert sorted(str(a.error) for a in record.attempts) == ['CancelledError', 'None']


def test_hedge_configuration_errors_name_the_argument():
    step = Legs().step
    with pytest.raises(ConfigurationError, match='after'):
        hedge(step, after=-1)
    with pytest.raises(ConfigurationError, match='hedges'):
        hedge(step, after=1, hedges=0)
