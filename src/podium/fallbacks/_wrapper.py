"""What every step wrapper shares: one try of the wrapped step, turned into attempts, and giving up with a typed error.

Step wrappers follow Pydantic-AI's `WrapperModel`: a step around a step, with the same input and output types, so
they compose with everything else.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import ClassVar, Generic, NoReturn

import anyio
from typing_extensions import TypeVar

from .._core._attempts import collect_attempts, notable
from .._core._classify import attempt_reason, give_up, root_cause, status_code
from .._core._errors import FallbackError, StepTimeout
from .._core._flow import Flow, StepScope
from .._core._records import Attempt
from .._core._step import AnyStep, Step, ensure_named, require_step
from .._core._traits import StepInfo

__all__ = ('StepWrapper', 'Try', 'fail', 'record_success', 'settle', 'try_step')

InT = TypeVar('InT')
OutT = TypeVar('OutT')


class StepWrapper(Step[InT, OutT]):
    """A step that runs `wrapped` under a policy (retry, default, hedge, timeout, breaker) and records why it fired."""

    record_kind: ClassVar[str]
    """The record kind, also the start of the default name: `retry(billing_extract)`."""

    def __init__(self, wrapped: Step[InT, OutT], *, name: str | None) -> None:
        self.wrapped = require_step(wrapped, f'the step {self.record_kind}() wraps')
        self.name = ensure_named(name, f'{self.record_kind}({wrapped.name})')
        self.input_class = wrapped.input_class
        self.output_class = wrapped.output_class

    deterministic: ClassVar[bool] = True
    """`False` for wrappers whose course depends on timing or process state (hedge, timeout, breaker)."""

    def describe(self) -> StepInfo:
        return StepInfo(kind='wrapper', children=[('', self.wrapped)], deterministic=self.deterministic)


class Try(Generic[OutT]):
    """One run of a wrapped step: its output or error, and the attempts it made."""

    __slots__ = ('attempt', 'error', 'model_attempts', 'output')

    output: OutT
    """Set only when `error` is `None`."""

    def __init__(self, attempt: Attempt, error: Exception | None, model_attempts: list[Attempt]) -> None:
        self.attempt = attempt
        """This try as one attempt: the model that answered or failed, the error, the wait before it."""
        self.error = error
        self.model_attempts = model_attempts
        """The model requests made during this try through a `RetryingModel`."""

    @property
    def attempts(self) -> list[Attempt]:
        """What a record shows of this try: every model request it made, or the try itself when it made none.

        When the step failed with a typed error from a wrapper inside it, that wrapper's attempts say it best. When
        the requests went through but the step still failed (invalid output, a refusal), the last request is shown
        with the step's error: its answer is what failed.
        """
        cause = None if self.error is None else root_cause(self.error)
        if isinstance(cause, FallbackError) and cause.attempts:
            return list(cause.attempts)
        if not self.model_attempts:
            return [self.attempt]
        last = self.model_attempts[-1]
        if self.error is None or last.error is not None:
            return self.model_attempts
        failed = replace(last, error=self.attempt.error, status_code=self.attempt.status_code)
        return [*self.model_attempts[:-1], failed]


async def try_step(
    step: Step[InT, OutT], input: InT, flow: Flow, *, number: int, waited: float = 0.0, timeout: float | None = None
) -> Try[OutT]:
    """Run `step` once, catching its failure (never a cancellation), within `timeout` seconds when given."""
    first = flow.mark()
    started = time.perf_counter()

    def attempt(error: Exception | None, model_attempts: list[Attempt]) -> Attempt:
        cause = None if error is None else root_cause(error)
        if isinstance(cause, FallbackError) and len(cause.causes) == 1:
            cause = cause.causes[0]  # a step's own typed failure: the provider's error says more
        return Attempt(
            number=number,
            model=model_attempts[-1].model if model_attempts else _recorded_model(flow, step, first),
            error=None if cause is None else type(cause).__name__,
            status_code=None if cause is None else status_code(cause),
            waited_s=waited,
            duration_s=time.perf_counter() - started,
        )

    with collect_attempts() as model_attempts:
        try:
            output = await _invoke(step, input, flow, timeout)
        except Exception as exc:
            return Try(attempt(exc, model_attempts), exc, model_attempts)
        result = Try[OutT](attempt(None, model_attempts), None, model_attempts)
        result.output = output
        return result


async def _invoke(step: Step[InT, OutT], input: InT, flow: Flow, timeout: float | None) -> OutT:
    if timeout is None:
        return await step.invoke(input, flow)
    with anyio.move_on_after(timeout):
        return await step.invoke(input, flow)
    raise StepTimeout(f'step {step.name!r} did not finish within {timeout:g} s', seconds=timeout, step=step.name)


def _recorded_model(flow: Flow, step: AnyStep, first: int) -> str | None:
    """The model `step` answered with, from its record, or else the model its agent is configured with."""
    for record in flow.records_since(first):
        if record.name == step.name and record.model is not None:
            return record.model
    return step.describe().model


def record_success(scope: StepScope, attempts: Sequence[Attempt]) -> None:
    """Put on a wrapper's record what led to its output, when anything did beyond one clean call.

    When a model failed and another model answered within the step (Pydantic-AI's `FallbackModel`), the record's
    `fallback_reason` says why, though the run is not degraded: the output is the one the step asked for.
    """
    if not notable(attempts):
        return
    scope.attempts.extend(attempts)
    answered = attempts[-1].model
    reasons = [attempt_reason(a.error) for a in attempts if a.error is not None and a.model != answered]
    moved_on = [reason for reason in reasons if reason != 'error']  # a cancelled hedge leg is no model failure
    if moved_on and scope.fallback_reason is None:
        scope.fallback_reason = moved_on[-1]


def fail(failures: Sequence[BaseException], *, step: str, attempts: Sequence[Attempt] = ()) -> NoReturn:
    """Raise what a wrapper ends with after `failures`: the typed error for them, caused by the last one."""
    last = failures[-1]
    error = give_up(failures, step=step, attempts=attempts)
    if error is last:
        raise last
    raise error from last


def settle(scope: StepScope, tried: Try[OutT], *, step: str) -> OutT:
    """End a wrapper that made a single try: raise its typed failure, or record its success and return its output."""
    if tried.error is not None:
        scope.attempts.extend(tried.attempts)
        fail([tried.error], step=step, attempts=tried.attempts)
    record_success(scope, tried.attempts)
    scope.output = tried.output
    return tried.output
