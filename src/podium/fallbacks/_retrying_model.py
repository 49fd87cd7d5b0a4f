"""`RetryingModel`: the one retry loop of a model request."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from pydantic_ai.messages import ModelMessage, ModelRequestAttempt, ModelResponse
from pydantic_ai.models import KnownModelName, Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings, merge_model_settings
from pydantic_ai.tools import RunContext

from .._core._classify import empty_answer, is_retryable
from ._backoff import Backoff
from ._breaker import CircuitBreaker
from ._budget import RetryBudget
from ._clock import SYSTEM_CLOCK, Clock
from ._policy import DEFAULT_ATTEMPTS, DEFAULT_DEADLINE, DEFAULT_RETRY_AFTER_CAP
from ._rate_limit import RateLimit
from ._request_retrier import RequestRetrier
from ._sdk_retries import NO_SDK_RETRIES, sends_max_retries

__all__ = ('RetryingModel',)

T = TypeVar('T')


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
    So is an Anthropic message with `"content": []`, an envelope around no answer (see `empty_answer`).

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
        self._requests = RequestRetrier(
            self.model_name,
            self.system,
            attempts=attempts,
            backoff=backoff,
            retry_after_cap=retry_after_cap,
            attempt_timeout=attempt_timeout,
            deadline=deadline,
            retry_on=retry_on,
            breaker=breaker,
            budget=budget,
            rate_limit=rate_limit,
            clock=clock,
            # A `FunctionModel` runs the caller's own function: what it raises is theirs, not a provider's.
            user_code=isinstance(_innermost(self.wrapped), FunctionModel),
        )
        self.policy = self._requests.policy
        self.attempt_timeout = attempt_timeout
        self.breaker = breaker
        self.rate_limit = rate_limit
        self._known: tuple[Model, bool] = (self.wrapped, sends_max_retries(self.wrapped))
        """For `wrapped`: whether its requests carry `max_retries=0`; found once, not per request."""

    def _request_settings(self, settings: ModelSettings | None) -> ModelSettings | None:
        model, sends = self._known
        if model is not self.wrapped:
            self._known = model, sends = self.wrapped, sends_max_retries(self.wrapped)
        return merge_model_settings(settings, NO_SDK_RETRIES) if sends else settings

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        settings = self._request_settings(model_settings)
        send = partial(self.wrapped.request, messages, settings, model_request_parameters)
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
        return await self._requests.run(send, check=_answered)

    def __repr__(self) -> str:
        return f'RetryingModel({self.wrapped!r}, attempts={self.policy.attempts})'


def _answered(result: object) -> None:
    """Raise when a response is an envelope around no answer at all (see `empty_answer`)."""
    if isinstance(result, ModelResponse) and (typed := empty_answer(result)) is not None:
        raise typed


def _innermost(model: Model) -> Model:
    while isinstance(model, WrapperModel):
        model = model.wrapped
    return model
