"""A router agent of your own may declare a confidence without bounds: podium checks it in code."""

from __future__ import annotations

import math

import pytest
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

import podium
from podium import Router

pytestmark = pytest.mark.anyio


class LooseDecision(BaseModel):
    """A decision without `RouteDecision`'s bounds on confidence."""

    route: str
    confidence: float
    reason: str = ''


def deciding(confidence: float) -> FunctionModel:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        args = {'route': 'billing', 'confidence': confidence}
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])

    return FunctionModel(respond)


def router(confidence: float) -> Router[str, str]:
    routes = {
        'billing': podium.step(lambda text: 'billing', name='billing_desk'),
        'general': podium.step(lambda text: 'general', name='general_desk'),
    }
    agent: Agent[None, LooseDecision] = Agent(deciding(confidence), output_type=LooseDecision, name='triage')
    return Router(routes, fallback='general', agent=agent)  # type: ignore[arg-type]  # the point: a looser output


@pytest.mark.parametrize('confidence', [math.nan, 1e9, -1.0, math.inf], ids=['nan', '1e9', 'negative', 'inf'])
async def test_a_confidence_outside_0_1_goes_to_the_fallback_route(confidence: float):
    result = await router(confidence).run('refund please')
    record = result.record('router')
    assert (result.output, result.status) == ('general', 'degraded')
    assert (record.route, record.fallback_reason, record.confidence) == ('general', 'invalid_decision', None)
    assert record.detail['requested_route'] == 'billing'
    assert record.detail['confidence'] == repr(confidence)


async def test_a_confidence_within_0_1_is_followed():
    result = await router(0.9).run('refund please')
    assert (result.output, result.status, result.record('router').confidence) == ('billing', 'ok', 0.9)
