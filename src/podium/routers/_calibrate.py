"""Choosing a cascade's acceptance threshold: the cheapest one whose quality stays within target of always-strong.

Every tier runs once per case and its outcome is kept as a `Trial`; any threshold's cascade is then simulated
exactly from the trials, with no more model calls, which is what makes searching every candidate threshold cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from ._bound import upper_rate

__all__ = (
    'Calibration',
    'CalibrationStatus',
    'CurvePoint',
    'TierOutcome',
    'Trial',
    'calibrate_trials',
    'cases_needed',
    'curve',
    'simulate',
    'too_few_cases',
)

MIN_SPLIT_CASES = 10
"""The fewest cases either split may have, whatever the target."""
_EPSILON = 1e-9


@dataclass(frozen=True, kw_only=True, slots=True)
class TierOutcome:
    """What one tier did on one case."""

    quality: float
    """How good its output was, in [0, 1]; 0 when the tier failed."""
    score: float | None
    """The check's score of the output; `None` when the output was invalid, the check failed, or nothing checked it."""
    cost: float
    """USD spent on the tier's calls and on checking its output."""


@dataclass(frozen=True, slots=True)
class Trial:
    """Every tier's outcome on one case, cheapest first; the last is the strong model the cascade is measured by."""

    tiers: tuple[TierOutcome, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class CurvePoint:
    """The cascade at one threshold, relative to always using the strongest tier."""

    threshold: float
    quality_vs_strong: float
    """Summed quality over the strong model's; 1.0 when both are 0."""
    cost_vs_strong: float
    """Summed cost over the strong model's; 1.0 when both are 0."""
    escalation_rate: float
    """Share of cases that went past the first tier."""


CalibrationStatus: TypeAlias = Literal['met', 'no_savings', 'missed_on_holdout', 'too_few_cases']
"""`met`: the held-out cases keep the target at the threshold chosen. `no_savings`: no threshold keeps
the target for less than the strong model alone costs. `missed_on_holdout`: the threshold chosen on the calibration
cases misses the target on the held-out ones. `too_few_cases`: the splits are too small to tell the target apart
from 100% (nothing was run)."""


@dataclass(frozen=True, kw_only=True)
class Calibration:
    """What `ModelRouter.calibrate` found, judged on held-out cases; `reason` says it in one sentence."""

    status: CalibrationStatus
    reason: str
    target_quality: float
    threshold: float | None
    """The threshold chosen on the calibration cases (set on the router only when `met`)."""
    calibration_cases: int
    holdout_cases: int
    quality_vs_strong: float | None = None
    """Held-out quality at `threshold`, over the strong model's."""
    cost_vs_strong: float | None = None
    """Held-out cost at `threshold`, over the strong model's."""
    escalation_rate: float | None = None
    """Held-out share of cases that went past the first tier."""
    curve: tuple[CurvePoint, ...] = ()
    """The cascade at every candidate threshold on the calibration cases, lowest threshold first."""

    @property
    def met(self) -> bool:
        """Whether the target holds on the held-out cases."""
        return self.status == 'met'


def cases_needed(target: float, level: float) -> tuple[int, int] | None:
    """The calibration and held-out cases `target` needs at confidence `level`; `None` when no number suffices.

    Held out: one wrong answer must move quality by no more than `1 - target`. Calibration: a cascade that loses
    nothing against the strong model must still be shown to stay within the target at `level`.
    """
    if target >= 1.0:
        return None if level > 0 else (MIN_SPLIT_CASES, MIN_SPLIT_CASES)
    holdout = max(MIN_SPLIT_CASES, math.ceil(round(1.0 / (1.0 - target), 6)))
    bound = math.ceil(round(math.log(1.0 - level) / math.log(target), 6)) if level > 0 else 0
    return max(holdout, bound), holdout


def _ratio(value: float, reference: float) -> float:
    if reference > 0:
        return value / reference
    return 1.0 if value == 0 else math.inf


@dataclass(frozen=True, slots=True)
class _Run:
    """A simulated cascade with what the choice of threshold needs beyond the curve point."""

    point: CurvePoint
    lost: float
    """Quality lost against the strong model, case by case (gains elsewhere do not make up for it)."""
    strong_quality: float


def _simulate(trials: Sequence[Trial], threshold: float) -> _Run:
    quality = cost = strong_quality = strong_cost = lost = 0.0
    escalated = 0
    for trial in trials:
        strong = trial.tiers[-1]
        for index, tier in enumerate(trial.tiers):
            cost += tier.cost
            if index == len(trial.tiers) - 1 or (tier.score is not None and tier.score >= threshold):
                quality += tier.quality
                lost += max(0.0, strong.quality - tier.quality)
                escalated += index > 0
                break
        strong_quality += strong.quality
        strong_cost += strong.cost
    point = CurvePoint(
        threshold=threshold,
        quality_vs_strong=_ratio(quality, strong_quality),
        cost_vs_strong=_ratio(cost, strong_cost),
        escalation_rate=escalated / len(trials) if trials else 0.0,
    )
    return _Run(point, lost, strong_quality)


def simulate(trials: Sequence[Trial], threshold: float) -> CurvePoint:
    """The cascade at `threshold`: each case keeps the first tier whose score reaches it, or the last tier's output."""
    return _simulate(trials, threshold).point


def _thresholds(trials: Sequence[Trial]) -> list[float]:
    return sorted({t.score for trial in trials for t in trial.tiers[:-1] if t.score is not None})


def curve(trials: Sequence[Trial]) -> tuple[CurvePoint, ...]:
    """The cascade at every threshold that changes a decision: each distinct score, lowest first."""
    return tuple(simulate(trials, s) for s in _thresholds(trials))


def calibrate_trials(
    calibration: Sequence[Trial], holdout: Sequence[Trial], *, target: float, level: float = 0.9
) -> Calibration:
    """Choose the cheapest threshold keeping quality >= `target` of always-strong; judge it on `holdout`.

    The cheapest threshold that just passes on the calibration cases is the one most likely to have passed by luck,
    so with `level` > 0 a threshold passes only when an upper confidence bound (Clopper-Pearson, at `level`) of the
    quality it loses against the strong model stays within what the target allows. `level=0` takes the calibration
    cases at face value. Ties in cost go to the higher quality, then the higher threshold.
    """
    short = too_few_cases(len(calibration), len(holdout), target, level)
    if short is not None:
        return short
    sizes = {'calibration_cases': len(calibration), 'holdout_cases': len(holdout)}
    runs = [_simulate(calibration, s) for s in _thresholds(calibration)]
    points = tuple(r.point for r in runs)
    cheaper = [
        r.point for r in runs if r.point.cost_vs_strong < 1.0 - _EPSILON and _keeps(r, len(calibration), target, level)
    ]
    if not cheaper:
        sure = f' with {level:.0%} confidence' if level > 0 else ''
        return Calibration(
            status='no_savings',
            reason=(
                f'no threshold keeps quality at {target:.0%} of the strong model{sure} for less than it costs alone '
                f'on the {len(calibration)} calibration cases: use the strong model, add cases, or lower '
                'target_quality'
            ),
            target_quality=target,
            threshold=None,
            curve=points,
            **sizes,
        )
    chosen = min(cheaper, key=lambda p: (p.cost_vs_strong, -p.quality_vs_strong, -p.threshold))
    held = simulate(holdout, chosen.threshold)
    met = held.quality_vs_strong >= target - _EPSILON
    reason = (
        f'threshold {chosen.threshold:.4g} keeps {held.quality_vs_strong:.1%} of the strong model quality at '
        f'{held.cost_vs_strong:.1%} of its cost on {len(holdout)} held-out cases'
    )
    if not met:
        reason += f', below the {target:.0%} target: calibrate on more cases or at a higher level'
    return Calibration(
        status='met' if met else 'missed_on_holdout',
        reason=reason,
        target_quality=target,
        threshold=chosen.threshold,
        quality_vs_strong=held.quality_vs_strong,
        cost_vs_strong=held.cost_vs_strong,
        escalation_rate=held.escalation_rate,
        curve=points,
        **sizes,
    )


def _keeps(run: _Run, cases: int, target: float, level: float) -> bool:
    if run.point.quality_vs_strong < target - _EPSILON:
        return False
    if level <= 0:
        return True
    losses = math.ceil(run.lost - _EPSILON)
    return upper_rate(losses, cases, level) * cases <= (1.0 - target) * run.strong_quality + _EPSILON


def too_few_cases(calibration: int, holdout: int, target: float, level: float) -> Calibration | None:
    """The `too_few_cases` outcome when splits of these sizes cannot resolve `target` at `level`, else `None`."""
    needed = cases_needed(target, level)
    if needed is None:
        reason = (
            f'no number of cases shows a 100% quality target with {level:.0%} confidence: lower target_quality, or '
            'set level=0 to take the calibration cases at face value'
        )
    elif calibration >= needed[0] and holdout >= needed[1]:
        return None
    else:
        reason = (
            f'a {target:.0%} quality target needs at least {needed[0]} calibration and {needed[1]} held-out cases; '
            f'got {calibration} and {holdout}: add cases or lower target_quality'
        )
    return Calibration(
        status='too_few_cases',
        reason=reason,
        target_quality=target,
        threshold=None,
        calibration_cases=calibration,
        holdout_cases=holdout,
    )
