from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from dirty_equals import IsPositiveFloat
from eval_desk import Truth, build_desk
from inline_snapshot import snapshot
from pydantic_ai import Agent
from pydantic_evals import Case
from pydantic_evals.evaluators import Evaluator, EvaluatorContext

import podium
from podium.evals import WorkflowDataset, evaluate_workflow, expect, load_cases
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio

TRUTHS = {
    1: Truth('billing', flag=True),
    2: Truth('tech'),
    3: Truth('sales', flag=True),
    4: Truth('other'),
    5: Truth('billing'),
    6: Truth('tech', flag=True),
}


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@dataclass(repr=False)
class Boom(Evaluator[object, object, object]):
    """An evaluator with a bug."""

    def evaluate(self, ctx: EvaluatorContext[object, object, object]) -> bool:
        raise ZeroDivisionError('division by zero')


async def test_bad_rows_failed_runs_and_broken_evaluators_are_errors_and_every_other_case_runs(tmp_path: Path):
    path = tmp_path / 'cases.yaml'
    path.write_text("""
cases:
  - {name: ok, inputs: '[c1] x', route: billing}
  - {name: unknown route, inputs: '[c2] x', route: refunds}
  - {name: workflow raises, inputs: '[c3] x', route: sales, steps: {sales_qualify: {intent: buy}}}
  - {name: evaluator raises, inputs: '[c4] x', route: other, evaluators: [Boom]}
  - {name: wrong, inputs: '[c5] x', route: billing, steps: {billing_extract: {urgency: high}}}
""")
    case_file = load_cases(path, build_desk(TRUTHS), evaluator_types=[Boom])

    report = await evaluate_workflow(build_desk(TRUTHS, crashes={3: 'sales_qualify'}), case_file)

    assert [r.model_dump(exclude_defaults=True) for r in report.results] == snapshot(
        [
            {'name': 'ok', 'status': 'passed', 'expected_route': 'billing', 'route': 'billing'},
            {
                'name': 'unknown route',
                'status': 'error',
                'error': "route 'refunds' is not a route of router 'desk'; its routes are billing, other, sales, tech",
            },
            {
                'name': 'workflow raises',
                'status': 'error',
                'step': 'sales_qualify',
                'expected_route': 'sales',
                'route': 'sales',
                'error': (
                    "the workflow raised StepFailed: step 'sales_qualify' failed: RuntimeError: the model of "
                    'sales_qualify is down'
                ),
            },
            {
                'name': 'evaluator raises',
                'status': 'error',
                'expected_route': 'other',
                'route': 'other',
                'error': 'evaluator Boom raised ZeroDivisionError: division by zero',
            },
            {
                'name': 'wrong',
                'status': 'failed',
                'step': 'billing_extract',
                'expected_route': 'billing',
                'route': 'billing',
                'failures': ["billing_extract.output: urgency: expected 'high', got 'normal'"],
            },
        ]
    )
    assert report.failures_by_step == snapshot({'sales_qualify': 1, 'billing_extract': 1})


async def test_the_report_adds_cases_up_by_route_step_and_tag():
    cases = [
        Case(name='billing ok', inputs='[c1] x', metadata={'tags': ['easy']}, evaluators=expect(route='billing')),
        Case(
            name='tech ok',
            inputs='[c2] x',
            evaluators=expect(route='tech', steps={'tech_triage': {'severity': 'minor'}}),
        ),
        Case(name='sales misrouted', inputs='[c3] x', evaluators=expect(route='sales', output={'team': 'sales'})),
        Case(name='other ok', inputs='[c4] x', metadata={'tags': ['easy']}, evaluators=expect(route='other')),
        Case(
            name='billing misjudged', inputs='[c5] x', evaluators=expect(route='billing', output={'escalated': False})
        ),
        Case(
            name='tech misjudged',
            inputs='[c6] x',
            evaluators=expect(route='tech', steps={'tech_triage': {'severity': 'blocker'}}, output={'escalated': True}),
        ),
    ]
    faults = {3: 'desk', 5: 'billing_resolve', 6: 'tech_triage'}

    report = await evaluate_workflow(build_desk(TRUTHS, faults), WorkflowDataset(name='six', cases=cases))

    summary = report.model_dump(
        include={'cases', 'passed', 'failed', 'errors', 'pass_rate', 'router_accuracy', 'confusion'}
        | {'step_pass_rates', 'failures_by_step', 'failures_by_route', 'pass_rate_by_tag'}
    )
    assert summary == snapshot(
        {
            'confusion': {
                'labels': ['billing', 'other', 'sales', 'tech'],
                'matrix': [[2, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 2]],
            },
            'step_pass_rates': {
                'desk': {'passed': 5, 'total': 6, 'rate': 0.8333333333333334},
                'billing_resolve': {'passed': 0, 'total': 1, 'rate': 0.0},
                'tech_triage': {'passed': 1, 'total': 2, 'rate': 0.5},
            },
            'cases': 6,
            'passed': 3,
            'failed': 3,
            'errors': 0,
            'pass_rate': 0.5,
            'router_accuracy': 0.8333333333333334,
            'failures_by_step': {'desk': 1, 'billing_resolve': 1, 'tech_triage': 1},
            'failures_by_route': {'sales': 1, 'billing': 1, 'tech': 1},
            'pass_rate_by_tag': {'easy': 1.0},
        }
    )


async def test_cost_comes_from_genai_prices_for_known_models_and_is_unknown_otherwise():
    @podium.step
    def shout(text: str) -> str:
        return text.upper()

    known = podium.agent(Agent(ScriptedModel(default='fine', model_name='gpt-4o-mini'), name='priced'))
    unknown = podium.agent(Agent(ScriptedModel(default='fine', model_name='house-model'), name='unpriced'))
    dataset = WorkflowDataset(name='costs', cases=[Case(name='one', inputs='hello')])

    priced = await evaluate_workflow(known >> shout, dataset)
    unpriced = await evaluate_workflow(known >> unknown, dataset)

    assert priced.usage.model_dump() == snapshot(
        {
            'requests': 1,
            'input_tokens': 51,
            'output_tokens': 1,
            'cost_usd': IsPositiveFloat(),
            'models': {
                'gpt-4o-mini': {'requests': 1, 'input_tokens': 51, 'output_tokens': 1, 'cost_usd': IsPositiveFloat()}
            },
        }
    )
    assert unpriced.usage.cost_usd is None
    assert unpriced.usage.models['gpt-4o-mini'].cost_usd == IsPositiveFloat()
    assert unpriced.usage.models['house-model'].cost_usd is None
