"""`Step`, the one abstraction: everything podium runs is a `Step[InT, OutT]`, and composition returns a `Step`.

`Step.invoke` is the one place where a step runs: it checks the input and the run's deadline, opens the record and
the run's hooks (tracing, durability, events, guards), then calls the step's own logic, `_run`, the only method a
step type implements. A user's own `Step` subclass gets records, spans and durability that way, with no extra code.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, cast, final, overload

import anyio
from pydantic_ai.agent import AbstractAgent
from pydantic_ai.messages import ModelMessage
from pydantic_ai.usage import RunUsage, UsageLimits
from typing_extensions import TypeVar

from ._arguments import require_seconds
from ._conversation import check_history, turn_of
from ._errors import ConfigurationError, StepInputError, WorkflowError
from ._flow import Flow, StepScope
from ._hooks import RunHook, default_hooks
from ._pause import Paused, journal_for, paused_result, resume_run
from ._records import RunResult
from ._run_store import RunStore
from ._stream import DEFAULT_BUFFER, EventCallback, RunStream, run_with_callback
from ._traits import StepInfo

if TYPE_CHECKING:
    from ._decisions import Decision

__all__ = ('AnyStep', 'Chain', 'DepsT', 'InT', 'OutT', 'Step')

InT = TypeVar('InT', contravariant=True, default=Any)
OutT = TypeVar('OutT', covariant=True, default=Any)
DepsT = TypeVar('DepsT', contravariant=True, default=None)
"""The deps a step needs; `None` (the default) for a step that needs none, which composes with any other."""
NewOutT = TypeVar('NewOutT')
I = TypeVar('I')  # noqa: E741
O = TypeVar('O')  # noqa: E741
D = TypeVar('D')
S = TypeVar('S')


class Step(ABC, Generic[InT, OutT, DepsT]):
    """A typed unit of work: takes an `InT`, returns an `OutT`, given the run's `Flow`.

    Subclasses implement `_run` (and `describe` when they run other steps). Users call `run` (or `run_sync`) on
    the outermost step, the workflow.
    """

    name: str
    """Shown in records, spans, errors and graphs."""
    input_class: type[Any] | None = None
    """The runtime class inputs are checked against, when one is known."""
    output_class: type[Any] | None = None
    """The runtime class of outputs, when one is known; lets `>>` check compositions at build time."""
    record_kind: ClassVar[str] = 'step'
    """The `kind` of this step's records: `agent`, `function`, `router`, `branch`, `loop`, ..."""
    _transparent: bool = False
    """Whether the step leaves no record or span (what `describe().transparent` says), read on every invoke."""

    @final
    async def invoke(self, input: InT, flow: Flow[Any]) -> OutT:
        """Run this step within a run: the one way a step runs. Steps call it on their children."""
        scope = StepScope(flow, self, self.record_kind)
        if self._transparent:
            flow.check_deadline(self.name)
            return await self._dispatch(input, scope)
        scope.open()
        try:
            flow.check_deadline(self.name)
            self.check_input(input)
            output = await self._dispatch(input, scope)
        except BaseException as exc:
            error = scope.close(exc)
            if error is None:
                raise
            raise error from exc
        scope.output = output
        flow._state.outputs[id(self)] = output  # pyright: ignore[reportPrivateUsage]  # the run context's store
        scope.close(None)
        return output

    def _dispatch(self, input: InT, scope: StepScope) -> Awaitable[OutT]:
        around = scope.flow._around  # pyright: ignore[reportPrivateUsage]
        if not around:
            return self._run(input, scope)
        return _through(around, 0, self, input, scope)

    @abstractmethod
    async def _run(self, input: InT, scope: StepScope) -> OutT:
        """The step's own work. `scope.flow` is the run; set what the record should say on `scope`."""

    def describe(self) -> StepInfo:
        """What this step is, for graphs, evals, durability and tracing: a `call` with no children by default."""
        return _CALL

    def check_input(self, input: object) -> None:
        """Raise `StepInputError` naming this step when `input` is not of its known input class."""
        cls = self.input_class
        if cls is not None and not isinstance(input, cls):
            raise StepInputError(
                f'step {self.name!r} takes {cls.__qualname__}, got {type(input).__qualname__}: check the step '
                'before it in the chain',
                step=self.name,
            )

    def children(self) -> Sequence[tuple[str, Step[Any, Any, Any]]]:
        """The steps this one runs, each with the label of its edge (for graphs and tree walks)."""
        return self.describe().children

    @overload
    def __rshift__(self: Step[I, O, None], other: Step[O, NewOutT, D]) -> Chain[I, NewOutT, D]: ...
    @overload
    def __rshift__(self: Step[I, O, D], other: Step[O, NewOutT, None]) -> Chain[I, NewOutT, D]: ...
    @overload
    def __rshift__(self: Step[I, O, D], other: Step[O, NewOutT, D]) -> Chain[I, NewOutT, D]: ...
    def __rshift__(self, other: Step[Any, Any, Any]) -> Chain[Any, Any, Any]:
        """`a >> b`: run `a`, feed its output to `b`; the chain needs the deps either needs."""
        return Chain.of(self, other)

    if not TYPE_CHECKING:  # the type checkers report `fn >> step` themselves, and must still see `a >> b` mistyped

        def __rrshift__(self, other: object) -> Chain[Any, Any, Any]:
            """`fn >> step` where `fn` is no step: raises the error that says how to make it one."""
            return Chain.of(other, self)

    @overload
    async def run(
        self: Step[I, O, None],
        input: I,
        *,
        deps: None = None,
        usage_limits: UsageLimits | None = None,
        timeout: float | None = None,
        hooks: Sequence[RunHook] = (),
        on_event: EventCallback | None = None,
        message_history: Sequence[ModelMessage] | None = None,
        store: RunStore | None = None,
    ) -> RunResult[O]: ...
    @overload
    async def run(
        self: Step[I, O, D],
        input: I,
        *,
        deps: D,
        usage_limits: UsageLimits | None = None,
        timeout: float | None = None,
        hooks: Sequence[RunHook] = (),
        on_event: EventCallback | None = None,
        message_history: Sequence[ModelMessage] | None = None,
        store: RunStore | None = None,
    ) -> RunResult[O]: ...
    async def run(
        self,
        input: Any,
        *,
        deps: Any = None,
        usage_limits: UsageLimits | None = None,
        timeout: float | None = None,
        hooks: Sequence[RunHook] = (),
        on_event: EventCallback | None = None,
        message_history: Sequence[ModelMessage] | None = None,
        store: RunStore | None = None,
    ) -> RunResult[Any]:
        """Run this step as a workflow.

        Args:
            input: The workflow's input.
            deps: Dependencies handed to every agent (see `podium.agent(deps=...)` to map them per step); its type
                is checked against what the workflow's agents take.
            usage_limits: Limits for the whole run, summed over every agent call, not per agent.
            timeout: Seconds after which the run stops with `WorkflowTimeout`, also when a step never yields: the
                deadline is checked before every step, and sync function steps then run in a worker thread.
            hooks: Run hooks for this run, after those `podium.instrument()` installed.
            message_history: The conversation so far, when the run is one turn of it (Pydantic-AI messages; `[]` for
                the first turn): steps that ask for it (`podium.agent(..., history=True)`, `Router(history=True)`)
                get it, and `result.new_messages()` is the turn to store.
            store: Where the run keeps its snapshot if it pauses at an approval step (`InMemoryRunStore` of this
                process by default; `SQLiteRunStore(path)` to resume in another process).
            on_event: A sync or async function called with every event of the run as it happens (the events
                `stream` yields), for code that does not iterate.

        Returns:
            The result; `status == 'paused'` when the run waits at an approval step (see `resume`).

        Raises:
            WorkflowError: when no output can be produced; it carries the records of every step that ran.
        """
        _check_options(usage_limits, timeout, hooks, on_event, store)
        if on_event is not None:
            stream = self.stream(
                input,
                deps=deps,
                usage_limits=usage_limits,
                timeout=timeout,
                hooks=hooks,
                message_history=message_history,
                store=store,
            )
            return await run_with_callback(stream, on_event)
        start = time.perf_counter()
        history = check_history(message_history)
        flow = Flow[Any](
            workflow=self.name,
            deps=deps,
            run_input=input,
            usage=RunUsage(),
            usage_limits=usage_limits,
            deadline=None if timeout is None else start + timeout,
            timeout=timeout,
            hooks=(*default_hooks(), *hooks, *journal_for(self, store, hooks)),
            message_history=history or (),
        )
        for hook in flow.hooks:
            hook.run_started(flow)
        try:
            if timeout is None:
                output = await self.invoke(input, flow)
            else:
                with anyio.fail_after(timeout):
                    output = await self.invoke(input, flow)
                # A step that blocked past the deadline without yielding must not pass for a timely result.
                flow.check_deadline()
        except Paused as pause:
            for hook in reversed(flow.hooks):
                hook.run_finished(flow, None)
            return paused_result(flow, pause, history, time.perf_counter() - start)
        except BaseException as exc:
            error: BaseException = exc
            if isinstance(exc, TimeoutError) and not isinstance(exc, WorkflowError):
                error = flow.timed_out()
            if isinstance(error, WorkflowError):
                error.records = flow.records
                error.usage = flow.usage
            for hook in reversed(flow.hooks):
                hook.run_finished(flow, error)
            if error is exc:
                raise
            raise error from exc
        result = RunResult[Any](
            workflow=self.name,
            output=output,
            status='degraded' if flow.degraded else 'ok',
            steps=flow.records,
            usage=flow.usage,
            duration_s=time.perf_counter() - start,
            message_history=history,
            _turn=() if history is None else turn_of(input, output),
        )
        for hook in reversed(flow.hooks):
            hook.run_finished(flow, None)
        return result

    @overload
    def run_sync(
        self: Step[I, O, None],
        input: I,
        *,
        deps: None = None,
        usage_limits: UsageLimits | None = None,
        timeout: float | None = None,
        hooks: Sequence[RunHook] = (),
        on_event: EventCallback | None = None,
        message_history: Sequence[ModelMessage] | None = None,
        store: RunStore | None = None,
    ) -> RunResult[O]: ...
    @overload
    def run_sync(
        self: Step[I, O, D],
        input: I,
        *,
        deps: D,
        usage_limits: UsageLimits | None = None,
        timeout: float | None = None,
        hooks: Sequence[RunHook] = (),
        on_event: EventCallback | None = None,
        message_history: Sequence[ModelMessage] | None = None,
        store: RunStore | None = None,
    ) -> RunResult[O]: ...
    def run_sync(
        self,
        input: Any,
        *,
        deps: Any = None,
        usage_limits: UsageLimits | None = None,
        timeout: float | None = None,
        hooks: Sequence[RunHook] = (),
        on_event: EventCallback | None = None,
        message_history: Sequence[ModelMessage] | None = None,
        store: RunStore | None = None,
    ) -> RunResult[Any]:
        """`run` for scripts: starts an event loop, so never call it from async code."""

        async def main() -> RunResult[Any]:
            run = cast(Callable[..., Awaitable[RunResult[Any]]], self.run)
            return await run(
                input,
                deps=deps,
                usage_limits=usage_limits,
                timeout=timeout,
                hooks=hooks,
                message_history=message_history,
                store=store,
                on_event=on_event,
            )

        return anyio.run(main)

    @overload
    def stream(
        self: Step[I, O, None],
        input: I,
        *,
        deps: None = None,
        usage_limits: UsageLimits | None = None,
        timeout: float | None = None,
        hooks: Sequence[RunHook] = (),
        message_history: Sequence[ModelMessage] | None = None,
        store: RunStore | None = None,
        buffer: int = DEFAULT_BUFFER,
    ) -> RunStream[O]: ...
    @overload
    def stream(
        self: Step[I, O, D],
        input: I,
        *,
        deps: D,
        usage_limits: UsageLimits | None = None,
        timeout: float | None = None,
        hooks: Sequence[RunHook] = (),
        message_history: Sequence[ModelMessage] | None = None,
        store: RunStore | None = None,
        buffer: int = DEFAULT_BUFFER,
    ) -> RunStream[O]: ...
    def stream(
        self,
        input: Any,
        *,
        deps: Any = None,
        usage_limits: UsageLimits | None = None,
        timeout: float | None = None,
        hooks: Sequence[RunHook] = (),
        message_history: Sequence[ModelMessage] | None = None,
        store: RunStore | None = None,
        buffer: int = DEFAULT_BUFFER,
    ) -> RunStream[Any]:
        """Run this step as a workflow and see its events as they happen.

        ::

            async with workflow.stream(request) as events:
                async for event in events:
                    print(event.type, event.path)
            result = events.result

        The arguments are `run`'s; `buffer` is how many unread events the run may get ahead of the consumer before
        it waits (see `DEFAULT_BUFFER`). Leaving the block early cancels the run.
        """
        _check_options(usage_limits, timeout, hooks, None, store)
        run = cast(Callable[..., Awaitable[RunResult[Any]]], self.run)

        def runner(listeners: tuple[RunHook, ...]) -> Awaitable[RunResult[Any]]:
            return run(
                input,
                deps=deps,
                usage_limits=usage_limits,
                timeout=timeout,
                hooks=(*hooks, *listeners),
                message_history=message_history,
                store=store,
            )

        return RunStream[Any](self.name, runner, buffer=buffer)

    async def resume(
        self,
        token: str,
        decision: Decision | None = None,
        *,
        store: RunStore | None = None,
        deps: Any = None,
        usage_limits: UsageLimits | None = None,
        timeout: float | None = None,
        hooks: Sequence[RunHook] = (),
    ) -> RunResult[OutT]:
        """Continue a run that paused at an approval step, with the reviewer's decision.

        The workflow runs again from its stored input: every step that finished before the pause returns its stored
        output and record without running (no model is called again), and the approval step outputs the decision's
        `Review`. The run may pause again at a later approval, with a new token.

        Args:
            token: `result.paused.token` of the paused result.
            decision: `Approve()`, `Reject(reason=...)` or `Edit(value=...)` (a value of the approval's input type);
                by default the one `podium runs approve|reject` recorded in the store.
            store: The store the run paused in.
            deps: As for `run`: deps belong to the resuming process, not to the paused run.
            usage_limits: As for `run`; the replayed steps' usage counts against them.
            timeout: As for `run`.
            hooks: As for `run`.

        Raises:
            InvalidDecision: before anything runs, when the decision does not fit the approval step.
            WrongWorkflow: when the token belongs to a run of another workflow.
            AlreadyResumed: when the run was resumed already.
            RunNotFound: when the store has no run with that token.
        """

        def again(input: Any, history: Sequence[ModelMessage] | None) -> Awaitable[RunResult[Any]]:
            run = cast(Callable[..., Awaitable[RunResult[Any]]], self.run)
            return run(
                input,
                deps=deps,
                usage_limits=usage_limits,
                timeout=timeout,
                hooks=hooks,
                message_history=history,
                store=store,
            )

        return await resume_run(self, token, decision, store, again)

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.name!r})'


