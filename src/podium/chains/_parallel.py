"""`parallel` and `map_each`: fan out over anyio task groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import anyio
from typing_extensions import TypeVar

from .._core._errors import ConfigurationError
from .._core._flow import Flow
from .._core._step import AnyStep, Step, ensure_named

__all__ = ('MapEach', 'Parallel', 'map_each', 'parallel')

InT = TypeVar('InT')
OutT = TypeVar('OutT')
A = TypeVar('A')
B = TypeVar('B')
C = TypeVar('C')
D = TypeVar('D')
E = TypeVar('E')


class _FirstFailure:
    """Keeps the first exception of a task group's children and cancels the rest.

    anyio would raise every child's exception as an `ExceptionGroup`; a run should fail with the one error that
    stopped it, carrying the records, so the group is cancelled on the first failure and that one is re-raised.
    """

    __slots__ = ('error',)

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def fail(self, exc: BaseException, scope: anyio.CancelScope) -> None:
        if self.error is None:
            self.error = exc
        scope.cancel()

    def reraise(self) -> None:
        if self.error is not None:
            raise self.error


class Parallel(Step[Any, tuple[Any, ...]]):
    """Runs every step on the same input concurrently; the output is the tuple of their outputs, in order."""

    def __init__(self, steps: Sequence[AnyStep], *, name: str | None = None) -> None:
        if len(steps) < 2:
            raise ConfigurationError('parallel needs at least two steps')
        self.steps = tuple(steps)
        self.name = ensure_named(name, 'parallel(' + ', '.join(s.name for s in self.steps) + ')')

    def children(self) -> Sequence[tuple[str, AnyStep]]:
        return [('', s) for s in self.steps]

    async def invoke(self, input: Any, flow: Flow) -> tuple[Any, ...]:
        results: list[Any] = [None] * len(self.steps)
        failure = _FirstFailure()

        async def run_one(i: int, step: AnyStep, scope: anyio.CancelScope) -> None:
            try:
                results[i] = await step.invoke(input, flow)
            except Exception as exc:
                failure.fail(exc, scope)

        async with anyio.create_task_group() as tg:
            for i, step in enumerate(self.steps):
                tg.start_soon(run_one, i, step, tg.cancel_scope)
        failure.reraise()
        return tuple(results)


@overload
def parallel(a: Step[InT, A], b: Step[InT, B], /, *, name: str | None = None) -> Step[InT, tuple[A, B]]: ...
@overload
def parallel(
    a: Step[InT, A], b: Step[InT, B], c: Step[InT, C], /, *, name: str | None = None
) -> Step[InT, tuple[A, B, C]]: ...
@overload
def parallel(
    a: Step[InT, A], b: Step[InT, B], c: Step[InT, C], d: Step[InT, D], /, *, name: str | None = None
) -> Step[InT, tuple[A, B, C, D]]: ...
@overload
def parallel(
    a: Step[InT, A], b: Step[InT, B], c: Step[InT, C], d: Step[InT, D], e: Step[InT, E], /, *, name: str | None = None
) -> Step[InT, tuple[A, B, C, D, E]]: ...
@overload
def parallel(*steps: Step[InT, OutT], name: str | None = None) -> Step[InT, tuple[OutT, ...]]: ...
def parallel(*steps: AnyStep, name: str | None = None) -> AnyStep:
    """Run steps concurrently on the same input; the first failure cancels the others and fails the step."""
    return Parallel(steps, name=name)


class MapEach(Step[Sequence[InT], list[OutT]]):
    """Runs one step on every item of a sequence, at most `max_concurrency` at a time; output order is input order."""

    def __init__(self, step: Step[InT, OutT], *, max_concurrency: int | None = None, name: str | None = None) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ConfigurationError(f'max_concurrency must be at least 1, got {max_concurrency}')
        self.step = step
        self.max_concurrency = max_concurrency
        self.name = ensure_named(name, f'map_each({step.name})')

    def children(self) -> Sequence[tuple[str, AnyStep]]:
        return [('each', self.step)]

    async def invoke(self, input: Sequence[InT], flow: Flow) -> list[OutT]:
        with flow.scope(self.name, 'map') as scope:
            items = list(input)
            results: list[Any] = [None] * len(items)
            failure = _FirstFailure()
            limiter = anyio.Semaphore(self.max_concurrency or max(len(items), 1))

            async def run_one(i: int, item: InT, cancel: anyio.CancelScope) -> None:
                async with limiter:
                    try:
                        results[i] = await self.step.invoke(item, flow)
                    except Exception as exc:
                        failure.fail(exc, cancel)

            async with anyio.create_task_group() as tg:
                for i, item in enumerate(items):
                    tg.start_soon(run_one, i, item, tg.cancel_scope)
            failure.reraise()
            scope.detail['items'] = len(items)
            scope.output = results
            return results


def map_each(
    step: Step[InT, OutT], *, max_concurrency: int | None = None, name: str | None = None
) -> Step[Sequence[InT], list[OutT]]:
    """Run `step` on every item of the input sequence, concurrently, keeping the input order."""
    return MapEach(step, max_concurrency=max_concurrency, name=name)
