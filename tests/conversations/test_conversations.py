"""A run is one turn of a conversation: the history reaches the steps that ask for it, the turn comes back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelResponse,
    TextPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

import podium
from podium import Approve, ConfigurationError, InMemoryRunStore

EXAMPLES = Path(__file__).parents[2] / 'examples'
sys.path.insert(0, str(EXAMPLES))
from chat_desk import build_chat_desk, user_messages  # noqa: E402

pytestmark = pytest.mark.anyio


def echo_agent(seen: list[list[ModelMessage]], name: str = 'echo') -> Agent[None, str]:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(list(messages))
        return ModelResponse(parts=[TextPart(' | '.join(user_messages(messages)))])

    return Agent(FunctionModel(respond), name=name, instructions='Answer.')


async def test_an_agent_step_with_history_gets_the_earlier_turns_on_the_agent_path() -> None:
    seen: list[list[ModelMessage]] = []
    step = podium.agent(echo_agent(seen), history=True)

    first = await step.run('my invoice is wrong', message_history=[])
    second = await step.run('and the other one?', message_history=first.all_messages())

    assert first.output == 'my invoice is wrong'
    assert second.output == 'my invoice is wrong | and the other one?'
    assert second.record('echo').path == 'agent'
    assert [type(m) for m in first.new_messages()] == [ModelRequest, ModelResponse]
    assert len(second.all_messages()) == 4
    # The stored conversation round-trips through Pydantic-AI's own JSON, as a caller would keep it.
    stored = ModelMessagesTypeAdapter.dump_json(second.all_messages())
    third = await step.run('thanks', message_history=ModelMessagesTypeAdapter.validate_json(stored))
    assert third.output == 'my invoice is wrong | and the other one? | thanks'


async def test_an_agent_step_without_history_sees_only_its_own_prompt() -> None:
    seen: list[list[ModelMessage]] = []
    step = podium.agent(echo_agent(seen))

    result = await step.run('and the other one?', message_history=[ModelRequest.user_text_prompt('my invoice')])

    assert result.output == 'and the other one?'
    assert result.record('echo').path == 'lean'


async def test_the_turn_is_the_input_and_the_output() -> None:
    step = podium.agent(echo_agent([]), history=True)
    result = await step.run('hello', message_history=[])

    request, response = result.new_messages()
    assert isinstance(request, ModelRequest)
    assert isinstance(request.parts[0], UserPromptPart)
    assert request.parts[0].content == 'hello'
    assert isinstance(response, ModelResponse)
    assert response.parts == [TextPart('hello')]


async def test_new_messages_needs_a_conversation_run() -> None:
    result = await podium.agent(echo_agent([])).run('hello')
    with pytest.raises(ConfigurationError, match='was not a conversation turn'):
        result.new_messages()


@pytest.mark.parametrize(
    ('history', 'message'),
    [
        ('hello', 'must be a list of Pydantic-AI ModelMessages, got str'),
        ([{'role': 'user', 'content': 'hi'}], r'message_history\[0\] is a dict'),
        (42, 'got int'),
    ],
)
async def test_a_history_that_is_not_messages_is_refused_at_the_call(history: object, message: str) -> None:
    seen: list[list[ModelMessage]] = []
    step = podium.agent(echo_agent(seen), history=True)
    with pytest.raises(ConfigurationError, match=message):
        await step.run('hi', message_history=history)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert seen == []


async def test_a_paused_turn_keeps_its_history_through_the_resume() -> None:
    seen: list[list[ModelMessage]] = []
    flow = (podium.approval(name='ok', input_type=str) >> podium.step(lambda r: r.value, name='value')).named('turn')
    answer = podium.agent(echo_agent(seen), history=True)
    chat = (flow >> answer).named('chat')
    store = InMemoryRunStore()
    history = [ModelRequest.user_text_prompt('earlier'), ModelResponse(parts=[TextPart('noted')])]

    paused = await chat.run('now', message_history=history, store=store)
    assert paused.paused is not None
    result = await chat.resume(paused.paused.token, Approve(), store=store)

    assert result.output == 'earlier | now'
    assert result.message_history == tuple(history)
    assert len(result.all_messages()) == 4


async def test_the_router_routes_a_follow_up_by_the_conversation() -> None:
    desk = build_chat_desk()

    first = await desk.run('my invoice shows a double charge', message_history=[])
    follow_up = 'can you send the receipt to my accountant as well?'
    second = await desk.run(follow_up, message_history=first.all_messages())
    alone = await desk.run(follow_up, message_history=[])

    assert first.record('chat_desk').route == 'billing'
    assert second.record('chat_desk').route == 'billing'
    assert second.record('chat_desk').reason == 'follows up on a billing message'
    assert alone.record('chat_desk').route == 'out_of_scope'


def test_the_chat_desk_routes_three_typed_turns() -> None:
    env = {**os.environ, 'PYTHONPATH': str(Path(podium.__file__).parents[1])}
    turns = 'my invoice shows a double charge\ncan you send the receipt to my accountant as well?\nthe app crashes\n'
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / 'chat_desk.py')],
        input=turns,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    routes = [line.split(']')[0].removeprefix('desk [') for line in done.stdout.splitlines()]
    assert routes == ['billing', 'billing', 'tech']
