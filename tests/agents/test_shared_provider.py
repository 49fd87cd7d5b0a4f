"""Agents given model names share one provider, and so one SDK client and connection pool, per provider.

An `Agent('openai:...')` infers its model when it is built, provider and client included; one built with
`defer_model_check=True` leaves the name for each run to infer, and podium infers it once, with a shared provider.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.models.wrapper import WrapperModel

import podium
from podium.agents import _safe_model
from podium.testing import FaultServer, Reply

pytestmark = pytest.mark.anyio


def inner(step: podium.AgentStep[Any, Any, Any]) -> OpenAIChatModel:
    model = step.models.for_agent(step.agent)
    while isinstance(model, WrapperModel):
        model = model.wrapped
    assert isinstance(model, OpenAIChatModel)
    return model


async def test_steps_naming_models_of_one_provider_send_through_one_client(monkeypatch: pytest.MonkeyPatch):
    with FaultServer(default=Reply.text('fine')) as server:
        monkeypatch.setenv('OPENAI_API_KEY', 'sk-test')
        monkeypatch.setenv('OPENAI_BASE_URL', server.base_url)
        monkeypatch.setattr(_safe_model, '_providers', {})
        first = podium.agent(Agent('openai-chat:gpt-4o', name='first', defer_model_check=True))
        second = podium.agent(Agent('openai-chat:gpt-4o-mini', name='second', defer_model_check=True))

        result = await (first >> second).run('hi')

        assert result.output == 'fine'
        assert [r.body['model'] for r in server.requests] == ['gpt-4o', 'gpt-4o-mini']
        assert inner(first).client is inner(second).client
        assert list(_safe_model._providers) == ['openai-chat']
