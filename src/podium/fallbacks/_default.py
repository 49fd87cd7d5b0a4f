"""`default`: a typed, degraded result when a step cannot produce its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

from typing_extensions import TypeVar

from .._core._classify import failure_reason, is_outage, matches
from .._core._errors import ConfigurationError, StepOutputError
from .._core._flow import StepScope
from .._core._step import Step, require_step
from ._wrapper import StepWrapper, fail, record_success, try_step

__all__ = ('DefaultStep', 'default')

InT = TypeVar('InT')
OutT = TypeVar('OutT')


class DefaultStep(StepWrapper[InT, OutT]):
    """Runs the wrapped step; when it fails for a reason in `on`, outputs `produce(input)` and degrades the run."""

    record_kind = 'default'

    def __init__(
        self,
        wrapped: Step[InT, OutT],
        produce: Callable[[InT], OutT],
        *,
        on: tuple[type[BaseException], ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(wrapped, name=name)
        self.produce = produce
        self.on = on

    def degrades_on(self, exc: BaseException) -> bool:
        """Whether `exc` is answered with the default: the `on=` types, or an outage when none were given.

        A usage limit never is: it stops the run.
        """
        if self.on is None:
            return is_outage(exc)
        return failure_reason(exc) != 'budget' and matches(exc, self.on)

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        tried = await try_step(self.wrapped, input, flow, number=1)
        if tried.error is None:
            record_success(scope, tried.attempts)
            scope.output = tried.output
            return tried.output
        scope.attempts.extend(tried.attempts)
        if not self.degrades_on(tried.error):
            fail([tried.error], step=self.name, attempts=tried.attempts)
        scope.falling_back(failure_reason(tried.error), to='default')
        output = self.produce(input)
        cls = self.output_class
        if cls is not None and not isinstance(output, cls):
            raise StepOutputError(
                f'the default of {self.name!r} produced {type(output).__qualname__}, not {cls.__qualname__}',
                step=self.name,
            )
        scope.degrade(failure_reason(tried.error))
        scope.detail['failed_step'] = self.wrapped.name
        scope.output = output
        return output


@overload
def default(
    step: Step[InT, OutT],
    fn: Callable[[InT], OutT],
    /,
    *,
    on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    name: str | None = None,
) -> DefaultStep[InT, OutT]: ...
@overload
def default(
    step: Step[InT, OutT],
    value: OutT,
    /,
    *,
    on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    name: str | None = None,
) -> DefaultStep[InT, OutT]: ...
def default(
    step: Step[Any, Any],
    value_or_fn: Any,
    /,
    *,
    on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    name: str | None = None,
) -> DefaultStep[Any, Any]:
    """When `step` fails, output a default instead and mark the run `degraded`, recording why.

    Args:
        step: The step to run.
        value_or_fn: The default output, or a function of the step's input that makes it.
        on: The exception types that get the default. By default, outages do: rate limits, quota, 5xx, overload,
            broken connections, timeouts, open breakers, invalid output, and every model failing for those reasons.
            Requests refused for cause (credentials, context length, content policy) raise their typed error
            instead, so a fault in the request or the configuration is not hidden; pass `on=` to degrade them too.
            A usage limit is never answered with a default.
        name: The step's name; `default(<step>)` by default.
    """
    cls = require_step(step, 'the step default() wraps').output_class
    if not callable(value_or_fn) and cls is not None and not isinstance(value_or_fn, cls):
        raise ConfigurationError(
            f'default for {step.name!r}: value_or_fn is a {type(value_or_fn).__qualname__} but the step outputs '
            f'{cls.__qualname__}'
        )
    produce: Callable[[Any], Any] = value_or_fn if callable(value_or_fn) else _constant(value_or_fn)
    types = (on,) if isinstance(on, type) else on
    if types is not None and not (
        isinstance(types, tuple) and all(isinstance(t, type) and issubclass(t, BaseException) for t in types)  # pyright: ignore[reportUnnecessaryIsInstance]
    ):
        raise ConfigurationError(f'default for {step.name!r}: on= takes exception types, got {on!r}')
    return DefaultStep(step, produce, on=types, name=name)


def _constant(value: object) -> Callable[[object], object]:
    def produce(_: object) -> object:
        return value

    return produce
