"""`guarded`: input guards race the step, a trip cancels it and what it spent counts; output guards; safe responses."""

from __future__ import annotations

import re

import anyio
import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

import podium
from podium import GuardTripped, GuardVerdict, guard, guarded
from podium.cli._graph import to_mermaid

pytestmark = pytest.mark.anyio


class Calls:
    """Counts the requests of a `FunctionModel`."""

    def __init__(self) -> None:
        self.count = 0


def _answering(calls: Calls, text: str) -> FunctionModel:
    async def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        calls.count += 1
        return ModelResponse(parts=[TextPart(text)])

    return FunctionModel(answer, model_name=f'model-{text}')


class Race:
    """A guarded chain `first >> slow >> last` whose `slow` agent hangs in a tool after one model response."""

    def __init__(self) -> None:
        self.first, self.slow, self.last = Calls(), Calls(), Calls()
        self.in_tool = anyio.Event()
        self.later_ran = 0

        async def slow_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            self.slow.count += 1
            return ModelResponse(parts=[ToolCallPart('look_up', {})])

        slow = Agent(FunctionModel(slow_model, model_name='model-slow'), name='slow')

        @slow.tool_plain
        async def look_up() -> str:  # pyright: ignore[reportUnusedFunction]  # registered with the agent
            self.in_tool.set()
            await anyio.sleep_forever()
            return 'never'

        self.chain = (
            podium.agent(Agent(_answering(self.first, 'a'), name='first'))
            >> podium.agent(slow)
            >> podium.agent(Agent(_answering(self.last, 'c'), name='last'))
        ).named('desk')

        @podium.step
        def later(text: str) -> str:
            self.later_ran += 1
            return text

        self.later = later


async def test_a_tripped_input_guard_cancels_the_step_and_no_later_step_runs():
    race = Race()

    async def wait_then_block(text: str) -> GuardVerdict:
        await race.in_tool.wait()  # trip only once the step has spent tokens
        return GuardVerdict.block('looks like an attack')

    workflow = guarded(race.chain, input=[guard(wait_then_block, name='watch')]) >> race.later

    with pytest.raises(GuardTripped) as caught:
        await workflow.run('hello')

    error = caught.value
    assert (error.guard, error.on, error.verdict.reason, error.step) == (
        'watch',
        'input',
        'looks like an attack',
        'watch',
    )
    assert (race.first.count, race.slow.count, race.last.count, race.later_ran) == (1, 1, 0, 0)
    records = {r.name: r for r in error.records}
    assert sorted(r.name for r in error.records) == ['desk', 'first', 'guarded(desk)', 'slow', 'watch']
    assert records['slow'].status == 'failed'
    assert (records['slow'].error or '').startswith('CancelledError')
    assert records['desk'].status == 'failed'
    assert (records['watch'].status, records['watch'].route, records['watch'].reason) == (
        'failed',
        'block',
        'looks like an attack',
    )
    wrapper = records['guarded(desk)']
    assert (wrapper.status, wrapper.route, wrapper.detail['guard']) == ('failed', 'blocked', 'watch')
    # The step's spending before the trip: `first`'s finished call, and `slow`'s first response.
    spent = records['first'].usage
    assert wrapper.detail['cancelled'] == 'desk'
    assert wrapper.detail['cancelled_requests'] == 2
    assert wrapper.detail['cancelled_input_tokens'] > spent.input_tokens > 0
    assert error.usage is not None
    assert error.usage.requests == 2
    assert error.usage.input_tokens == wrapper.detail['cancelled_input_tokens']
    assert error.usage.output_tokens == wrapper.detail['cancelled_output_tokens']


async def test_the_step_output_waits_for_the_guards_and_is_dropped_when_one_trips_later():
    calls = Calls()
    step = podium.agent(Agent(_answering(calls, 'done'), name='fast'))
    finished = anyio.Event()

    @podium.step
    def mark(text: str) -> str:
        finished.set()
        return text

    async def slow_block(text: str) -> GuardVerdict:
        await finished.wait()
        return GuardVerdict.block('too late, still blocked')

    with pytest.raises(GuardTripped) as caught:
        await guarded(step >> mark, input=[guard(slow_block, name='late')]).run('hi')

    assert calls.count == 1
    wrapper = caught.value.records[0]
    assert 'cancelled' not in wrapper.detail  # the step had finished: nothing was cancelled
    assert caught.value.usage is not None
    assert caught.value.usage.requests == 1


async def test_guards_that_pass_let_the_output_through_and_output_guards_check_it():
    seen: list[str] = []

    def allow(text: str) -> GuardVerdict:
        seen.append(text)
        return GuardVerdict.allow('fine')

    def no_shouting(text: str) -> GuardVerdict:
        return GuardVerdict.block('shouting') if text.isupper() else GuardVerdict.allow()

    upper = podium.step(lambda text: text.upper(), name='upper')
    workflow = guarded(upper, input=[guard(allow)], output=[guard(no_shouting, on='output')])

    with pytest.raises(GuardTripped) as caught:
        await workflow.run('hi')
    assert (caught.value.guard, caught.value.on, seen) == ('no_shouting', 'output', ['hi'])

    quiet = guarded(
        podium.step(lambda text: text, name='same'), input=[guard(allow)], output=[guard(no_shouting, on='output')]
    )
    assert (await quiet.run('hi')).output == 'hi'


