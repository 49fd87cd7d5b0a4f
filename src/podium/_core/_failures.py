"""Errors of `podium.fallbacks`.

Run failures are `podium.WorkflowError`s that say why nothing could produce the output, and carry each failure
that led there; one error stands for an open breaker inside a model, where Pydantic-AI's `FallbackModel` must see
a `ModelAPIError` to move on::

    WorkflowError
    └── FallbackError                      a wrapper ran out of ways to produce its step's output
        ├── AllModelsFailed                every model, retry and alternate failed (mixed or transient causes)
        ├── CircuitOpen                    a step's breaker is open, so it was not called
        ├── Refused                        the model refused or a content filter stopped it
        ├── ContextTooLarge                the input does not fit any model's context window
        ├── ProviderAuthError              the provider rejected the credentials (401, 403)
        └── StepTimeout (TimeoutError)     a step passed its `timeout`

    ModelUnavailableError (Pydantic-AI)
    └── ModelCircuitOpenError              a `RetryingModel`'s breaker is open, so no request was sent

    ModelAPIError (Pydantic-AI), PodiumError
    └── UnexpectedResponse                 a model call raised something no provider error stands for
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic_ai.exceptions import ModelAPIError, ModelUnavailableError

from ._errors import PodiumError, WorkflowError
from ._records import Attempt

__all__ = (
    'AllModelsFailed',
    'CircuitOpen',
    'ContextTooLarge',
    'FallbackError',
    'ModelCircuitOpenError',
    'OutputRejected',
    'ProviderAuthError',
    'Refused',
    'StepTimeout',
    'UnexpectedResponse',
)


class FallbackError(WorkflowError):
    """Raised when a fallbacks wrapper has nothing left to try; `causes` holds every failure that led here."""

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        causes: Sequence[BaseException] = (),
        attempts: Sequence[Attempt] = (),
    ) -> None:
        super().__init__(message, step=step)
        self.causes: tuple[BaseException, ...] = tuple(causes)
        """The failures behind this error, in the order they happened."""
        self.attempts: tuple[Attempt, ...] = tuple(attempts)
        """Every try made before giving up."""


class AllModelsFailed(FallbackError):
    """Raised when every model, retry and alternate of a step failed, for reasons that differ or may pass."""


class CircuitOpen(FallbackError):
    """Raised when a step's `CircuitBreaker` is open: the step is not called until the breaker lets a trial through."""


class Refused(FallbackError):
    """Raised when the model refused the request or the provider's content filter stopped the answer.

    Resending the same request to the same model repeats the refusal, so it is never retried there.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        step: str | None = None,
        causes: Sequence[BaseException] = (),
        attempts: Sequence[Attempt] = (),
    ) -> None:
        super().__init__(message, step=step, causes=causes, attempts=attempts)
        self.reason = reason
        """The refusal text or finish reason the provider gave."""


class ContextTooLarge(FallbackError):
    """Raised when the input exceeds the context window of every model tried; shorten it or add a larger model."""


class ProviderAuthError(FallbackError):
    """Raised when the provider rejected the credentials or their access to the model; check the API key."""


class StepTimeout(FallbackError, TimeoutError):
    """Raised when a step wrapped in `timeout` (or a breaker's trial) did not finish in time."""

    def __init__(
        self,
        message: str,
        *,
        seconds: float,
        step: str | None = None,
        causes: Sequence[BaseException] = (),
        attempts: Sequence[Attempt] = (),
    ) -> None:
        super().__init__(message, step=step, causes=causes, attempts=attempts)
        self.seconds = seconds
        """The time limit that passed."""


class ModelCircuitOpenError(ModelUnavailableError):
    """Raised by a `RetryingModel` whose breaker is open: no request is sent, and `FallbackModel` moves on."""


class OutputRejected(Exception):
    """Stands, among an `AllModelsFailed`'s causes, for an output that a `fallback`'s `on=` predicate rejected."""


class UnexpectedResponse(ModelAPIError, PodiumError):
    """Raised when a model call fails with an error that is neither a provider error nor podium's or the caller's.

    An `IndexError` in a provider adapter reading `"choices": []`, a JSON decode error on an HTML page served with a
    200, an unexpected `None`: the provider answered something its adapter could not read. As a `ModelAPIError`,
    Pydantic-AI's `FallbackModel` moves on to its next model; as a podium error, `fallback` and `default` act on it
    (reason `unexpected_response`). The original error is chained as `__cause__`; the message names its class and
    its redacted text.
    """
