"""`guarded`: a step with input guards that run concurrently with it, output guards after it, and a safe response.

Input guards usually pass, so waiting for them before starting the step adds their latency to every run; running
them alongside the step (as the OpenAI Agents SDK runs input guardrails in parallel with its agent) costs only the
tokens the step spends before a trip cancels it. Those tokens are counted into the run and the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, cast

import anyio
from pydantic_ai.exceptions import RunCancelled
from pydantic_ai.messages import ModelResponse
from pydantic_ai.usage import RunUsage
from typing_extensions import TypeVar

from .._core._errors import ConfigurationError, GuardTripped, StepOutputError
from .._core._flow import Flow, StepScope
from .._core._step import AnyStep, Step, ensure_named, require_step
from .._core._traits import StepInfo
from ._guard import Guard

__all__ = ('Guarded', 'guarded')

InT = TypeVar('InT')
OutT = TypeVar('OutT')
DepsT = TypeVar('DepsT', default=None)


class _Race(Generic[OutT]):
    """How one concurrent run of the step and its input guards ended."""

    def __init__(self) -> None:
        self.output: OutT | None = None
        self.finished = False
        self.tripped: GuardTripped | None = None
        self.error: BaseException | None = None
        self.cancelled = False
        self.usage = RunUsage()


class Guarded(Step[InT, OutT, DepsT]):
    """Runs `step` with its input guards, then its output guards; see `guarded`."""

    record_kind = 'guarded'

    def __init__(
        self,
        step: Step[InT, OutT, DepsT],
        *,
        input: Sequence[Guard[Any]] = (),
        output: Sequence[Guard[Any]] = (),
        concurrent: bool = True,
        safe_response: Step[InT, OutT, Any] | None = None,
        name: str | None = None,
    ) -> None:
        require_step(step, 'the step guarded() wraps')
        _check_guards(input, 'input', step)
        _check_guards(output, 'output', step)
        if not input and not output:
            raise ConfigurationError(f'guarded({step.name!r}) has no guards: pass input=[...] or output=[...]')
        if safe_response is not None:
            require_step(safe_response, 'safe_response')
        self.step = step
        self.input_guards: tuple[Guard[Any], ...] = tuple(input)
        self.output_guards: tuple[Guard[Any], ...] = tuple(output)
        self.concurrent = concurrent
        self.safe_response = safe_response
        self.name = ensure_named(name, f'guarded({step.name})')
        self.input_class = step.input_class
        self.output_class = step.output_class
        children: list[tuple[str, AnyStep]] = [('input', g) for g in self.input_guards]
        children.append(('', step))
        children.extend(('output', g) for g in self.output_guards)
        if safe_response is not None:
            children.append(('safe_response', safe_response))
        # Concurrently, whether the step's records exist depends on how the race went: a durable run keeps it whole.
        self._info = StepInfo(kind='wrapper', children=children, deterministic=not concurrent)

    def describe(self) -> StepInfo:
        return self._info

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        try:
            return await self._guarded(input, scope)
        except GuardTripped as tripped:
            scope.detail['guard'] = tripped.guard
            scope.reason = tripped.verdict.reason or None
            if self.safe_response is None:
                scope.route = 'blocked'
                raise
            scope.route = 'safe_response'
            scope.degrade(f'guard {tripped.guard!r} stopped the {tripped.on}: {tripped.verdict.reason}')
            return await self.safe_response.invoke(input, scope.flow)

    async def _guarded(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        value: Any = input
        waited = [g for g in self.input_guards if g.rewrites or not self.concurrent]
        alongside = [g for g in self.input_guards if not (g.rewrites or not self.concurrent)]
        for guard in waited:
            value = await guard.invoke(value, flow)
        if alongside:
            output = await self._race(value, alongside, scope)
        else:
            output = await self.step.invoke(value, flow)
        for guard in self.output_guards:
            output = await guard.invoke(output, flow)
        return output

    async def _race(self, value: InT, guards: Sequence[Guard[Any]], scope: StepScope) -> OutT:
        """Run the step and `guards` at once; a trip cancels the step, and the step's output waits for the guards."""
        flow = scope.flow
        race = _Race[OutT]()
        # The step counts its usage apart, so what it spent before a trip cancelled it can be reported.
        step_flow = flow.child(usage=race.usage)
        async with anyio.create_task_group() as group:
            group.start_soon(self._run_step, value, step_flow, race, group.cancel_scope)
            for guard in guards:
                group.start_soon(self._run_guard, guard, value, flow, race, group.cancel_scope)
        flow.add_usage(race.usage, step=self.step.name, check=not race.cancelled)
        if race.cancelled:
            scope.detail['cancelled'] = self.step.name
            scope.detail['cancelled_requests'] = race.usage.requests
            scope.detail['cancelled_input_tokens'] = race.usage.input_tokens
            scope.detail['cancelled_output_tokens'] = race.usage.output_tokens
        if race.tripped is not None:
            raise race.tripped
        if race.error is not None:
            raise race.error
        assert race.finished
        return race.output  # type: ignore[return-value]  # set when the step finished, as asserted

    async def _run_step(self, value: InT, flow: Flow[Any], race: _Race[OutT], group: anyio.CancelScope) -> None:
        try:
            race.output = await self.step.invoke(value, flow)
            race.finished = True
        except anyio.get_cancelled_exc_class() as exc:
            race.cancelled = True
            race.usage.incr(_completed_usage(exc))
            raise
        except Exception as exc:  # kept, not raised: the group would wrap it in an ExceptionGroup
            if race.error is None and race.tripped is None:
                race.error = exc
            group.cancel()  # first to finish decides: the guards have nothing left to guard

    async def _run_guard(
        self, guard: Guard[Any], value: InT, flow: Flow[Any], race: _Race[OutT], group: anyio.CancelScope
    ) -> None:
        try:
            passed = await guard.invoke(value, flow)
        except GuardTripped as exc:
            if race.tripped is None and race.error is None:
                race.tripped = exc
            group.cancel()
            return
        except Exception as exc:
            if race.error is None and race.tripped is None:
                race.error = exc
            group.cancel()
            return
        if passed is not value:
            race.error = StepOutputError(
                f'guard {guard.name!r} passed on another value than it got, but it ran alongside '
                f'{self.step.name!r}, which had already started on the original: give the guard rewrites=True so '
                'the step waits for it',
                step=guard.name,
            )
            group.cancel()


