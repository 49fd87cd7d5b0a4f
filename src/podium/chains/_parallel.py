"""`parallel` and `map_each`: fan out over anyio task groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import anyio
from typing_extensions import TypeVar

from .._core._arguments import is_count
from .._core._errors import ConfigurationError
from .._core._flow import StepScope
from .._core._step import AnyStep, Step, common_class, ensure_named, require_step
from .._core._traits import StepInfo

__all__ = ('DEFAULT_MAX_CONCURRENCY', 'MapEach', 'Parallel', 'map_each', 'parallel')

InT = TypeVar('InT')
OutT = TypeVar('OutT')
DepsT = TypeVar('DepsT', default=None)
SharedDepsT = TypeVar('SharedDepsT')
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


class Parallel(Step[Any, tuple[Any, ...], Any]):
    """Runs every step on the same input concurrently; the output is the tuple of their outputs, in order."""

    record_kind = 'parallel'

    def __init__(self, steps: Sequence[AnyStep], *, name: str | None = None) -> None:
        if len(steps) < 2:
            raise ConfigurationError('parallel needs at least two steps')
        self.steps = tuple(require_step(s, f'parallel step {i + 1}') for i, s in enumerate(steps))
        self.name = ensure_named(name, 'parallel(' + ', '.join(s.name for s in self.steps) + ')')
        self._info = StepInfo(kind='fan-out', children=[('', s) for s in self.steps], deterministic=False)
        self.input_class = common_class(s.input_class for s in self.steps)  # every branch gets the same input
        self.output_class = tuple

    def describe(self) -> StepInfo:
        return self._info

    async def _run(self, input: Any, scope: StepScope) -> tuple[Any, ...]:
        flow = scope.flow
        results: list[Any] = [None] * len(self.steps)
        failure = _FirstFailure()

        async def run_one(i: int, step: AnyStep, cancel: anyio.CancelScope) -> None:
            try:
                results[i] = await step.invoke(input, flow)
            except Exception as exc:
                failure.fail(exc, cancel)

        async with anyio.create_task_group() as tg:
            for i, step in enumerate(self.steps):
                tg.start_soon(run_one, i, step, tg.cancel_scope)
        failure.reraise()
        return tuple(results)


@overload
def parallel(
    a: Step[InT, A, SharedDepsT], b: Step[InT, B, SharedDepsT], /, *, name: str | None = None
) -> Step[InT, tuple[A, B], SharedDepsT]: ...
@overload
def parallel(
    a: Step[InT, A, SharedDepsT],
    b: Step[InT, B, SharedDepsT],
    c: Step[InT, C, SharedDepsT],
    /,
    *,
    name: str | None = None,
) -> Step[InT, tuple[A, B, C], SharedDepsT]: ...
@overload
def parallel(
    a: Step[InT, A, SharedDepsT],
    b: Step[InT, B, SharedDepsT],
    c: Step[InT, C, SharedDepsT],
    d: Step[InT, D, SharedDepsT],
    /,
    *,
    name: str | None = None,
) -> Step[InT, tuple[A, B, C, D], SharedDepsT]: ...
@overload
def parallel(
    a: Step[InT, A, SharedDepsT],
    b: Step[InT, B, SharedDepsT],
    c: Step[InT, C, SharedDepsT],
    d: Step[InT, D, SharedDepsT],
    e: Step[InT, E, SharedDepsT],
    /,
    *,
    name: str | None = None,
) -> Step[InT, tuple[A, B, C, D, E], SharedDepsT]: ...
@overload
def parallel(
    *steps: Step[InT, OutT, SharedDepsT], name: str | None = None
) -> Step[InT, tuple[OutT, ...], SharedDepsT]: ...
@overload
def parallel(  # pyright: ignore[reportOverlappingOverload]  # steps needing different deps
    a: Step[InT, A, Any], b: Step[InT, B, Any], /, *, name: str | None = None
) -> Step[InT, tuple[A, B], Any]: ...
@overload
def parallel(  # pyright: ignore[reportOverlappingOverload]  # steps needing different deps
    a: Step[InT, A, Any], b: Step[InT, B, Any], c: Step[InT, C, Any], /, *, name: str | None = None
) -> Step[InT, tuple[A, B, C], Any]: ...
@overload
def parallel(  # pyright: ignore[reportOverlappingOverload]  # steps needing different deps
    a: Step[InT, A, Any],
    b: Step[InT, B, Any],
    c: Step[InT, C, Any],
    d: Step[InT, D, Any],
    /,
    *,
    name: str | None = None,
) -> Step[InT, tuple[A, B, C, D], Any]: ...
@overload
def parallel(  # pyright: ignore[reportOverlappingOverload]  # steps needing different deps
    a: Step[InT, A, Any],
    b: Step[InT, B, Any],
    c: Step[InT, C, Any],
    d: Step[InT, D, Any],
    e: Step[InT, E, Any],
    /,
    *,
    name: str | None = None,
) -> Step[InT, tuple[A, B, C, D, E], Any]: ...
@overload
def parallel(  # pyright: ignore[reportOverlappingOverload]  # steps needing different deps
    *steps: Step[InT, OutT, Any], name: str | None = None
) -> Step[InT, tuple[OutT, ...], Any]: ...
def parallel(*steps: AnyStep, name: str | None = None) -> AnyStep:
    """Run steps concurrently on the same input; the first failure cancels the others and fails the step.

    When the steps need one deps type (or none), so does the parallel step; steps needing different deps make a
    step whose deps the type checker no longer checks.
    """
    return Parallel(steps, name=name)


DEFAULT_MAX_CONCURRENCY = 16
"""How many items `map_each` runs at once unless told otherwise.

