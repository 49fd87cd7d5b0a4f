"""`Step.stream`: a run whose events arrive while it happens, and `run(on_event=...)` on top of it.

The run executes in a task of its own and hands events to the consumer through a bounded buffer. anyio's memory
object streams would block the sender, but most events are sent from synchronous hook methods, so the buffer here
applies backpressure at the next step boundary instead (see `_Buffer`).
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup
from typing_extensions import TypeVar

from ._errors import ConfigurationError, OutputNotAvailable, RunCancelled, WorkflowError
from ._events import RunEvent, RunFailed, RunFinished, RunStarted, StepFinished, StepStarted
from ._hooks import Proceed, RunHook
from ._records import RunResult
from ._redact import redact

if TYPE_CHECKING:
    from ._flow import Flow, StepScope
    from ._records import StepRecord
    from ._step import AnyStep

__all__ = ('DEFAULT_BUFFER', 'EventCallback', 'RunStream', 'run_with_callback')

OutT = TypeVar('OutT', default=Any)

DEFAULT_BUFFER = 1024
"""Events held for a consumer that has not read them yet. When the buffer is full the run waits before it starts
its next step, so a slow consumer slows the run instead of growing its memory; events of steps already running
(an agent's deltas, say) are still delivered, so the buffer can exceed this by one step's events per branch."""

EventCallback = Callable[[RunEvent], Awaitable[None] | None]
"""What `run(on_event=...)` takes: a sync or async function of one event."""


class _Buffer:
    """Events waiting for the consumer, in order; `wait_room` lets the producer wait while it is full.

    Each side makes an `anyio.Event` only when it has to wait, and the other side sets it only then: most events
    are put while the consumer is busy or already woken, and most are read while the buffer has room.
    """

    def __init__(self, size: int) -> None:
        self._items: deque[RunEvent] = deque()
        self._size = size
        self._closed = False
        self._readable: anyio.Event | None = None
        self._writable: anyio.Event | None = None

    def put(self, event: RunEvent) -> None:
        self._items.append(event)
        if self._readable is not None:
            self._readable.set()
            self._readable = None

    def close(self) -> None:
        self._closed = True
        for waiting in (self._readable, self._writable):
            if waiting is not None:
                waiting.set()
        self._readable = self._writable = None

    @property
    def full(self) -> bool:
        return len(self._items) >= self._size and not self._closed

    async def wait_room(self) -> None:
        while self.full:
            if self._writable is None:  # branches running in parallel wait for the same room
                self._writable = anyio.Event()
            await self._writable.wait()

    async def get(self) -> RunEvent | None:
        """The next event, or `None` once the run has ended and every event was read."""
        while not self._items:
            if self._closed:
                return None
            if self._readable is None:
                self._readable = anyio.Event()
            await self._readable.wait()
        event = self._items.popleft()
        if self._writable is not None and len(self._items) < self._size:
            self._writable.set()
            self._writable = None
        return event


class _Listener(RunHook):
    """Turns a run's steps into events and puts every event the run sends into the buffer."""

    wraps_steps = True
    listens = True

    def __init__(self, buffer: _Buffer) -> None:
        self._buffer = buffer
        self._first_step = True
        self.flow: Flow[Any] | None = None

    def run_started(self, flow: Flow[Any]) -> None:
        self.flow = flow
        self._buffer.put(RunStarted(workflow=flow.workflow, input=flow.run_input))

    def step_started(self, scope: StepScope) -> None:
        self._buffer.put(
            StepStarted(path=scope.tree_path, step=scope.name, kind=scope.kind, shape=scope.step.describe().kind)
        )

    def step_finished(self, scope: StepScope, record: StepRecord, error: BaseException | None) -> None:
        self._buffer.put(StepFinished(path=scope.tree_path, record=record))

    def on_event(self, event: RunEvent) -> None:
        self._buffer.put(event)

    async def around_step(self, step: AnyStep, input: Any, scope: StepScope, proceed: Proceed) -> Any:
        if self._buffer.full:
            await self._buffer.wait_room()
        elif self._first_step:
            # The consumer runs only when the run yields, which a model that answers at once (a cache, a fake) may
            # not do before the run ends: one yield here puts `RunStarted` in its hands before any step's work.
            self._first_step = False
            await anyio.lowlevel.checkpoint()
        return await proceed()


class RunStream(Generic[OutT]):
    """A run in progress: iterate it for its events, then read `result`.

    Leaving the `async with` block before the run ends cancels the run: its open steps are recorded as
    `cancelled`, and `result` raises `RunCancelled`.
    """

    def __init__(
        self, name: str, runner: Callable[[tuple[RunHook, ...]], Awaitable[RunResult[OutT]]], *, buffer: int
    ) -> None:
        """`runner` runs the workflow `name` with the hooks it is given (this stream's listener among them)."""
        if buffer < 1:
            raise ConfigurationError(f'buffer must be at least 1 event, got {buffer!r}')
        self._name = name
        self._runner = runner
        self._buffer = _Buffer(buffer)
        self._listener = _Listener(self._buffer)
        self._group: TaskGroup | None = None
        self._result: RunResult[OutT] | None = None
        self._error: BaseException | None = None
        self._done = False

    async def __aenter__(self) -> RunStream[OutT]:
        if self._group is not None:
            raise ConfigurationError('a RunStream can be entered once; call step.stream(...) again for a new run')
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(self._execute)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        assert self._group is not None
        if not self._done:
            if self._listener.flow is not None:
                self._listener.flow.mark_cancelled()
            self._group.cancel_scope.cancel()
        # The block's own exception is not handed to the group, which would wrap it in an ExceptionGroup: the
        # group only waits for the cancelled run, and the block's exception propagates as it was raised.
        await self._group.__aexit__(None, None, None)
        return None

    async def _execute(self) -> None:
        try:
            self._result = await self._runner((self._listener,))
        except anyio.get_cancelled_exc_class():
            self._error = self._cancelled()
            raise
        except Exception as exc:
            self._error = exc
            self._buffer.put(_failed(exc))
        else:
            self._buffer.put(RunFinished(result=self._result))
        finally:
            self._done = True
            self._buffer.close()

    def _cancelled(self) -> RunCancelled:
        error = RunCancelled(f'the run of {self._name!r} was cancelled before it produced its output')
        flow = self._listener.flow
        if flow is not None:
            error.records = flow.records
            error.usage = flow.usage
        return error

    def __aiter__(self) -> AsyncIterator[RunEvent]:
        if self._group is None:
            raise ConfigurationError('iterate a stream inside `async with step.stream(...) as events:`')
        return _Events(self._buffer)

    @property
    def result(self) -> RunResult[OutT]:
        """The run's result, once the events are exhausted.

        Raises:
            WorkflowError: the run's own error when it failed, `RunCancelled` when it was cancelled.
            OutputNotAvailable: when the run is still going.
        """
        if self._error is not None:
            raise self._error
        if self._result is None:
            if self._group is not None and not self._done and self._group.cancel_scope.cancel_called:
                raise self._cancelled()
            raise OutputNotAvailable('the run is still streaming: read `result` after iterating every event')
        return self._result


class _Events(AsyncIterator[RunEvent]):
    """The events of a stream, read from its buffer (a plain iterator: an async generator costs more per event)."""

    __slots__ = ('_buffer',)

    def __init__(self, buffer: _Buffer) -> None:
        self._buffer = buffer

    async def __anext__(self) -> RunEvent:
        event = await self._buffer.get()
        if event is None:
            raise StopAsyncIteration
        return event


def _failed(exc: Exception) -> RunFailed:
    if isinstance(exc, WorkflowError):
        return RunFailed(error=type(exc).__name__, message=str(exc), step=exc.step, records=tuple(exc.records))
    return RunFailed(error=type(exc).__name__, message=redact(str(exc)))


async def run_with_callback(stream: RunStream[Any], on_event: EventCallback) -> RunResult[Any]:
    """Drive `stream`, handing each event to `on_event`; return its result (what `run(on_event=...)` does)."""
    async with stream as events:
        async for event in events:
            outcome = on_event(event)
            if inspect.isawaitable(outcome):
                await outcome
    return stream.result
