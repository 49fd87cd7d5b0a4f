"""The lean path reads partial output from a response's events, not by rebuilding the response after every delta.

Whatever the events, what it reads after each one must be what `OutputReader.read_partial` reads from the rebuilt
response (`StreamedResponse.get()`): the same value, or the same kind of error while the output is not valid yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import BaseModel, Field
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelRequest
from pydantic_ai.models.function import AgentInfo, DeltaThinkingCalls, DeltaThinkingPart, DeltaToolCall, FunctionModel

from podium.agents._final_output import StreamedOutput
from podium.agents._lean import LeanPlan, LeanPlans, plan_for_call

pytestmark = pytest.mark.anyio


class Verdict(BaseModel):
    answer: str
    score: int = Field(default=0, le=10)


Chunks = Callable[[AgentInfo], list[Any]]


def tool_call_in_pieces(info: AgentInfo) -> list[Any]:
    name = info.output_tools[0].name
    return [
        {0: DeltaToolCall(name=name if i == 0 else None, json_args=a)}
        for i, a in enumerate(('{"answer": "ye', 's", "sco', 're": 7}'))
    ]


def a_second_call_without_args(info: AgentInfo) -> list[Any]:
    return [
        {0: DeltaToolCall(name=info.output_tools[0].name, json_args='{"answer": "a"')},
        {1: DeltaToolCall(name=info.output_tools[0].name)},
    ]


def name_after_the_args(info: AgentInfo) -> list[Any]:
    return [
        {0: DeltaToolCall(json_args='{"answer": "la')},
        {0: DeltaToolCall(name=info.output_tools[0].name)},
        {0: DeltaToolCall(json_args='te"}')},
    ]


def a_call_without_args(info: AgentInfo) -> list[Any]:
    return [{0: DeltaToolCall(name=info.output_tools[0].name)}]


def too_high_a_score(info: AgentInfo) -> list[Any]:
    return [
        {0: DeltaToolCall(name=info.output_tools[0].name, json_args='{"answer": "x", "score": 1')},
        {0: DeltaToolCall(json_args='1}')},
    ]


def two_calls(info: AgentInfo) -> list[Any]:
    name = info.output_tools[0].name
    return [
        {0: DeltaToolCall(name=name, json_args='{"answer": "first"')},
        {1: DeltaToolCall(name=name, json_args='{"answer": "second"}')},
        {0: DeltaToolCall(json_args=', "score": 1}')},
    ]


def thinking_then_call(info: AgentInfo) -> list[Any]:
    thinking: DeltaThinkingCalls = {0: DeltaThinkingPart(content='hm')}
    return [
        thinking,
        {1: DeltaToolCall(name=info.output_tools[0].name, json_args='{"answer": "t')},
        {1: DeltaToolCall(json_args='"}')},
    ]


def text_in_pieces(info: AgentInfo) -> list[Any]:
    return ['The ', 'answer ', 'is 42']


async def reads(output_type: type[object], chunks: Chunks) -> list[tuple[object, object]]:
    """After each event that counts, what `StreamedOutput` reads and what the rebuilt response reads."""

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        for chunk in chunks(info):
            yield chunk

    agent = Agent(FunctionModel(stream_function=stream), output_type=output_type)
    plan = await plan_for_call(agent, 'question', None, None, LeanPlans())
    assert isinstance(plan, LeanPlan)
    messages: list[ModelMessage] = [ModelRequest.user_text_prompt('question')]
    seen: list[tuple[object, object]] = []
    async with plan.model.request_stream(messages, None, plan.template.parameters) as streamed:
        output = StreamedOutput(plan.reader, streamed)
        async for event in streamed:
            if not output.see(event):
                continue
            assert output.final is not None
            seen.append(
                (
                    await outcome(output.validate()),
                    await outcome(plan.reader.read_partial(streamed.get(), output.final.tool_name)),
                )
            )
    return seen


async def outcome(read: Any) -> object:
    try:
        return await read
    except Exception as exc:
        return type(exc)


@pytest.mark.parametrize(
    'chunks',
    [
        tool_call_in_pieces,
        a_second_call_without_args,
        name_after_the_args,
        a_call_without_args,
        too_high_a_score,
        two_calls,
        thinking_then_call,
    ],
)
async def test_structured_output_read_from_the_events_is_what_the_rebuilt_response_reads(chunks: Chunks) -> None:
    seen = await reads(Verdict, chunks)
    assert seen
    for from_events, rebuilt in seen:
        assert from_events == rebuilt


async def test_text_output_read_from_the_events_is_what_the_rebuilt_response_reads() -> None:
    seen = await reads(str, text_in_pieces)
    assert [from_events for from_events, _ in seen] == ['The ', 'The answer ', 'The answer is 42']
    assert all(from_events == rebuilt for from_events, rebuilt in seen)