Enough to hide the latency of model calls (each item mostly waits on the network) while keeping a run over a long
list from opening thousands of connections at once, tripping the provider's rate limits, or holding every item's
work in memory together.
"""


class MapEach(Step[Sequence[InT], list[OutT], DepsT]):
    """Runs one step on every item of a sequence, at most `max_concurrency` at a time; output order is input order.

    A fixed pool of `max_concurrency` workers takes items in turn, so memory holds the outputs, never a task per
    item.
    """

    record_kind = 'map'

    def __init__(
        self,
        step: Step[InT, OutT, DepsT],
        *,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        name: str | None = None,
    ) -> None:
        if not is_count(max_concurrency) or max_concurrency < 1:
            raise ConfigurationError(f'max_concurrency must be at least 1, got {max_concurrency!r}')
        self.step = require_step(step, 'map_each(step)')
        self.max_concurrency = max_concurrency
        self.name = ensure_named(name, f'map_each({step.name})')
        self._info = StepInfo(kind='fan-out', children=[('each', step)], deterministic=False)

    def describe(self) -> StepInfo:
        return self._info

    async def _run(self, input: Sequence[InT], scope: StepScope) -> list[OutT]:
        flow = scope.flow
        items = list(input)
        results: list[Any] = [None] * len(items)
        failure = _FirstFailure()
        pending = iter(enumerate(items))

        async def worker(cancel: anyio.CancelScope) -> None:
            for i, item in pending:  # workers share one iterator: each item is taken once
                try:
                    results[i] = await self.step.invoke(item, flow)
                except Exception as exc:
                    failure.fail(exc, cancel)
                    return

        async with anyio.create_task_group() as tg:
            for _ in range(min(self.max_concurrency, len(items))):
                tg.start_soon(worker, tg.cancel_scope)
        failure.reraise()
        scope.detail['items'] = len(items)
        return results


def map_each(
    step: Step[InT, OutT, DepsT], *, max_concurrency: int = DEFAULT_MAX_CONCURRENCY, name: str | None = None
) -> Step[Sequence[InT], list[OutT], DepsT]:
    """Run `step` on every item of the input sequence, concurrently, keeping the input order.

    At most `max_concurrency` items run at once: `DEFAULT_MAX_CONCURRENCY` (16) unless told otherwise.
    """
    return MapEach(step, max_concurrency=max_concurrency, name=name)
