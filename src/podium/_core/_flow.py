"""`Flow`, the context every step of a run receives, and the scope that turns a step's work into a record."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Literal

import anyio
from pydantic_ai.exceptions import UsageLimitExceeded
from pydantic_ai.messages import ModelMessage
from pydantic_ai.usage import RunUsage, UsageLimits
from typing_extensions import TypeVar

from ._classify import typed_failure
from ._errors import BudgetExceeded, OutputNotAvailable, StepFailed, WorkflowError, WorkflowTimeout
from ._events import FallbackTaken, RouteDecided, StepReplayed
from ._hooks import RunHook
from ._records import Attempt, Scalar, StepRecord, StepStatus
from ._redact import describe, redact

if TYPE_CHECKING:
    from ._events import EventPath, RunEvent
    from ._step import Step

__all__ = ('Flow', 'StepScope', 'copy_usage', 'current_flow', 'emit_here')

DepsT = TypeVar('DepsT', covariant=True, default=Any)
T = TypeVar('T')

_current_flow: ContextVar[Flow[Any] | None] = ContextVar('podium_current_flow', default=None)
_event_path: ContextVar[tuple[str, ...]] = ContextVar('podium_event_path', default=())
"""Names of the steps open in this context, outermost first: the `path` of the events they send."""
_iterations: ContextVar[tuple[object, ...]] = ContextVar('podium_loop_iterations', default=())
"""Tokens of the loop iterations this code runs inside, innermost last: how a loop finds the records it may drop."""

_UNSET: Any = object()


def emit_here(build: Callable[[EventPath], RunEvent]) -> None:
    """Send the event `build(path)` to the listeners of the run this code runs in, if it streams.

    For code below a step that has no scope at hand (a model wrapper's retry loop); `build` runs only when some
    hook listens, so the event costs nothing otherwise.
    """
    flow = _current_flow.get()
    if flow is not None and flow.streaming:
        flow.emit(build(_event_path.get()))


def current_flow() -> Flow[Any] | None:
    """The flow of the step running in this context, if any: how tools find the run they belong to."""
    return _current_flow.get()


def copy_usage(usage: RunUsage) -> RunUsage:
    """A copy that shares nothing with `usage` (`copy()` alone would share the `details` dict)."""
    return replace(usage, details=dict(usage.details))


class _Slot:
    """A record's place in the run; `record` is `None` while its step runs.

    `seq` counts starts, for marks; `key` is the place in the step tree (the parent's key and the child's number),
    which orders the records: depth first, so the order is start order for steps that run one after another, and
    concurrent branches (parallel steps, a guard beside its step) keep their records together, in an order that
    does not depend on how their tasks interleave.
    """

    __slots__ = ('children', 'iterations', 'key', 'record', 'seq')

    def __init__(self, seq: int, iterations: tuple[object, ...], key: tuple[int, ...]) -> None:
        self.seq = seq
        self.iterations = iterations
        self.key = key
        self.children = 0
        self.record: StepRecord | None = None


_parent_slot: ContextVar[_Slot | None] = ContextVar('podium_parent_slot', default=None)
"""The slot of the innermost step open in this context: the parent of the next one to start."""


@dataclass(eq=False)
class _RunState:
    """What every flow of one run shares, tools' child flows included."""

    slots: list[_Slot] = field(default_factory=list[_Slot])
    next_seq: int = 0
    roots: int = 0

    def new_slot(self) -> _Slot:
        """The slot of a step starting now, as the next child of the step open in this context."""
        parent = _parent_slot.get()
        if parent is None:
            key: tuple[int, ...] = (self.roots,)
            self.roots += 1
        else:
            key = (*parent.key, parent.children)
            parent.children += 1
        slot = _Slot(self.next_seq, _iterations.get(), key)
        self.next_seq += 1
        self.slots.append(slot)
        return slot

    def ordered(self) -> list[_Slot]:
        """The finished slots in tree order."""
        return sorted((s for s in self.slots if s.record is not None), key=_tree_order)

    outputs: dict[int, object] = field(default_factory=dict[int, object])
    cancelled: bool = False


_BLOCKED_AFTER_S = 0.1
"""How late past its deadline a run may stop before its error says a step held the event loop."""


@dataclass(kw_only=True, eq=False)
class Flow(Generic[DepsT]):
    """The context of one run, passed to every step.

    Steps never reach for globals: the run's input and deps, the outputs of steps that finished, the shared usage
    and its limits, the deadline, the records and the run's hooks live here. A function step or a prompt callable
    that takes a second parameter without a default (or annotated `Flow`) gets it.
    """

    workflow: str
    """Name of the step the run started from."""
    deps: DepsT = None  # type: ignore[assignment]  # `None` is what a run without deps passes
    """The run's dependencies, handed to agents (optionally mapped per step)."""
    run_input: object = None
    """The input the run started with, for steps deep in a chain that need the original request."""
    usage: RunUsage = field(default_factory=RunUsage)
    """Usage of every model call of the run so far."""
    usage_limits: UsageLimits | None = None
    """Limits that hold for the whole run, not per agent; `None` leaves each agent call its own defaults."""
    deadline: float | None = None
    """`time.perf_counter()` value after which the run stops with `WorkflowTimeout`; `None` for no deadline."""
    timeout: float | None = None
    """The run's `timeout` in seconds, which set `deadline`: errors name it."""
    hooks: tuple[RunHook, ...] = ()
    """What watches (or replays) every step of the run: tracing, durability, events, guards."""
    agent_run_spans: bool = True
    """Whether lean agent calls open Pydantic-AI's `<agent> run` span; podium's tracing turns it off, as its step
    span stands in for it."""
    message_history: tuple[ModelMessage, ...] = ()
    """The conversation before this turn (`run(..., message_history=...)`), for the steps that ask for it."""
    _state: _RunState = field(default_factory=_RunState)

    def __post_init__(self) -> None:
        self._around = tuple(h for h in self.hooks if h.wraps_steps)
        self._listeners = tuple(h for h in self.hooks if h.listens)

    @property
    def streaming(self) -> bool:
        """Whether any hook of the run listens to events: steps build events only then."""
        return bool(self._listeners)

    def mark_cancelled(self) -> None:
        """Say the run is being cancelled from outside (a stream's consumer left).

        The steps the cancellation interrupts are then recorded `cancelled` rather than `failed`.
        """
        self._state.cancelled = True

    def emit(self, event: RunEvent) -> None:
        """Hand `event` to every hook of the run that listens."""
        for hook in self._listeners:
            hook.on_event(event)

    def child(self, *, usage: RunUsage) -> Flow[DepsT]:
        """A flow that shares this one's records, outputs and deps but counts usage into `usage` (used by tools)."""
        return Flow(
            workflow=self.workflow,
            deps=self.deps,
            run_input=self.run_input,
            usage=usage,
            usage_limits=self.usage_limits,
            deadline=self.deadline,
            timeout=self.timeout,
            hooks=self.hooks,
            agent_run_spans=self.agent_run_spans,
            message_history=self.message_history,
            _state=self._state,
        )

    # -- the run context ------------------------------------------------------------------------------------------

    def output_of(self, step: Step[Any, T, Any], default: T = _UNSET) -> T:
        """The typed output of `step`'s latest successful run in this run.

        Raises:
            OutputNotAvailable: when `step` has not finished in this run and no `default` is given.
        """
        outputs = self._state.outputs
        key = id(step)
        if key in outputs:
            return outputs[key]  # type: ignore[return-value]  # stored under the step that produced it
        if default is not _UNSET:
            return default
        raise OutputNotAvailable(
            f'step {step.name!r} has not produced an output in this run yet: read outputs only of steps that run '
            'before the one reading them, or pass default='
        )

    def check_deadline(self, step: str | None = None) -> None:
        """Raise `WorkflowTimeout` when the run's deadline has passed, naming `step`, the one about to start."""
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            raise WorkflowTimeout(self._timed_out(step), step=step)

    def timed_out(self) -> WorkflowTimeout:
        """The error of a run past its deadline, saying what to do when a step held the event loop long past it."""
        return WorkflowTimeout(self._timed_out())

    def _timed_out(self, step: str | None = None) -> str:
        message = f'the run of {self.workflow!r} passed its timeout'
        if self.timeout is not None:
            message += f' of {self.timeout:g} s'
        if step is not None:
            message += f' before step {step!r}'
        late = 0.0 if self.deadline is None else time.perf_counter() - self.deadline
        if self.timeout is not None and late > _BLOCKED_AFTER_S + 0.1 * self.timeout:
            # A cancelled await ends at once, so a run this late had a step holding the event loop.
            message += (
                f', and could stop only {late:.1f} s after it: a step blocked the event loop; put blocking work in '
                'a sync function step, which runs in a worker thread the deadline does not wait for'
            )
        return message

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), or `None` when the run has none."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.perf_counter())

    # -- usage ----------------------------------------------------------------------------------------------------

    def usage_for_call(self) -> RunUsage:
        """The usage an agent call should start from.

        With run-wide limits, a copy of the run's usage so Pydantic-AI checks the limits against the whole run;
        without, a fresh usage so each agent keeps Pydantic-AI's own per-run defaults.
        """
        return copy_usage(self.usage) if self.usage_limits is not None else RunUsage()

    def add_usage(self, usage: RunUsage | None, *, step: str, check: bool = True) -> None:
        """Count a finished call's usage into the run and enforce the run-wide limits.

        Parallel calls each check the limits against the usage they started from, so the check after the merge
        is what bounds the run as a whole. `check=False` counts a failed call's usage without raising over it.
        """
        if usage is None:
            return
        self.usage.incr(usage)
        if check and self.usage_limits is not None:
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

    # -- records --------------------------------------------------------------------------------------------------

    def mark(self) -> int:
        """A position in the records: `records_since(mark)` gives what started after it."""
        return self._state.next_seq

    def records_since(self, mark: int) -> tuple[StepRecord, ...]:
        """The finished records of steps that started after `mark`, in start order."""
        return tuple(s.record for s in self._state.ordered() if s.seq >= mark)  # type: ignore[misc]

    def add_records(self, records: tuple[StepRecord, ...]) -> None:
        """Append finished records (a replayed step's), as if their steps had just run."""
        state = self._state
        for record in records:
            state.new_slot().record = record

    @property
    def records(self) -> tuple[StepRecord, ...]:
        """The records of every step that has finished, in start order."""
        return tuple(s.record for s in self._state.ordered())  # type: ignore[misc]  # ordered() has records only

    @property
    def degraded(self) -> bool:
        """Whether any step so far was degraded."""
        return any(s.record is not None and s.record.status == 'degraded' for s in self._state.slots)

    @contextmanager
    def iteration(self, token: object) -> Generator[None]:
        """Tag the records of steps started in this block as belonging to loop iteration `token`."""
        reset = _iterations.set((*_iterations.get(), token))
        try:
            yield
        finally:
            _iterations.reset(reset)

    def drop_iteration(self, token: object) -> int:
        """Forget the records of loop iteration `token` (a long loop keeps only its first and last few)."""
        slots = self._state.slots
        kept = [s for s in slots if token not in s.iterations]
        dropped = len(slots) - len(kept)
        slots[:] = kept
        return dropped


