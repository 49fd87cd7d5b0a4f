"""Human in the loop: a step that pauses a durable run until someone approves or rejects it, or time runs out."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, Literal, TypeAlias, overload

from dbos import DBOS
from typing_extensions import TypeVar

from .._core._errors import ConfigurationError
from .._core._flow import StepScope
from .._core._function import runtime_class
from .._core._step import Step, ensure_named
from .._core._traits import StepInfo
from ..agents._prompt import render_prompt
from ._replay import active_run, current_position

__all__ = ('WAITING_EVENT', 'Approval', 'Outcome', 'Review', 'approval', 'topic_for')

T = TypeVar('T')
T_co = TypeVar('T_co', covariant=True)

Outcome: TypeAlias = Literal['approved', 'rejected', 'timed_out']
"""How an approval ended: a reviewer's decision, or the wait's timeout (a run never waits forever)."""

WAITING_EVENT = 'podium.waiting'
"""The DBOS event a paused run sets to say which approval it waits at (and clears when the wait ends)."""

_DEFAULT_TIMEOUT = timedelta(days=7)


def topic_for(step_id: str) -> str:
    """The message topic of one approval wait: a decision reaches the step it was made for, never a later one."""
    return f'podium.approval:{step_id}'


@dataclass(frozen=True, kw_only=True, slots=True)
class Review(Generic[T_co]):
    """What came of an approval: the outcome, the value that was reviewed, and who decided why."""

    outcome: Outcome
    """`approved`, `rejected`, or `timed_out` when nobody decided within the step's timeout."""
    value: T_co
    """The step's input, passed on so the next step can act on it."""
    reason: str | None = None
    """The reviewer's reason, when one was given."""
    reviewer: str | None = None
    """Who decided, when the decision said so."""

    @property
    def approved(self) -> bool:
        """Whether the value was approved."""
        return self.outcome == 'approved'


class Approval(Step[T, Review[T]]):
    """Pauses the durable run until `podium approve`/`podium reject` (or `approve()`/`reject()`) decides.

    The wait is durable: the run can be killed and restarted while it waits, and a decision sent while no process
    runs it is delivered when one does. The output is a `Review` whose `outcome` a `branch` can dispatch on, so a
    rejection and a timeout take typed paths of their own.
    """

    def __init__(
        self,
        *,
        name: str = 'approval',
        timeout: timedelta | float = _DEFAULT_TIMEOUT,
        summary: Callable[[T], str] | None = None,
        input_type: type[T] | None = None,
    ) -> None:
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
        if seconds <= 0:
            raise ConfigurationError(f'approval {name!r}: timeout must be positive, got {timeout!r}')
        self.name = ensure_named(name, 'approval')
        self.timeout_s = seconds
        self.summary = summary
        self.input_class = runtime_class(input_type)
        self.output_class = Review

    record_kind = 'approval'

    def describe(self) -> StepInfo:
        return _PAUSES

    async def _run(self, input: T, scope: StepScope) -> Review[T]:
        position = current_position()
        if active_run() is None or position is None:
            raise ConfigurationError(
                f'approval step {self.name!r} can only wait inside a durable run: run the workflow with '
                'podium.durable (durable(workflow).run(...) or `podium run --durable`)'
            )
        waiting = {
            'step': position.sid,
            'name': self.name,
            'summary': self.summary(input) if self.summary is not None else render_prompt(input)[:500],
            'since': time.time(),
            'timeout_s': self.timeout_s,
        }
        await DBOS.set_event_async(WAITING_EVENT, waiting)
        message: dict[str, Any] | None = await DBOS.recv_async(topic_for(position.sid), timeout_seconds=self.timeout_s)
        await DBOS.set_event_async(WAITING_EVENT, None)
        if message is None:
            review = Review(outcome='timed_out', value=input, reason=f'no decision within {self.timeout_s:g} s')
        else:
            review = Review(
                outcome='approved' if message.get('approved') else 'rejected',
                value=input,
                reason=message.get('reason'),
                reviewer=message.get('reviewer'),
            )
        scope.route = review.outcome
        scope.reason = review.reason
        if review.reviewer is not None:
            scope.detail['reviewer'] = review.reviewer
        scope.output = review
        return review


_PAUSES = StepInfo(kind='call', pauses=True)


@overload
def approval(
    *, name: str = 'approval', timeout: timedelta | float = ..., summary: Callable[[T], str]
) -> Approval[T]: ...
@overload
def approval(*, name: str = 'approval', timeout: timedelta | float = ..., input_type: type[T]) -> Approval[T]: ...
@overload
def approval(*, name: str = 'approval', timeout: timedelta | float = ...) -> Approval[Any]: ...
def approval(
    *,
    name: str = 'approval',
    timeout: timedelta | float = _DEFAULT_TIMEOUT,
    summary: Callable[[Any], str] | None = None,
    input_type: type[Any] | None = None,
) -> Approval[Any]:
    """A step that waits for a human decision on its input; its output is a `Review` of that input.

    Args:
        name: The step's name, shown by `podium runs` while the run waits.
        timeout: How long to wait (a `timedelta` or seconds) before the outcome is `timed_out`. Seven days by
            default: every wait in podium is bounded.
        summary: What the reviewer is shown; the input's default prompt rendering by default.
        input_type: The input class, checked when chaining, when `summary` does not tell it.
    """
    return Approval(name=name, timeout=timeout, summary=summary, input_type=input_type)
