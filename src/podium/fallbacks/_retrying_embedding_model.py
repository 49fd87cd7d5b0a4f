"""`RetryingEmbeddingModel`: podium's retry loop around an embedding model, as `RetryingModel` is around a chat one."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic_ai.embeddings import EmbeddingModel, EmbeddingResult, EmbeddingSettings, infer_embedding_model
from pydantic_ai.embeddings.result import EmbedInputType
from pydantic_ai.embeddings.wrapper import WrapperEmbeddingModel

from .._core._classify import is_retryable
from ._backoff import Backoff
from ._breaker import CircuitBreaker
from ._budget import RetryBudget
from ._clock import SYSTEM_CLOCK, Clock
from ._policy import DEFAULT_ATTEMPTS, DEFAULT_DEADLINE, DEFAULT_RETRY_AFTER_CAP
from ._rate_limit import RateLimit
from ._request_retrier import RequestRetrier

__all__ = ('RetryingEmbeddingModel', 'embedding_model_without_sdk_retries')


class RetryingEmbeddingModel(WrapperEmbeddingModel):
    """Retries an embedding request on failures that may pass, with the same loop and defaults as `RetryingModel`.

    Rate limits, 5xx, overload and broken connections are retried with jittered backoff or after `Retry-After` (up
    to `retry_after_cap`; a longer one gives up at once, so the caller escalates or falls back); every try is bounded
    by `attempt_timeout` and the whole loop by `deadline`; retries are drawn from a `RetryBudget`; a `breaker` and a
    `rate_limit` apply as they do to a chat model. Each attempt is reported to the records of the podium step that
    made it. The provider SDK's own retries are turned off where Pydantic-AI's own `OpenAIEmbeddingModel` sends the
    request; for other clients, tries their SDK still makes are counted from its retry-count header. A
    `SemanticRouter` wraps its embedding model in one of these with its defaults unless given one.

    Anything a Pydantic-AI embedding model raises that is neither a provider error nor podium's is raised as
    `UnexpectedResponse`; an embedding model of your own (not from `pydantic_ai.embeddings`) raises its errors
    unchanged.
    """

    def __init__(
        self,
        wrapped: EmbeddingModel | str,
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
        """Wrap `wrapped` in a retry loop; the arguments mean what they mean for `RetryingModel`.

        Args:
            wrapped: The embedding model, or its name (`'openai:text-embedding-3-small'`), resolved now.
            attempts: Tries per request, the first included.
            backoff: Waits between tries when the provider gives no `Retry-After`; `Backoff()` by default.
            retry_after_cap: Longest `Retry-After` worth waiting for (10 s); a longer one ends the loop.
            attempt_timeout: Seconds one attempt may take before it fails with `ModelRequestTimeout`.
            deadline: Seconds the whole loop may take, waits included (60 s; `None` for none).
            retry_on: Which errors to retry; `is_retryable` by default.
            breaker: A breaker for this model, shared across runs; while open, requests fail fast.
            budget: A retry budget shared across runs; by default one of its own.
            rate_limit: Requests and tokens per minute, kept before each attempt is sent.
            clock: Where time and sleep come from; inject a `VirtualClock` in tests.
        """
        super().__init__(embedding_model_without_sdk_retries(wrapped))
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
            user_code=not _from_pydantic_ai(self.wrapped),
        )
        self.policy = self._requests.policy
        self.attempt_timeout = attempt_timeout
        self.breaker = breaker
        self.rate_limit = rate_limit

    async def embed(
        self, inputs: str | Sequence[str], *, input_type: EmbedInputType, settings: EmbeddingSettings | None = None
    ) -> EmbeddingResult:
        async def send() -> EmbeddingResult:
            return await self.wrapped.embed(inputs, input_type=input_type, settings=settings)

        result, _ = await self._requests.run(send)  # an `EmbeddingResult` has no place for the failed attempts
        if self.rate_limit is not None:
            self.rate_limit.record(self.model_name, result.usage.input_tokens)
        return result

    def __repr__(self) -> str:
        return f'RetryingEmbeddingModel({self.wrapped!r}, attempts={self.policy.attempts})'


def embedding_model_without_sdk_retries(model: EmbeddingModel | str) -> EmbeddingModel:
    """`model` (resolved from its name) with its provider SDK's own retries off, where podium can turn them off."""
    resolved = infer_embedding_model(model)
    try:
        from ._single_try_embeddings import single_try_openai
    except ImportError:  # without the `openai` extra there is no OpenAI embedding model to change
        return resolved
    return single_try_openai(resolved)


def _from_pydantic_ai(model: EmbeddingModel) -> bool:
    """Whether `model` (beneath wrappers) is built on one of Pydantic-AI's provider models, not the caller's own."""
    while isinstance(model, WrapperEmbeddingModel):
        model = model.wrapped
    bases = (EmbeddingModel, WrapperEmbeddingModel)
    return any(cls.__module__.startswith('pydantic_ai.') for cls in type(model).__mro__ if cls not in bases)
