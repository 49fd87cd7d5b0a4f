"""`Flow`, the context every step of a run receives, and the scope that turns a step's work into a record."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from pydantic_ai.exceptions import UsageLimitExceeded
from pydantic_ai.usage import RunUsage, UsageLimits

from ._classify import typed_failure
from ._errors import BudgetExceeded, StepFailed, WorkflowError
from ._records import Attempt, Scalar, StepRecord, StepStatus
from ._redact import describe, redact

if TYPE_CHECKING:
    from ..tracing._tracing import SpanHandle, Tracing

__all__ = ('Flow', 'StepScope', 'copy_usage', 'current_flow')

_current_flow: ContextVar[Flow | None] = ContextVar('podium_current_flow', default=None)


def current_flow() -> Flow | None:
    """The flow of the step running in this context, if any: how tools find the run they belong to."""
    return _current_flow.get()


def copy_usage(usage: RunUsage) -> RunUsage:
    """A copy that shares nothing with `usage` (`copy()` alone would share the `details` dict)."""
    return replace(usage, details=dict(usage.details))


@dataclass(kw_only=True, eq=False)
class Flow:
    """The context of one run, passed to every step.

    Steps never reach for globals: deps, the shared usage and its limits, the records and tracing live here.
    """

    workflow: str
    """Name of the step the run started from."""
    deps: object = None
    """The run's dependencies, handed to agents (optionally mapped per step)."""
    usage: RunUsage = field(default_factory=RunUsage)
    """Usage of every model call of the run so far."""
    usage_limits: UsageLimits | None = None
    """Limits that hold for the whole run, not per agent; `None` leaves each agent call its own defaults."""
    records: list[StepRecord | None] = field(default_factory=list[StepRecord | None])
    """Records in start order; a slot is `None` while its step is still running."""
    tracing: Tracing | None = None
    """Where spans go; `None` when tracing is off."""

    def child(self, *, usage: RunUsage) -> Flow:
        """A flow that shares this one's records and deps but counts usage into `usage` (used by tools)."""
        return Flow(
            workflow=self.workflow,
            deps=self.deps,
            usage=usage,
            usage_limits=self.usage_limits,
            records=self.records,
            tracing=self.tracing,
        )

    def usage_for_call(self) -> RunUsage:
        """The usage an agent call should start from.

        With run-wide limits, a copy of the run's usage so Pydantic-AI checks the limits against the whole run;
        without, a fresh usage so each agent keeps Pydantic-AI's own per-run defaults.
        """
        return copy_usage(self.usage) if self.usage_limits is not None else RunUsage()

    def add_usage(self, usage: RunUsage | None, *, step: str) -> None:
        """Count a finished call's usage into the run and enforce the run-wide limits.

        Parallel calls each check the limits against the usage they started from, so the check after the merge
        is what bounds the run as a whole.
        """
        if usage is None:
            return
        self.usage.incr(usage)
        if self.usage_limits is not None:
            try:
                self.usage_limits.check_tokens(self.usage)
                if (
                    self.usage_limits.request_limit is not None
                    and self.usage.requests > self.usage_limits.request_limit
                ):
                    raise UsageLimitExceeded(
                        f'The next request would exceed the request_limit of {self.usage_limits.request_limit}'
                    )
            except UsageLimitExceeded as exc:
                raise _budget_error(exc, step) from exc

    def scope(self, name: str, kind: str) -> StepScope:
        """Open the record (and span) of a step; use as `with flow.scope(...) as scope:`."""
        return StepScope(self, name, kind)

    @property
    def finished_records(self) -> tuple[StepRecord, ...]:
        """The records of every step that has finished."""
        return tuple(r for r in self.records if r is not None)

    @property
    def degraded(self) -> bool:
        """Whether any step so far was degraded."""
        return any(r is not None and r.status == 'degraded' for r in self.records)


def _budget_error(exc: UsageLimitExceeded, step: str) -> BudgetExceeded:
    message = str(exc)  # redacted with the error it becomes part of
    limit = next((word for word in message.split() if word.endswith('_limit')), None)
    return BudgetExceeded(
        f'step {step!r} stopped the run: {message}. Raise the UsageLimits passed to run() or make the workflow '
        'cheaper.',
        step=step,
        limit=limit,
    )


class StepScope:
    """Times a step, keeps its slot in the records, opens its span, and turns exceptions into `WorkflowError`s.

    A step fills in what it learns (`output`, `route`, `usage`, ...) before the scope closes.
    """

    __slots__ = (
        '_index',
        '_span',
        '_start',
        '_token',
        'attempts',
        'confidence',
        'detail',
        'fallback_reason',
        'flow',
        'kind',
        'model',
        'name',
        'output',
        'path',
        'reason',
        'route',
        'status',
        'usage',
    )

    def __init__(self, flow: Flow, name: str, kind: str) -> None:
        self.flow = flow
        self.name = name
        self.kind = kind
        self.output: object = None
        self.route: str | None = None
        self.confidence: float | None = None
        self.reason: str | None = None
        self.fallback_reason: str | None = None
        self.model: str | None = None
        self.path: Literal['lean', 'agent'] | None = None
        self.attempts: list[Attempt] = []
        self.usage: RunUsage | None = None
        self.status: StepStatus = 'ok'
        self.detail: dict[str, Scalar] = {}
        self._span: SpanHandle | None = None

    def degrade(self, reason: str) -> None:
        """Mark the step's output as produced by a fallback, and say why."""
        self.status = 'degraded'
        self.fallback_reason = reason

    def __enter__(self) -> StepScope:
        self._start = time.perf_counter()
        records = self.flow.records
        self._index = len(records)
        records.append(None)
        if self.flow.tracing is not None:
            self._span = self.flow.tracing.step_span(self.name, self.kind)
        self._token = _current_flow.set(self.flow)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _current_flow.reset(self._token)
        error: WorkflowError | None = None
        if exc is not None:
            self.status = 'failed'
            self.output = None
            if isinstance(exc, Exception):
                error = self._as_workflow_error(exc)
        record = StepRecord(
            name=self.name,
            kind=self.kind,
            status=self.status,
            output=self.output,
            route=self.route,
            confidence=self.confidence,
            reason=redact(self.reason) if self.reason is not None else None,
            fallback_reason=self.fallback_reason,
            model=self.model,
            path=self.path,
            attempts=tuple(self.attempts),
            usage=self.usage if self.usage is not None else RunUsage(),
            duration_s=time.perf_counter() - self._start,
            error=None if exc is None else describe(exc),
            detail=self.detail,
        )
        self.flow.records[self._index] = record
        if self._span is not None:
            self._span.finish(record, exc)
        if error is not None and error is not exc:
            raise error from exc

    def _as_workflow_error(self, exc: Exception) -> WorkflowError:
        if isinstance(exc, WorkflowError):
            if exc.step is None:
                exc.step = self.name
            return exc
        if isinstance(exc, UsageLimitExceeded):
            return _budget_error(exc, self.name)
        typed = typed_failure(exc, step=self.name, attempts=self.attempts)
        if typed is not None:
            return typed
        return StepFailed(f'step {self.name!r} failed: {describe(exc)}', step=self.name)
