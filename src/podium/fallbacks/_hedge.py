"""`hedge`: when a step is slow, start it again; the first success wins and the others are cancelled.

Tail latency of LLM calls is long (a p99 many times the p50), and a second request after a delay cuts it for the
price of the few extra calls the delay lets through.
"""

from __future__ import annotations

from typing import Generic

import anyio
from anyio.abc import TaskGroup
from pydantic_ai.exceptions import RunCancelled
from pydantic_ai.messages import ModelResponse
from pydantic_ai.usage import RunUsage
from typing_extensions import TypeVar

from .._core._arguments import is_count, is_number
from .._core._errors import ConfigurationError
from .._core._flow import Flow, StepScope
from .._core._records import Attempt
from .._core._step import Step
from ._clock import SYSTEM_CLOCK, Clock
from ._wrapper import StepWrapper, Try, fail, record_success, try_step

__all__ = ('HedgeStep', 'hedge')

InT = TypeVar('InT')
OutT = TypeVar('OutT')


class _Race(Generic[OutT]):
    """The legs of one hedged call: how they ended, and the event a failing leg sets to start the next at once."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.legs = 0
        self.tries: list[Try[OutT]] = []
        self.cancelled: list[Attempt] = []
        self.winner: Try[OutT] | None = None
        self.failed = anyio.Event()


class HedgeStep(StepWrapper[InT, OutT]):
    """Starts the wrapped step again each time `after` seconds pass without an answer, up to `hedges` extra times.

    The first leg to succeed wins and the others are cancelled through anyio; a leg that fails starts the next one
    at once. What a cancelled leg had already completed is counted into the run's usage; a request still in flight
    reports nothing to the client, so it shows as a `CancelledError` attempt in the record.
    """

    record_kind = 'hedge'
    deterministic = False

    def __init__(
        self,
        wrapped: Step[InT, OutT],
        *,
        after: float,
        hedges: int = 1,
        clock: Clock = SYSTEM_CLOCK,
        name: str | None = None,
    ) -> None:
        if not is_number(after) or after < 0:
            raise ConfigurationError(f'hedge for {wrapped.name!r}: after must not be negative, got {after!r}')
        if not is_count(hedges) or hedges < 1:
            raise ConfigurationError(f'hedge for {wrapped.name!r}: hedges must be at least 1, got {hedges!r}')
        super().__init__(wrapped, name=name)
        self.after = after
        self.hedges = hedges
        self.clock = clock

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        race = _Race[OutT](self.clock.now())
        async with anyio.create_task_group() as group:
            group.start_soon(self._launch, input, flow, race, group)
        attempts = sorted([a for t in race.tries for a in t.attempts] + race.cancelled, key=lambda a: a.number)
        winner = race.winner
        if race.legs > 1 or winner is None:
            scope.detail['legs'] = race.legs
        if winner is None:
            scope.attempts.extend(attempts)
            fail([t.error for t in race.tries if t.error is not None], step=self.name, attempts=attempts)
        record_success(scope, attempts)
        scope.detail['winner'] = winner.attempt.number
        scope.output = winner.output
        return winner.output

    async def _launch(self, input: InT, flow: Flow, race: _Race[OutT], group: TaskGroup) -> None:
        for number in range(1, self.hedges + 2):
            race.legs = number
            race.failed = anyio.Event()  # any leg failing from now on starts the next one at once
            group.start_soon(self._leg, input, flow, race, group.cancel_scope, number)
            if number <= self.hedges:
                await _sleep_unless(self.clock, self.after, race.failed)

    async def _leg(self, input: InT, flow: Flow, race: _Race[OutT], scope: anyio.CancelScope, number: int) -> None:
        started = self.clock.now()
        try:
            tried = await try_step(self.wrapped, input, flow, number=number, waited=started - race.started)
        except anyio.get_cancelled_exc_class() as exc:
            _count_completed_usage(exc, flow)
            race.cancelled.append(
                Attempt(
                    number=number,
                    error=type(exc).__name__,
                    waited_s=started - race.started,
                    duration_s=self.clock.now() - started,
                )
            )
            raise
        race.tries.append(tried)
        if tried.error is not None:
            race.failed.set()
        elif race.winner is None:
            race.winner = tried
            scope.cancel()


async def _sleep_unless(clock: Clock, seconds: float, event: anyio.Event) -> None:
    """Sleep `seconds` on `clock`, or less if `event` is set first."""
    # anyio has no "first of two waits": run both in a task group, and whichever ends first cancels the other.
    async with anyio.create_task_group() as group:

        async def sleep() -> None:
            await clock.sleep(seconds)
            group.cancel_scope.cancel()

        group.start_soon(sleep)
        await event.wait()
        group.cancel_scope.cancel()


def _count_completed_usage(exc: BaseException, flow: Flow) -> None:
    """Count into the run the responses a cancelled agent run had already received (Pydantic-AI attaches them)."""
    partial = RunCancelled.from_cancellation(exc)
    if partial is None:
        return
    usage = RunUsage()
    for message in partial.new_messages():
        if isinstance(message, ModelResponse):
            usage.incr(message.usage)
            usage.requests += 1
    flow.usage.incr(usage)


def hedge(
    step: Step[InT, OutT], *, after: float, hedges: int = 1, clock: Clock = SYSTEM_CLOCK, name: str | None = None
) -> HedgeStep[InT, OutT]:
    """Run `step`, and again each time `after` seconds pass without an answer; the first success wins.

    Args:
        step: The step to hedge; it must be safe to run twice (no side effects beyond the model call).
        after: Seconds to wait for an answer before starting another leg: about the p90 latency of the step keeps
            extra calls near 10%.
        hedges: Extra legs at most.
        clock: Where time and sleep come from.
        name: The step's name; `hedge(<step>)` by default.

    The record shows every leg (a cancelled loser as a `CancelledError` attempt), `detail['legs']` and
    `detail['winner']`. When every leg failed, the run fails with the typed error for why.
    """
    return HedgeStep(step, after=after, hedges=hedges, clock=clock, name=name)