def _completed_usage(exc: BaseException) -> RunUsage:
    """The responses a cancelled agent run had already received (Pydantic-AI attaches them to the cancellation)."""
    usage = RunUsage()
    partial = RunCancelled.from_cancellation(exc)
    if partial is None:
        return usage
    for message in partial.new_messages():
        if isinstance(message, ModelResponse):
            usage.incr(message.usage)
            usage.requests += 1
    return usage


def _check_guards(guards: Sequence[object], side: str, step: AnyStep) -> None:
    for found in guards:
        checks = cast(AnyStep, found).describe().guards if isinstance(found, Step) else None
        if checks is None:
            kind = type(cast(object, found)).__name__
            raise ConfigurationError(
                f'guarded({step.name!r}): {side}= takes guards made with podium.guard(...), got {kind}'
            )
        if checks != side:
            name = cast(AnyStep, found).name
            raise ConfigurationError(
                f'guarded({step.name!r}): guard {name!r} checks the {checks}, but is given as {side}=; '
                f'build it with on={side!r} or pass it as {checks}='
            )


def guarded(
    step: Step[InT, OutT, DepsT],
    *,
    input: Sequence[Guard[InT]] = (),
    output: Sequence[Guard[OutT]] = (),
    concurrent: bool = True,
    safe_response: Step[InT, OutT, Any] | None = None,
    name: str | None = None,
) -> Guarded[InT, OutT, DepsT]:
    """`step` with guards: input guards check what it receives, output guards what it produces.

    With `concurrent=True` (the default) the input guards run at the same time as the step: a trip cancels the
    step (what it spent so far counts into the run, and the record's `detail` says how much), and the step's output
    goes on only once every input guard has passed. Guards built with `rewrites=True` (or with a `safe_response`)
    may pass on another value, so the step waits for those. `concurrent=False` runs every input guard first.

    A tripped guard ends the run with `GuardTripped`, unless `safe_response` is given: then that step answers the
    original input instead, and the record (degraded, route `safe_response`) says which guard tripped and why.

    Raises:
        ConfigurationError: when a guard is not a guard, or checks the other side than it is given for.
    """
    return Guarded(step, input=input, output=output, concurrent=concurrent, safe_response=safe_response, name=name)
