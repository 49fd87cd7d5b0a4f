"""Every error podium raises, in one tree.

Two roots, as misuse and failure call for different handling: a misuse error says what to fix in the code or the
command; a `WorkflowError` says why a run could not produce its output and carries the records of what ran. Where
an error must also be a builtin (or a Pydantic-AI error, so `FallbackModel` moves on), it subclasses that too::

    PodiumError
    ├── ConfigurationError (ValueError)        a step, workflow or function is given arguments that cannot work
    │   └── PriceUnknown                       a model's cost is needed but no price is known for it
    ├── OutputNotAvailable (LookupError)       a step read the output of a step that has not run
    ├── RecordNotFound (KeyError)              a result was asked for a step or case it does not hold
    ├── InvalidScore (ValueError)              an output check gave a score outside [0, 1]
    ├── MissingOutputField (TypeError)         an output check reads a field the output does not have
    ├── OutputRejected                         a `fallback`'s `on=` predicate rejected an output (a cause, not raised)
    ├── CaseFileError (ValueError)             a case file, or a row of it, cannot be read
    ├── ScriptError (LookupError)              a `ScriptedModel` has no answer for a prompt
    ├── FaultServerError (RuntimeError)        a `FaultServer` is used in the wrong state
    ├── InvalidDecision (TypeError)            a resume's decision does not fit the approval step it is for
    ├── UsageError                             a `podium` command cannot start with what it was given
    │   └── LoadError                          a `file.py:attr` or `module:attr` reference cannot be loaded
    ├── DurableError                           the run store cannot do what was asked
    │   ├── StoreUnavailable                   the database URL cannot be reached or opened
    │   ├── RunNotFound (LookupError)          no run has that id (or no paused run that resume token)
    │   ├── WrongWorkflow                      a resume token of a run of another workflow
    │   └── NotWaiting                         approve/reject on a run that is not waiting for a decision
    │       └── AlreadyResumed                 a resume token whose run was resumed already
    └── WorkflowError (RuntimeError)           a run cannot produce its output; carries the records
        ├── StepFailed                         a step raised; the cause is chained
        ├── StepInputError (TypeError)         a step received a value of the wrong type
        ├── StepOutputError (TypeError)        a step produced a value of the wrong type
        ├── BudgetExceeded                     the workflow's usage limits were hit
        ├── NoRoute                            a router or branch had nowhere to send the input
        ├── LoopLimitReached                   a loop stopped without meeting its condition (opt-in)
        ├── WorkflowTimeout (TimeoutError)     the run's deadline passed
        ├── RunCancelled                       the run was stopped from outside (a stream's consumer left)
        ├── EmbeddingFailed                    the embedding model failed or answered with unusable vectors
        ├── ReplayMismatch                     a resumed run no longer matches the workflow that recorded it
        ├── GuardTripped                       a guard stopped the input or output; carries the guard's verdict
        │   └── GuardFailed                    a guard raised and, failing closed, stopped the run; cause chained
        └── FallbackError                      a wrapper ran out of ways to produce its step's output
            ├── AllModelsFailed                every model, retry and alternate failed (mixed or transient causes)
            ├── CircuitOpen                    a step's breaker is open, so it was not called
            ├── Refused                        the model refused or a content filter stopped it
            ├── ContextTooLarge                the input does not fit any model's context window
            ├── ProviderAuthError              the provider rejected the credentials (401, 403)
            └── StepTimeout (TimeoutError)     a step passed its `timeout`

    ModelUnavailableError (Pydantic-AI), PodiumError
    ├── ModelCircuitOpenError                  a `RetryingModel`'s breaker is open, so no request was sent
    └── RateLimitExhausted                     no rate-limit capacity before the request's deadline; nothing was sent

    ModelAPIError (Pydantic-AI), PodiumError
    └── UnexpectedResponse                     a model call raised something no provider error stands for

The errors inside models are Pydantic-AI's `ModelAPIError`s because Pydantic-AI's `FallbackModel` moves on from
those alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic_ai.exceptions import ModelAPIError, ModelUnavailableError

from ._redact import redact

if TYPE_CHECKING:
    from pydantic_ai.usage import RunUsage

    from ._records import Attempt, StepRecord
    from ._verdict import GuardVerdict

__all__ = (
    'AllModelsFailed',
    'AlreadyResumed',
    'BudgetExceeded',
    'CaseFileError',
    'CircuitOpen',
    'ConfigurationError',
    'ContextTooLarge',
    'DurableError',
    'EmbeddingFailed',
    'FallbackError',
    'FaultServerError',
    'GuardFailed',
    'GuardTripped',
    'InvalidDecision',
    'InvalidScore',
    'LoadError',
    'LoopLimitReached',
    'MissingOutputField',
    'ModelCircuitOpenError',
    'NoRoute',
    'NotWaiting',
    'OutputNotAvailable',
    'OutputRejected',
    'PodiumError',
    'PriceUnknown',
    'ProviderAuthError',
    'RateLimitExhausted',
    'RecordNotFound',
    'Refused',
    'ReplayMismatch',
    'RunCancelled',
    'RunNotFound',
    'ScriptError',
    'StepFailed',
    'StepInputError',
    'StepOutputError',
    'StepTimeout',
    'StoreUnavailable',
    'UnexpectedResponse',
    'UsageError',
    'WorkflowError',
    'WorkflowTimeout',
    'WrongWorkflow',
)


class PodiumError(Exception):
    """Base class of every error podium raises.

    Secrets in its message (API keys, tokens, passwords) read `[REDACTED]`: podium's errors are printed, logged and
    traced, and may quote a provider's error, which may echo the request.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


# Misuse: raised where the code, the arguments or the command are wrong; the message says what to fix.


