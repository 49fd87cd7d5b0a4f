"""`loop`: repeat a step on its own output until a condition holds, with a guaranteed stop and a stated reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Literal, TypeAlias

from typing_extensions import TypeVar

from .._core._arguments import is_count
from .._core._errors import BudgetExceeded, ConfigurationError, LoopLimitReached
from .._core._flow import StepScope
from .._core._step import Step, ensure_named, require_step
from .._core._traits import StepInfo

__all__ = ('Loop', 'LoopResult', 'StopReason', 'loop')

T = TypeVar('T')
DepsT = TypeVar('DepsT', default=None)
T_co = TypeVar('T_co', covariant=True)

StopReason: TypeAlias = Literal['condition_met', 'max_iterations', 'usage_limit', 'no_progress']
"""Why a loop stopped: a loop always ends, and its `LoopResult` says which bound ended it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LoopResult(Generic[T_co]):
    """How a loop ended: the last output, how many iterations ran, and why it stopped."""

    output: T_co
    """The output of the last completed iteration."""
    iterations: int
    """How many iterations completed."""
    stop_reason: StopReason
    """`condition_met`, or the bound that stopped the loop: `max_iterations`, `usage_limit`, `no_progress`."""

    @property
    def converged(self) -> bool:
        """Whether the loop stopped because its condition held."""
        return self.stop_reason == 'condition_met'


class Loop(Step[T, LoopResult[T], DepsT]):
    """Feeds a step its own output until `until(output)` holds, or a bound stops it.

    Memory stays flat however long it runs: the records of the first and last `keep_iterations` iterations are kept,
    the ones between are dropped as the loop goes (the loop's record counts them).
    """

    record_kind = 'loop'

    def __init__(
        self,
        step: Step[T, T, DepsT],
        *,
        until: Callable[[T], bool],
        max_iterations: int,
        stop_on_repeat: bool = True,
        raise_on_limit: bool = False,
        keep_iterations: int = 3,
        name: str | None = None,
    ) -> None:
        if not is_count(max_iterations) or max_iterations < 1:
            raise ConfigurationError(f'loop needs max_iterations >= 1 so that it always stops, got {max_iterations!r}')
        if not is_count(keep_iterations) or keep_iterations < 1:
            raise ConfigurationError(f'loop needs keep_iterations >= 1, got {keep_iterations!r}')
        self.step = require_step(step, 'loop(step)')
        self.until = until
        self.max_iterations = max_iterations
        self.stop_on_repeat = stop_on_repeat
        self.raise_on_limit = raise_on_limit
        self.keep_iterations = keep_iterations
        self.name = ensure_named(name, f'loop({step.name})')
        self._info = StepInfo(kind='loop', children=[('repeat', step)])

    def describe(self) -> StepInfo:
        return self._info

    async def _run(self, input: T, scope: StepScope) -> LoopResult[T]:
        flow = scope.flow
        keep = self.keep_iterations
        tail: list[object] = []  # tokens of the kept last iterations, oldest first
        dropped = 0
        value = input
        iterations = 0
        reason: StopReason = 'max_iterations'
        while iterations < self.max_iterations:
            token = object()
            try:
                with flow.iteration(token):
                    output = await self.step.invoke(value, flow)
            except BudgetExceeded:
                if iterations == 0 or self.raise_on_limit:
                    raise
                reason = 'usage_limit'
                break
            iterations += 1
            if iterations > keep:  # the first `keep` iterations' records stay; of the rest, only the last `keep`
                tail.append(token)
                if len(tail) > keep:
                    flow.drop_iteration(tail.pop(0))
                    dropped += 1
            repeated = self.stop_on_repeat and output == value
            value = output
            if self.until(output):
                reason = 'condition_met'
                break
            if repeated:
                reason = 'no_progress'
                break
        scope.detail['iterations'] = iterations
        scope.detail['stop_reason'] = reason
        if dropped:
            scope.detail['iterations_not_recorded'] = dropped
        if reason != 'condition_met':
            if self.raise_on_limit:
                raise LoopLimitReached(
                    f'loop {self.name!r} stopped after {iterations} iterations without meeting its condition '
                    f'({reason}); raise max_iterations or loosen until=',
                    step=self.name,
                    stop_reason=reason,
                    iterations=iterations,
                )
            # The output never met the condition: whoever reads it must be able to tell.
            scope.degrade(reason)
        return LoopResult(output=value, iterations=iterations, stop_reason=reason)


def loop(
    step: Step[T, T, DepsT],
    *,
    until: Callable[[T], bool],
    max_iterations: int,
    stop_on_repeat: bool = True,
    raise_on_limit: bool = False,
    keep_iterations: int = 3,
    name: str | None = None,
) -> Step[T, LoopResult[T], DepsT]:
    """Repeat `step` on its own output until `until(output)` is true.

    It always stops and says why in `LoopResult.stop_reason`: the condition was met, `max_iterations` ran, the
    run's usage limit was hit (after at least one iteration), or the output repeated its input (`stop_on_repeat`).
    Any stop but the condition makes the loop's record, and so the run, `degraded`; with `raise_on_limit=True` it
    raises `LoopLimitReached` instead. The run's deadline (`run(timeout=...)`) stops it too, between iterations.
    Records are kept for the first and last `keep_iterations` iterations only, so a long loop's memory stays flat.
    """
    return Loop(
        step,
        until=until,
        max_iterations=max_iterations,
        stop_on_repeat=stop_on_repeat,
        raise_on_limit=raise_on_limit,
        keep_iterations=keep_iterations,
        name=name,
    )
