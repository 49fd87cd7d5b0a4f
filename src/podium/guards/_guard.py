"""`guard`: a check on the value passing through a chain, as a `Step[T, T]` that lets it on, replaces it, or stops it.

A guard is a step like any other, so it gets its record and span at the dispatch point and composes with `>>`:
`input_guard >> desk >> output_guard`. Its record says what it did (`route`: `pass`, `redact`, `block`,
`safe_response` or `fail_open`), why (`reason`, the verdict's), and `detail['tripped']`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeAlias, cast, overload

import anyio.to_thread
from pydantic import BaseModel, ValidationError
from pydantic_ai.agent import AbstractAgent
from typing_extensions import TypeVar

from .._core._errors import (
    BudgetExceeded,
    ConfigurationError,
    GuardFailed,
    GuardTripped,
    StepOutputError,
    WorkflowTimeout,
)
from .._core._flow import Flow, StepScope
from .._core._redact import describe
from .._core._step import AnyStep, Step, callable_name, ensure_named, require_step
from .._core._traits import StepInfo
from .._core._verdict import GuardVerdict
from ..agents import agent as agent_step
from ..agents._prompt import render_prompt

__all__ = ('Guard', 'GuardAction', 'Side', 'guard')

T = TypeVar('T')

Side: TypeAlias = Literal['input', 'output']
"""What a guard checks: the input of the step it guards, or that step's output."""
GuardAction: TypeAlias = Literal['pass', 'redact', 'block', 'safe_response', 'fail_open']
"""What a guard did, as its record's `route` says."""
TRIPPING_ACTIONS: frozenset[str] = frozenset({'redact', 'block', 'safe_response'})
"""The actions by which a guard acted on a value: evals count these as the guard tripping."""

_PASS_THROUGH = (WorkflowTimeout, BudgetExceeded, GuardTripped)
"""Failures of the run rather than of the guard's check: a passed deadline or budget is no reason to let a value
through, nor to block it as if the guard had judged it; a guard tripped inside the check is already a verdict."""


class Guard(Step[T, T, Any]):
    """Checks the value going through and passes it on unchanged, passes on the verdict's replacement, or stops it.

    Stopping raises `GuardTripped` (the run ends, blocked) unless a `safe_response` step is given: then that step
    gets the value and its output goes on instead, the record degraded with the guard's reason.
    """

    record_kind = 'guard'

    def __init__(
        self,
        check: object,
        *,
        on: Side,
        name: str | None = None,
        fail_open: bool = False,
        safe_response: Step[T, T, Any] | None = None,
        rewrites: bool = False,
    ) -> None:
        if on not in ('input', 'output'):
            raise ConfigurationError(f"a guard checks on='input' or on='output', got on={on!r}")
        if safe_response is not None:
            require_step(safe_response, 'safe_response')
        self.on: Side = on
        self.fail_open = fail_open
        self.safe_response = safe_response
        self._fn: Callable[[Any], object] | None = None
        self._check_step: AnyStep | None = None
        if isinstance(check, Step):
            self._check_step = _checked_step(cast(AnyStep, check))
            fallback = self._check_step.name
        elif isinstance(check, AbstractAgent):
            found = cast(AbstractAgent[Any, Any], check)
            self._check_step = _checked_step(agent_step(found, prompt=_render))
            fallback = found.name or 'guard'
        elif callable(check):
            self._fn = cast(Callable[[Any], object], check)
            self._is_async = inspect.iscoroutinefunction(check)
            fallback = callable_name(self._fn)
        else:
            raise ConfigurationError(
                f'a guard checks with a function, a podium step or a Pydantic-AI agent that returns a GuardVerdict, '
                f'got {type(check).__name__}'
            )
        self.name = ensure_named(name, fallback)
        self.rewrites = rewrites or safe_response is not None
        """Whether the guard may pass on another value than it got, so a guarded step must wait for it."""
        children: list[tuple[str, AnyStep]] = []
        if self._check_step is not None:
            children.append(('check', self._check_step))
        if safe_response is not None:
            children.append(('safe_response', safe_response))
        self._info = StepInfo(kind='wrapper' if children else 'call', children=children, guards=on)

    def describe(self) -> StepInfo:
        return self._info

    async def _run(self, input: T, scope: StepScope) -> T:
        scope.detail['on'] = self.on
        scope.detail['tripped'] = False
        try:
            verdict = await self._verdict(input, scope.flow)
        except _PASS_THROUGH:
            raise
        except StepOutputError as exc:
            if exc.step == self.name:  # the verdict was of the wrong type: the guard is broken, not the value
                raise
            return self._failed(input, scope, exc)
        except Exception as exc:
            return self._failed(input, scope, exc)
        scope.reason = verdict.reason or None
        if verdict.allowed:
            if verdict.replacement is None:
                scope.route = 'pass'
                return input
            scope.route = 'redact'
            scope.detail['tripped'] = True
            return self._replacement(input, verdict.replacement)
        scope.detail['tripped'] = True
        if self.safe_response is not None:
            scope.route = 'safe_response'
            scope.degrade(f'guard {self.name!r} stopped the {self.on}: {verdict.reason or "no reason given"}')
            return await self.safe_response.invoke(input, scope.flow)
        scope.route = 'block'
        raise GuardTripped(
            f'guard {self.name!r} stopped the {self.on}: {verdict.reason or "no reason given"}',
            guard=self.name,
            on=self.on,
            verdict=verdict,
        )

    async def _verdict(self, value: T, flow: Flow[Any]) -> GuardVerdict:
        if self._check_step is not None:
            found: object = await self._check_step.invoke(value, flow)
        else:
            assert self._fn is not None
            fn = self._fn
            if self._is_async:
                found = await cast(Awaitable[object], fn(value))
            elif flow.deadline is None:
                found = fn(value)
            else:  # as function steps do: a check that blocks must not hold the run past its deadline
                found = await anyio.to_thread.run_sync(fn, value, abandon_on_cancel=True)
        if not isinstance(found, GuardVerdict):
            raise StepOutputError(
                f'guard {self.name!r} must decide with a GuardVerdict, its check returned '
                f'{type(found).__qualname__}: return GuardVerdict.allow(...) or GuardVerdict.block(reason)',
                step=self.name,
            )
        return found

    def _failed(self, value: T, scope: StepScope, exc: Exception) -> T:
        scope.detail['error'] = describe(exc)
        if self.fail_open:
            scope.route = 'fail_open'
            scope.reason = f'the check failed and the guard fails open: {describe(exc)}'
            return value
        scope.route = 'block'
        scope.detail['tripped'] = True
        reason = f'the check failed and the guard fails closed: {describe(exc)}'
        scope.reason = reason
        raise GuardFailed(
            f'guard {self.name!r} could not check the {self.on}: {describe(exc)}; the {self.on} is not let through '
            '(pass fail_open=True to let it through when the check fails)',
            guard=self.name,
            on=self.on,
            verdict=GuardVerdict.block(reason),
        ) from exc

    def _replacement(self, value: T, replacement: object) -> T:
        cls = type(value)
        if isinstance(replacement, cls):
            return replacement
        if issubclass(cls, BaseModel):
            try:
                return cast(T, cls.model_validate(replacement))
            except ValidationError:
                pass
        raise StepOutputError(
            f'guard {self.name!r} replaced a {cls.__qualname__} with a {type(replacement).__qualname__}: a '
            f'replacement must be a value of the type the guard checks',
            step=self.name,
        )


