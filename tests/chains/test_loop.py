from __future__ import annotations

import pytest
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.usage import UsageLimits

import podium
from podium import ConfigurationError, LoopLimitReached, loop
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio

increment = podium.step(lambda n: n + 1, name='increment')


async def test_a_loop_stops_when_its_condition_holds():
    result = await loop(increment, until=lambda n: n >= 3, max_iterations=10).run(0)

    assert (result.output.output, result.output.iterations, result.output.stop_reason) == (3, 3, 'condition_met')
    assert result.output.converged
    record = result.steps[0]
    assert record.detail == {'iterations': 3, 'stop_reason': 'condition_met'}


async def test_a_loop_that_never_converges_stops_at_max_iterations_and_says_so():
    result = await loop(increment, until=lambda n: n < 0, max_iterations=4).run(0)

    assert (result.output.output, result.output.iterations, result.output.stop_reason) == (4, 4, 'max_iterations')
    assert not result.output.converged


async def test_a_loop_whose_output_repeats_stops_for_lack_of_progress():
    stuck = podium.step(lambda n: min(n + 1, 2), name='stuck')

    result = await loop(stuck, until=lambda n: n > 5, max_iterations=50).run(0)

    assert (result.output.output, result.output.iterations, result.output.stop_reason) == (2, 3, 'no_progress')


async def test_raise_on_limit_turns_a_bound_into_a_typed_error():
    with pytest.raises(LoopLimitReached, match=r"loop 'loop\(increment\)' stopped after 2 iterations") as caught:
        await loop(increment, until=lambda n: False, max_iterations=2, raise_on_limit=True).run(0)

    assert (caught.value.stop_reason, caught.value.iterations) == ('max_iterations', 2)


class Draft(BaseModel):
    text: str
    done: bool


async def test_an_agent_loop_stops_on_the_workflow_usage_limit_with_its_last_output():
    model = ScriptedModel(default=Draft(text='still going', done=False))
    refine = podium.agent(Agent(model, output_type=Draft, name='refine'), prompt=lambda d: d.text, input_type=Draft)

    result = await loop(refine, until=lambda d: d.done, max_iterations=100, stop_on_repeat=False).run(
        Draft(text='start', done=False), usage_limits=UsageLimits(request_limit=3)
    )

    assert (result.output.iterations, result.output.stop_reason) == (3, 'usage_limit')
    assert result.output.output == Draft(text='still going', done=False)
    assert result.usage.requests == 3


@pytest.mark.parametrize('bound', [0, -1, None, 2.5, True])
def test_a_loop_without_a_positive_integer_bound_is_rejected(bound: object):
    with pytest.raises(ConfigurationError, match='loop needs max_iterations >= 1 so that it always stops'):
        loop(increment, until=lambda n: False, max_iterations=bound)  # type: ignore[arg-type]