class ConfigurationError(PodiumError, ValueError):
    """Raised when a step, workflow or podium function is given arguments that cannot work."""


class PriceUnknown(ConfigurationError):
    """Raised when a cost is needed for a model that neither genai-prices nor the `prices=` given know."""

    def __init__(self, message: str, *, models: tuple[str, ...]) -> None:
        super().__init__(message)
        self.models = models


class OutputNotAvailable(PodiumError, LookupError):
    """Raised when `Flow.output_of(step)` asks for the output of a step that has not finished in the run."""


class RecordNotFound(PodiumError, KeyError):
    """Raised when `RunResult.record` or `WorkflowReport.result` is asked for a step or case that is not there."""


class InvalidScore(PodiumError, ValueError):
    """Raised when an output check gives a score that is not a number within [0, 1]."""


class MissingOutputField(PodiumError, TypeError):
    """Raised when a `ConfidenceCheck` reads a field that the step's output does not have."""


class OutputRejected(PodiumError):
    """Raised when a `fallback`'s `on=` predicate rejects an output: it stands for it among the failures' causes."""


class CaseFileError(PodiumError, ValueError):
    """Raised when a case file cannot be read at all: missing, not YAML, or not a mapping with a `cases` list.

    A row that cannot become a case raises it inside `load_cases`, which reports that row as an `InvalidCase`.
    """


class ScriptError(PodiumError, LookupError):
    """Raised when a `ScriptedModel` gets a prompt its script has no answer for."""


class FaultServerError(PodiumError, RuntimeError):
    """Raised when a `FaultServer` is started while it runs, or its URL is read while it is stopped."""


class InvalidDecision(PodiumError, TypeError):
    """Raised when a decision is not `Approve`, `Reject` or an `Edit` of the approval's input type.

    `resume` raises it before anything runs, so a wrong decision never half-resumes a run.
    """


class UsageError(PodiumError):
    """Raised when a command cannot start with what it was given; the message names the argument and the fix."""


class LoadError(UsageError):
    """Raised when a `file.py:attr` or `module:attr` reference cannot be loaded; the message says why."""


class DurableError(PodiumError):
    """Raised when the run store cannot do what was asked; the message says what to check."""


class StoreUnavailable(DurableError):
    """Raised when the database URL cannot be reached, or the SQLite file is not a run store."""


class RunNotFound(DurableError, LookupError):
    """Raised when no durable run has the given id, or no paused run the given resume token."""


class WrongWorkflow(DurableError):
    """Raised when a resume token belongs to a run of another workflow than the one asked to resume it."""


class NotWaiting(DurableError):
    """Raised when a run is approved or rejected while it is not waiting at an approval step."""


class AlreadyResumed(NotWaiting):
    """Raised when a paused run is resumed, approved or rejected again after it was resumed."""


# Run failures: raised when a run cannot produce its output; each carries the records of what ran.


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


class RunCancelled(WorkflowError):
    """Raised by `RunStream.result` when the stream was left before the run ended, which cancels the run."""


class EmbeddingFailed(WorkflowError):
    """Raised when a semantic router cannot get usable vectors and has no router to escalate to."""


class ReplayMismatch(WorkflowError):
    """Raised when a resumed run reaches a step that no longer matches what the run recorded.

    The workflow changed between the crash and the restart in a way that replay cannot paper over: a step was
    renamed, moved, added before the crash point, took another path, or now outputs another type. `step` names
    the step; the run stops rather than mix old checkpoints with new code.
    """


class GuardTripped(WorkflowError):
    """Raised when a guard with no `safe_response` stops the input or output: the run was blocked, not broken.

    `except GuardTripped` tells a blocked run from a failed one; `guard` names the guard, `on` says whether it
    checked the input or the output, and `verdict` is its decision (`verdict.reason` says why).
    """

    def __init__(self, message: str, *, guard: str, on: str, verdict: GuardVerdict, step: str | None = None) -> None:
        super().__init__(message, step=step if step is not None else guard)
        self.guard = guard
        """The name of the guard that tripped."""
        self.on = on
        """`input` or `output`."""
        self.verdict = verdict
        """The guard's decision."""


class GuardFailed(GuardTripped):
    """Raised when a guard's check raised and the guard fails closed (the default): the value is not let through.

    The check's error is chained as `__cause__`; `fail_open=True` lets the value through instead, recorded.
    """


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


# Failures inside a model: Pydantic-AI errors, so `FallbackModel` moves on, and podium errors, so podium acts on them.


class ModelCircuitOpenError(ModelUnavailableError, PodiumError):
    """Raised by a `RetryingModel` whose breaker is open: no request is sent, and `FallbackModel` moves on."""


class RateLimitExhausted(ModelUnavailableError, PodiumError):
    """Raised by a `RetryingModel` whose `RateLimit` has no capacity before the request's deadline (or `max_wait`).

    Nothing was sent. It is never retried (waiting longer is what the limit ruled out), and a `FallbackModel` or a
    `fallback` step moves on to a model with capacity left. Raise the limit, lower the traffic, or give the request a
    longer deadline.
    """


class UnexpectedResponse(ModelAPIError, PodiumError):
    """Raised when a model call fails with an error that is neither a provider error nor podium's or the caller's.

    An `IndexError` in a provider adapter reading `"choices": []`, a JSON decode error on an HTML page served with a
    200, an unexpected `None`: the provider answered something its adapter could not read. As a `ModelAPIError`,
    Pydantic-AI's `FallbackModel` moves on to its next model; as a podium error, `fallback` and `default` act on it
    (reason `unexpected_response`). The original error is chained as `__cause__`; the message names its class and
    its redacted text.
    """
