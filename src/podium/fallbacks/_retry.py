"""`retry`: run a whole step again when it fails in a way that may pass."""

from __future__ import annotations

from collections.abc import Callable

from typing_extensions import TypeVar

from .._core._classify import failure_reason, is_retryable, root_cause
from .._core._events import attempt_failed
from .._core._flow import StepScope
from .._core._records import Attempt
from .._core._step import Step
from ._backoff import Backoff
from ._budget import RetryBudget
from ._clock import SYSTEM_CLOCK, Clock
from ._policy import DEFAULT_ATTEMPTS, DEFAULT_RETRY_AFTER_CAP, RetryLoop, RetryPolicy, outer_retry
from ._wrapper import StepWrapper, fail, record_success, try_step

__all__ = ('RetryStep', 'retry')

InT = TypeVar('InT')
OutT = TypeVar('OutT')


class RetryStep(StepWrapper[InT, OutT]):
    """Runs the wrapped step again after a retryable failure, with backoff, within attempts and a deadline.

    It owns the attempts of everything beneath it: each model loop inside (the one podium puts around every agent's
    model, or a `RetryingModel` of yours) tries once per try of the step, so `retry(step, attempts=3)` sends at most
    three requests per model, not three times three. Its retries are drawn from a `RetryBudget` shared by every run
    of the step, so an outage cannot multiply the traffic.
    """

    record_kind = 'retry'

    def __init__(self, wrapped: Step[InT, OutT], *, policy: RetryPolicy, name: str | None = None) -> None:
        super().__init__(wrapped, name=name)
        self.policy = policy

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        loop = RetryLoop(self.policy)
        failures: list[BaseException] = []
        attempts: list[Attempt] = []
        waited = 0.0
        while True:
            loop.tries += 1
            with outer_retry():
                tried = await try_step(
                    self.wrapped, input, flow, number=loop.tries, waited=waited, timeout=loop.remaining()
                )
            attempts.extend(tried.attempts)
            if tried.error is None:
                record_success(scope, attempts)
                if failures:
                    scope.detail['retry_reason'] = failure_reason(failures[-1])
                scope.output = tried.output
                return tried.output
            failures.append(tried.error)
            wait = loop.wait_before_retry(root_cause(tried.error))
            if scope.streaming:
                scope.emit(attempt_failed(scope.tree_path, loop.tries, tried.error, wait))
            if wait is None:
                scope.attempts.extend(attempts)
                scope.detail['stop_reason'] = loop.stop_reason or 'attempts'
                fail(failures, step=self.name, attempts=attempts)
            await self.policy.clock.sleep(wait)
            waited = wait


def retry(
    step: Step[InT, OutT],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    backoff: Backoff | None = None,
    deadline: float | None = None,
    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP,
    retry_on: Callable[[BaseException], bool] = is_retryable,
    budget: RetryBudget | None = None,
    clock: Clock = SYSTEM_CLOCK,
    name: str | None = None,
) -> RetryStep[InT, OutT]:
    """Retry `step` on failures that may pass (rate limits, 5xx, overload, broken connections, timeouts).

    Args:
        step: The step to retry.
        attempts: Tries, the first included; they bound the requests the step makes to each model (model loops
            inside try once per try of the step).
        backoff: Waits between tries when the provider gave no `Retry-After`; `Backoff()` by default.
        deadline: Seconds all tries and waits may take; a try still running then is cut off.
        retry_after_cap: Longest `Retry-After` worth waiting for (10 s); a longer one ends the retries.
        retry_on: Which failures to retry, given the error behind the step's failure; `is_retryable` by default.
        budget: A retry budget shared across runs, so an outage cannot multiply the traffic; by default one of
            its own (`RetryBudget()`: a fifth of first tries, plus one a second), shared by every run of the step.
        clock: Where time and sleep come from; inject a `VirtualClock` in tests.
        name: The step's name; `retry(<step>)` by default.

    When every try failed, the run fails with the typed error for why (`AllModelsFailed`, `ProviderAuthError`, ...).
    """
    policy = RetryPolicy(
        attempts=attempts,
        backoff=backoff or Backoff(),
        retry_after_cap=retry_after_cap,
        deadline=deadline,
        retry_on=retry_on,
        budget=budget if budget is not None else RetryBudget(clock=clock),
        clock=clock,
    )
    return RetryStep(step, policy=policy, name=name)
