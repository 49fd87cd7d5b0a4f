"""`evaluate_workflow`: run a workflow over cases with pydantic-evals and report what went wrong where."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pydantic_ai.usage import UsageLimits
from pydantic_evals import Case
from pydantic_evals.evaluators import ConfusionMatrixEvaluator
from pydantic_evals.lifecycle import CaseLifecycle
from pydantic_evals.reporting import ReportCase, ReportCaseFailure

from .._core._errors import WorkflowError
from .._core._records import RunResult
from .._core._step import AnyStep
from ..routers._cost import Run
from ._cases import CaseFile, WorkflowDataset
from ._evaluators import EXPECTED_ROUTE_LABEL, ROUTE_LABEL, ExpectBlocked, ExpectRoute
from ._report import WorkflowReport
from ._summary import CONFUSION_TITLE, summarize
from ._tree import escalating_router, find_cascade, find_guards, steps_by_name

__all__ = ('DEFAULT_MAX_CONCURRENCY', 'Evaluation', 'RunOptions', 'evaluate_workflow', 'run_cases')

DEFAULT_MAX_CONCURRENCY = 8
"""How many cases run at once unless told otherwise.

Cases wait on model calls, so a few at a time already overlap most of the latency. Every case in flight holds its
messages and records, and every request counts against the provider's rate limit, so running all of a large case
file at once grows memory with the file and trips rate limits; 8 keeps both flat.
"""

_case_probe: ContextVar[_Probe | None] = ContextVar('podium_eval_case', default=None)


class _Probe(CaseLifecycle[Any, RunResult[Any], Any]):
    """Carries a failed run's `WorkflowError` from the task to the report, which keeps only its message.

    `setup` and the task run in the same context, so the task finds its case's probe in a context variable.
    """

    def __init__(self, case: Case[Any, RunResult[Any], Any], raised: dict[str, WorkflowError]) -> None:
        super().__init__(case)
        self.raised = raised
        self.error: WorkflowError | None = None

    async def setup(self) -> None:
        _case_probe.set(self)

    async def teardown(
        self, result: ReportCase[Any, RunResult[Any], Any] | ReportCaseFailure[Any, RunResult[Any], Any] | None
    ) -> None:
        if result is not None and self.error is not None:
            self.raised[result.name] = self.error


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How each case runs; see `evaluate_workflow`."""

    max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY
    progress: bool = False
    deps: object = None
    usage_limits: UsageLimits | None = None
    model: str | None = None


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """A report with each case's run, for metrics that need the records (cost against another run, say)."""

    report: WorkflowReport
    runs: Mapping[str, Run]
    """By case name; the rows that never ran have none."""


async def evaluate_workflow(
    workflow: AnyStep,
    cases: CaseFile | WorkflowDataset,
    *,
    max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
    progress: bool = False,
    deps: object = None,
    usage_limits: UsageLimits | None = None,
    model: str | None = None,
) -> WorkflowReport:
    """Run `workflow` on every case and judge each run with the cases' evaluators.

    The task of each case is `workflow.run(inputs)`, so evaluators see the `RunResult` and its step records. A run
    that raises, an evaluator that raises and an invalid row each make their case an `error`; the others still run.

    Args:
        workflow: The workflow to evaluate.
        cases: A case file from `load_cases`, or a pydantic-evals dataset whose cases use podium's evaluators.
        max_concurrency: How many cases may run at once, `DEFAULT_MAX_CONCURRENCY` (8) by default: enough to
            overlap model latency, few enough to keep memory flat and stay under rate limits. `None` runs every
            case at once.
        progress: Show pydantic-evals' progress bar.
        deps: Handed to every run.
        usage_limits: Limits for each run.
        model: The model the workflow runs on, recorded in the report.
    """
    options = RunOptions(
        max_concurrency=max_concurrency, progress=progress, deps=deps, usage_limits=usage_limits, model=model
    )
    return (await run_cases(workflow, cases, options)).report


async def run_cases(
    workflow: AnyStep, cases: CaseFile | WorkflowDataset, options: RunOptions, *, title: str | None = None
) -> Evaluation:
    """`evaluate_workflow`, keeping the runs; `title` names the run on the progress bar."""
    case_file = cases if isinstance(cases, CaseFile) else CaseFile(dataset=cases)
    source = case_file.dataset
    raised: dict[str, WorkflowError] = {}

    async def task(inputs: Any) -> RunResult[Any]:
        try:
            return await workflow.run(inputs, deps=options.deps, usage_limits=options.usage_limits)
        except WorkflowError as exc:
            probe = _case_probe.get()
            if probe is not None:
                probe.error = exc
            raise

    confusion = ConfusionMatrixEvaluator(
        predicted_from='labels',
        predicted_key=ROUTE_LABEL,
        expected_from='labels',
        expected_key=EXPECTED_ROUTE_LABEL,
        title=CONFUSION_TITLE,
    )
    dataset = WorkflowDataset(
        name=source.name,
        cases=source.cases,
        evaluators=source.evaluators,
        report_evaluators=[*source.report_evaluators, confusion],
    )
    evaluation = await dataset.evaluate(
        task,
        name=workflow.name,
        task_name=title or workflow.name,
        max_concurrency=options.max_concurrency,
        progress=options.progress,
        lifecycle=lambda case: _Probe(case, raised),
    )
    names = [case.name or f'Case {i}' for i, case in enumerate(source.cases, 1)]
    escalating, cascade = escalating_router(workflow), find_cascade(workflow)
    report = summarize(
        evaluation,
        workflow=workflow.name,
        steps=list(steps_by_name(workflow)),
        order=case_file.order or names,
        raised=raised,
        expected_routes={
            name: ev.route
            for name, case in zip(names, source.cases, strict=True)
            for ev in case.evaluators
            if isinstance(ev, ExpectRoute)
        },
        invalid=case_file.invalid,
        model=options.model,
        escalating=escalating.name if escalating is not None else None,
        prices=cascade.prices if cascade is not None else None,
        guards=find_guards(workflow),
        expected_blocks={
            name: ev.guard
            for name, case in zip(names, source.cases, strict=True)
            for ev in case.evaluators
            if isinstance(ev, ExpectBlocked)
        },
    )
    runs: dict[str, Run] = {case.name: case.output for case in evaluation.cases}
    return Evaluation(report=report, runs={**runs, **raised})
