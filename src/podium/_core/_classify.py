"""What a failure means: whether to retry it, what to call it in a record, and the typed error to end with.

Pydantic-AI already sorts provider failures into `ModelAPIError` categories (and parses `Retry-After` and
`x-should-retry`); this module only decides what podium does with each category.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from pydantic_ai.exceptions import (
    AgentRunError,
    ContentFilterError,
    FallbackExceptionGroup,
    IncompleteToolCall,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelRequestTimeout,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
    UserError,
)
from pydantic_ai.messages import ModelResponse

from ._errors import (
    AllModelsFailed,
    BudgetExceeded,
    CircuitOpen,
    ContextTooLarge,
    EmbeddingFailed,
    FallbackError,
    ModelCircuitOpenError,
    OutputRejected,
    PodiumError,
    ProviderAuthError,
    Refused,
    StepFailed,
    UnexpectedResponse,
    WorkflowError,
)
from ._records import Attempt
from ._redact import describe, redact

__all__ = (
    'attempt_reason',
    'causes',
    'empty_answer',
    'failure_reason',
    'give_up',
    'is_model_failure',
    'is_outage',
    'is_retryable',
    'mark_exhausted',
    'matches',
    'root_cause',
    'status_code',
    'typed_failure',
    'unexpected_response',
)

# Most specific first: several categories subclass others (overloaded is unavailable, a refusal is unexpected
# behaviour, a breaker's refusal to send is unavailability).
_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (UsageLimitExceeded, 'budget'),
    (BudgetExceeded, 'budget'),
    (ModelCircuitOpenError, 'circuit_open'),
    (CircuitOpen, 'circuit_open'),
    (ModelQuotaExceededError, 'quota'),
    (ModelRateLimitError, 'rate_limit'),
    (ModelOverloadedError, 'overloaded'),
    (ModelUnavailableError, 'unavailable'),
    (ModelServerError, 'server_error'),
    (ModelTimeoutError, 'timeout'),
    (ModelRequestTimeout, 'timeout'),
    (ModelConnectionError, 'connection'),
    (ModelContextWindowExceededError, 'context_length'),
    (ContextTooLarge, 'context_length'),
    (ModelAuthenticationError, 'auth'),
    (ProviderAuthError, 'auth'),
    (ModelNotFoundError, 'not_found'),
    (ModelRequestRejectedError, 'rejected'),
    (ContentFilterError, 'refused'),
    (Refused, 'refused'),
    (IncompleteToolCall, 'incomplete_output'),
    (UnexpectedModelBehavior, 'invalid_output'),
    (OutputRejected, 'output_rejected'),
    (UnexpectedResponse, 'unexpected_response'),
    (EmbeddingFailed, 'unexpected_response'),  # vectors no router can use: the provider answered garbage
    (ModelAPIError, 'provider_error'),
    (TimeoutError, 'timeout'),
)
_HTTP_REASONS = {408: 'timeout', 429: 'rate_limit'}
_NOT_MODEL_FAILURES = frozenset({'budget', 'error'})
_NOT_OUTAGES = frozenset({'auth', 'context_length', 'not_found', 'rejected', 'refused'}) | _NOT_MODEL_FAILURES
_EXHAUSTED = '_podium_retries_exhausted'


def root_cause(exc: BaseException) -> BaseException:
    """The exception behind `StepFailed`, which a step's scope wraps around errors it has no type for."""
    while isinstance(exc, StepFailed) and exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def causes(exc: BaseException) -> list[BaseException]:
    """The single failures in `exc`: a `FallbackError`'s causes, an exception group's members, or its root cause.

    An `EmbeddingFailed` raised for a failed embedding request stands for that request's failure (a 429 is a rate
    limit, so `fallback` and `default` act on it as on a chat model's); one raised for unusable vectors is itself.
    """
    root = root_cause(exc)
    if isinstance(root, EmbeddingFailed) and root.__cause__ is not None:
        return causes(root.__cause__)
    members: Sequence[BaseException] = ()
    if isinstance(root, FallbackError):
        members = root.causes
    elif isinstance(root, BaseExceptionGroup):
        members = cast('BaseExceptionGroup[BaseException]', root).exceptions
    if not members:
        return [root]
    return [single for member in members for single in causes(member)]


def _reason(exc: BaseException) -> str:
    if type(exc) is ModelHTTPError:  # a status Pydantic-AI put in no category: read the status itself
        code = exc.status_code
        return 'server_error' if code >= 500 else _HTTP_REASONS.get(code, 'rejected')
    for cls, reason in _REASONS:
        if isinstance(exc, cls):
            return reason
    return 'error'


