"""`podium.step`: a plain function as a step, for the glue between agents."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, cast, overload

import anyio.to_thread
from typing_extensions import TypeVar

from ._errors import ConfigurationError
from ._flow import Flow, StepScope
from ._step import Step, callable_name, ensure_named

__all__ = ('FunctionStep', 'input_annotation', 'runtime_class', 'step')

InT = TypeVar('InT')
OutT = TypeVar('OutT')
DepsT = TypeVar('DepsT', default=None)
FlowDepsT = TypeVar('FlowDepsT')


class FunctionStep(Step[InT, OutT, DepsT]):
    """A sync or async function of the input (and optionally the run's `Flow`) as a step.

    A sync function runs inline, as cheap glue should, unless the run has a deadline (`run(timeout=...)`): then it
    runs in a worker thread, so the deadline ends the run on time even while the function blocks (the thread is
    left to finish on its own; its result is dropped).
    """

    record_kind = 'function'

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        if not callable(fn) or isinstance(fn, Step):  # untyped callers pass anything
            what = 'a step already: use it as it is' if isinstance(fn, Step) else type(fn).__qualname__  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError(f'podium.step takes a function of the input, got {what}')
        self.fn = fn
        self.name = ensure_named(name, callable_name(fn))
        self._takes_flow = takes_flow(fn)
        self._is_async = inspect.iscoroutinefunction(fn)
        self.input_class = runtime_class(input_annotation(fn))
        self.output_class = runtime_class(_hints(fn).get('return'))

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        call = partial(self.fn, input, flow) if self._takes_flow else partial(self.fn, input)
        if self._is_async:
            return cast(OutT, await call())
        if flow.deadline is None:
            return cast(OutT, call())
        return cast(OutT, await anyio.to_thread.run_sync(call, abandon_on_cancel=True))


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable forward references: no runtime checks, static typing still applies
        return {}


def takes_flow(fn: Callable[..., Any]) -> bool:
    """Whether `fn` gets the run's `Flow` after the input: its second positional parameter is required or is a `Flow`.

    A second parameter with a default is the function's own option (`str.split`'s `sep`), left to its default,
    as the type checkers read such a function too.
    """
    try:
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):  # builtins without a signature: called with the input alone
        return False
    if len(params) < 2:
        return False
    second = params[1]
    if second.default is second.empty:
        return True
    hint = _hints(fn).get(second.name)
    return any(h is Flow or typing.get_origin(h) is Flow for h in (hint, *typing.get_args(hint)))  # `Flow | None`


def input_annotation(fn: Callable[..., Any]) -> object:
    """The annotation of `fn`'s first parameter, or `None` when it has none that resolves."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature
        return None
    return _hints(fn).get(params[0].name) if params else None


def runtime_class(annotation: object) -> type[Any] | None:
    """The class to `isinstance`-check against for an annotation, when the annotation is a plain class.

    `Any` is a class since Python 3.11, but checks nothing: it is treated as no annotation.
    """
    if annotation is Any or annotation is object:
        return None
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation
    return None


@overload
def step(
    fn: Callable[[InT, Flow[FlowDepsT]], Awaitable[OutT]], /, *, name: str | None = None
) -> FunctionStep[InT, OutT, FlowDepsT]: ...
@overload
def step(
    fn: Callable[[InT, Flow[FlowDepsT]], OutT], /, *, name: str | None = None
) -> FunctionStep[InT, OutT, FlowDepsT]: ...
@overload
def step(fn: Callable[[InT], Awaitable[OutT]], /, *, name: str | None = None) -> FunctionStep[InT, OutT]: ...
@overload
def step(fn: Callable[[InT], OutT], /, *, name: str | None = None) -> FunctionStep[InT, OutT]: ...
def step(fn: Callable[..., Any], /, *, name: str | None = None) -> Any:
    """Turn a function of the input (and optionally the run's `Flow`) into a step; also usable as a decorator.

    An async function's step outputs what the coroutine returns. A function that takes the `Flow` reads the run's
    input (`flow.run_input`), typed outputs of earlier steps (`flow.output_of(step)`) and deps (`flow.deps`,
    typed by the annotation: `Flow[MyDeps]` makes the step need `MyDeps`).
    """
    return FunctionStep[Any, Any](fn, name=name)
