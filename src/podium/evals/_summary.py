"""Turn a pydantic-evals report of workflow runs into a `WorkflowReport`: outcomes, attribution, rates, usage, cost."""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from pydantic_ai.usage import RunUsage
from pydantic_evals.reporting import EvaluationReport, ReportCase, ReportCaseFailure
from pydantic_evals.reporting.analyses import ConfusionMatrix

from .._core._errors import GuardTripped, WorkflowError
from .._core._records import RunResult, StepRecord
from .._core._redact import redact
from ..guards._trips import tripped_guards
from ..routers._cost import Prices, usage_cost
from ._attribution import first_wrong, judged_step, run_order
from ._cases import InvalidCase
from ._evaluators import EXPECTED_ROUTE_LABEL, ROUTE_LABEL
from ._report import CaseResult, Confusion, GuardMetrics, ModelUsage, StepRate, UsageReport, WorkflowReport

__all__ = ('CONFUSION_TITLE', 'summarize')

CONFUSION_TITLE = 'Router confusion'
"""Title of the confusion matrix the evaluation asks pydantic-evals for, so it can be found among the analyses."""


@dataclass(kw_only=True)
class _Tally:
    """Per-step pass counts and per-model usage, gathered case by case."""

    steps: Sequence[str]
    prices: Prices | None = None
    rates: dict[str, list[int]] = field(default_factory=dict[str, list[int]])
    usage: dict[str, RunUsage] = field(default_factory=dict[str, RunUsage])
    cost: dict[str, Decimal | None] = field(default_factory=dict[str, Decimal | None])

    def add_checks(self, case: ReportCase[Any, Any, Any], result: RunResult[Any]) -> None:
        """Count each checked step as passed or not, in run order, up to the first that failed.

        Steps after that one got wrong input, so their checks say nothing about them.
        """
        verdicts: dict[str, bool] = {}
        for name, assertion in case.assertions.items():
            step = judged_step(name, result, self.steps)
            if step is not None:
                verdicts[step] = verdicts.get(step, True) and assertion.value
        for step in sorted(verdicts, key=run_order(result)):
            passed_total = self.rates.setdefault(step, [0, 0])
            passed_total[0] += verdicts[step]
            passed_total[1] += 1
            if not verdicts[step]:
                break

    def add_usage(self, records: Iterable[StepRecord]) -> None:
        for record in records:
            usage = record.usage
            if not (usage.requests or usage.input_tokens or usage.output_tokens):
                continue
            model = record.model or 'unknown'
            self.usage.setdefault(model, RunUsage()).incr(usage)
            price = usage_cost(usage, record.model, self.prices) if record.model is not None else None
            known = self.cost.get(model, Decimal(0))
            self.cost[model] = None if price is None or known is None else known + price

    def usage_report(self) -> UsageReport:
        models: dict[str, ModelUsage] = {}
        for name, usage in sorted(self.usage.items()):
            cost = self.cost[name]
            models[name] = ModelUsage(
                requests=usage.requests,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost_usd=float(cost) if cost is not None else None,
            )
        costs = [m.cost_usd for m in models.values()]
        return UsageReport(
            requests=sum(m.requests for m in models.values()),
            input_tokens=sum(m.input_tokens for m in models.values()),
            output_tokens=sum(m.output_tokens for m in models.values()),
            cost_usd=None if not costs or None in costs else sum(c or 0.0 for c in costs),
            models=models,
        )


def _tags(metadata: object) -> list[str]:
    tags = cast('Mapping[str, object]', metadata).get('tags') if isinstance(metadata, Mapping) else None
    return [str(t) for t in cast('list[object]', tags)] if isinstance(tags, list) else []


def _escalated(records: Iterable[StepRecord], router: str | None) -> bool | None:
    record = next((r for r in records if r.name == router), None) if router is not None else None
    flag = record.detail.get('escalated') if record is not None else None
    return flag if isinstance(flag, bool) else None


def _judged(
    case: ReportCase[Any, Any, Any], tally: _Tally, escalating: str | None, expected_block: str | None
) -> CaseResult:
    result: RunResult[Any] = case.output
    tally.add_checks(case, result)
    tally.add_usage(result.steps)
    route, expected = case.labels.get(ROUTE_LABEL), case.labels.get(EXPECTED_ROUTE_LABEL)
    common: dict[str, Any] = {
        'name': case.name,
        'route': route.value if route is not None else None,
        'expected_route': expected.value if expected is not None else None,
        'tags': _tags(case.metadata),
        'escalated': _escalated(result.steps, escalating),
        'expected_blocked_by': expected_block,
        'blocked_by': list(tripped_guards(result)),
    }
    failed = [name for name, assertion in case.assertions.items() if not assertion.value]
    step: str | None = None
    failures: list[str] = []
    if failed:
        step, ranked = first_wrong(failed, result, tally.steps)
        # A check's reason quotes what the workflow produced (`got '...'`, a judge's explanation): model output,
        # which may repeat a secret from the case's input.
        failures = [redact(f'{name}: {case.assertions[name].reason or "failed"}') for name in ranked]
    if case.evaluator_failures:
        errors = '; '.join(f'evaluator {f.name} raised {redact(f.error_message)}' for f in case.evaluator_failures)
        return CaseResult(status='error', step=step, failures=failures, error=errors, **common)
    return CaseResult(status='failed' if failed else 'passed', step=step, failures=failures, **common)


