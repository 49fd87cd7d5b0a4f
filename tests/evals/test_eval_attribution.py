"""Seeded faults: break known steps of a workflow on known cases, and check the report blames those steps."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from eval_desk import Truth, build_desk, marker
from inline_snapshot import snapshot
from pydantic_evals import Case
from pydantic_evals.evaluators import Evaluator, EvaluatorContext

from podium import RunResult
from podium.evals import WorkflowDataset, evaluate_workflow, expect

pytestmark = pytest.mark.anyio

SPECIALIST = {'billing': ('billing_extract', 'urgency'), 'tech': ('tech_triage', 'severity')}
FLAG_VALUES = {'urgency': ('high', 'normal'), 'severity': ('blocker', 'minor')}


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@dataclass(repr=False)
class IntentIs(Evaluator[object, object, object]):
    """A user's own evaluator, run on the sales_qualify step through `expect(steps=...)`."""

    intent: str

    def evaluate(self, ctx: EvaluatorContext[object, object, object]) -> bool:
        return getattr(ctx.output, 'intent', None) == self.intent


def _case(number: int, truth: Truth) -> Case[str, RunResult[Any], Any]:
    steps: dict[str, object] = {}
    if truth.route in SPECIALIST:
        step, field = SPECIALIST[truth.route]
        steps[step] = {field: FLAG_VALUES[field][0 if truth.flag else 1]}
    elif truth.route == 'sales':
        steps['sales_qualify'] = IntentIs('buy' if truth.flag else 'inquire')
    team = 'front_desk' if truth.route == 'other' else truth.route
    return Case(
        name=f'case {number}',
        inputs=f'{marker(number)} a {truth.route} question',
        evaluators=expect(route=truth.route, steps=steps, output={'team': team, 'escalated': truth.escalated}),
    )


def _seeded_suite(seed: int, size: int) -> tuple[dict[int, Truth], dict[int, str]]:
    """`size` cases over every route; about three in four get a fault at one step their run goes through."""
    rng = random.Random(seed)
    truths: dict[int, Truth] = {}
    faults: dict[int, str] = {}
    for number in range(size):
        truth = Truth(route=rng.choice(['billing', 'tech', 'sales', 'other']), flag=rng.random() < 0.5)
        truths[number] = truth
        if rng.random() < 0.25:
            continue
        downstream: list[str] = []
        if truth.route in SPECIALIST:
            downstream.append(SPECIALIST[truth.route][0])
        if truth.route == 'sales':
            downstream.append('sales_qualify')
        if truth.reply_step is not None and truth.route != 'sales':  # a sales reply never escalates either way
            downstream.append(truth.reply_step)
        faults[number] = rng.choice(downstream) if downstream and rng.random() < 0.7 else 'desk'
    return truths, faults


@pytest.mark.parametrize('seed', [2024, 7, 99])
async def test_failures_are_attributed_to_the_step_that_was_broken(seed: int):
    truths, faults = _seeded_suite(seed=seed, size=80)
    dataset = WorkflowDataset(name='seeded_faults', cases=[_case(n, t) for n, t in truths.items()])

    report = await evaluate_workflow(build_desk(truths, faults), dataset)

    broken = {f'case {n}': step for n, step in faults.items()}
    assert len(broken) >= 50
    assert 'desk' in broken.values()
    assert len(set(broken.values())) >= 4
    failed = {r.name: r for r in report.results if r.status != 'passed'}
    assert set(failed) == set(broken)  # every fault is caught, and nothing else fails
    blamed_right = [name for name, result in failed.items() if result.step == broken[name]]
    assert len(blamed_right) / len(failed) >= 0.95
    faults_per_step = dict(sorted(Counter(broken.values()).items()))
    assert (len(failed), len(blamed_right), faults_per_step) == snapshot(
        {
            2024: (
                62,
                62,
                {
                    'billing_escalate': 2,
                    'billing_extract': 6,
                    'billing_resolve': 1,
                    'desk': 33,
                    'sales_qualify': 10,
                    'tech_escalate': 3,
                    'tech_fix': 2,
                    'tech_triage': 5,
                },
            ),
            7: (
                63,
                63,
                {
                    'billing_extract': 8,
                    'billing_resolve': 3,
                    'desk': 28,
                    'sales_qualify': 13,
                    'tech_escalate': 2,
                    'tech_fix': 3,
                    'tech_triage': 6,
                },
            ),
            99: (
                62,
                62,
                {
                    'billing_escalate': 2,
                    'billing_extract': 7,
                    'billing_resolve': 2,
                    'desk': 33,
                    'sales_qualify': 8,
                    'tech_escalate': 3,
                    'tech_fix': 4,
                    'tech_triage': 3,
                },
            ),
        }
    )[seed]
