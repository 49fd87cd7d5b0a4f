"""Streams of nested steps: a workflow called as a tool streams inside the agent's tool call; branches interleave."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel
from stream_events import collect, kinds

import podium
from podium.events import AgentEvent, OutputDelta, RunEvent
from podium.tools import as_tool

pytestmark = pytest.mark.anyio


async def say(text: str) -> AsyncIterator[str]:
    for word in text.split(' '):
        yield word + ' '


def writer(name: str, text: str) -> podium.AgentStep[str, str]:
    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        async for piece in say(text):
            await anyio.lowlevel.checkpoint()  # let the other branch stream in between
            yield piece

    return podium.agent(Agent(FunctionModel(stream_function=stream), name=name))


def where(events: list[RunEvent], kind: str) -> list[tuple[str, ...]]:
    return [e.path for e in events if e.type == kind]


async def test_a_workflow_called_as_a_tool_streams_under_the_calling_agents_path():
    summary = (writer('draft', 'short draft') >> podium.step(str.upper)).named('summarise')

    async def call_then_answer(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str | DeltaToolCalls]:
        if len(messages) == 1:
            yield {0: DeltaToolCall(name='summarise', json_args='{"input": "the ticket"}')}
        else:
            yield 'Done.'

    desk = Agent(FunctionModel(stream_function=call_then_answer), name='desk', tools=[as_tool(summary)])
    events = await collect(podium.agent(desk), 'help')
    nested = [e for e in events if e.path[:2] == ('desk', 'summarise')]
    assert [(e.type, e.path) for e in nested if e.type in ('step_started', 'step_finished')] == [
        ('step_started', ('desk', 'summarise')),
        ('step_started', ('desk', 'summarise', 'draft')),
        ('step_finished', ('desk', 'summarise', 'draft')),
        ('step_started', ('desk', 'summarise', 'upper')),
        ('step_finished', ('desk', 'summarise', 'upper')),
        ('step_finished', ('desk', 'summarise')),
    ]
    assert ''.join(e.text or '' for e in nested if isinstance(e, OutputDelta)) == 'short draft '
    # The nested run happens inside the desk's tool call: between its call event and its result event.
    desk_kinds = [(kinds([e])[0], e.path) for e in events if e.path and e.path[0] == 'desk']
    call = desk_kinds.index(('function_tool_call', ('desk',)))
    result = desk_kinds.index(('function_tool_result', ('desk',)))
    assert call < desk_kinds.index(('step_started', ('desk', 'summarise'))) < result
    assert call < desk_kinds.index(('step_finished', ('desk', 'summarise'))) < result
    tool_result = next(
        e.event for e in events if isinstance(e, AgentEvent) and e.event.event_kind == 'function_tool_result'
    )
    assert tool_result.part.content == 'SHORT DRAFT '  # type: ignore[union-attr]
    assert ''.join(e.text or '' for e in events if isinstance(e, OutputDelta) and e.path == ('desk',)) == 'Done.'


async def test_parallel_branches_stream_interleaved_each_under_its_own_path():
    workflow = podium.parallel(writer('left', 'one two three'), writer('right', 'four five six'), name='both')
    events = await collect(workflow, 'go')
    deltas = [(e.path[-1], e.text) for e in events if isinstance(e, OutputDelta)]
    assert [text for name, text in deltas if name == 'left'] == ['one ', 'two ', 'three ']
    assert [text for name, text in deltas if name == 'right'] == ['four ', 'five ', 'six ']
    names = [name for name, _ in deltas]
    assert names != sorted(names)  # interleaved, not one branch after the other
    assert set(where(events, 'output_delta')) == {('both', 'left'), ('both', 'right')}
    assert events[-1].result.output == ('one two three ', 'four five six ')  # type: ignore[union-attr]


async def test_map_each_streams_every_item_under_the_mapped_steps_path():
    async def echo(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        prompt = str(messages[-1].parts[-1].content)  # type: ignore[union-attr]
        for piece in (prompt, '!'):
            await anyio.lowlevel.checkpoint()
            yield piece

    shout = podium.agent(Agent(FunctionModel(stream_function=echo), name='shout'))
    events = await collect(podium.map_each(shout, name='all'), ['a', 'b', 'c'])
    deltas = [(e.path, e.text) for e in events if isinstance(e, OutputDelta)]
    assert {path for path, _ in deltas} == {('all', 'shout')}
    assert sorted(text for _, text in deltas) == ['!', '!', '!', 'a', 'b', 'c']
    assert events[-1].result.output == ['a!', 'b!', 'c!']  # type: ignore[union-attr]
    assert where(events, 'step_started').count(('all', 'shout')) == 3
