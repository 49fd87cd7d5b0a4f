"""`CircuitStep`: a step behind a `CircuitBreaker` (built by `CircuitBreaker.protect`)."""

from __future__ import annotations

from typing_extensions import TypeVar

from .._core._errors import CircuitOpen
from .._core._flow import StepScope
from .._core._step import Step
from ._breaker import CircuitBreaker
from ._wrapper import StepWrapper, settle, try_step

__all__ = ('CircuitStep',)

InT = TypeVar('InT')
OutT = TypeVar('OutT')


class CircuitStep(StepWrapper[InT, OutT]):
    """Fails fast with `CircuitOpen` while the breaker is open; a half-open trial runs within its `trial_timeout`.

    The record's `detail['breaker']` is the breaker's state when the step was called.
    """

    record_kind = 'circuit'
    deterministic = False

    def __init__(self, wrapped: Step[InT, OutT], breaker: CircuitBreaker, *, name: str | None = None) -> None:
        super().__init__(wrapped, name=name)
        self.breaker = breaker

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        breaker = self.breaker
        scope.detail['breaker'] = breaker.state
        permit = breaker.acquire()
        if permit is None:
            scope.fallback_reason = 'circuit_open'
            raise CircuitOpen(
                f'step {self.wrapped.name!r} was not called: circuit breaker {breaker.name!r} is open',
                step=self.name,
            )
        try:
            tried = await try_step(self.wrapped, input, flow, number=1, timeout=permit.timeout)
        except BaseException as exc:  # cancelled: the trial slot must be freed
            breaker.release(permit, exc)
            raise
        breaker.release(permit, tried.error)
        return settle(scope, tried, step=self.name)
