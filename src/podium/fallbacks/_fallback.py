"""`fallback`: when a step fails, or its output is not good enough, the next step produces the output instead.

Pydantic-AI's `FallbackModel` moves to the next model on API errors only. This covers what it cannot: output that
stays invalid through the agent's own retries, refusals and content-filter stops, timeouts, open breakers, and
outputs a predicate rejects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias

from typing_extensions import TypeVar

from .._core._classify import failure_reason, is_model_failure, matches
from .._core._errors import ConfigurationError, OutputRejected
from .._core._flow import StepScope
from .._core._records import Attempt
from .._core._step import Step, callable_name, common_class, ensure_named, require_step
from .._core._traits import StepInfo
from ._wrapper import fail, record_success, try_step

__all__ = ('FallbackOn', 'FallbackStep', 'fallback', 'split_on')

InT = TypeVar('InT')
OutT = TypeVar('OutT')

FallbackOn: TypeAlias = (
    type[BaseException]
    | tuple[type[BaseException], ...]
    | Callable[[OutT], bool]
    | Sequence[type[BaseException] | Callable[[OutT], bool]]
)
"""When to move on: exception types, a predicate that rejects an output, or a sequence mixing both."""


def split_on(
    on: FallbackOn[OutT] | None, *, argument: str
) -> tuple[tuple[type[BaseException], ...] | None, list[Callable[[OutT], bool]]]:
    """`on` as exception types (`None` when it names none) and output predicates, checked."""
    items: Sequence[type[BaseException] | Callable[[OutT], bool]]
    if on is None:
        items = ()
    elif isinstance(on, type) or callable(on) or isinstance(on, str | bytes):  # one item, never its characters
        items = (on,)  # pyright: ignore[reportAssignmentType]  # an untyped caller's mistake, reported below
    else:
        items = on
    types: list[type[BaseException]] = []
    predicates: list[Callable[[OutT], bool]] = []
    for item in items:
        if isinstance(item, type):
            if not issubclass(item, BaseException):
                raise ConfigurationError(f'{argument}= takes exception types or output predicates, got {item!r}')
            types.append(item)
        elif callable(item):
            predicates.append(item)
        else:
            raise ConfigurationError(f'{argument}= takes exception types or output predicates, got {item!r}')
    return (tuple(types) or None), predicates


class FallbackStep(Step[InT, OutT]):
    """Runs `steps` in order until one produces an output that is not rejected; records which one and why."""

    record_kind = 'fallback'

    def __init__(
        self,
        steps: Sequence[Step[InT, OutT]],
        *,
        on: FallbackOn[OutT] | None = None,
        degrade: bool = True,
        name: str | None = None,
    ) -> None:
        if len(steps) < 2:
            raise ConfigurationError('fallback needs at least one alternate after the primary step (alternates=)')
        self.steps: tuple[Step[InT, OutT], ...] = tuple(
            require_step(s, 'the primary step of fallback' if i == 0 else f'alternate {i} of fallback')
            for i, s in enumerate(steps)
        )
        self.name = ensure_named(name, 'fallback(' + ', '.join(s.name for s in self.steps) + ')')
        self.error_types, self.rejects = split_on(on, argument='on')
        self.degrade = degrade
        self.input_class = common_class(s.input_class for s in self.steps)
        self.output_class = common_class(s.output_class for s in self.steps)

    def describe(self) -> StepInfo:
        return StepInfo(
            kind='wrapper', children=[('primary' if i == 0 else f'alternate {i}', s) for i, s in enumerate(self.steps)]
        )

    def falls_back_on(self, exc: BaseException) -> bool:
        """Whether `exc` moves on to the next step: the `on=` types, or any model failure when it names none.

        A usage limit never does: it stops the run.
        """
        if self.error_types is None:
            return is_model_failure(exc)
        return failure_reason(exc) != 'budget' and matches(exc, self.error_types)

    def rejected_by(self, output: OutT) -> Callable[[OutT], bool] | None:
        """The first `on=` predicate that rejects `output`, if any."""
        return next((p for p in self.rejects if p(output)), None)

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        failures: list[BaseException] = []
        attempts: list[Attempt] = []
        for number, step in enumerate(self.steps, 1):
            if failures:
                scope.falling_back(failure_reason(failures[-1]), to=step.name)
            tried = await try_step(step, input, flow, number=number)
            attempts.extend(tried.attempts)
            if tried.error is not None:
                if not self.falls_back_on(tried.error):
                    scope.attempts.extend(attempts)
                    fail([*failures, tried.error], step=self.name, attempts=attempts)
                failures.append(tried.error)
                continue
            if (predicate := self.rejected_by(tried.output)) is not None:
                failures.append(OutputRejected(f'{callable_name(predicate)} rejected the output of {step.name!r}'))
                continue
            if failures:
                scope.detail['answered_by'] = step.name
                reason = failure_reason(failures[-1])
                if self.degrade:
                    scope.degrade(reason)
                else:
                    scope.fallback_reason = reason
            record_success(scope, attempts)
            scope.output = tried.output
            return tried.output
        scope.attempts.extend(attempts)
        fail(failures, step=self.name, attempts=attempts)


def fallback(
    primary: Step[InT, OutT],
    *alternates: Step[InT, OutT],
    on: FallbackOn[OutT] | None = None,
    degrade: bool = True,
    name: str | None = None,
) -> FallbackStep[InT, OutT]:
    """Run `primary`; when it fails (or `on=` rejects its output), run each alternate in turn until one succeeds.

    Args:
        primary: The step to try first.
        alternates: The steps to try next, in order: another model, a cheaper prompt, a rule-based step.
        on: What moves on to the next step. Exception types (matched through podium's `StepFailed`), a predicate
            that returns `True` for an output to reject, or a sequence of both. Without exception types, any model
            failure moves on: API errors, invalid output, refusals, timeouts, open breakers, but never a usage
            limit.
        degrade: Mark the run `degraded` when an alternate answered (the default), or only record why.
        name: The step's name; `fallback(<primary>, <alternates>...)` by default.

    The record says which step answered (`detail['answered_by']`) and why the one before it did not
    (`fallback_reason`). When every step failed, the run fails with the typed error for why.
    """
    steps: list[Step[InT, OutT]] = [primary, *alternates]
    return FallbackStep(steps, on=on, degrade=degrade, name=name)
