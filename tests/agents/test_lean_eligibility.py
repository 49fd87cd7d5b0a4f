"""Which agent calls take the lean path: only those provably equal to one request plus output validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest
from pydantic import BaseModel
from pydantic_ai import Agent, RunContext
from pydantic_ai.capabilities import Hooks
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.output import TextOutput
from pydantic_ai.settings import ModelSettings
from pydantic_ai.toolsets import FunctionToolset
from pydantic_ai.usage import UsageLimits

import podium
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


class Answer(BaseModel):
    text: str


def answer_agent(**kwargs: Any) -> Agent[None, Any]:
    kwargs.setdefault('output_type', Answer)
    return Agent(ScriptedModel(default=Answer(text='ok')), name='answerer', **kwargs)


async def path_of(agent: Agent[None, Any], **kwargs: Any) -> str | None:
    result = await podium.agent(agent).run('hello', **kwargs)
    return result.record('answerer').path


async def test_a_plain_structured_agent_takes_the_lean_path():
    assert await path_of(answer_agent(instructions='Answer.', system_prompt='Be kind.')) == 'lean'


def add_tool(agent: Agent[None, Any]) -> None:
    @agent.tool_plain
    def now() -> str:
        return 'noon'


def add_output_validator(agent: Agent[None, Any]) -> None:
    @agent.output_validator
    def keep(output: Answer) -> Answer:
        return output


def add_dynamic_instructions(agent: Agent[None, Any]) -> None:
    @agent.instructions
    def who(ctx: RunContext[None]) -> str:
        return 'The user is ada.'


def add_dynamic_system_prompt(agent: Agent[None, Any]) -> None:
    @agent.system_prompt
    def when() -> str:
        return 'It is noon.'


@pytest.mark.parametrize(
    'change',
    [add_tool, add_output_validator, add_dynamic_instructions, add_dynamic_system_prompt],
)
async def test_an_agent_that_does_more_than_one_request_takes_the_agent_path(
    change: Callable[[Agent[None, Any]], None],
):
    agent = answer_agent()
    change(agent)

    assert await path_of(agent) == 'agent'


async def test_an_agent_with_event_listeners_takes_the_agent_path():
    events: list[str] = []
    agent = Agent(TestModel(custom_output_args={'text': 'ok'}), output_type=Answer, name='answerer')

    @agent.on_event
    async def listen(ctx: RunContext[None], event: Any) -> None:
        events.append(type(event).__name__)

    assert await path_of(agent) == 'agent'
    assert events  # the listeners heard the run


def shout(text: str) -> str:
    return text.upper()


def as_answer(text: str) -> Answer:
    return Answer(text=text)


@pytest.mark.parametrize(
    'kwargs',
    [
        {'toolsets': [FunctionToolset()]},
        {'capabilities': [Hooks()]},
        {'model_settings': lambda ctx: {'temperature': 0.1}},
        {'output_type': as_answer},
        {'output_type': TextOutput(shout)},
        {'metadata': {'team': 'a'}},
        {'validation_context': {'strict': True}},
        {'max_concurrency': 2},
    ],
    ids=lambda kwargs: next(iter(kwargs)),
)
async def test_configuration_the_lean_path_cannot_reproduce_takes_the_agent_path(kwargs: dict[str, Any]):
    assert await path_of(answer_agent(**kwargs)) == 'agent'


async def test_a_subclass_of_agent_takes_the_agent_path():
    class Custom(Agent[None, Answer]):
        pass

    agent = Custom(ScriptedModel(default=Answer(text='ok')), output_type=Answer, name='answerer')

    assert await path_of(agent) == 'agent'


async def test_lean_false_forces_the_agent_path():
    result = await podium.agent(answer_agent(), lean=False).run('hello')

    assert result.record('answerer').path == 'agent'


async def test_an_active_override_takes_the_agent_path_and_its_model():
    agent = answer_agent()
    step = podium.agent(agent)
    await step.run('hello')
    other = ScriptedModel(default=Answer(text='overridden'))

    with agent.override(model=other):
        result = await step.run('hello')

    assert result.output == Answer(text='overridden')
    assert result.record('answerer').path == 'agent'


async def test_token_counting_limits_take_the_agent_path():
    limits = UsageLimits(count_tokens_before_request=True)

    # The agent counts tokens before its request (which ScriptedModel cannot); a lean call never would.
    with pytest.raises(podium.StepFailed, match='Token counting ahead of the request is not supported'):
        await path_of(answer_agent(), usage_limits=limits)


async def test_a_tool_added_after_lean_calls_switches_the_agent_to_the_agent_path():
    agent = answer_agent()
    assert await path_of(agent) == 'lean'

    add_tool(agent)

    assert await path_of(agent) == 'agent'


async def test_a_new_model_is_captured_again_and_used():
    agent = answer_agent(instructions='Answer.')
    assert await path_of(agent) == 'lean'
    replacement = ScriptedModel(default=Answer(text='from the new model'))

    agent.model = replacement
    result = await podium.agent(agent).run('hello')

    assert result.output == Answer(text='from the new model')
    assert result.record('answerer').path == 'lean'
    assert replacement.prompts == ['hello']


async def test_concurrent_first_calls_all_get_the_agents_output():
    model = ScriptedModel(default=Answer(text='ok'))
    step = podium.agent(Agent(model, output_type=Answer, name='answerer'))
    paths: list[str | None] = []

    async def one(i: int) -> None:
        result = await step.run(f'hello {i}')
        assert result.output == Answer(text='ok')
        paths.append(result.record('answerer').path)

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(one, i)

    assert set(paths) <= {'lean', 'agent'}
    assert len(model.prompts) == 20
    assert (await step.run('again')).record('answerer').path == 'lean'


async def test_settings_edited_in_place_are_captured_again():
    seen: list[object] = []

    async def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(info.model_settings)
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {'text': 'ok'})])

    settings: ModelSettings = {'temperature': 0.1}
    agent = Agent(FunctionModel(answer), output_type=Answer, name='answerer', model_settings=settings)
    assert await path_of(agent) == 'lean'

    settings['temperature'] = 0.9

    assert await path_of(agent) == 'lean'
    assert seen == [{'temperature': 0.1}, {'temperature': 0.9}]
