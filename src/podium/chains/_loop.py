"""`loop`: repeat a step on its own output until a condition holds, with a guaranteed stop and a stated reason."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeAlias

from typing_extensions import TypeVar

from .._core._errors import BudgetExceeded, ConfigurationError, LoopLimitReached
from .._core._flow import Flow
from .._core._step import AnyStep, Step, ensure_named

__all__ = ('Loop', 'LoopResult', 'StopReason', 'loop')

T = TypeVar('T')
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


class Loop(Step[T, LoopResult[T]]):
    """Feeds a step its own output until `until(output)` holds, or a bound stops it."""

    def __init__(
        self,
        step: Step[T, T],
        *,
        until: Callable[[T], bool],
        max_iterations: int,
        stop_on_repeat: bool = True,
        raise_on_limit: bool = False,
        name: str | None = None,
    ) -> None:
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 1:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError(f'loop needs max_iterations >= 1 so that it always stops, got {max_iterations!r}')
        self.step = step
        self.until = until
        self.max_iterations = max_iterations
        self.stop_on_repeat = stop_on_repeat
        self.raise_on_limit = raise_on_limit
        self.name = ensure_named(name, f'loop({step.name})')

    def children(self) -> Sequence[tuple[str, AnyStep]]:
        return [('repeat', self.step)]

    async def invoke(self, input: T, flow: Flow) -> LoopResult[T]:
        with flow.scope(self.name, 'loop') as scope:
            value = input
            iterations = 0
            reason: StopReason = 'max_iterations'
            while iterations < self.max_iterations:
                try:
                    output = await self.step.invoke(value, flow)
                except BudgetExceeded:
                    if iterations == 0 or self.raise_on_limit:
                        raise
                    reason = 'usage_limit'
                    break
                iterations += 1
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
            if reason != 'condition_met' and self.raise_on_limit:
                raise LoopLimitReached(
                    f'loop {self.name!r} stopped after {iterations} iterations without meeting its condition '
                    f'({reason}); raise max_iterations or loosen until=',
                    step=self.name,
                    stop_reason=reason,
                    iterations=iterations,
                )
            result = LoopResult(output=value, iterations=iterations, stop_reason=reason)
            scope.output = result
            return result


def loop(
    step: Step[T, T],
    *,
    until: Callable[[T], bool],
    max_iterations: int,
    stop_on_repeat: bool = True,
    raise_on_limit: bool = False,
    name: str | None = None,
) -> Step[T, LoopResult[T]]:
    """Repeat `step` on its own output until `until(output)` is true.

    It always stops and says why in `LoopResult.stop_reason`: the condition was met, `max_iterations` ran, the
    run's usage limit was hit (after at least one iteration), or the output repeated its input (`stop_on_repeat`).
    With `raise_on_limit=True` every stop but the condition raises `LoopLimitReached` instead.
    """
    return Loop(
        step,
        until=until,
        max_iterations=max_iterations,
        stop_on_repeat=stop_on_repeat,
        raise_on_limit=raise_on_limit,
        name=name,
    )