async def test_a_safe_response_answers_instead_and_the_run_goes_on_degraded():
    race = Race()

    def block(text: str) -> GuardVerdict:
        return GuardVerdict.block('not for this desk')

    refuse = podium.step(lambda text: 'I cannot help with that.', name='refuse')
    workflow = guarded(race.chain, input=[guard(block, name='topic')], safe_response=refuse) >> race.later

    result = await workflow.run('hello')

    assert (result.output, result.status, race.later_ran) == ('I cannot help with that.', 'degraded', 1)
    wrapper = result.record('guarded(desk)')
    assert (wrapper.status, wrapper.route, wrapper.reason, wrapper.detail['guard']) == (
        'degraded',
        'safe_response',
        'not for this desk',
        'topic',
    )
    assert result.degraded_reasons == ("guarded(desk): guard 'topic' stopped the input: not for this desk",)
    assert podium.guards.tripped_guards(result) == ('topic',)


async def test_not_concurrent_runs_every_input_guard_before_the_step():
    calls = Calls()
    step = podium.agent(Agent(_answering(calls, 'x'), name='never'))

    with pytest.raises(GuardTripped):
        await guarded(step, input=[guard(lambda text: GuardVerdict.block('no'), name='first')], concurrent=False).run(
            'hi'
        )

    assert calls.count == 0


async def test_a_rewriting_guard_runs_before_the_step_which_sees_its_replacement():
    seen: list[str] = []

    def mask(text: str) -> GuardVerdict:
        return GuardVerdict.allow('masked', replacement=text.replace('secret', '***'))

    def record(text: str) -> str:
        seen.append(text)
        return text

    workflow = guarded(podium.step(record, name='record'), input=[guard(mask, rewrites=True)])
    assert (await workflow.run('my secret')).output == 'my ***'
    assert seen == ['my ***']


async def test_a_guard_racing_the_step_may_not_replace_the_value():
    def mask(text: str) -> GuardVerdict:
        return GuardVerdict.allow(replacement='masked')

    workflow = guarded(podium.step(lambda text: text, name='echo'), input=[guard(mask)])
    with pytest.raises(podium.StepOutputError, match='give the guard rewrites=True') as caught:
        await workflow.run('hi')
    assert caught.value.step == 'mask'


async def test_a_failing_step_ends_the_race_with_its_own_error():
    def boom(text: str) -> str:
        raise ValueError('broken')

    async def slow_allow(text: str) -> GuardVerdict:
        await anyio.sleep_forever()
        raise AssertionError('unreachable')

    with pytest.raises(podium.StepFailed, match='broken'):
        await guarded(podium.step(boom, name='boom'), input=[guard(slow_allow)]).run('hi')


def test_guarded_describes_itself_as_a_wrapper_that_graphs_and_evals_walk():
    def ok(text: str) -> GuardVerdict:
        return GuardVerdict.allow()

    step = podium.step(lambda text: text, name='echo')
    refuse = podium.step(lambda text: 'no', name='refuse')
    workflow = guarded(
        step,
        input=[guard(ok, name='in_guard')],
        output=[guard(ok, on='output', name='out_guard')],
        safe_response=refuse,
    )

    info = workflow.describe()
    assert info.kind == 'wrapper'
    assert [(label, child.name) for label, child in info.children] == [
        ('input', 'in_guard'),
        ('', 'echo'),
        ('output', 'out_guard'),
        ('safe_response', 'refuse'),
    ]
    assert not info.deterministic
    assert [c.describe().guards for _, c in info.children[:3]] == ['input', None, 'output']
    assert to_mermaid(workflow) == (
        'flowchart TD\n'
        '    n0["guarded(echo)"]\n'
        '    n1["in_guard"]\n'
        '    n0 -.->|input| n1\n'
        '    n2["echo"]\n'
        '    n0 -.-> n2\n'
        '    n3["out_guard"]\n'
        '    n0 -.->|output| n3\n'
        '    n4["refuse"]\n'
        '    n0 -.->|safe_response| n4'
    )


@pytest.mark.parametrize(
    ('build', 'message'),
    [
        (lambda step, g_in, g_out: guarded(step), 'has no guards: pass input=[...] or output=[...]'),
        (lambda step, g_in, g_out: guarded(step, input=[g_out]), 'checks the output, but is given as input='),
        (lambda step, g_in, g_out: guarded(step, output=[g_in]), 'checks the input, but is given as output='),
        (lambda step, g_in, g_out: guarded(step, input=[lambda x: x]), 'takes guards made with podium.guard'),
        (lambda step, g_in, g_out: guarded(step, input=[g_in], safe_response=print), 'must be a podium step'),
    ],
)
def test_bad_arguments_to_guarded_say_what_to_do(build, message: str):  # pyright: ignore[reportMissingParameterType, reportUnknownParameterType]
    def ok(text: str) -> GuardVerdict:
        return GuardVerdict.allow()

    step = podium.step(lambda text: text, name='echo')
    with pytest.raises(podium.ConfigurationError, match=re.escape(message)):
        build(step, guard(ok), guard(ok, on='output'))
