"""`timeout`: a time limit on one step, ending in a typed `StepTimeout` a fallback can catch."""

from __future__ import annotations

from typing_extensions import TypeVar

from .._core._errors import ConfigurationError
from .._core._flow import StepScope
from .._core._step import Step
from ._wrapper import StepWrapper, settle, try_step

__all__ = ('TimeoutStep', 'timeout')

InT = TypeVar('InT')
OutT = TypeVar('OutT')


class TimeoutStep(StepWrapper[InT, OutT]):
    """Cancels the wrapped step after `seconds` and fails with `StepTimeout`.

    A run's own `timeout=` ends the whole run; this bounds one step, so `fallback` or `default` can take over.
    """

    record_kind = 'timeout'
    deterministic = False

    def __init__(self, wrapped: Step[InT, OutT], seconds: float, *, name: str | None = None) -> None:
        if seconds <= 0:
            raise ConfigurationError(f'timeout for {wrapped.name!r}: seconds must be positive, got {seconds}')
        super().__init__(wrapped, name=name)
        self.seconds = seconds

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        tried = await try_step(self.wrapped, input, flow, number=1, timeout=self.seconds)
        return settle(scope, tried, step=self.name)


def timeout(step: Step[InT, OutT], seconds: float, *, name: str | None = None) -> TimeoutStep[InT, OutT]:
    """Give `step` at most `seconds`; past that it is cancelled and the run fails with `StepTimeout`.

    The cancelled step's record shows it failed; wrap this in `fallback` or `default` to carry on.
    """
    return TimeoutStep(step, seconds, name=name)
