from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic_ai import Agent
from pydantic_ai.usage import UsageLimits

import podium
from podium import BudgetExceeded, ConfigurationError

sys.path.insert(0, str(Path(__file__).parents[2] / 'examples'))
from agent_loop import build_concierge

pytestmark = pytest.mark.anyio


async def test_a_workflow_called_as_a_tool_joins_the_callers_run():
    result = await build_concierge().run('my invoice shows a double charge')

    assert result.output.reply.startswith('A billing specialist')
    assert [r.name for r in result.steps] == [
        'concierge',
        'support_desk',
        'billing',
        'billing_extract',
        'billing_urgency',
        'billing_escalate',
    ]
    desk_requests = sum(
        r.usage.requests for r in result.steps if r.kind in ('agent', 'router') and r.name != 'concierge'
    )
    assert desk_requests == 3
    assert result.usage.requests == 6  # the concierge's 3 plus the desk's 3, counted once
    assert result.record('concierge').usage.requests == 6
    assert result.usage.tool_calls == 2


async def test_workflow_wide_limits_hold_inside_the_tool():
    with pytest.raises(BudgetExceeded) as caught:
        await build_concierge().run('my invoice shows a double charge', usage_limits=UsageLimits(request_limit=4))

    assert caught.value.step is not None
    assert caught.value.usage is not None
    assert caught.value.usage.requests <= 4
    assert [r.name for r in caught.value.records][:2] == ['concierge', 'support_desk']


async def test_a_tool_used_by_a_plain_agent_counts_into_that_agents_usage():
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import FunctionModel

    from podium.testing import ScriptedModel

    inner = podium.agent(Agent(ScriptedModel(default='inner answer'), name='inner'))
    calls = iter(
        [
            ModelResponse(parts=[ToolCallPart('inner', {'input': 'q'})]),
            ModelResponse(parts=[TextPart('done')]),
        ]
    )
    outer = Agent(FunctionModel(lambda m, i: next(calls)), tools=[podium.as_tool(inner)], name='outer')

    run = await outer.run('go')

    assert run.output == 'done'
    assert run.usage.requests == 3


def test_a_step_with_unknown_input_type_needs_input_type():
    anything = podium.step(lambda x: x, name='anything')
    with pytest.raises(ConfigurationError, match=r"as_tool\('anything'\) cannot tell the input type"):
        podium.as_tool(anything)
    tool = podium.as_tool(anything, input_type=int, description='Echo a number.')
    assert (tool.name, tool.description) == ('anything', 'Echo a number.')
