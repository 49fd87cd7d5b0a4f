"""`evaluate_workflow`: run a workflow over cases with pydantic-evals and report what went wrong where."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from pydantic_ai.usage import UsageLimits
from pydantic_evals import Case
from pydantic_evals.evaluators import ConfusionMatrixEvaluator
from pydantic_evals.lifecycle import CaseLifecycle
from pydantic_evals.reporting import ReportCase, ReportCaseFailure

from .._core._errors import WorkflowError
from .._core._records import RunResult
from .._core._step import AnyStep
from ._cases import CaseFile, WorkflowDataset
from ._evaluators import EXPECTED_ROUTE_LABEL, ROUTE_LABEL, ExpectRoute
from ._report import WorkflowReport
from ._summary import CONFUSION_TITLE, summarize
from ._tree import steps_by_name

__all__ = ('evaluate_workflow',)

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


async def evaluate_workflow(
    workflow: AnyStep,
    cases: CaseFile | WorkflowDataset,
    *,
    max_concurrency: int | None = None,
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
        max_concurrency: How many cases may run at once; all of them by default.
        progress: Show pydantic-evals' progress bar.
        deps: Handed to every run.
        usage_limits: Limits for each run.
        model: The model the workflow runs on, recorded in the report.
    """
    case_file = cases if isinstance(cases, CaseFile) else CaseFile(dataset=cases)
    source = case_file.dataset
    raised: dict[str, WorkflowError] = {}

    async def task(inputs: Any) -> RunResult[Any]:
        try:
            return await workflow.run(inputs, deps=deps, usage_limits=usage_limits)
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
        task_name=workflow.name,
        max_concurrency=max_concurrency,
        progress=progress,
        lifecycle=lambda case: _Probe(case, raised),
    )
    names = [case.name or f'Case {i}' for i, case in enumerate(source.cases, 1)]
    return summarize(
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
        model=model,
    )