def _tree_order(slot: _Slot) -> tuple[int, ...]:
    return slot.key


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
    """One step's run: its record in the making, its flow, and the hooks around it.

    `Step.invoke` opens it; the step's `_run` fills in what it learns (`route`, `usage`, `detail`, ...), and the
    scope turns the outcome into a `StepRecord` and any exception into a `WorkflowError` naming the step.
    """

    __slots__ = (
        '_path_token',
        '_slot',
        '_slot_token',
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
        'step',
        'tree_path',
        'usage',
    )

    def __init__(self, flow: Flow[Any], step: Step[Any, Any, Any], kind: str) -> None:
        self.flow = flow
        self.step = step
        self.name = step.name
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
        self._slot: _Slot | None = None
        self.tree_path: EventPath = ()
        """Where the step sits in the run's tree, for its events; set only while the run streams."""

    def degrade(self, reason: str) -> None:
        """Mark the step's output as produced by a fallback, and say why."""
        self.status = 'degraded'
        self.fallback_reason = reason

    def falling_back(self, reason: str, *, to: str | None = None) -> None:
        """Announce that the step gives up on its way and takes another (`to`, when it has a name)."""
        if self.flow.streaming:
            self.flow.emit(FallbackTaken(path=self.tree_path, reason=reason, to=to))

    def choose(self, route: str) -> None:
        """Record the route a router or branch chose (after its `confidence` and `reason`), and announce it."""
        self.route = route
        if self.flow.streaming:
            reason = None if self.reason is None else redact(self.reason)
            escalated = self.detail.get('escalated') is True
            self.flow.emit(
                RouteDecided(
                    path=self.tree_path, route=route, confidence=self.confidence, reason=reason, escalated=escalated
                )
            )

    def open(self) -> None:
        """Take the step's place in the records and tell the run's hooks it started."""
        self._start = time.perf_counter()
        state = self.flow._state  # pyright: ignore[reportPrivateUsage]  # the scope is the flow's own helper
        slot = self._slot = state.new_slot()
        self._slot_token = _parent_slot.set(slot)
        if self.flow.streaming:
            self.tree_path = (*_event_path.get(), self.name)
            self._path_token = _event_path.set(self.tree_path)
        for hook in self.flow.hooks:
            hook.step_started(self)
        self._token = _current_flow.set(self.flow)

    @property
    def streaming(self) -> bool:
        """Whether the run has a listener, so events are worth building."""
        return self.flow.streaming

    def emit(self, event: RunEvent) -> None:
        """Send `event` to the run's listeners; build it only when `streaming` is true."""
        self.flow.emit(event)

    def close(self, exc: BaseException | None) -> WorkflowError | None:
        """Complete the record and tell the hooks; return the error to raise instead of `exc`, if any."""
        _current_flow.reset(self._token)
        _parent_slot.reset(self._slot_token)
        if self.tree_path:
            _event_path.reset(self._path_token)
        error: WorkflowError | None = None
        if exc is not None:
            state = self.flow._state  # pyright: ignore[reportPrivateUsage]  # the scope is the flow's own helper
            cancelled = state.cancelled and isinstance(exc, anyio.get_cancelled_exc_class())
            # Control flow that is no failure (a run pausing at an approval) says how its record reads.
            self.status = 'cancelled' if cancelled else getattr(exc, 'record_status', 'failed')
            self.output = None
            if isinstance(exc, Exception):
                error = self._as_workflow_error(exc)
        record = self.snapshot(exc)
        assert self._slot is not None
        self._slot.record = record
        for hook in reversed(self.flow.hooks):
            hook.step_finished(self, record, exc)
        return error if error is not exc else None

    def snapshot(self, exc: BaseException | None = None) -> StepRecord:
        """The record as it stands (what a durable checkpoint keeps of a step that has not closed yet)."""
        return StepRecord(
            name=self.name,
            kind=self.kind,
            status=self.status if exc is None or self.status in ('cancelled', 'paused') else 'failed',
            output=None if exc is not None else self.output,
            route=self.route,
            confidence=self.confidence,
            reason=None if self.reason is None else redact(self.reason),
            fallback_reason=self.fallback_reason,
            model=self.model,
            path=self.path,
            attempts=tuple(self.attempts),
            usage=self.usage if self.usage is not None else RunUsage(),
            duration_s=time.perf_counter() - self._start,
            error=None if exc is None else describe(exc),
            detail=self.detail,
        )

    def adopt(self, record: StepRecord) -> None:
        """Take what `record` says the step did (a replayed step's checkpoint), as if `_run` had said it."""
        if self.flow.streaming:
            self.flow.emit(StepReplayed(path=self.tree_path, step=self.name))
        self.status = 'degraded' if record.status == 'degraded' else self.status
        self.route = record.route
        self.confidence = record.confidence
        self.reason = record.reason
        self.fallback_reason = record.fallback_reason
        self.model = record.model
        self.path = record.path
        self.attempts = list(record.attempts)
        self.usage = record.usage
        self.detail = dict(record.detail)

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