def _raised(
    failure: ReportCaseFailure[Any, Any, Any],
    error: WorkflowError | None,
    expected_route: str | None,
    tally: _Tally,
    escalating: str | None,
    expected_block: str | None,
    checks_guards: bool,
) -> CaseResult:
    records = error.records if error is not None else ()
    tally.add_usage(records)
    common: dict[str, Any] = {
        'name': failure.name,
        'expected_route': expected_route,
        'route': next((r.route for r in records if r.kind == 'router'), None),
        'tags': _tags(failure.metadata),
        'escalated': _escalated(records, escalating),
        'expected_blocked_by': expected_block,
        'blocked_by': list(tripped_guards(error)) if error is not None else [],
    }
    if isinstance(error, GuardTripped) and checks_guards:
        # A blocked run has no output to judge: the case is judged on whether the right guard blocked it.
        if error.guard == expected_block:
            return CaseResult(status='passed', **common)
        wanted = f'expected {expected_block!r} to' if expected_block is not None else 'expected no guard to'
        why = redact(
            f'{error.guard}.blocked: {error.guard!r} blocked the {error.on} ({error.verdict.reason}), {wanted} trip'
        )
        return CaseResult(status='failed', step=error.guard, failures=[why], **common)
    return CaseResult(
        status='error',
        step=error.step if error is not None else None,
        error=f'the workflow raised {redact(failure.error_message)}',
        **common,
    )


def _index(items: Sequence[str], item: str) -> int:
    return items.index(item) if item in items else len(items)


def _guard_metrics(
    results: Sequence[CaseResult], guards: Sequence[str], judged: Container[str]
) -> dict[str, GuardMetrics]:
    """Each guard's trips against the cases' expectations, over the cases that state one."""
    metrics: dict[str, GuardMetrics] = {}
    for guard in guards:
        counts = {'tp': 0, 'fp': 0, 'fn': 0, 'tn': 0}
        wrong: list[str] = []
        for result in results:
            if result.name not in judged:
                continue
            expected, tripped = result.expected_blocked_by == guard, guard in result.blocked_by
            key = ('t' if expected == tripped else 'f') + ('p' if tripped else 'n')
            counts[key] += 1
            if expected != tripped:
                wrong.append(result.name)
        metrics[guard] = GuardMetrics(
            true_positives=counts['tp'],
            false_positives=counts['fp'],
            false_negatives=counts['fn'],
            true_negatives=counts['tn'],
            wrong=wrong,
        )
    return metrics


def _confusion(evaluation: EvaluationReport[Any, Any, Any]) -> Confusion:
    for analysis in evaluation.analyses:
        if isinstance(analysis, ConfusionMatrix) and analysis.title == CONFUSION_TITLE:
            return Confusion(labels=analysis.class_labels, matrix=analysis.matrix)
    return Confusion()


def summarize(
    evaluation: EvaluationReport[Any, Any, Any],
    *,
    workflow: str,
    steps: Sequence[str],
    order: Sequence[str],
    raised: Mapping[str, WorkflowError],
    expected_routes: Mapping[str, str],
    invalid: Sequence[InvalidCase] = (),
    model: str | None = None,
    escalating: str | None = None,
    prices: Prices | None = None,
    guards: Sequence[str] = (),
    expected_blocks: Mapping[str, str | None] | None = None,
) -> WorkflowReport:
    """Build the report of `evaluation`, a run of `workflow` over cases named in `order` (invalid rows included).

    Args:
        evaluation: The pydantic-evals report; case outputs are `RunResult`s.
        workflow: The workflow's name.
        steps: Every step name of the workflow in tree order, to tell which step a check names and to order rates.
        order: Case names in file order, which the report keeps.
        raised: The error of each case whose workflow raised, by case name.
        expected_routes: The route each case expects, for cases whose run raised before a label could be set.
        invalid: Rows that never ran.
        model: The model the workflow ran on, when chosen for this evaluation.
        escalating: The router whose `escalated` detail each case reports.
        prices: Prices for models genai-prices does not know, as the workflow's model routers were given.
        guards: The workflow's guards, each measured for precision and recall.
        expected_blocks: For each case that states it, the guard it expects to trip (`None`: no guard).
    """
    blocks = expected_blocks or {}
    tally = _Tally(steps=steps, prices=prices)
    results = [_judged(case, tally, escalating, blocks.get(case.name)) for case in evaluation.cases]
    results += [
        _raised(
            f,
            raised.get(f.name),
            expected_routes.get(f.name),
            tally,
            escalating,
            blocks.get(f.name),
            f.name in blocks,
        )
        for f in evaluation.failures
    ]
    results += [CaseResult(name=bad.name, status='error', error=bad.message) for bad in invalid]
    position = {name: i for i, name in enumerate(order)}
    results.sort(key=lambda r: position.get(r.name, len(position)))
    return WorkflowReport(
        workflow=workflow,
        dataset=evaluation.dataset_name or evaluation.name,
        results=results,
        confusion=_confusion(evaluation),
        step_pass_rates={
            step: StepRate(passed=passed, total=total)
            for step, (passed, total) in sorted(tally.rates.items(), key=lambda item: _index(steps, item[0]))
        },
        usage=tally.usage_report(),
        guards=_guard_metrics(results, guards, blocks),
        model=model,
    )
