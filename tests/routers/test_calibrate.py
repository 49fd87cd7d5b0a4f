from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic_ai import Agent

import podium
from podium.evals._routing_metrics import write_curve_png
from podium.routers._bound import upper_rate
from podium.routers._calibrate import (
    TierOutcome,
    Trial,
    calibrate_trials,
    cases_needed,
    curve,
    simulate,
)
from podium.routers._checks import ConfidenceCheck
from podium.routers._cost import ModelPrice
from podium.routers._model_router import ModelRouter
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


# ---------------------------------------------------------------- synthetic populations
def cheap_tier(score: float | None, right: bool, cost: float = 0.1) -> TierOutcome:
    return TierOutcome(quality=float(right), score=score, cost=cost)


def strong_tier(right: bool = True, cost: float = 1.0) -> TierOutcome:
    return TierOutcome(quality=float(right), score=None, cost=cost)


scores = st.one_of(st.none(), st.integers(0, 20).map(lambda i: i / 20))
"""A cheap tier's check score, on a coarse grid so thresholds tie; `None` for an invalid output."""

trials = st.builds(
    lambda score, right, strong_right, cost: Trial((cheap_tier(score, right, cost), strong_tier(strong_right))),
    scores,
    st.booleans(),
    st.sampled_from([True, True, True, False]),
    st.sampled_from([0.05, 0.1, 0.3]),
)
"""One kind of case: the cheap tier's score, whether it was right and its cost; whether the strong tier was right."""
populations = st.lists(st.tuples(trials, st.integers(1, 12)), min_size=1, max_size=20).map(
    lambda kinds: [trial for trial, count in kinds for _ in range(count)]
)
"""Up to 20 kinds of case, each up to 12 times: 1 to 240 cases."""
targets = st.sampled_from([0.8, 0.9, 0.95])


@settings(max_examples=300, deadline=None)
@given(archetypes=st.lists(trials, min_size=1, max_size=30), target=targets, data=st.data())
def test_the_target_is_met_on_held_out_cases_whenever_it_is_achievable(
    archetypes: list[Trial], target: float, data: st.DataObject
):
    """Calibration and held-out cases from one population (the same archetypes, in other numbers and order)."""
    calibration = archetypes * 100
    holdout = data.draw(st.permutations(archetypes * 40))

    result = calibrate_trials(calibration, holdout, target=target, level=0)

    achievable = any(p.quality_vs_strong >= target and p.cost_vs_strong < 1 - 1e-9 for p in curve(archetypes))
    if achievable:
        assert result.status == 'met', result.reason
        assert result.threshold is not None
        assert simulate(holdout, result.threshold).quality_vs_strong >= target
        assert result.quality_vs_strong is not None
        assert result.quality_vs_strong >= target
    else:
        assert (result.status, result.threshold) == ('no_savings', None)
        assert result.reason.startswith(f'no threshold keeps quality at {target:.0%} of the strong model')


@settings(max_examples=300, deadline=None)
@given(
    calibration=populations,
    holdout=populations,
    target=targets,
    level=st.sampled_from([0.0, 0.5, 0.9]),
)
def test_the_report_is_honest_about_any_split(
    calibration: list[Trial], holdout: list[Trial], target: float, level: float
):
    result = calibrate_trials(calibration, holdout, target=target, level=level)

    event(result.status)
    if result.status == 'too_few_cases':
        needed = cases_needed(target, level)
        assert needed is not None
        assert len(calibration) < needed[0] or len(holdout) < needed[1]
        return
    feasible = [p for p in curve(calibration) if p.quality_vs_strong >= target - 1e-9 and p.cost_vs_strong < 1]
    if result.status == 'no_savings':
        assert result.threshold is None
        assert level > 0 or not feasible
        return
    assert result.threshold is not None
    chosen = simulate(calibration, result.threshold)
    assert chosen.quality_vs_strong >= target - 1e-9
    assert chosen.cost_vs_strong < 1
    assert chosen.cost_vs_strong >= min(p.cost_vs_strong for p in feasible)
    if level == 0:
        assert chosen.cost_vs_strong == min(p.cost_vs_strong for p in feasible)
    held = simulate(holdout, result.threshold).quality_vs_strong
    assert (result.status == 'met') == (held >= target - 1e-9)
    assert result.quality_vs_strong == held


