"""Agent steps stream while their run streams: Pydantic-AI's events and the growing output, alike on both paths."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel, Field
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel
from stream_events import collect, comparable, kinds

import podium
from podium.events import AgentEvent, OutputDelta, OutputDiscarded, RunEvent

pytestmark = pytest.mark.anyio

STEP_EVENTS = frozenset({'agent_event', 'output_delta', 'output_discarded'})


class Verdict(BaseModel):
    answer: str
    score: int = Field(default=0, le=10)


async def words(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
    for piece in ('The ', 'answer ', 'is 42'):
        yield piece


async def verdict(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[DeltaToolCalls]:
    name = info.output_tools[0].name
    for i, args in enumerate(('{"answer": "ye', 's", "sco', 're": 7}')):
        yield {0: DeltaToolCall(name=name if i == 0 else None, json_args=args)}


async def wrong_then_right(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[DeltaToolCalls]:
    """A score of 99 breaks `le=10` only once it is complete: the output grows, then the agent asks again."""
    name = info.output_tools[0].name
    asked_again = len(messages) > 1
    for i, args in enumerate(('{"answer": "fir', 'st", "score": 9', '}' if asked_again else '9}')):
        yield {0: DeltaToolCall(name=name if i == 0 else None, json_args=args)}


async def both_paths(
    agent: Agent[None, object], *, handed_off: bool = False
) -> tuple[list[RunEvent], list[RunEvent], object]:
    """One streamed run on each path (each step warmed up, so the lean one has its plan); the outputs must agree.

    `handed_off`: the lean call gets an invalid output, so it hands the run to the agent, and its record says so.
    """
    lean, full = podium.agent(agent), podium.agent(agent, lean=False)
    await collect(lean, 'warm up')
    lean_events, full_events = await collect(lean, 'question'), await collect(full, 'question')
    lean_result, full_result = lean_events[-1], full_events[-1]
    assert lean_result.type == full_result.type == 'run_finished'
    assert lean_result.result.output == full_result.result.output
    assert lean_result.result.usage == full_result.result.usage
    assert [r.path for r in lean_result.result.steps] == ['agent' if handed_off else 'lean']
    assert [r.path for r in full_result.result.steps] == ['agent']
    return lean_events, full_events, lean_result.result.output


async def test_a_text_agent_streams_its_text_as_deltas_after_pydantic_ais_events():
    agent = Agent(FunctionModel(stream_function=words), name='writer')
    events = await collect(podium.agent(agent), 'question')
    deltas = [e for e in events if isinstance(e, OutputDelta)]
    assert ''.join(d.text or '' for d in deltas) == 'The answer is 42' == events[-1].result.output
    assert all(d.path == ('writer',) and d.partial is None for d in deltas)
    assert kinds(events) == [
        'run_started',
        'step_started',
        'part_start',
        'final_result',
        'output_delta',
        'part_delta',
        'output_delta',
        'part_delta',
        'output_delta',
        'part_end',
        'step_finished',
        'run_finished',
    ]


async def test_a_structured_agent_streams_each_partial_output_that_validates():
    agent = Agent(FunctionModel(stream_function=verdict), output_type=Verdict, name='judge')
    events = await collect(podium.agent(agent), 'question')
    partials = [e.partial for e in events if isinstance(e, OutputDelta)]
    assert partials == [Verdict(answer='ye'), Verdict(answer='yes'), Verdict(answer='yes', score=7)]
    assert events[-1].result.output == Verdict(answer='yes', score=7)
    assert kinds(events)[-4:] == ['output_tool_call', 'output_tool_result', 'step_finished', 'run_finished']


@pytest.mark.parametrize(
    ('stream', 'output_type'),
    [(words, str), (verdict, Verdict), (wrong_then_right, Verdict)],
    ids=['text', 'structured', 'invalid-then-valid'],
)
async def test_the_lean_and_agent_paths_stream_the_same_events_and_output(
    stream: object, output_type: type[object]
) -> None:
    agent = Agent(FunctionModel(stream_function=stream), output_type=output_type, name='agent')  # type: ignore[arg-type]
    lean_events, full_events, _ = await both_paths(agent, handed_off=stream is wrong_then_right)
    assert comparable(lean_events, types=STEP_EVENTS) == comparable(full_events, types=STEP_EVENTS)


async def test_when_the_agent_asks_again_the_output_it_streamed_is_discarded_first():
    agent = Agent(FunctionModel(stream_function=wrong_then_right), output_type=Verdict, name='judge')
    events, _, output = await both_paths(agent, handed_off=True)
    assert output == Verdict(answer='first', score=9)
    step = [e for e in events if e.type in ('output_delta', 'output_discarded')]
    discarded = next(i for i, e in enumerate(step) if isinstance(e, OutputDiscarded))
    assert [e.partial for e in step[:discarded]] == [Verdict(answer='fir'), Verdict(answer='first', score=9)]
    assert [e.partial for e in step[discarded + 1 :]] == [Verdict(answer='fir'), Verdict(answer='first', score=9)]
    assert 'asks the model again' in step[discarded].reason  # type: ignore[union-attr]


async def test_an_agent_with_tools_streams_its_tool_calls_and_only_its_final_text_counts_as_output():
    async def look_up_then_answer(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str | DeltaToolCalls]:
        if len(messages) == 1:
            yield {0: DeltaToolCall(name='order_status', json_args='{"order": "A1"}')}
        else:
            yield 'Shipped '
            yield 'today.'

    agent = Agent(FunctionModel(stream_function=look_up_then_answer), name='desk')

    @agent.tool_plain
    def order_status(order: str) -> str:
        return f'{order}: shipped'

    events = await collect(podium.agent(agent), 'where is A1?')
    assert kinds(events)[2:-2] == [
        'part_start',
        'part_end',
        'function_tool_call',
        'function_tool_result',
        'part_start',
        'final_result',
        'output_delta',
        'part_delta',
        'output_delta',
        'part_end',
    ]
    result = next(e.event for e in events if isinstance(e, AgentEvent) and e.event.event_kind == 'function_tool_result')
    assert result.part.content == 'A1: shipped'  # type: ignore[union-attr]
    assert ''.join(e.text or '' for e in events if isinstance(e, OutputDelta)) == 'Shipped today.'
    assert events[-1].result.steps[0].path == 'agent'


async def test_a_run_that_does_not_stream_sends_no_streamed_request():
    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart('plain')])

    # No stream function: a streamed request would fail, so both paths must call `request`.
    agent = Agent(FunctionModel(answer), name='plain')
    for lean in (None, False):
        result = await podium.agent(agent, lean=lean).run('question')
        assert result.output == 'plain'
