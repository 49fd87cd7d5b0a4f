"""`RetryingModel`: the one retry loop of a model request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import anyio
from pydantic_ai.exceptions import ModelAPIError, ModelRequestTimeout
from pydantic_ai.messages import ModelMessage, ModelRequestAttempt, ModelResponse
from pydantic_ai.models import KnownModelName, Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings, merge_model_settings
from pydantic_ai.tools import RunContext

from .._core._attempts import record_attempt
from .._core._classify import is_retryable, mark_exhausted, status_code, unexpected_response
from .._core._errors import ConfigurationError, ModelCircuitOpenError
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
from ._sdk_retries import NO_SDK_RETRIES, sdk_retries_sent, sends_max_retries

__all__ = ('RetryingModel',)

T = TypeVar('T')

_SDK_TRY = "sent by the provider SDK's own retry loop, counted from its x-stainless-retry-count header"


class RetryingModel(WrapperModel):
    """Retries a model request on failures that may pass, owning the only retry loop of the request.

    Retries rate limits (429), 5xx, overload (503, 529), broken connections and transport timeouts with jittered
    exponential backoff, or after the provider's `Retry-After` when it gives one (up to `retry_after_cap`); obeys
    `x-should-retry`; never retries quota, rejected requests (400, 401, 403, 404, context length), refusals or invalid
    output (see `is_retryable`). Every attempt is bounded by `attempt_timeout`, and one that runs out of it moves on
    to the fallback rather than waiting again; the whole loop is bounded by `deadline` (60 s by default), and a
    `Retry-After` that would end past it gives up on this model at once, so a `FallbackModel` moves on. Retries are
    drawn from a `RetryBudget` (its own by default: a fifth of first attempts), so an outage cannot multiply the
    traffic. The provider SDK's own retries are turned off for each request, so this loop is the only one; inside a
    `retry` step, which then owns the attempts, it tries once per step try.

    Anything a model call raises that is neither a provider error nor podium's (an `IndexError` in an adapter reading
    `"choices": []`, a decode error on an HTML page) is raised as `UnexpectedResponse`, a `ModelAPIError`, so a
    `FallbackModel` moves on; errors raised by a `FunctionModel`'s function are the caller's own and pass unchanged.

    Each attempt is reported to the records of the podium step that made it (see `collect_attempts`) and, for the
    ones that failed before a response, on the response's `failed_attempts` as Pydantic-AI's `FallbackModel` does.
    When the loop gives up it raises the last error unchanged, so a `FallbackModel` around it moves on as usual.
    """

    def __init__(
        self,
        wrapped: Model | KnownModelName,
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
    ) -> None:
        """Wrap `wrapped` in a retry loop.

        Args:
            wrapped: The model (or model name) to send requests to.
            attempts: Tries per request, the first included.
            backoff: Waits between tries when the provider gives no `Retry-After`; `Backoff()` by default.
            retry_after_cap: Longest `Retry-After` worth waiting for (10 s); a longer one ends the loop (fall back
                instead).
            attempt_timeout: Seconds one attempt may take before it fails with `ModelRequestTimeout` (not retried).
            deadline: Seconds the whole loop may take, waits included (60 s; `None` for none); no wait is started
                that would end past it, and an attempt still running then fails with `ModelRequestTimeout`.
            retry_on: Which errors to retry; `is_retryable` by default.
            breaker: A breaker for this model, shared across runs: while open, requests fail fast with
                `ModelCircuitOpenError` and a `FallbackModel` moves on.
            budget: A retry budget shared across runs, so an outage cannot multiply the traffic; by default one of
                its own (`RetryBudget()`), shared by every run that calls this model.
            rate_limit: Requests and tokens per minute: each attempt waits for capacity within the deadline, else
                fails with `RateLimitExhausted` and a `FallbackModel` moves on.
            clock: Where time and sleep come from; inject a `VirtualClock` in tests.
        """
        super().__init__(wrapped)
        if attempt_timeout is not None and attempt_timeout <= 0:
            raise ConfigurationError(f'RetryingModel attempt_timeout must be positive or None, got {attempt_timeout}')
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
        self._user_code = isinstance(_innermost(self.wrapped), FunctionModel)
        """A `FunctionModel` runs the caller's own function: what it raises is theirs, not a provider's."""
        self._known: tuple[Model, bool, str] = (self.wrapped, sends_max_retries(self.wrapped), self.model_name)
        """For `wrapped`: whether its requests carry `max_retries=0`, and its name; found once, not per request."""

    def _request_settings(self, settings: ModelSettings | None) -> ModelSettings | None:
        model, sends, _ = self._known
        if model is not self.wrapped:
            self._known = model, sends, _ = self.wrapped, sends_max_retries(self.wrapped), self.model_name
        return merge_model_settings(settings, NO_SDK_RETRIES) if sends else settings

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        settings = self._request_settings(model_settings)
        send = partial(self.wrapped.request, messages, settings, model_request_parameters)
        if self.breaker is None and self.rate_limit is None:
            # The first try of a plain loop, in this frame: every request makes one, and most make no other.
            policy = self.policy
            timeout, deadline = self.attempt_timeout, policy.deadline
            limit = deadline if timeout is None or (deadline is not None and deadline < timeout) else timeout
            watch = None if limit is None else arm(limit)
            if limit is None or watch is not None:
                clock = policy.clock
                started = clock.now()
                if policy.budget is not None:
                    policy.budget.deposit()
                error: Exception
                try:
                    response = await send()
                except asyncio.CancelledError:
                    if watch is None or limit is None or not expired(watch):
                        raise
                    error = self._timed_out(limit)
                except Exception as exc:
                    error = self._typed(exc)
                else:
                    record_attempt(Attempt(number=1, model=self._known[2], duration_s=clock.now() - started))
                    return response
                finally:
                    if watch is not None:
                        disarm(watch)
                owned = outer_retry_owns_attempts()
                loop = RetryLoop(policy, attempts=1 if owned else None, started=started)
                loop.tries = 1
                response, failed = await self._retry_after(send, loop, error, owned, started)
                return replace(response, failed_attempts=[*failed, *(response.failed_attempts or [])])
        response, failed = await self._retry(send)
        if self.rate_limit is not None:
            self.rate_limit.record(self.model_name, response.usage.total_tokens)
        if failed:
            response = replace(response, failed_attempts=[*failed, *(response.failed_attempts or [])])
        return response

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        """Retries opening the stream; once events flow to the consumer, a failure is raised as it is."""
        settings = self._request_settings(model_settings)
        async with AsyncExitStack() as stack:

            async def send() -> StreamedResponse:
                stream = self.wrapped.request_stream(messages, settings, model_request_parameters, run_context)
                return await stack.enter_async_context(stream)

            response, failed = await self._retry(send)
            if failed:
                response.failed_attempts = [*failed, *(response.failed_attempts or [])]
            yield response
            if self.rate_limit is not None:
                self.rate_limit.record(self.model_name, response.usage.total_tokens)

    async def _retry(self, send: Callable[[], Awaitable[T]]) -> tuple[T, list[ModelRequestAttempt]]:
        policy, clock = self.policy, self.policy.clock
        owned = outer_retry_owns_attempts()  # then the step's loop decides whether to try again, not this one
        if self.breaker is not None or self.rate_limit is not None:
            loop = RetryLoop(policy, attempts=1 if owned else None)
            return await self._retry_after(send, loop, None, owned, loop.started)
        # The first try of a plain loop, as cheap as it can be: nothing has been waited for, so the limit is the
        # deadline itself (or the attempt timeout), read without a clock, and the loop's state is made only when a
        # second try may follow.
        started = clock.now()
        if policy.budget is not None:
            policy.budget.deposit()
        timeout, deadline = self.attempt_timeout, policy.deadline
        limit = deadline if timeout is None or (deadline is not None and deadline < timeout) else timeout
        try:
            result = await self._within(send, limit)
        except Exception as exc:
            error = exc
        else:
            record_attempt(Attempt(number=1, model=self._known[2], duration_s=clock.now() - started))
            return result, []
        loop = RetryLoop(policy, attempts=1 if owned else None, started=started)
        loop.tries = 1
        return await self._retry_after(send, loop, error, owned, started)

    async def _retry_after(
        self,
        send: Callable[[], Awaitable[T]],
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
                    result = await self._attempt(send, loop)
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
            if wait is None:
                if not owned:
                    mark_exhausted(failure)
                raise failure
            await clock.sleep(wait)
            waited = wait
            started = clock.now()

    async def _attempt(self, send: Callable[[], Awaitable[T]], loop: RetryLoop) -> T:
        """One attempt, behind the breaker and within the attempt timeout, the deadline and a trial's timeout."""
        if self.rate_limit is not None:
            await self.rate_limit.acquire(self.model_name, within=loop.remaining())
        breaker = self.breaker
        if breaker is None:
            return await self._within(send, self._limit(loop, None))
        permit = breaker.acquire()
        if permit is None:
            raise ModelCircuitOpenError(self.model_name, f'circuit breaker {breaker.name!r} is open; nothing sent')
        try:
            result = await self._within(send, self._limit(loop, permit.timeout))
        except BaseException as exc:
            breaker.release(permit, exc)
            raise
        breaker.release(permit, None)
        return result

    def _limit(self, loop: RetryLoop, trial_timeout: float | None) -> float | None:
        limit = loop.remaining()
        for other in (self.attempt_timeout, trial_timeout):
            if other is not None and (limit is None or other < limit):
                limit = other
        return limit

    async def _within(self, send: Callable[[], Awaitable[T]], limit: float | None) -> T:
        watch = None if limit is None else arm(limit)
        try:
            if limit is not None and watch is None:  # not in an asyncio task: an anyio scope keeps the limit
                with anyio.move_on_after(limit):
                    return await send()
                raise ModelRequestTimeout(self.model_name, limit)
            return await send()
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
        typed = None if self._user_code else unexpected_response(exc, self.model_name)
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
            provider_name=self.system,
            outcome='error',
            error=describe(exc),
            timestamp=datetime.now(tz=UTC) - took,  # read once it failed: a clean attempt needs no wall-clock time
            duration=took,
        )

    def __repr__(self) -> str:
        return f'RetryingModel({self.wrapped!r}, attempts={self.policy.attempts})'


def _innermost(model: Model) -> Model:
    while isinstance(model, WrapperModel):
        model = model.wrapped
    return model
