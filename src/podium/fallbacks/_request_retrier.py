"""`RequestRetrier`: the one retry loop of a model's requests, shared by `RetryingModel` and `RetryingEmbeddingModel`.

Chat and embedding requests differ only in what one attempt sends; everything around it (tries, waits, `Retry-After`,
the deadline, the breaker, the rate limit, typed failures, the attempts each record shows) is this loop, so both kinds
of model behave alike under the same settings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import anyio
from pydantic_ai.exceptions import ModelAPIError, ModelRequestTimeout
from pydantic_ai.messages import ModelRequestAttempt

from .._core._arguments import is_number
from .._core._attempts import record_attempt
from .._core._classify import is_retryable, mark_exhausted, status_code, unexpected_response
from .._core._errors import ConfigurationError, ModelCircuitOpenError
from .._core._events import attempt_failed
from .._core._flow import emit_here
from .._core._records import Attempt
from .._core._redact import describe
from ._backoff import Backoff
from ._breaker import CircuitBreaker
from ._budget import RetryBudget
from ._clock import SYSTEM_CLOCK, Clock
from ._deadline import arm, disarm, expired
from ._policy import (
    DEFAULT_ATTEMPTS,
    DEFAULT_DEADLINE,
    DEFAULT_RETRY_AFTER_CAP,
    RetryLoop,
    RetryPolicy,
    outer_retry_owns_attempts,
)
from ._rate_limit import RateLimit
from ._sdk_retries import sdk_retries_sent

__all__ = ('RequestRetrier',)

T = TypeVar('T')

_SDK_TRY = "sent by the provider SDK's own retry loop, counted from its x-stainless-retry-count header"


class RequestRetrier:
    """Sends one model's requests through podium's retry loop; see `RetryingModel` for what the loop does."""

    __slots__ = ('attempt_timeout', 'breaker', 'model_name', 'policy', 'provider_name', 'rate_limit', 'user_code')

    def __init__(
        self,
        model_name: str,
        provider_name: str,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff: Backoff | None = None,
        retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP,
        attempt_timeout: float | None = None,
        deadline: float | None = DEFAULT_DEADLINE,
        retry_on: Callable[[BaseException], bool] = is_retryable,
        breaker: CircuitBreaker | None = None,
        budget: RetryBudget | None = None,
        rate_limit: RateLimit | None = None,
        clock: Clock = SYSTEM_CLOCK,
        user_code: bool = False,
    ) -> None:
        if attempt_timeout is not None and (not is_number(attempt_timeout) or attempt_timeout <= 0):
            raise ConfigurationError(f'attempt_timeout must be positive or None, got {attempt_timeout!r}')
        self.model_name = model_name
        self.provider_name = provider_name
        self.policy = RetryPolicy(
            attempts=attempts,
            backoff=backoff or Backoff(),
            retry_after_cap=retry_after_cap,
            deadline=deadline,
            retry_on=retry_on,
            budget=budget if budget is not None else RetryBudget(clock=clock),
            clock=clock,
        )
        self.attempt_timeout = attempt_timeout
        self.breaker = breaker
        self.rate_limit = rate_limit
        self.user_code = user_code
        """Whether the model runs the caller's own code, whose errors are theirs and are not retyped."""

    async def run(
        self, send: Callable[[], Awaitable[T]], *, check: Callable[[T], None] | None = None
    ) -> tuple[T, list[ModelRequestAttempt]]:
        """`send()` until it succeeds or the loop gives up; the result, and the attempts that failed before it.

        `check` reads a result and raises when it is no answer (an empty Anthropic message): that attempt then fails
        like any other, so it is recorded, counted by the breaker, and not returned. When the loop gives up it
        raises the last error unchanged.
        """
        policy = self.policy
        owned = outer_retry_owns_attempts()  # then the step's loop decides whether to try again, not this one
        if self.breaker is not None or self.rate_limit is not None:
            loop = RetryLoop(policy, attempts=1 if owned else None)
            return await self._retry_after(send, check, loop, None, owned, loop.started)
        # The first try of a plain loop, as cheap as it can be: nothing has been waited for, so the limit is the
        # deadline itself (or the attempt timeout), read without a clock, and the loop's state is made only when a
        # second try may follow. Every request makes this try, and most make no other.
        clock = policy.clock
        started = clock.now()
        if policy.budget is not None:
            policy.budget.deposit()
        timeout, deadline = self.attempt_timeout, policy.deadline
        limit = deadline if timeout is None or (deadline is not None and deadline < timeout) else timeout
        try:
            result = await self._within(send, check, limit)
        except Exception as exc:
            error = exc
        else:
            record_attempt(Attempt(number=1, model=self.model_name, duration_s=clock.now() - started))
            return result, []
        loop = RetryLoop(policy, attempts=1 if owned else None, started=started)
        loop.tries = 1
        return await self._retry_after(send, check, loop, error, owned, started)

    async def _retry_after(
        self,
        send: Callable[[], Awaitable[T]],
        check: Callable[[T], None] | None,
        loop: RetryLoop,
        error: Exception | None,
        owned: bool,
        started: float,
    ) -> tuple[T, list[ModelRequestAttempt]]:
        """The loop from its first try on, or from after a first try that raised `error`."""
        clock = self.policy.clock
        failed: list[ModelRequestAttempt] = []
        waited = 0.0
        while True:
            if error is None:
                loop.tries += 1
                try:
                    result = await self._attempt(send, check, loop)
                except Exception as exc:
                    error = exc
                else:
                    self._report(loop.tries, None, waited, clock.now() - started)
                    return result, failed
            failure, error = error, None
            duration = clock.now() - started
            for _ in range(sdk_retries_sent(failure)):  # a client that still retries: those reached the wire too
                self._report(loop.tries, failure, waited, 0.0, note=_SDK_TRY)
                waited = 0.0
            self._report(loop.tries, failure, waited, duration)
            failed.append(self._failed_attempt(failure, duration))
            wait = loop.wait_before_retry(failure)
            tries = loop.tries
            emit_here(lambda path: attempt_failed(path, tries, failure, wait))  # noqa: B023  # called at once
            if wait is None:
                if not owned:
                    mark_exhausted(failure)
                raise failure
            await clock.sleep(wait)
            waited = wait
            started = clock.now()

    async def _attempt(self, send: Callable[[], Awaitable[T]], check: Callable[[T], None] | None, loop: RetryLoop) -> T:
        """One attempt, behind the breaker and within the attempt timeout, the deadline and a trial's timeout.

        The breaker is asked first: a call it refuses sends nothing, so it must not take a rate-limit slot either.
        """
        breaker = self.breaker
        if breaker is None:
            await self._acquire_rate(loop)
            return await self._within(send, check, self._limit(loop, None))
        permit = breaker.acquire()
        if permit is None:
            raise ModelCircuitOpenError(self.model_name, f'circuit breaker {breaker.name!r} is open; nothing sent')
        try:
            await self._acquire_rate(loop)
        except BaseException:
            breaker.give_back(permit)  # nothing was sent: the outcome says nothing about the provider
            raise
        try:
            result = await self._within(send, check, self._limit(loop, permit.timeout))
        except BaseException as exc:
            breaker.release(permit, exc)
            raise
        breaker.release(permit, None)
        return result

    async def _acquire_rate(self, loop: RetryLoop) -> None:
        if self.rate_limit is not None:
            await self.rate_limit.acquire(self.model_name, within=loop.remaining())

    def _limit(self, loop: RetryLoop, trial_timeout: float | None) -> float | None:
        limit = loop.remaining()
        for other in (self.attempt_timeout, trial_timeout):
            if other is not None and (limit is None or other < limit):
                limit = other
        return limit

    async def _within(
        self, send: Callable[[], Awaitable[T]], check: Callable[[T], None] | None, limit: float | None
    ) -> T:
        """One send within `limit` seconds.

        One timer per event loop watches every request's limit (see `_deadline`): a cancel scope per request would
        leave its timer in the loop until the loop next runs.
        """
        watch = None if limit is None else arm(limit)
        try:
            if limit is not None and watch is None:  # not in an asyncio task: an anyio scope keeps the limit
                with anyio.move_on_after(limit):
                    return _checked(await send(), check)
                raise ModelRequestTimeout(self.model_name, limit)
            return _checked(await send(), check)
        except asyncio.CancelledError:
            if watch is not None and expired(watch):
                assert limit is not None
                raise self._timed_out(limit) from None
            raise
        except Exception as exc:
            typed = self._typed(exc)
            if typed is exc:
                raise
            raise typed from exc
        finally:
            if watch is not None:
                disarm(watch)

    def _timed_out(self, limit: float) -> ModelRequestTimeout:
        error = ModelRequestTimeout(self.model_name, limit)
        error.__suppress_context__ = True  # the cancellation that ended the attempt is no part of the story
        return error

    def _typed(self, exc: Exception) -> Exception:
        """What a failed attempt raises: `exc`, or `UnexpectedResponse` caused by it (see `unexpected_response`)."""
        typed = None if self.user_code else unexpected_response(exc, self.model_name)
        if typed is None:
            return exc
        typed.__cause__ = exc
        typed.__suppress_context__ = True
        return typed

    def _report(
        self, number: int, exc: BaseException | None, waited: float, duration: float, *, note: str | None = None
    ) -> None:
        record_attempt(
            Attempt(
                number=number,
                model=self.model_name,
                error=None if exc is None else type(exc).__name__,
                status_code=None if exc is None else status_code(exc),
                waited_s=waited,
                duration_s=duration,
                retry_after_s=exc.retry_after if isinstance(exc, ModelAPIError) else None,
                note=note,
            )
        )

    def _failed_attempt(self, exc: Exception, duration: float) -> ModelRequestAttempt:
        took = timedelta(seconds=duration)
        return ModelRequestAttempt(
            model_name=self.model_name,
            provider_name=self.provider_name,
            outcome='error',
            error=describe(exc),
            timestamp=datetime.now(tz=UTC) - took,  # read once it failed: a clean attempt needs no wall-clock time
            duration=took,
        )


def _checked(result: T, check: Callable[[T], None] | None) -> T:
    if check is not None:
        check(result)
    return result