def attempt_reason(error: str) -> str:
    """The reason for an attempt's recorded error class name (`ModelQuotaExceededError` is `quota`)."""
    return next((reason for cls, reason in _REASONS if cls.__name__ == error), 'error')


def failure_reason(exc: BaseException) -> str:
    """A short, stable name for why `exc` happened, as records show it (`quota`, `timeout`, `refused`, ...).

    A failure made of several is named for their common reason, or `all_models_failed` when they differ.
    """
    reasons = {_reason(single) for single in causes(exc)}
    return reasons.pop() if len(reasons) == 1 else 'all_models_failed'


def is_model_failure(exc: BaseException) -> bool:
    """Whether `exc` is a model or provider failure (what `fallback` moves on from by default).

    Usage limits are not: they stop the run, whatever fallbacks there are.
    """
    return all(_reason(single) not in _NOT_MODEL_FAILURES for single in causes(exc))


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` is a failure that may pass (what `default` degrades by default).

    Rate limits, quota, 5xx, overload, broken connections, timeouts, open breakers and invalid output are; a request
    refused for cause (credentials, context length, content policy, an unknown model) is not, as hiding it behind a
    default would hide a fault in the request or the configuration.
    """
    return all(_reason(single) not in _NOT_OUTAGES for single in causes(exc))


def is_retryable(exc: BaseException) -> bool:
    """Whether sending the same request again to the same model may succeed.

    Rate limits (429), 5xx, overload (503, 529), broken connections and the transport's own timeouts are; quota,
    rejected requests (400, 401, 403, 404, context length), refusals and invalid output are not. Neither is an
    attempt that used up its whole time limit (`ModelRequestTimeout`, `StepTimeout`): a second wait on a stalling
    model would double the latency the limit is there to bound, so it moves on to the fallback instead. The
    provider's `x-should-retry` header wins over the status, except that it cannot make a rejected request
    retryable. An error a `RetryingModel` already gave up on is not retried again, so nested retries never multiply.
    """
    if getattr(exc, _EXHAUSTED, False):
        return False
    hint = exc.provider_retry_hint if isinstance(exc, ModelHTTPError) else None
    if hint is False or isinstance(exc, (ModelQuotaExceededError, ModelRequestRejectedError, ModelCircuitOpenError)):
        return False
    if hint is True:
        return True
    if isinstance(exc, (ModelRateLimitError, ModelUnavailableError, ModelServerError, ModelConnectionError)):
        return True
    return isinstance(exc, ModelHTTPError) and (exc.status_code in (408, 409) or exc.status_code >= 500)


def matches(exc: BaseException, types: tuple[type[BaseException], ...]) -> bool:
    """Whether `exc` is one of `types`, looking through podium's wrapping.

    It matches when `exc` itself, the error behind `StepFailed`, every one of its causes, or the typed error it ends
    as is one of `types`: `on=ProviderAuthError` matches a 401 as well as `on=ModelAuthenticationError` does.
    """
    root = root_cause(exc)
    if isinstance(exc, types) or isinstance(root, types) or all(isinstance(c, types) for c in causes(root)):
        return True
    return isinstance(give_up([exc], step=''), types)


def mark_exhausted(exc: BaseException) -> None:
    """Note on `exc` that a retry loop gave up on it, so no outer loop retries it again."""
    setattr(exc, _EXHAUSTED, True)


def status_code(exc: BaseException) -> int | None:
    """The HTTP status of a provider failure, when it had one."""
    return exc.status_code if isinstance(exc, ModelHTTPError) else None


def give_up(failures: Sequence[BaseException], *, step: str, attempts: Sequence[Attempt] = ()) -> BaseException:
    """The error a wrapper raises once nothing is left to try after `failures` (oldest first).

    Model failures become the typed error for their common reason (`ProviderAuthError`, `ContextTooLarge`,
    `Refused`, `CircuitOpen`), or `AllModelsFailed` when the reasons differ or may pass; anything else (a usage
    limit, a bug in a function step) is raised as it is.
    """
    last = failures[-1]
    if not is_model_failure(last):
        return last
    root = root_cause(last)
    if len(failures) == 1 and isinstance(root, FallbackError):  # already typed, with the attempts that led to it
        return root
    singles = [single for failure in failures for single in causes(failure)]
    reasons = {_reason(single) for single in singles}
    reason = reasons.pop() if len(reasons) == 1 else 'all_models_failed'
    if reason == 'auth':
        return ProviderAuthError(
            f'step {step!r}: the provider rejected the credentials ({_describe(singles[-1])}); check the API key and '
            'its access to the model',
            step=step,
            causes=singles,
            attempts=attempts,
        )
    if reason == 'context_length':
        return ContextTooLarge(
            f'step {step!r}: the input exceeds the context window of every model tried; shorten it or add a model '
            'with a larger window',
            step=step,
            causes=singles,
            attempts=attempts,
        )
    if reason == 'refused':
        refusal = _refusal(singles[-1])
        return Refused(
            f'step {step!r}: the model refused ({refusal})',
            reason=refusal,
            step=step,
            causes=singles,
            attempts=attempts,
        )
    if reason == 'circuit_open':
        return CircuitOpen(
            f'step {step!r}: its circuit breaker is open, so nothing was called', step=step, causes=singles
        )
    tried = ', '.join(_describe(single) for single in singles)
    return AllModelsFailed(
        f'step {step!r}: nothing could produce the output after {len(singles)} failure(s): {tried}',
        step=step,
        causes=singles,
        attempts=attempts,
    )


def _describe(exc: BaseException) -> str:
    code = status_code(exc)
    name = type(exc).__name__
    return f'{name} {code}' if code is not None else name


def _refusal(exc: BaseException) -> str:
    if isinstance(exc, Refused):
        return exc.reason
    if isinstance(exc, UnexpectedModelBehavior):
        return redact(exc.message.removeprefix('Content filter triggered. '))
    return redact(str(exc))


def typed_failure(exc: BaseException, *, step: str, attempts: Sequence[Attempt] = ()) -> WorkflowError | None:
    """The typed error a failed step ends with when its failure has a meaning of its own, else `None`.

    Only failures that no retry can mend get a type here (bad credentials, an oversized input, a refusal, an open
    breaker) and a `FallbackModel` that ran out of models; anything else stays a `StepFailed` with its cause.
    """
    if isinstance(exc, FallbackExceptionGroup):
        typed = give_up(list(exc.exceptions), step=step, attempts=attempts)
    elif is_model_failure(exc):
        typed = give_up([exc], step=step, attempts=attempts)
    else:
        return None
    if isinstance(exc, FallbackExceptionGroup) or isinstance(
        typed, ProviderAuthError | ContextTooLarge | Refused | CircuitOpen
    ):
        return typed if isinstance(typed, WorkflowError) else None
    return None


def unexpected_response(exc: Exception, model_name: str) -> UnexpectedResponse | None:
    """`exc`, raised by a request to `model_name`, as an `UnexpectedResponse`; `None` when it already has a meaning.

    Pydantic-AI's errors (provider failures, refusals, usage limits, misuse) and podium's keep theirs. Anything
    else escaped a provider adapter: an `IndexError` on `"choices": []`, a decode error on an HTML page, an
    unexpected `None`. So does a plain `UnexpectedModelBehavior` raised by the request itself (an adapter's "expected
    JSON data", a stream that ended with nothing in it), since output validation happens after the request, in the
    agent. It becomes a model failure, so a `FallbackModel`, `fallback` and `default` act on it.
    """
    if type(exc) is not UnexpectedModelBehavior and isinstance(exc, AgentRunError | UserError | PodiumError):
        return None
    return UnexpectedResponse(
        model_name,
        f'model {model_name!r} sent a response its adapter could not read ({describe(exc)}); the next model or '
        'fallback answers instead',
    )


_EMPTY_ENVELOPES = frozenset({'anthropic'})
"""Providers whose response lists every part of the answer, so an empty list is no answer at all."""


def empty_answer(response: ModelResponse) -> UnexpectedResponse | None:
    """An `UnexpectedResponse` for a 200 from Anthropic whose `content` list is empty, else `None`.

    That list is the answer itself, as OpenAI's `choices` are: `"content": []` is an envelope around nothing, which
    Pydantic-AI would otherwise read as an empty reply and silently re-prompt. OpenAI's `content: null` with no tool
    calls is a model's empty reply and stays one (the agent re-prompts). An empty list that says why (`max_tokens`
    ran out, a refusal) keeps its meaning too.
    """
    if response.parts or response.provider_name not in _EMPTY_ENVELOPES:
        return None
    if response.finish_reason in ('length', 'content_filter'):
        return None
    name = response.model_name or response.provider_name
    return UnexpectedResponse(
        name,
        f'model {name!r} answered with an empty content list; the next model or fallback answers instead',
    )
