"""`ModelRouter`: the model for a request chosen per request, by a cascade (cheap first) or a classifier up front."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Literal, TypeAlias, cast

import anyio
from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_core import ValidationError, to_jsonable_python
from typing_extensions import TypeVar

from .._core._arguments import require_fraction
from .._core._errors import BudgetExceeded, ConfigurationError, NoRoute, StepOutputError, WorkflowError
from .._core._flow import Flow, StepScope
from .._core._records import Attempt, RunResult
from .._core._redact import describe
from .._core._step import Step, ensure_named
from .._core._traits import StepInfo
from ._base import Allow, RouterBase
from ._calibrate import Calibration, TierOutcome, Trial, calibrate_trials, too_few_cases
from ._checks import OutputCheck
from ._cost import Prices, Run, records_of, run_cost
from ._split import holdout_split

__all__ = ('Escalation', 'ModelRouter', 'tier_outcome')

InT = TypeVar('InT')
OutT = TypeVar('OutT')
ExpectedT = TypeVar('ExpectedT')

Escalation: TypeAlias = Literal['below_threshold', 'invalid_output', 'failed', 'check_failed']
"""Why a tier's output was not kept, as `detail['reason.<tier>']` records it."""


class ModelRouter(RouterBase[InT, OutT]):
    """Runs a request on the cheapest model tier that does it well enough.

    `tiers` are the same task on different models, cheapest first (e.g. one agent step per model). As a cascade, each
    tier runs in turn until one's output validates and its `accept` check scores at least `threshold`; the last tier's
    output is kept as it is. With `classify`, a function or step picks the tier to start from (by task type or
    difficulty), and the cascade goes on upward from there when `accept` is set. The record's `route` is the tier
    whose output was kept; `detail` has `score.<tier>`, `reason.<tier>` (an `Escalation`), `escalations` and
    `escalated`; `attempts` names each tier's model. Budget errors always stop the run.
    """

    def __init__(
        self,
        tiers: Mapping[str, Step[InT, OutT]],
        *,
        accept: OutputCheck[InT, OutT] | None = None,
        threshold: float = 0.5,
        classify: Step[InT, str] | Callable[[InT], str] | None = None,
        prices: Prices | None = None,
        allow: Allow | None = None,
        fallback: str | None = None,
        name: str = 'model_router',
    ) -> None:
        """Build the router.

        Args:
            tiers: One step per model tier, cheapest first.
            accept: Scores a tier's output in [0, 1] (`ConfidenceCheck`, `VerifierCheck`, `llm_judge`). Without it a
                tier's output is kept whenever it validates.
            threshold: The score a tier's output must reach to be kept; `calibrate` picks it.
            classify: Picks the first tier to try from the input: a function, or a step (an agent) returning a tier.
            prices: Prices for models genai-prices does not know, used by `calibrate`.
            allow: Per-request allow-list of tiers; the others are skipped.
            fallback: The tier to start from when `classify` names no tier; the strongest by default.
            name: The step's name.
        """
        name = ensure_named(name, 'model_router')
        if len(tiers) < 2:
            raise ConfigurationError(
                f'model router {name!r} has {len(tiers)} tier(s); it needs at least two, cheapest first. With one '
                'model, use its step directly'
            )
        require_fraction(threshold, f'model router {name!r}: threshold')
        order = list(tiers)
        super().__init__(tiers, fallback=fallback or order[-1], allow=allow, name=name)
        self.order = order
        self.accept = accept
        self.threshold = threshold
        self.classify = classify
        self.prices = prices
        self._pinned: ContextVar[str | None] = ContextVar(f'podium_pinned_{name}', default=None)

    def describe(self) -> StepInfo:
        return replace(super().describe(), escalates=True)

    @contextmanager
    def pin(self, tier: str) -> Generator[None]:
        """Within this block, runs use `tier` alone (for baselines and calibration); its output is still scored."""
        if tier not in self.steps:
            raise ConfigurationError(f'model router {self.name!r} has no tier {tier!r}; its tiers are {self.order}')
        token = self._pinned.set(tier)
        try:
            yield
        finally:
            self._pinned.reset(token)

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        plan = await self._plan(input, flow, scope)
        for tier in plan[:-1]:
            try:
                output = await self._run_tier(tier, input, flow, scope)
            except BudgetExceeded:
                raise
            except WorkflowError as exc:
                scope.detail[f'reason.{tier}'] = _failure(exc)
                continue
            reason = await self._judge(input, output, flow, scope, tier)
            if reason is None:
                return self._keep(scope, tier, output)
            scope.detail[f'reason.{tier}'] = reason
        tier = plan[-1]
        output = await self._run_tier(tier, input, flow, scope)
        if self._pinned.get() is not None and tier != self.order[-1]:
            await self._judge(input, output, flow, scope, tier)  # scored for calibration, kept regardless
        return self._keep(scope, tier, output)

    def _keep(self, scope: StepScope, tier: str, output: OutT) -> OutT:
        escalations = sum(key.startswith('reason.') for key in scope.detail)
        scope.detail.update(escalated=escalations > 0, escalations=escalations)
        if self.accept is not None:
            scope.detail['threshold'] = self.threshold
        scope.choose(tier)
        scope.output = output
        return output

    async def _run_tier(self, tier: str, input: InT, flow: Flow, scope: StepScope) -> OutT:
        """Run one tier, noting the attempt (and the model that answered or failed) on the router's record."""
        step = self.steps[tier]
        first = flow.mark()
        error: WorkflowError | None = None
        try:
            return await step.invoke(input, flow)
        except WorkflowError as exc:
            error = exc
            raise
        finally:
            record = next((r for r in flow.records_since(first) if r.name == step.name), None)
            scope.attempts.append(
                Attempt(
                    number=len(scope.attempts) + 1,
                    model=record.model if record is not None else None,
                    error=None if error is None else type(error.__cause__ or error).__name__,
                )
            )

    async def _plan(self, input: InT, flow: Flow, scope: StepScope) -> list[str]:
        """The tiers to try, in order: the pinned one, or the allowed ones from the classifier's pick upward."""
        pinned = self._pinned.get()
        if pinned is not None:
            scope.detail['pinned'] = pinned
            return [pinned]
        allowed = [t for t in self.order if self.allow is None or t in self.allow(input, flow.deps)]
        if not allowed:
            raise NoRoute(
                f'model router {self.name!r}: the allow-list lets this request use none of its tiers {self.order}',
                step=self.name,
            )
        start = self.order[0]
        if self.classify is not None:
            start = await self._classify(input, flow, scope)
        plan = [t for t in allowed if self.order.index(t) >= self.order.index(start)]
        if not plan:
            scope.detail['denied_route'] = start
            scope.degrade('denied')
            plan = allowed[-1:]
        return plan

    async def _classify(self, input: InT, flow: Flow, scope: StepScope) -> str:
        classify: object = self.classify
        if isinstance(classify, Step):
            chosen = await cast('Step[InT, str]', classify).invoke(input, flow)
        else:
            chosen = cast('Callable[[InT], str]', classify)(input)
        scope.detail['classified'] = str(chosen)
        if chosen in self.steps:
            return chosen
        scope.detail['requested_route'] = str(chosen)
        scope.degrade('unknown_route')
        return self.fallback

    async def _judge(self, input: InT, output: OutT, flow: Flow, scope: StepScope, tier: str) -> Escalation | None:
        """Why `output` should not be kept, or `None` to keep it."""
        if self.accept is None:
            return None
        try:
            score = await self.accept.score(input, output, flow)
        except BudgetExceeded:
            raise
        except Exception as exc:  # a check that cannot judge: the output is not trusted, and the record says why
            scope.detail[f'error.{tier}'] = describe(exc)
            scope.degrade('check_failed')
            return 'check_failed'
        scope.detail[f'score.{tier}'] = round(score, 4)
        return None if score >= self.threshold else 'below_threshold'

    async def calibrate(
        self,
        cases: Sequence[tuple[InT, ExpectedT]],
        *,
        target_quality: float = 0.95,
        grade: Callable[[OutT, ExpectedT], float | bool] | None = None,
        holdout: float | Sequence[tuple[InT, ExpectedT]] = 0.3,
        seed: int = 0,
        level: float = 0.9,
        deps: object = None,
        max_concurrency: int = 4,
    ) -> Calibration:
        """Pick the cheapest threshold whose quality is at least `target_quality` of always using the last tier.

        Every tier runs once on every case (each pinned, its output scored and graded); the threshold is chosen on
        the calibration cases and judged on the held-out ones. It is set on the router only when the held-out cases
        meet the target; the result says why otherwise, before any model call when there are too few cases.

        Args:
            cases: `(input, expected)` pairs.
            target_quality: Quality relative to the strongest tier, e.g. 0.95 for 95%.
            grade: Scores an output against its expected value in [0, 1]; by default 1 when they are equal (an
                expected mapping matches the output's fields it names), else 0.
            holdout: The share of cases kept out to judge on, or the held-out cases themselves.
            seed: Seeds the split.
            level: How sure the choice must be that the quality holds beyond the calibration cases (see
                `calibrate_trials`); 0 takes the calibration cases at face value.
            deps: The deps each run gets, as for `Step.run`.
            max_concurrency: Runs at most this many tier calls at once.

        Raises:
            PriceUnknown: when a model's cost is unknown: pass `prices=` to the router.
        """
        if not 0.0 < target_quality <= 1.0:
            raise ConfigurationError(f'target_quality must be within (0, 1], got {target_quality}')
        if not 0.0 <= level < 1.0:
            raise ConfigurationError(f'level must be within [0, 1), got {level}')
        if isinstance(holdout, int | float):
            calibration, held = holdout_split(cases, holdout, seed=seed)
        else:
            calibration, held = list(cases), list(holdout)
        short = too_few_cases(len(calibration), len(held), target_quality, level)
        if short is not None:
            return short
        trials = await self._trials([*calibration, *held], grade or _equal, deps, max_concurrency)
        result = calibrate_trials(
            trials[: len(calibration)], trials[len(calibration) :], target=target_quality, level=level
        )
        if result.met and result.threshold is not None:
            self.threshold = result.threshold
        return result

    async def _trials(
        self,
        cases: Sequence[tuple[InT, ExpectedT]],
        grade: Callable[[OutT, ExpectedT], float | bool],
        deps: object,
        limit: int,
    ) -> list[Trial]:
        """Every tier's outcome on every case, each run pinned to one tier.

        The first case runs alone, so that a model without a price stops calibration before the rest are paid for.
        """
        runs: dict[tuple[int, int], RunResult[OutT] | WorkflowError] = {}
        limiter = anyio.CapacityLimiter(limit)

        async def one(case: int, tier: int) -> None:
            async with limiter:
                with self.pin(self.order[tier]):
                    try:
                        runs[case, tier] = await self.run(cases[case][0], deps=deps)
                    except WorkflowError as exc:
                        runs[case, tier] = exc

        def trial(case: int) -> Trial:
            return Trial(tuple(outcome(case, tier) for tier in range(len(self.order))))

        def outcome(case: int, tier: int) -> TierOutcome:
            run = runs[case, tier]
            quality = 0.0 if isinstance(run, WorkflowError) else float(grade(run.output, cases[case][1]))
            return tier_outcome(run, router=self.name, tier=self.order[tier], quality=quality, prices=self.prices)

        for tier in range(len(self.order)):
            await one(0, tier)
        first = trial(0)
        async with anyio.create_task_group() as group:
            for case in range(1, len(cases)):
                for tier in range(len(self.order)):
                    group.start_soon(one, case, tier)
        return [first, *(trial(case) for case in range(1, len(cases)))]


def tier_outcome(run: Run, *, router: str, tier: str, quality: float, prices: Prices | None = None) -> TierOutcome:
    """A tier's outcome on one case, from a run pinned to it: its score, its cost, and the quality you graded.

    Raises:
        PriceUnknown: when a model in the run has no known price.
    """
    records = records_of(run)
    record = next((r for r in records if r.name == router), None)
    score = record.detail.get(f'score.{tier}') if record is not None else None
    return TierOutcome(
        quality=quality,
        score=float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None,
        cost=float(run_cost(records, prices).require()),
    )


def _equal(output: object, expected: object) -> float:
    if isinstance(expected, Mapping):
        actual = to_jsonable_python(output, fallback=repr)
        if not isinstance(actual, Mapping):
            return 0.0
        fields, wanted = cast('Mapping[str, object]', actual), cast('Mapping[str, object]', expected)
        return float(all(key in fields and fields[key] == value for key, value in wanted.items()))
    return float(output == expected)


def _failure(exc: WorkflowError) -> Escalation:
    invalid = (UnexpectedModelBehavior, ValidationError, StepOutputError)
    return 'invalid_output' if isinstance(exc, invalid) or isinstance(exc.__cause__, invalid) else 'failed'
