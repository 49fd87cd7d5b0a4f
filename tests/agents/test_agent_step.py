from __future__ import annotations

from dataclasses import dataclass

import pytest
from dirty_equals import IsStr
from inline_snapshot import snapshot
from pydantic import BaseModel
from pydantic_ai import Agent, RunContext
from pydantic_ai.usage import UsageLimits

import podium
from podium import BudgetExceeded, StepFailed, StepInputError, StepOutputError
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio


class Facts(BaseModel):
    topic: str
    urgent: bool


class Answer(BaseModel):
    text: str


def facts_agent(model: ScriptedModel) -> Agent[None, Facts]:
    return Agent(model, output_type=Facts, name='facts', instructions='Extract the facts.')


async def test_an_agent_step_renders_the_input_and_returns_the_agents_typed_output():
    model = ScriptedModel({'invoice': Facts(topic='billing', urgent=True)}, model_name='m1')
    step = podium.agent(facts_agent(model))

    result = await step.run('my invoice is wrong')

    assert result.output == Facts(topic='billing', urgent=True)
    assert model.prompts == ['my invoice is wrong']
    assert result.summary() == snapshot(
        {
            'workflow': 'facts',
            'status': 'ok',
            'output': {'topic': 'billing', 'urgent': True},
            'steps': [
                {
                    'name': 'facts',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'm1',
                    'path': IsStr(),
                    'usage': {'requests': 1, 'input_tokens': 54, 'output_tokens': 6},
                    'output': {'topic': 'billing', 'urgent': True},
                }
            ],
            'usage': {'requests': 1, 'input_tokens': 54, 'output_tokens': 6},
        }
    )


async def test_pydantic_inputs_are_rendered_as_class_name_and_json_by_default():
    answer_model = ScriptedModel(default=Answer(text='ok'))
    step = podium.agent(Agent(answer_model, output_type=Answer, name='answer'), input_type=Facts)

    await step.run(Facts(topic='tech', urgent=False))

    assert answer_model.prompts == ['Facts:\n{"topic":"tech","urgent":false}']


async def test_a_prompt_callable_renders_the_input_and_sets_the_input_type():
    answer_model = ScriptedModel(default=Answer(text='ok'))
    step = podium.agent(
        Agent(answer_model, output_type=Answer, name='answer'),
        prompt=lambda f: f'Write about {f.topic}.',
        input_type=Facts,
    )

    await step.run(Facts(topic='sales', urgent=False))

    assert answer_model.prompts == ['Write about sales.']


async def test_deps_reach_the_agent_mapped_per_step():
    @dataclass
    class Deps:
        customer: str

    model = ScriptedModel(default=Answer(text='hi'))
    agent = Agent(model, output_type=Answer, deps_type=str, name='greeter')

    @agent.instructions
    def who(ctx: RunContext[str]) -> str:
        return f'The customer is {ctx.deps}.'

    seen: list[str] = []

    @agent.output_validator
    def check(ctx: RunContext[str], output: Answer) -> Answer:
        seen.append(ctx.deps)
        return output

    step = podium.agent(agent, deps=lambda d: d.customer)
    await step.run('hello', deps=Deps(customer='ada'))

    assert seen == ['ada']


async def test_a_chain_of_agents_shares_one_usage_and_limits_hold_for_the_whole_run():
    facts = podium.agent(facts_agent(ScriptedModel(default=Facts(topic='t', urgent=False))))
    answer = podium.agent(
        Agent(ScriptedModel(default=Answer(text='a')), output_type=Answer, name='answer'), input_type=Facts
    )
    summary = podium.agent(
        Agent(ScriptedModel(default=Answer(text='b')), output_type=Answer, name='summary'), input_type=Answer
    )
    pipeline = facts >> answer >> summary

    ok = await pipeline.run('x', usage_limits=UsageLimits(request_limit=3))
    assert ok.usage.requests == 3

    with pytest.raises(BudgetExceeded) as caught:
        await pipeline.run('x', usage_limits=UsageLimits(request_limit=2))

    assert caught.value.step == 'summary'
    assert caught.value.limit == 'request_limit'
    assert [(r.name, r.status) for r in caught.value.records] == [
        ('facts', 'ok'),
        ('answer', 'ok'),
        ('summary', 'failed'),
    ]
    assert caught.value.usage is not None
    assert caught.value.usage.requests == 2


async def test_token_limits_count_across_agents():
    facts = podium.agent(facts_agent(ScriptedModel(default=Facts(topic='t', urgent=False))))
    answer = podium.agent(
        Agent(ScriptedModel(default=Answer(text='a')), output_type=Answer, name='answer'), input_type=Facts
    )

    with pytest.raises(BudgetExceeded) as caught:
        await (facts >> answer).run('x', usage_limits=UsageLimits(total_tokens_limit=70))

    assert caught.value.step == 'answer'
    assert caught.value.limit == 'total_tokens_limit'


async def test_invalid_output_after_the_agents_retries_fails_the_step_by_name():
    model = ScriptedModel(default={'topic': 'x'})  # `urgent` missing, every time
    step = podium.agent(Agent(model, output_type=Facts, name='facts', retries=1))

    with pytest.raises(StepFailed, match=r"step 'facts' failed: UnexpectedModelBehavior") as caught:
        await step.run('x')

    assert len(model.prompts) == 2  # the agent's own retry ran
    assert [r.status for r in caught.value.records] == ['failed']


async def test_wrong_input_type_is_caught_before_the_model_is_called():
    model = ScriptedModel(default=Answer(text='a'))
    step = podium.agent(Agent(model, output_type=Answer, name='answer'), input_type=Facts)

    with pytest.raises(StepInputError, match=r"step 'answer' takes Facts, got str"):
        await step.run('not facts')  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert model.prompts == []


async def test_an_agent_whose_output_does_not_match_its_declared_type_is_a_clear_error():
    model = ScriptedModel(default='plain text')
    agent: Agent[None, str] = Agent(model, name='chat')
    step = podium.agent(agent)
    step.output_class = Answer  # declared as producing Answer, but the agent returns str

    with pytest.raises(StepOutputError, match=r"agent step 'chat' declares output Answer but its agent returned str"):
        await step.run('hi')


summarizer = Agent('test')


async def test_a_nameless_agent_names_its_step_after_the_variable_holding_it():
    writer = Agent('test')
    flow = podium.agent(summarizer) >> podium.agent(writer)
    result = await flow.run('hello')
    assert [record.name for record in result.steps] == ['summarizer', 'writer']
    assert summarizer.name is None  # the agent itself is left as it was
    assert podium.agent(Agent('test')).name == 'agent'
    assert podium.agent(writer, name='drafting').name == 'drafting'