_CALL = StepInfo(kind='call')


def _check_options(usage_limits: object, timeout: object, hooks: object, on_event: object, store: object) -> None:
    """Reject a run option of the wrong kind before anything runs, saying what it takes."""
    if usage_limits is not None and not isinstance(usage_limits, UsageLimits):
        raise ConfigurationError(
            f'usage_limits must be a pydantic_ai.usage.UsageLimits, got {type(usage_limits).__qualname__}: '
            'UsageLimits(request_limit=..., total_tokens_limit=...)'
        )
    if timeout is not None:
        require_seconds(timeout, 'timeout')
    if not isinstance(hooks, tuple | list) or not all(isinstance(h, RunHook) for h in cast(Sequence[object], hooks)):
        raise ConfigurationError('hooks must be a list or tuple of podium.RunHook instances')
    if on_event is not None and not callable(on_event):
        raise ConfigurationError(f'on_event must be a function of each event, got {type(on_event).__qualname__}')
    if store is not None and not isinstance(store, RunStore):
        raise ConfigurationError(
            'store must be a podium.RunStore (InMemoryRunStore(), SQLiteRunStore(path)), '
            f'got {type(store).__qualname__}'
        )


AnyStep = Step[Any, Any, Any]


async def _through(around: tuple[RunHook, ...], i: int, step: AnyStep, input: Any, scope: StepScope) -> Any:
    """Run `step` inside the `around_step` of every hook from `i` on."""
    if i == len(around):
        return await step._run(input, scope)  # pyright: ignore[reportPrivateUsage]  # the dispatch point itself

    def proceed() -> Awaitable[Any]:
        return _through(around, i + 1, step, input, scope)

    return await around[i].around_step(step, input, scope, proceed)


