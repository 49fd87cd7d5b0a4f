"""The one dispatch point: records, hooks, deadlines, bounds and the run context, for every step type."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import UsageLimits

import podium
from podium import Flow, RunHook, StepInfo, StepRecord, StepScope
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio


class Shout(podium.Step[str, str]):
    """A user's own step: it implements `_run` alone."""

    def __init__(self) -> None:
        self.name = 'shout'

    async def _run(self, input: str, scope: StepScope) -> str:
        scope.detail['length'] = len(input)
        return input.upper()


class Recorder(RunHook):
    def __init__(self) -> None:
        self.events: list[str] = []

    def run_started(self, flow: Flow[Any]) -> None:
        self.events.append(f'run {flow.workflow}')

    def step_started(self, scope: StepScope) -> None:
        self.events.append(f'start {scope.name}')

    def step_finished(self, scope: StepScope, record: StepRecord, error: BaseException | None) -> None:
        self.events.append(f'end {scope.name} {record.status}')


async def test_a_custom_step_gets_records_and_hooks_with_no_extra_code():
    hook = Recorder()
    workflow = Shout() >> podium.step(lambda s: s + '!', name='bang')

    result = await workflow.run('hi', hooks=[hook])

    assert result.output == 'HI!'
    assert [(r.name, r.kind, dict(r.detail)) for r in result.steps] == [
        ('shout', 'step', {'length': 2}),
        ('bang', 'function', {}),
    ]
    assert hook.events == ['run shout >> bang', 'start shout', 'end shout ok', 'start bang', 'end bang ok']


async def test_a_custom_step_checks_its_input_at_the_dispatch_point():
    class Halve(podium.Step[int, int]):
        input_class = int
        name = 'halve'

        async def _run(self, input: int, scope: StepScope) -> int:
            return input // 2

    with pytest.raises(podium.StepInputError, match="step 'halve' takes int, got str") as caught:
        await Halve().run('ten')  # type: ignore[arg-type]
    assert [r.status for r in caught.value.records] == ['failed']


async def test_around_hooks_can_answer_for_a_step_without_running_it():
    ran: list[str] = []

    class Replay(RunHook):
        wraps_steps = True

        async def around_step(self, step: Any, input: Any, scope: StepScope, proceed: Any) -> Any:
            if step.name == 'expensive':
                return 'from the checkpoint'
            return await proceed()

    expensive = podium.step(lambda s: ran.append(s) or 'computed', name='expensive')
    result = await expensive.run('x', hooks=[Replay()])

    assert result.output == 'from the checkpoint'
    assert ran == []
    assert result.steps[0].output == 'from the checkpoint'


async def test_parallel_leaves_a_record_and_a_bool_branch_records_then_or_otherwise():
    up = podium.step(lambda s: s.upper(), name='up')
    size = podium.step(len, name='size')
    fan = podium.parallel(up, size, name='both')
    urgent = podium.branch(lambda s: s.startswith('!'), then=up, otherwise=podium.step(lambda s: s, name='same'))

    fanned = await fan.run('ab')
    branched = await urgent.run('!x')

    assert [(r.name, r.kind) for r in fanned.steps] == [('both', 'parallel'), ('up', 'function'), ('size', 'function')]
    assert fanned.steps[0].output == ('AB', 2)
    assert branched.steps[0].route == 'then'
    assert (await urgent.run('x')).steps[0].route == 'otherwise'


async def test_a_sync_step_that_blocks_past_the_timeout_ends_in_workflow_timeout_on_time():
    sleepy = podium.step(lambda s: time.sleep(2) or s, name='sleepy')

    started = time.perf_counter()
    with pytest.raises(podium.WorkflowTimeout) as caught:
        await sleepy.run('x', timeout=0.3)

    assert time.perf_counter() - started < 1.5
    assert str(caught.value) == "the run of 'sleepy' passed its timeout of 0.3 s"


@pytest.mark.parametrize('shape', ['alone', 'chained', 'parallel', 'map_each'])
async def test_an_async_step_that_blocks_the_loop_past_the_timeout_is_a_timeout_that_says_what_to_do(shape: str):
    async def hog(text: str) -> str:
        time.sleep(0.6)  # noqa: ASYNC251  # the mistake under test: nothing can interrupt it, only its end is seen
        return text

    blocker = podium.step(hog)
    workflows: dict[str, podium.Step[Any, Any]] = {
        'alone': blocker,
        'chained': blocker >> podium.step(str.upper, name='upper'),
        'parallel': podium.parallel(blocker, podium.step(str.upper, name='upper')),
        'map_each': podium.step(str.split, name='words') >> podium.map_each(blocker),
    }

    with pytest.raises(podium.WorkflowTimeout, match=r'passed its timeout of 0\.2 s') as caught:
        await workflows[shape].run('a b', timeout=0.2)

    assert 'a step blocked the event loop; put blocking work in a sync function step' in str(caught.value)


async def test_a_loop_whose_step_never_awaits_stops_at_the_deadline_with_few_records():
    async def spin(n: int) -> int:
        return n + 1  # never awaits: only the dispatch point's deadline check can stop it

    endless = podium.loop(podium.step(spin), until=lambda n: False, max_iterations=10**9, stop_on_repeat=False)

    with pytest.raises(podium.WorkflowTimeout) as caught:
        await endless.run(0, timeout=0.3)

    assert len(caught.value.records) <= 8  # the loop, its first and last three iterations, the one cut off


