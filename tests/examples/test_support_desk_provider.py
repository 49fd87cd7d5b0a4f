"""The support desk over the real OpenAI provider path (openai SDK, httpx, pydantic-ai's mapping) against a local
OpenAI-compatible server, with no network."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from podium.testing import FaultServer, Reply

sys.path.insert(0, str(Path(__file__).parents[2] / 'examples'))
from support_desk import build_workflow

pytestmark = pytest.mark.anyio

ANSWERS: dict[str, dict[str, Any]] = {
    'You screen messages': {'allowed': True, 'reason': 'an ordinary request'},
    'You route customer messages': {'route': 'tech', 'confidence': 0.9, 'reason': 'a crash'},
    'Triage the technical problem': {'component': 'startup', 'summary': 'crash on start', 'severity': 'blocker'},
    'Escalate to on-call engineering': {'team': 'tech', 'text': 'On it.', 'escalated': True},
}


def answer(body: Any) -> Reply:
    system = ' '.join(str(m.get('content')) for m in body['messages'] if m['role'] in ('system', 'developer'))
    for marker, args in ANSWERS.items():
        if marker in system:
            return Reply.tool_call(body['tools'][0]['function']['name'], args)
    return Reply.text('no script for this request')


async def test_the_desk_runs_unchanged_on_an_openai_model(fault_server: FaultServer):
    fault_server.default = answer
    model = fault_server.openai_model('gpt-4o-mini')
    try:
        result = await build_workflow(model).run('the app crashes on startup')
    finally:
        await model.client.close()

    assert result.output.text == 'On it.'
    assert [(r.name, r.route, r.model) for r in result.steps if r.kind in ('router', 'agent')] == [
        ('support_desk', 'tech', 'gpt-4o-mini'),
        ('tech_triage', None, 'gpt-4o-mini'),
        ('tech_escalate', None, 'gpt-4o-mini'),
        ('injection_guard_check', None, 'gpt-4o-mini'),
    ]
    assert fault_server.hits == 4  # the injection guard's check is the fourth request
    assert result.usage.requests == 4
