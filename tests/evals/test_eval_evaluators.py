from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from eval_desk import Truth, build_desk, marker
from inline_snapshot import snapshot
from pydantic_evals import Case, Dataset
from pydantic_evals.evaluators import Evaluator, IsInstance, LLMJudge

import podium
from podium import RuleRouter, Step
from podium.evals import ExpectOutput, ExpectRoute, ExpectStep, OnOutput, OnStep, TraceChecks
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio

TRUTHS = {1: Truth('billing', flag=True), 2: Truth('tech'), 3: Truth('sales', flag=True), 4: Truth('other')}


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


async def _judge(
    evaluators: Sequence[Evaluator[Any, Any, Any]],
    *,
    case: int = 1,
    faults: dict[int, str] | None = None,
    workflow: Step[str, Any] | None = None,
    inputs: str | None = None,
) -> dict[str, object]:
    """Every result of `evaluators` on one run, as `{name: value}`, with failed checks as `(False, reason)`."""
    desk = workflow or build_desk(TRUTHS, faults)
    dataset = Dataset[Any, Any, Any](
        name='one', cases=[Case(inputs=inputs or f'{marker(case)} hi', evaluators=list(evaluators))]
    )
    report = await dataset.evaluate(desk.run, progress=False)
    assert not report.failures
    [result] = report.cases
    assert not result.evaluator_failures, result.evaluator_failures
    out: dict[str, object] = {name: label.value for name, label in result.labels.items()}
    out |= {name: score.value for name, score in result.scores.items()}
    for name, assertion in result.assertions.items():
        out[name] = assertion.value if assertion.value else (False, assertion.reason)
    return out


async def test_expect_route_labels_the_expected_and_the_taken_route():
    assert await _judge([ExpectRoute('billing')]) == snapshot(
        {'expected_route': 'billing', 'route': 'billing', 'desk.route': True}
    )


async def test_expect_route_says_which_route_was_taken_instead():
    assert await _judge([ExpectRoute('billing', router='desk')], faults={1: 'desk'}) == snapshot(
        {'expected_route': 'billing', 'route': 'tech', 'desk.route': (False, "expected 'billing', got 'tech'")}
    )


async def test_expect_step_compares_only_the_fields_given():
    checks = [ExpectStep('billing_extract', {'urgency': 'high'}), ExpectStep('billing_escalate', {'team': 'billing'})]
    assert await _judge(checks) == snapshot({'billing_extract.output': True, 'billing_escalate.output': True})


async def test_expect_step_lists_every_mismatch():
    checks = [ExpectStep('billing_extract', {'urgency': 'normal', 'amount': 5, 'summary': {'text': 'x'}})]
    assert await _judge(checks) == snapshot(
        {
            'billing_extract.output': (
                False,
                "urgency: expected 'normal', got 'high'; amount: missing; summary: expected an object, got '[c1] hi'",
            )
        }
    )


async def test_a_step_that_did_not_run_fails_its_expectation():
    checks = [ExpectStep('tech_triage', {'severity': 'minor'}), OnStep('tech_fix', IsInstance('Reply'))]
    assert await _judge(checks) == snapshot(
        {
            'tech_triage.output': (False, "step 'tech_triage' did not run"),
            'tech_fix.IsInstance': (False, "step 'tech_fix' did not run"),
        }
    )


async def test_llm_judge_runs_on_one_step_output_with_any_model():
    judge_model = ScriptedModel(
        default=lambda prompt: {'reason': 'it is urgent', 'pass': '"urgency":"high"' in prompt, 'score': 0.9}
    )
    judge = LLMJudge(rubric='The facts say the customer is in a hurry', model=judge_model, score={})
    assert await _judge([OnStep('billing_extract', judge)]) == snapshot(
        {'billing_extract.LLMJudge_score': 0.9, 'billing_extract.LLMJudge_pass': True}
    )
    assert 'The facts say the customer is in a hurry' in judge_model.prompts[0]


async def test_output_checks_see_the_typed_final_output():
    checks = [ExpectOutput({'team': 'billing', 'escalated': False}), OnOutput(IsInstance('Reply'))]
    assert await _judge(checks) == snapshot(
        {'output': (False, 'escalated: expected False, got True'), 'IsInstance': True}
    )


def _rule_desk(route: str) -> Step[str, str]:
    @podium.step
    def answer(text: str) -> str:
        return 'answered'

    @podium.step
    def other(text: str) -> str:
        return 'sorry'

    return RuleRouter({'answer': answer, 'other': other}, fallback='other', rule=lambda text: route or None)


async def test_trace_checks_pass_on_a_clean_run():
    checks = [TraceChecks(no_fallback=True, not_degraded=True, max_requests=3)]
    assert await _judge(checks) == snapshot(
        {'trace.no_fallback': True, 'trace.not_degraded': True, 'trace.max_requests': True}
    )


async def test_trace_checks_name_the_step_that_fell_back_or_degraded():
    checks = [TraceChecks(no_fallback=True, not_degraded=True)]
    assert await _judge(checks, workflow=_rule_desk(''), inputs='x') == snapshot(
        {'trace.no_fallback': (False, 'rule_router fell back: no_match'), 'trace.not_degraded': True}
    )
    assert await _judge(checks, workflow=_rule_desk('nowhere'), inputs='x') == snapshot(
        {
            'trace.no_fallback': (False, 'rule_router fell back: unknown_route'),
            'trace.not_degraded': (False, 'rule_router: unknown_route'),
        }
    )


async def test_trace_checks_count_model_requests():
    assert await _judge([TraceChecks(max_requests=2)]) == snapshot(
        {'trace.max_requests': (False, '3 model requests, at most 2 allowed')}
    )
