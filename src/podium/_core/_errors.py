"""Errors raised by podium.

Two roots, as misuse and failure call for different handling::

    PodiumError
    ├── ConfigurationError (ValueError)   raised when a workflow is built wrongly; fix the code
    ├── OutputNotAvailable (LookupError)  a step read the output of a step that has not run
    └── WorkflowError (RuntimeError)      raised when a run cannot produce its output; carries the records
        ├── StepFailed                    a step raised; the cause is chained
        ├── StepInputError (TypeError)    a step received a value of the wrong type
        ├── StepOutputError (TypeError)   a step produced a value of the wrong type
        ├── BudgetExceeded                the workflow's usage limits were hit
        ├── NoRoute                       a router or branch had nowhere to send the input
        ├── LoopLimitReached              a loop stopped without meeting its condition (opt-in)
        ├── WorkflowTimeout (TimeoutError) the run's deadline passed
        └── FallbackError                 nothing could produce a step's output; see `_failures.py` for its kinds
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._redact import redact

if TYPE_CHECKING:
    from pydantic_ai.usage import RunUsage

    from ._records import StepRecord

__all__ = (
    'BudgetExceeded',
    'ConfigurationError',
    'LoopLimitReached',
    'NoRoute',
    'OutputNotAvailable',
    'PodiumError',
    'StepFailed',
    'StepInputError',
    'StepOutputError',
    'WorkflowError',
    'WorkflowTimeout',
)


class PodiumError(Exception):
    """Base class of every error podium raises.

    Secrets in its message (API keys, tokens, passwords) read `[REDACTED]`: podium's errors are printed, logged and
    traced, and may quote a provider's error, which may echo the request.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class ConfigurationError(PodiumError, ValueError):
    """Raised when a step or workflow is built with arguments that cannot work."""


class OutputNotAvailable(PodiumError, LookupError):
    """Raised when `Flow.output_of(step)` asks for the output of a step that has not finished in the run."""


class WorkflowError(PodiumError, RuntimeError):
    """Raised when a run cannot produce its output.

    It carries the records of every step that ran, so nothing that happened before the failure is lost.
    """

    step: str | None
    """Name of the step that failed, when one did."""
    records: tuple[StepRecord, ...]
    """Records of the steps that ran, in start order, the failed one included."""
    usage: RunUsage | None
    """Usage of the whole run up to the failure; set when the error leaves `Step.run`."""

    def __init__(self, message: str, *, step: str | None = None) -> None:
        super().__init__(message)
        self.message: str = self.args[0]
        """The message, redacted."""
        self.step = step
        self.records = ()
        self.usage = None


class StepFailed(WorkflowError):
    """Raised when a step raised an exception podium has no more specific error for; the cause is chained."""


class StepInputError(WorkflowError, TypeError):
    """Raised when a step receives a value of a type it does not accept."""


class StepOutputError(WorkflowError, TypeError):
    """Raised when a step produces a value of a type other than the one it declares."""


class BudgetExceeded(WorkflowError):
    """Raised when the run's `UsageLimits` are exceeded; `limit` says which limit tripped."""

    def __init__(self, message: str, *, step: str | None = None, limit: str | None = None) -> None:
        super().__init__(message, step=step)
        self.limit = limit


class NoRoute(WorkflowError):
    """Raised when a router or branch gets a key it has no step for and no fallback to use."""


class LoopLimitReached(WorkflowError):
    """Raised by a loop built with `raise_on_limit=True` when it stops without meeting its condition."""

    def __init__(self, message: str, *, step: str | None = None, stop_reason: str, iterations: int) -> None:
        super().__init__(message, step=step)
        self.stop_reason = stop_reason
        self.iterations = iterations


class WorkflowTimeout(WorkflowError, TimeoutError):
    """Raised when a run passes the `timeout` given to `Step.run`."""
