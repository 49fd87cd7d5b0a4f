"""Snapshot tests of a podium workflow: the example of docs/snapshot-testing.md, run by CI.

Copy this file next to your workflow, replace `build_triage` with yours, empty the `snapshot(...)` calls and run
`pytest --inline-snapshot=create`; read the diff before keeping it. CI runs plain `pytest`, which only compares.
"""

from __future__ import annotations

import uuid

import pytest
from dirty_equals import IsNumber, IsStr
from inline_snapshot import snapshot
from pydantic import BaseModel
from pydantic_ai import Agent

import podium
from podium import Route, RouteDecision, Router, Step
from podium.testing import ScriptedModel, TraceCapture

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


class Ticket(BaseModel):
    team: str
    summary: str


def build_triage(router_model: ScriptedModel) -> Step[str, Ticket]:
    """A router sending billing questions to an agent and everything else to a plain function."""
    billing = podium.agent(
        Agent(
            ScriptedModel({'refund': Ticket(team='billing', summary='refund request')}, model_name='billing-model'),
            output_type=Ticket,
            name='billing_agent',
        )
    )

    @podium.step
    def front_desk(message: str) -> Ticket:
        return Ticket(team='front_desk', summary=f'ticket {uuid.uuid4().hex}')

    return Router(
        {'billing': Route(billing, 'Refunds and invoices.'), 'other': Route(front_desk, 'Anything else.')},
        fallback='other',
        model=router_model,
        min_confidence=0.5,
        name='triage',
    )


# One scripted answer per prompt: the first rule whose key appears in the prompt answers, else the default.
ROUTER = ScriptedModel(
    {
        'refund': RouteDecision(route='billing', confidence=0.93, reason='asks for a refund'),
        'hmm': RouteDecision(route='billing', confidence=0.2, reason='not sure'),
    },
    default=RouteDecision(route='other', confidence=0.8, reason='not billing'),
    model_name='router-model',
)


async def test_a_run_summary_is_one_snapshot() -> None:
    result = await build_triage(ROUTER).run('I want a refund for last month')

    assert result.summary() == snapshot(
        {
            'workflow': 'triage',
            'status': 'ok',
            'output': {'team': 'billing', 'summary': 'refund request'},
            'steps': [
                {
                    'name': 'triage',
                    'kind': 'router',
                    'status': 'ok',
                    'route': 'billing',
                    'confidence': 0.93,
                    'reason': 'asks for a refund',
                    'model': 'router-model',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 57, 'output_tokens': 13},
                },
                {
                    'name': 'billing_agent',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'billing-model',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 57, 'output_tokens': 8},
                    'output': {'team': 'billing', 'summary': 'refund request'},
                },
            ],
            'usage': {'requests': 2, 'input_tokens': 114, 'output_tokens': 21},
        }
    )


async def test_volatile_values_are_matched_by_dirty_equals() -> None:
    result = await build_triage(ROUTER).run('what are your opening hours?')

    assert result.summary() == snapshot(
        {
            'workflow': 'triage',
            'status': 'ok',
            'output': {'team': 'front_desk', 'summary': IsStr(regex=r'ticket [0-9a-f]{32}')},
            'steps': [
                {
                    'name': 'triage',
                    'kind': 'router',
                    'status': 'ok',
                    'route': 'other',
                    'confidence': 0.8,
                    'reason': 'not billing',
                    'model': 'router-model',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': IsNumber(), 'output_tokens': IsNumber()},
                },
                {
                    'name': 'front_desk',
                    'kind': 'function',
                    'status': 'ok',
                    'output': {'team': 'front_desk', 'summary': IsStr(regex=r'ticket [0-9a-f]{32}')},
                },
            ],
            'usage': {'requests': 1, 'input_tokens': IsNumber(), 'output_tokens': IsNumber()},
        }
    )


async def test_the_span_tree_shows_the_path_a_run_took(podium_trace: TraceCapture) -> None:
    await build_triage(ROUTER).run('hmm, not sure what I need')

    assert podium_trace.tree() == snapshot("""\
podium run triage (status=degraded route=other fallback_reason=low_confidence path=lean usage.requests=1)
  chat router-model
  podium step front_desk (status=ok)\
""")
