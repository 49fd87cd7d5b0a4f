from __future__ import annotations

import anyio
import pytest
from inline_snapshot import snapshot
from pydantic import BaseModel

import podium
from podium import Chain, ConfigurationError, StepFailed, StepInputError, WorkflowError, WorkflowTimeout

pytestmark = pytest.mark.anyio


class Facts(BaseModel):
    words: int


class Plan(BaseModel):
    steps: list[str]


@podium.step
def count(text: str) -> Facts:
    return Facts(words=len(text.split()))


@podium.step
async def plan(facts: Facts) -> Plan:
    return Plan(steps=[f'step {i}' for i in range(facts.words)])


@podium.step
def headline(p: Plan) -> str:
    return f'{len(p.steps)} steps'


async def test_chain_feeds_each_output_to_the_next_step():
    result = await (count >> plan >> headline).run('three small words')

    assert result.output == '3 steps'
    assert result.summary() == snapshot(
        {
            'workflow': 'count >> plan >> headline',
            'status': 'ok',
            'output': '3 steps',
            'steps': [
                {'name': 'count', 'kind': 'function', 'status': 'ok', 'output': {'words': 3}},
                {
                    'name': 'plan',
                    'kind': 'function',
                    'status': 'ok',
                    'output': {'steps': ['step 0', 'step 1', 'step 2']},
                },
                {'name': 'headline', 'kind': 'function', 'status': 'ok', 'output': '3 steps'},
            ],
            'usage': {'requests': 0, 'input_tokens': 0, 'output_tokens': 0},
        }
    )


def test_chains_stay_flat_and_named_chains_stay_whole():
    pipeline = count >> plan >> headline
    assert isinstance(pipeline, Chain)
    assert [s.name for s in pipeline.steps] == ['count', 'plan', 'headline']

    named = (count >> plan).named('analyse')
    outer = named >> headline
    assert isinstance(outer, Chain)
    assert [s.name for s in outer.steps] == ['analyse', 'headline']


def test_chaining_mismatched_runtime_types_fails_at_build_time():
    with pytest.raises(ConfigurationError, match=r"'count' outputs Facts but 'headline' takes Plan"):
        count >> headline  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]


async def test_a_named_chain_records_itself_around_its_steps():
    result = await (count >> plan).named('analyse').run('a b')
    assert [(r.name, r.kind) for r in result.steps] == [
        ('analyse', 'chain'),
        ('count', 'function'),
        ('plan', 'function'),
    ]


async def test_wrong_input_type_names_the_step_and_keeps_earlier_records():
    @podium.step
    def to_number(text: str) -> int:
        return len(text)

    bad = to_number >> podium.step(lambda n: n, name='identity') >> plan

    with pytest.raises(StepInputError) as caught:
        await bad.run('hello')

    assert caught.value.step == 'plan'
    assert "step 'plan' takes Facts, got int" in str(caught.value)
    assert [(r.name, r.status) for r in caught.value.records] == [
        ('to_number', 'ok'),
        ('identity', 'ok'),
        ('plan', 'failed'),
    ]


async def test_an_exception_in_a_step_becomes_step_failed_with_the_cause_chained():
    @podium.step
    def explode(text: str) -> str:
        raise KeyError('missing')

    with pytest.raises(StepFailed, match=r"step 'explode' failed: KeyError") as caught:
        await (count >> podium.step(lambda f: 'x', name='fmt') >> explode).run('a')

    assert isinstance(caught.value.__cause__, KeyError)
    assert isinstance(caught.value, WorkflowError)
    assert caught.value.usage is not None
    assert [r.status for r in caught.value.records] == ['ok', 'ok', 'failed']


async def test_timeout_stops_the_run_with_a_typed_error():
    @podium.step
    async def slow(text: str) -> str:
        await anyio.sleep(5)
        return text

    with anyio.fail_after(2):
        with pytest.raises(WorkflowTimeout, match=r'passed its timeout of 0\.05 s') as caught:
            await slow.run('x', timeout=0.05)
    assert [r.status for r in caught.value.records] == ['failed']


def test_run_sync_runs_outside_an_event_loop():
    assert (count >> plan >> headline).run_sync('one two').output == '2 steps'


def test_steps_that_take_the_flow_see_the_run_deps():
    @podium.step
    def greet(name: str, flow: podium.Flow) -> str:
        return f'{flow.deps}, {name}'

    assert greet.run_sync('Ada', deps='hello').output == 'hello, Ada'


def test_a_second_parameter_with_a_default_keeps_it_unless_it_is_a_flow():
    def join(text: str, sep: str = '-') -> str:
        return sep.join(text)

    def kind(text: str, flow: podium.Flow | None = None) -> str:
        return type(flow).__name__

    assert podium.step(join).run_sync('abc').output == 'a-b-c'
    assert podium.step(str.split).run_sync('a b').output == ['a', 'b']
    assert podium.step(kind).run_sync('abc').output == 'Flow'
    assert podium.step(lambda text, flow: flow.run_input).run_sync('abc').output == 'abc'


def test_a_builtin_without_a_signature_is_a_step_of_its_input_alone():
    assert podium.step(dict).run_sync([('a', 1)]).output == {'a': 1}


def test_invalid_timeout_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match='timeout must be positive'):
        count.run_sync('x', timeout=0)
