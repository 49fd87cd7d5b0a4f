"""`podium.step`: a plain function as a step, for the glue between agents."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import Any, cast, overload

from typing_extensions import TypeVar

from ._flow import Flow
from ._step import Step, callable_name, ensure_named

__all__ = ('FunctionStep', 'runtime_class', 'step')

InT = TypeVar('InT')
OutT = TypeVar('OutT')


class FunctionStep(Step[InT, OutT]):
    """A sync or async function of the input (and optionally the `Flow`) as a step.

    Sync functions run inline: they are meant for cheap glue; give blocking work an async function.
    """

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        self.fn = fn
        self.name = ensure_named(name, callable_name(fn))
        params = list(inspect.signature(fn).parameters.values())
        self._takes_flow = len(params) >= 2
        self._is_async = inspect.iscoroutinefunction(fn)
        hints = _hints(fn)
        self.input_class = runtime_class(hints.get(params[0].name)) if params else None
        self.output_class = runtime_class(hints.get('return'))

    async def invoke(self, input: InT, flow: Flow) -> OutT:
        with flow.scope(self.name, 'function') as scope:
            self.check_input(input)
            result = self.fn(input, flow) if self._takes_flow else self.fn(input)
            if self._is_async:
                result = await result
            scope.output = result
            return cast(OutT, result)


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable forward references: no runtime checks, static typing still applies
        return {}


def runtime_class(annotation: object) -> type[Any] | None:
    """The class to `isinstance`-check against for an annotation, when the annotation is a plain class."""
    if isinstance(annotation, type) and annotation is not object and not typing.get_args(annotation):
        return annotation
    return None


@overload
def step(fn: Callable[[InT, Flow], Awaitable[OutT]], /, *, name: str | None = None) -> FunctionStep[InT, OutT]: ...
@overload
def step(fn: Callable[[InT, Flow], OutT], /, *, name: str | None = None) -> FunctionStep[InT, OutT]: ...
@overload
def step(fn: Callable[[InT], Awaitable[OutT]], /, *, name: str | None = None) -> FunctionStep[InT, OutT]: ...
@overload
def step(fn: Callable[[InT], OutT], /, *, name: str | None = None) -> FunctionStep[InT, OutT]: ...
def step(fn: Callable[..., Any], /, *, name: str | None = None) -> Any:
    """Turn a function of the input (and optionally the `Flow`) into a step; also usable as a decorator.

    An async function's step outputs what the coroutine returns.
    """
    return FunctionStep[Any, Any](fn, name=name)
