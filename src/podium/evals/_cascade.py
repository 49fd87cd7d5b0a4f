"""A model cascade against always-strong: what it saves, and what it costs in quality.

The cases run again with the cascade pinned to its strongest tier, and to each tier for the cost-quality curve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .._core._step import AnyStep
from ..routers._calibrate import CurvePoint, simulate
from ..routers._cost import Run
from ._cases import CaseFile, WorkflowDataset
from ._routing_metrics import cascade_trials, cost_quality_curve, cost_vs_strong, quality_vs_strong
from ._run import Evaluation, RunOptions, run_cases
from ._tree import Cascade

__all__ = ('CascadeEvaluation', 'evaluate_cascade')


@dataclass(frozen=True, kw_only=True)
class CascadeEvaluation:
    """The cascade's evaluation, and the evaluations pinned to each tier that ran (the strongest at least)."""

    router: Cascade
    evaluation: Evaluation
    """The cascade as it is; its report has the metrics against always-strong."""
    pinned: Mapping[str, Evaluation]

    def curve(self) -> tuple[CurvePoint, ...]:
        """The cost-quality curve over thresholds, with a point at the router's own threshold.

        Needs every tier pinned. Raises `PriceUnknown` when a model has no known price.
        """
        order = self.router.order
        trials = cascade_trials(
            {tier: _runs(self.pinned[tier]) for tier in order},
            {tier: _quality(self.pinned[tier]) for tier in order},
            router=self.router.name,
            prices=self.router.prices,
        )
        points = {p.threshold: p for p in cost_quality_curve(trials)}
        points.setdefault(self.router.threshold, simulate(trials, self.router.threshold))
        return tuple(points[t] for t in sorted(points))


async def evaluate_cascade(
    workflow: AnyStep,
    cases: CaseFile | WorkflowDataset,
    router: Cascade,
    options: RunOptions,
    *,
    every_tier: bool = False,
) -> CascadeEvaluation:
    """Run the cases on `workflow`, then again with `router` pinned to its strongest tier (or to each, for the curve).

    Pinning is per run context, so `router` may sit anywhere in `workflow`.
    """
    evaluation = await run_cases(workflow, cases, options)
    pinned: dict[str, Evaluation] = {}
    for tier in router.order if every_tier else router.order[-1:]:
        with router.pin(tier):
            pinned[tier] = await run_cases(workflow, cases, options, title=f'{workflow.name} pinned to {tier}')
    strong = pinned[router.order[-1]]
    metrics = {
        'strong_tier': router.order[-1],
        'cost_vs_strong': cost_vs_strong(_runs(evaluation), _runs(strong), prices=router.prices),
        'quality_vs_strong': quality_vs_strong(_quality(evaluation), _quality(strong)),
    }
    report = evaluation.report.model_copy(update=metrics)
    return CascadeEvaluation(router=router, evaluation=Evaluation(report=report, runs=evaluation.runs), pinned=pinned)


def _runs(evaluation: Evaluation) -> Sequence[Run]:
    """Each case's run in report order; a row that never ran counts as a run with no records."""
    return [evaluation.runs.get(result.name, ()) for result in evaluation.report.results]


def _quality(evaluation: Evaluation) -> Sequence[float]:
    return [float(result.status == 'passed') for result in evaluation.report.results]
