"""Routing metrics from runs and labels: accuracy, confusion, escalation, and cost and quality against always-strong.

Pure functions of finished runs (`RunResult`s, the `WorkflowError`s of failed runs, or bare records), so they serve
`podium eval`, notebooks and tests alike. A cascade's cost-quality curve needs every tier's outcome on every case:
run the workflow once per tier with `ModelRouter.pin(tier)` and pass the runs to `cascade_trials`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._core._errors import ConfigurationError
from .._core._records import StepRecord
from ..routers._calibrate import CurvePoint, Trial, curve
from ..routers._cost import Prices, Run, records_of, run_cost
from ..routers._model_router import tier_outcome
from ._report import Confusion

__all__ = (
    'cascade_trials',
    'confusion_matrix',
    'cost_quality_curve',
    'cost_vs_strong',
    'escalation_rate',
    'quality_vs_strong',
    'routing_accuracy',
    'write_curve_png',
)


def _router_record(run: Run, router: str | None, *, key: str | None = None) -> StepRecord | None:
    """The record of `router`, or of the first router that ran (the first that has `detail[key]`, when given)."""
    for record in records_of(run):
        if record.kind != 'router':
            continue
        if router is not None:
            if record.name == router:
                return record
        elif key is None or key in record.detail:
            return record
    return None


def routing_accuracy(runs: Sequence[Run], labels: Sequence[str], *, router: str | None = None) -> float | None:
    """Share of runs whose router took the labelled route; `None` when no router ran.

    Args:
        runs: One run per case.
        labels: The route each case should take, in the order of `runs`.
        router: The router to judge; the first one that ran by default.
    """
    matrix = confusion_matrix(runs, labels, router=router)
    total = sum(map(sum, matrix.matrix))
    return sum(row[i] for i, row in enumerate(matrix.matrix)) / total if total else None


def confusion_matrix(runs: Sequence[Run], labels: Sequence[str], *, router: str | None = None) -> Confusion:
    """Cases by labelled route (rows) and route taken (columns); a run whose router never ran is left out."""
    if len(runs) != len(labels):
        raise ConfigurationError(f'{len(runs)} runs but {len(labels)} labels; give one label per run')
    pairs: list[tuple[str, str]] = []
    for run, label in zip(runs, labels, strict=True):
        record = _router_record(run, router)
        if record is not None and record.route is not None:
            pairs.append((label, record.route))
    names = sorted({name for pair in pairs for name in pair})
    index = {name: i for i, name in enumerate(names)}
    matrix = [[0] * len(names) for _ in names]
    for expected, taken in pairs:
        matrix[index[expected]][index[taken]] += 1
    return Confusion(labels=names, matrix=matrix)


def escalation_rate(runs: Sequence[Run], *, router: str | None = None) -> float | None:
    """Share of runs in which the router escalated; `None` when no escalating router ran.

    A semantic router escalates to its LLM router, a model cascade past its first tier.
    """
    flags = [
        bool(record.detail['escalated'])
        for run in runs
        if (record := _router_record(run, router, key='escalated')) is not None and 'escalated' in record.detail
    ]
    return sum(flags) / len(flags) if flags else None


def cost_vs_strong(runs: Sequence[Run], strong_runs: Sequence[Run], *, prices: Prices | None = None) -> float | None:
    """Cost of `runs` over the cost of the same cases always on the strong model; `None` when a price is unknown.

    `run_cost(runs, prices).unpriced` names the models to price when this is `None`.
    """
    cost, strong = run_cost(runs, prices).total, run_cost(strong_runs, prices).total
    if cost is None or strong is None:
        return None
    return float(cost / strong) if strong else (1.0 if not cost else None)


def quality_vs_strong(quality: Sequence[float | bool], strong_quality: Sequence[float | bool]) -> float | None:
    """Summed quality (a pass is 1) over the strong model's on the same cases; `None` when the strong model got none."""
    if len(quality) != len(strong_quality):
        raise ConfigurationError(
            f'{len(quality)} qualities but {len(strong_quality)} for the strong model; pair them by case'
        )
    strong = float(sum(strong_quality))
    return float(sum(quality)) / strong if strong else None


def cascade_trials(
    runs_by_tier: Mapping[str, Sequence[Run]],
    quality_by_tier: Mapping[str, Sequence[float | bool]],
    *,
    router: str,
    prices: Prices | None = None,
) -> list[Trial]:
    """Every tier's outcome on every case, from runs pinned to each tier (`ModelRouter.pin`), cheapest tier first.

    Raises:
        PriceUnknown: when a model in the runs has no known price.
    """
    tiers = list(runs_by_tier)
    cases = {len(runs) for runs in runs_by_tier.values()} | {len(q) for q in quality_by_tier.values()}
    if set(quality_by_tier) != set(tiers) or len(cases) != 1:
        raise ConfigurationError('give runs and qualities for the same tiers, one per case each')
    return [
        Trial(
            tuple(
                tier_outcome(
                    runs_by_tier[tier][case],
                    router=router,
                    tier=tier,
                    quality=float(quality_by_tier[tier][case]),
                    prices=prices,
                )
                for tier in tiers
            )
        )
        for case in range(cases.pop())
    ]


def cost_quality_curve(trials: Sequence[Trial]) -> tuple[CurvePoint, ...]:
    """The cascade's quality and cost against always-strong at every threshold that changes a decision."""
    return curve(trials)


def write_curve_png(
    points: Sequence[CurvePoint], path: str | Path, *, chosen: float | None = None, target: float | None = None
) -> Path:
    """Plot cost (x) against quality (y), both relative to always-strong, one point per threshold; needs matplotlib.

    Args:
        points: The curve, e.g. `Calibration.curve` or `cost_quality_curve(trials)`.
        path: The PNG to write.
        chosen: The threshold to mark.
        target: The quality target to draw as a line.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("write_curve_png needs matplotlib: pip install 'podium[plot]'") from exc

    # `Any`: matplotlib types its plotting keyword arguments as unknown, which pyright strict rejects at every call.
    figure: Any = Figure(figsize=(6.4, 4.8), dpi=100)
    FigureCanvasAgg(figure)
    axes: Any = figure.add_subplot()
    axes.plot(
        [p.cost_vs_strong * 100 for p in points],
        [p.quality_vs_strong * 100 for p in points],
        marker='.',
        label='cascade, one point per threshold',
    )
    axes.plot([100], [100], marker='s', linestyle='none', color='black', label='always strong')
    if target is not None:
        axes.axhline(target * 100, linestyle='--', color='gray', label=f'target {target:.0%}')
    best = next((p for p in points if p.threshold == chosen), None)
    if best is not None:
        axes.plot(
            [best.cost_vs_strong * 100],
            [best.quality_vs_strong * 100],
            marker='o',
            markersize=10,
            fillstyle='none',
            linestyle='none',
            color='red',
            label=f'chosen threshold {best.threshold:.3g}',
        )
    axes.set_xlabel('cost, % of always-strong')
    axes.set_ylabel('quality, % of always-strong')
    axes.set_title('Model cascade: cost against quality by threshold')
    axes.grid(alpha=0.3)
    axes.legend(loc='lower right')
    target_path = Path(path)
    figure.savefig(target_path, format='png')
    return target_path