async def test_a_long_loop_keeps_the_first_and_last_iterations_records_only():
    count = podium.loop(podium.step(lambda n: n + 1, name='inc'), until=lambda n: n >= 5000, max_iterations=10**6)

    result = await count.run(0)

    assert result.output.iterations == 5000
    loop_record, *inner = result.steps
    assert loop_record.detail == {'iterations': 5000, 'stop_reason': 'condition_met', 'iterations_not_recorded': 4994}
    assert [r.output for r in inner] == [1, 2, 3, 4998, 4999, 5000]


async def test_a_loop_stopped_by_a_bound_is_degraded_not_ok():
    grow = podium.loop(podium.step(lambda n: n + 1, name='inc'), until=lambda n: n > 100, max_iterations=3)

    result = await grow.run(0)

    assert result.status == 'degraded'
    assert result.degraded_reasons == ('loop(inc): max_iterations',)


async def test_a_loop_stopped_by_the_usage_limit_is_degraded():
    draft = podium.agent(Agent(ScriptedModel(default='draft'), name='draft'))
    redraft = podium.loop(draft, until=lambda s: s == 'approved', max_iterations=50, stop_on_repeat=False)

    result = await redraft.run('write', usage_limits=UsageLimits(request_limit=2))

    assert result.status == 'degraded'
    assert result.output.stop_reason == 'usage_limit'


async def test_map_each_runs_at_most_its_default_concurrency_at_once():
    running = 0
    most = 0

    async def work(n: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await anyio.sleep(0.001)
        running -= 1
        return n * 2

    result = await podium.map_each(podium.step(work)).run(list(range(200)))

    assert result.output == [n * 2 for n in range(200)]
    assert most == podium.chains.DEFAULT_MAX_CONCURRENCY == 16


class Facts(BaseModel):
    topic: str


async def test_steps_read_the_run_input_and_earlier_outputs_without_glue():
    extract = podium.step(lambda s: Facts(topic=s.split()[0]), name='extract')
    shorten = podium.step(lambda f: f.topic[:3], name='shorten')

    def answer(short: str, flow: Flow[None]) -> str:
        return f'{flow.run_input!r} is about {flow.output_of(extract).topic} ({short})'

    result = await (extract >> shorten >> podium.step(answer)).run('billing question')

    assert result.output == "'billing question' is about billing (bil)"


async def test_a_prompt_callable_reads_the_run_input_through_the_flow():
    seen: list[str] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(str(messages[0].parts[-1].content))  # type: ignore[union-attr]
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {'topic': 'ok'})])

    def prompt(facts: Facts, flow: Flow[None]) -> str:
        return f'{facts.topic} / original: {flow.run_input}'

    extract = podium.step(lambda s: Facts(topic=s.upper()), name='extract')
    follow = podium.agent(Agent(FunctionModel(model), output_type=Facts, name='follow'), prompt=prompt)

    await (extract >> follow).run('hello')

    assert seen == ['HELLO / original: hello']


async def test_a_prompt_callable_with_an_option_of_its_own_keeps_its_default():
    model = ScriptedModel(default='done')

    def prompt(topic: str, style: str = 'plain') -> str:
        return f'{topic} ({style})'

    await podium.agent(Agent(model, name='writer'), prompt=prompt).run('refund')

    assert model.prompts == ['refund (plain)']


async def test_with_input_passes_the_input_on_beside_the_output():
    extract = podium.step(lambda s: Facts(topic=s), name='extract')
    pair = extract >> podium.with_input(podium.step(lambda f: len(f.topic), name='size'))

    result = await pair.run('billing')

    assert result.output == (Facts(topic='billing'), 7)
    assert [r.name for r in result.steps] == ['extract', 'size']


async def test_reading_the_output_of_a_step_that_has_not_run_is_a_clear_error():
    later = podium.step(lambda s: s, name='later')
    early = podium.step(lambda s, flow: flow.output_of(later), name='early')

    with pytest.raises(podium.StepFailed, match="step 'later' has not produced an output in this run yet"):
        await (early >> later).run('x')


async def test_a_prompt_callable_gives_the_step_its_runtime_input_type():
    def prompt(facts: Facts) -> str:
        return facts.topic

    answer = podium.agent(Agent(ScriptedModel(default='fine'), name='answer'), prompt=prompt)

    assert answer.input_class is Facts
    with pytest.raises(podium.StepInputError, match="step 'answer' takes Facts, got str"):
        await answer.run('not facts')  # type: ignore[arg-type]


async def test_describe_tells_readers_what_each_step_is():
    up = podium.step(lambda s: s.upper(), name='up')
    infos: dict[str, StepInfo] = {
        'chain': (up >> up).describe(),
        'named': (up >> up).named('twice').describe(),
        'parallel': podium.parallel(up, up).describe(),
        'loop': podium.loop(up, until=bool, max_iterations=2).describe(),
        'branch': podium.branch(bool, then=up, otherwise=up).describe(),
        'function': up.describe(),
    }

    assert {name: (i.kind, i.transparent, len(i.children)) for name, i in infos.items()} == {
        'chain': ('sequence', True, 2),
        'named': ('sequence', False, 2),
        'parallel': ('fan-out', False, 2),
        'loop': ('loop', False, 1),
        'branch': ('choice', False, 2),
        'function': ('call', False, 0),
    }


async def test_an_any_annotation_checks_nothing():
    def prompt(previous: Any) -> str:
        return str(previous)

    loose = podium.agent(Agent(ScriptedModel(default='fine'), name='loose'), prompt=prompt)
    anything = podium.step(lambda x: x, name='anything')

    assert loose.input_class is None
    assert (await (anything >> loose).run(Facts(topic='x'))).output == 'fine'  # type: ignore[arg-type]
