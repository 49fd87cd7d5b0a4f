"""`Step`, the one abstraction: everything podium runs is a `Step[InT, OutT]`, and composition returns a `Step`."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, cast

import anyio
from pydantic_ai.usage import RunUsage, UsageLimits
from typing_extensions import TypeVar

from ._errors import ConfigurationError, StepInputError, WorkflowError, WorkflowTimeout
from ._flow import Flow
from ._records import RunResult

__all__ = ('AnyStep', 'Chain', 'InT', 'OutT', 'Step')

InT = TypeVar('InT', contravariant=True, default=Any)
OutT = TypeVar('OutT', covariant=True, default=Any)
NewOutT = TypeVar('NewOutT')


class Step(ABC, Generic[InT, OutT]):
    """A typed unit of work: takes an `InT`, returns an `OutT`, given the run's `Flow`.

    Subclasses implement `invoke`. Users call `run` (or `run_sync`) on the outermost step, the workflow.
    """

    name: str
    """Shown in records, spans, errors and graphs."""
    input_class: type[Any] | None = None
    """The runtime class inputs are checked against, when one is known."""
    output_class: type[Any] | None = None
    """The runtime class of outputs, when one is known; lets `>>` check compositions at build time."""

    @abstractmethod
    async def invoke(self, input: InT, flow: Flow) -> OutT:
        """Do the step's work within a run."""

    def check_input(self, input: object) -> None:
        """Raise `StepInputError` naming this step when `input` is not of its known input class."""
        cls = self.input_class
        if cls is not None and not isinstance(input, cls):
            raise StepInputError(
                f'step {self.name!r} takes {cls.__qualname__}, got {type(input).__qualname__}: check the step '
                'before it in the chain',
                step=self.name,
            )

    def children(self) -> Sequence[tuple[str, Step[Any, Any]]]:
        """The steps this one runs, each with the label of its edge (for graphs and tree walks)."""
        return ()

    def __rshift__(self, other: Step[OutT, NewOutT]) -> Step[InT, NewOutT]:
        """`a >> b`: run `a`, feed its output to `b`."""
        return Chain.of(self, other)

    async def run(
        self,
        input: InT,
        *,
        deps: object = None,
        usage_limits: UsageLimits | None = None,
        timeout: float | None = None,
    ) -> RunResult[OutT]:
        """Run this step as a workflow.

        Args:
            input: The workflow's input.
            deps: Dependencies handed to every agent (see `podium.agent(deps=...)` to map them per step).
            usage_limits: Limits for the whole run, summed over every agent call, not per agent.
            timeout: Seconds after which the run stops with `WorkflowTimeout`.

        Raises:
            WorkflowError: when no output can be produced; it carries the records of every step that ran.
        """
        from ..tracing._tracing import active_tracing

        if timeout is not None and timeout <= 0:
            raise ConfigurationError(f'timeout must be positive, got {timeout}')
        tracing = active_tracing()
        flow = Flow(workflow=self.name, deps=deps, usage=RunUsage(), usage_limits=usage_limits, tracing=tracing)
        start = time.perf_counter()
        span = tracing.run_span(self.name) if tracing is not None else None
        try:
            if timeout is None:
                output = await self.invoke(input, flow)
            else:
                with anyio.fail_after(timeout):
                    output = await self.invoke(input, flow)
        except BaseException as exc:
            error: BaseException = exc
            if isinstance(exc, TimeoutError) and not isinstance(exc, WorkflowError):
                error = WorkflowTimeout(f'run of {self.name!r} passed its timeout of {timeout} s')
            if isinstance(error, WorkflowError):
                error.records = flow.finished_records
                error.usage = flow.usage
            if span is not None:
                span.finish_run(flow, error)
            if error is exc:
                raise
            raise error from exc
        result = RunResult(
            workflow=self.name,
            output=output,
            status='degraded' if flow.degraded else 'ok',
            steps=flow.finished_records,
            usage=flow.usage,
            duration_s=time.perf_counter() - start,
        )
        if span is not None:
            span.finish_run(flow, None)
        return result

    def run_sync(
        self,
        input: InT,
        *,
        deps: object = None,
        usage_limits: UsageLimits | None = None,
        timeout: float | None = None,
    ) -> RunResult[OutT]:
        """`run` for scripts: starts an event loop, so never call it from async code."""

        async def main() -> RunResult[OutT]:
            return await self.run(input, deps=deps, usage_limits=usage_limits, timeout=timeout)

        return anyio.run(main)

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.name!r})'


AnyStep = Step[Any, Any]


class Chain(Step[InT, OutT]):
    """Steps run one after another, each output feeding the next input. Built by `>>`; flat, never nested."""

    def __init__(self, steps: Sequence[AnyStep], *, name: str | None = None) -> None:
        if len(steps) < 2:
            raise ConfigurationError('a Chain needs at least two steps; use the step itself instead')
        self.steps: tuple[AnyStep, ...] = tuple(steps)
        self.name = ensure_named(name, _auto_name(self.steps))
        self._scoped = name is not None
        self.input_class = self.steps[0].input_class
        self.output_class = self.steps[-1].output_class

    @classmethod
    def of(cls, first: AnyStep, second: AnyStep) -> Chain[Any, Any]:
        """Join two steps, flattening chains and checking the link when both runtime types are known."""
        _check_link(first, second)
        left = first.steps if isinstance(first, Chain) and not first.is_named else (first,)
        right = second.steps if isinstance(second, Chain) and not second.is_named else (second,)
        return Chain((*left, *right))

    @property
    def is_named(self) -> bool:
        """Whether the chain was given a name, which makes it one unit in records, spans and graphs."""
        return self._scoped

    def named(self, name: str) -> Chain[InT, OutT]:
        """This chain under another name (shown as one unit in records and graphs)."""
        return Chain(self.steps, name=name)

    def children(self) -> Sequence[tuple[str, AnyStep]]:
        return [('', s) for s in self.steps]

    async def invoke(self, input: InT, flow: Flow) -> OutT:
        if not self._scoped:
            return await self._run_steps(input, flow)
        with flow.scope(self.name, 'chain') as scope:
            scope.output = output = await self._run_steps(input, flow)
            return output

    async def _run_steps(self, input: InT, flow: Flow) -> OutT:
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