def _render(value: object) -> str:
    return render_prompt(value)


def _checked_step(step: AnyStep) -> AnyStep:
    cls = step.output_class
    if cls is not None and not issubclass(cls, GuardVerdict):
        raise ConfigurationError(
            f'a guard decides with a GuardVerdict, but {step.name!r} outputs {cls.__qualname__}: give its agent '
            'output_type=GuardVerdict'
        )
    return step


@overload
def guard(
    check: Callable[[T], GuardVerdict] | Callable[[T], Awaitable[GuardVerdict]] | Step[T, GuardVerdict, Any],
    *,
    on: Side = 'input',
    name: str | None = None,
    fail_open: bool = False,
    safe_response: Step[T, T, Any] | None = None,
    rewrites: bool = False,
) -> Guard[T]: ...
@overload
def guard(
    check: AbstractAgent[Any, GuardVerdict],
    *,
    on: Side = 'input',
    name: str | None = None,
    fail_open: bool = False,
    safe_response: Step[Any, Any, Any] | None = None,
    rewrites: bool = False,
) -> Guard[Any]: ...
def guard(
    check: object,
    *,
    on: Side = 'input',
    name: str | None = None,
    fail_open: bool = False,
    safe_response: Step[Any, Any, Any] | None = None,
    rewrites: bool = False,
) -> Guard[Any]:
    """A guard: a step that checks the value going through and lets it on, replaces it, or stops it.

    Put it in a chain (`input_guard >> desk >> output_guard`) or give it to `guarded(step, input=[...],
    output=[...])`, which runs input guards concurrently with the step.

    Args:
        check: Decides on each value with a `GuardVerdict`: a sync or async function, a podium step, or a
            Pydantic-AI agent with `output_type=GuardVerdict` (the value is its prompt).
        on: `input` for a guard on what a step receives, `output` for one on what it produced; what `guarded`
            accepts where, and what the record and `GuardTripped` say.
        name: The guard's name in records, errors and eval reports; the function's, step's or agent's by default.
        fail_open: When the check raises, let the value through (the failure is recorded) instead of stopping it
            with `GuardFailed`.
        safe_response: When the guard stops a value, run this step on it and pass its output on instead of ending
            the run; the record is degraded and says why.
        rewrites: The check may answer with a `replacement`; `guarded` then waits for this guard before starting
            the step (a step that started on the original would have seen what the guard removes).

    Raises:
        ConfigurationError: when `check`, `on` or `safe_response` cannot work; the message says what to pass.
    """
    return Guard[Any](check, on=on, name=name, fail_open=fail_open, safe_response=safe_response, rewrites=rewrites)