class Chain(Step[InT, OutT, DepsT]):
    """Steps run one after another, each output feeding the next input. Built by `>>`; flat, never nested.

    An unnamed chain leaves no record of its own; `.named(...)` makes it one unit in records, spans and graphs.
    """

    record_kind = 'chain'

    def __init__(self, steps: Sequence[AnyStep], *, name: str | None = None) -> None:
        if len(steps) < 2:
            raise ConfigurationError('a Chain needs at least two steps; use the step itself instead')
        self.steps: tuple[AnyStep, ...] = tuple(steps)
        self.name = ensure_named(name, _auto_name(self.steps))
        self._scoped = name is not None
        self._transparent = not self._scoped
        self._info = StepInfo(kind='sequence', children=[('', s) for s in self.steps], transparent=self._transparent)
        self.input_class = self.steps[0].input_class
        self.output_class = self.steps[-1].output_class

    @classmethod
    def of(cls, first: AnyStep, second: AnyStep) -> Chain[Any, Any, Any]:
        """Join two steps, flattening chains and checking the link when both runtime types are known."""
        require_step(first, 'the left side of >>')
        require_step(second, f'the right side of {first.name!r} >>')
        _check_link(first, second)
        left = first.steps if isinstance(first, Chain) and not first.is_named else (first,)
        right = second.steps if isinstance(second, Chain) and not second.is_named else (second,)
        return Chain((*left, *right))

    @property
    def is_named(self) -> bool:
        """Whether the chain was given a name, which makes it one unit in records, spans and graphs."""
        return self._scoped

    def named(self, name: str) -> Chain[InT, OutT, DepsT]:
        """This chain under another name (shown as one unit in records and graphs)."""
        return Chain(self.steps, name=name)

    def describe(self) -> StepInfo:
        return self._info

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        value: Any = input
        for step in self.steps:
            value = await step.invoke(value, flow)
        return cast(OutT, value)