def test_at_level_90_percent_a_chosen_threshold_rarely_misses_on_fresh_cases():
    """Informative but noisy confidence: the cheapest threshold that just passes would often miss; the bound doesn't."""
    rng = random.Random(0)

    def case() -> Trial:
        hard = rng.random() < 0.4
        right = rng.random() < (0.55 if hard else 0.95)
        score = round(min(1.0, max(0.0, rng.gauss(0.7 if hard else 0.9, 0.1) - (0 if right else 0.1))), 2)
        return Trial((cheap_tier(score, right, cost=0.06), strong_tier(rng.random() < 0.98)))

    outcomes = [
        calibrate_trials([case() for _ in range(150)], [case() for _ in range(400)], target=0.95) for _ in range(60)
    ]
    naive = [
        calibrate_trials([case() for _ in range(150)], [case() for _ in range(400)], target=0.95, level=0)
        for _ in range(60)
    ]

    chosen = [r for r in outcomes if r.threshold is not None]
    misses = sum(r.status == 'missed_on_holdout' for r in chosen)
    assert len(chosen) >= 50
    assert misses / len(chosen) <= 0.1
    assert sum(r.status == 'missed_on_holdout' for r in naive) > misses


def test_a_set_too_small_for_the_target_says_how_many_cases_it_needs():
    few = [Trial((cheap_tier(0.9, True), strong_tier()))] * 30

    result = calibrate_trials(few, few[:10], target=0.95)

    assert (result.status, result.threshold, result.curve) == ('too_few_cases', None, ())
    assert result.reason == (
        'a 95% quality target needs at least 45 calibration and 20 held-out cases; got 30 and 10: add cases or lower '
        'target_quality'
    )
    assert calibrate_trials(few * 3, few, target=1.0).reason.startswith(
        'no number of cases shows a 100% quality target with 90% confidence'
    )


@pytest.mark.parametrize(
    ('target', 'level', 'needed'),
    [(0.95, 0.9, (45, 20)), (0.95, 0.0, (20, 20)), (0.9, 0.0, (10, 10)), (0.99, 0.9, (230, 100)), (1.0, 0.0, (10, 10))],
)
def test_cases_needed(target: float, level: float, needed: tuple[int, int]):
    assert cases_needed(target, level) == needed


@given(
    trials=st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    level=st.floats(0.0, 0.99),
)
def test_the_bound_is_at_least_the_observed_rate_and_grows_with_level(trials: tuple[int, int], level: float):
    failures, n = trials
    bound = upper_rate(failures, n, level)

    assert failures / n - 1e-12 <= bound <= 1.0
    assert upper_rate(failures, n, min(0.995, level + 0.005)) >= bound - 1e-12
    assert upper_rate(failures, n, 0.0) == failures / n


# ---------------------------------------------------------------- through a ModelRouter
class Answer(BaseModel):
    value: int
    confidence: float


def synthetic_cascade() -> ModelRouter[str, Answer]:
    """The cheap model is wrong on every fifth question and says so with a low confidence."""

    def cheap(prompt: str) -> Answer:
        number = int(prompt.removeprefix('q'))
        wrong = number % 5 == 0
        return Answer(value=number + wrong, confidence=0.3 if wrong else 0.9)

    def strong(prompt: str) -> Answer:
        return Answer(value=int(prompt.removeprefix('q')), confidence=1.0)

    def tier(name: str, answer: object) -> podium.Step[str, Answer]:
        model = ScriptedModel(default=answer, model_name=name)  # type: ignore[arg-type]
        return podium.agent(Agent(model, output_type=Answer, name=name))

    return ModelRouter(
        {'cheap': tier('cheap', cheap), 'strong': tier('strong', strong)},
        accept=ConfidenceCheck(),
        threshold=0.0,
        prices={
            'cheap': ModelPrice(input_per_mtok=0.1, output_per_mtok=0.4),
            'strong': ModelPrice(input_per_mtok=2, output_per_mtok=8),
        },
    )


async def test_calibrate_sets_a_threshold_that_meets_the_target_on_held_out_cases():
    router = synthetic_cascade()
    cases = [(f'q{i}', {'value': i}) for i in range(100)]
    held = [(f'q{i}', {'value': i}) for i in range(100, 140)]

    result = await router.calibrate(cases, holdout=held, target_quality=0.95)

    assert (result.status, result.threshold, router.threshold) == ('met', 0.9, 0.9)
    assert (result.quality_vs_strong, result.escalation_rate) == (1.0, 0.2)
    assert result.cost_vs_strong is not None
    assert result.cost_vs_strong < 0.35


async def test_a_calibration_that_misses_leaves_the_threshold_alone():
    router = synthetic_cascade()
    cases = [(f'q{i}', {'value': i}) for i in range(100)]

    result = await router.calibrate(cases, target_quality=0.95, grade=lambda output, expected: False)

    assert (result.status, result.threshold, router.threshold) == ('no_savings', None, 0.0)


def test_the_curve_is_written_as_a_png(tmp_path: Path):
    pytest.importorskip('matplotlib')
    points = curve([Trial((cheap_tier(s / 10, s > 3), strong_tier())) for s in range(10)])

    written = write_curve_png(points, tmp_path / 'curve.png', chosen=points[3].threshold, target=0.9)

    assert written.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