def _auto_name(steps: Sequence[AnyStep]) -> str:
    return ' >> '.join(s.name for s in steps)


def _check_link(first: AnyStep, second: AnyStep) -> None:
    out, into = first.output_class, second.input_class
    if out is not None and into is not None and not issubclass(out, into):
        raise ConfigurationError(
            f'cannot chain {first.name!r} >> {second.name!r}: {first.name!r} outputs {out.__qualname__} '
            f'but {second.name!r} takes {into.__qualname__}; put a step between them that converts it'
        )


def require_step(value: S, role: str) -> S:
    """`value`, when it is a step; otherwise a `ConfigurationError` saying how to make one.

    Arguments are typed, but a caller without a type checker passes anything, and an attribute error from deep in a
    combinator would not say which argument was wrong.
    """
    if isinstance(value, Step):
        return value  # pyright: ignore[reportUnknownVariableType]  # the caller's own step type
    kind = type(value).__qualname__
    if isinstance(value, AbstractAgent):
        fix = 'wrap the agent: podium.agent(agent)'
    elif callable(value):
        fix = 'wrap the function: podium.step(fn)'
    else:
        fix = 'build it with podium.step(fn), podium.agent(agent) or a combinator'
    raise ConfigurationError(f'{role} must be a podium step, got {kind}: {fix}')


def ensure_named(name: str | None, fallback: str) -> str:
    """A step name, checked: names appear in records, spans and errors, so they must say something."""
    chosen = name if name is not None else fallback
    if not chosen or not chosen.strip():
        raise ConfigurationError('a step name must not be empty')
    return chosen


def common_class(classes: Iterable[type[Any] | None]) -> type[Any] | None:
    """The one runtime class all of `classes` share, or `None` when any is unknown or they differ."""
    found = set(classes)
    if len(found) == 1:
        return found.pop()
    return None


def callable_name(fn: Callable[..., object]) -> str:
    """The name a function or callable object is known by."""
    return getattr(fn, '__name__', None) or type(fn).__name__
