"""The approval step: waits for a person to approve, reject or edit its input, in any run (see `_decisions`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, overload

from typing_extensions import TypeVar

from ._arguments import require_seconds
from ._decisions import Approve, Decision, Edit, Outcome, Review, check_decision, current_gate
from ._errors import ConfigurationError
from ._function import runtime_class
from ._render import render_prompt
from ._step import Step, ensure_named
from ._traits import StepInfo

if TYPE_CHECKING:
    from ._flow import StepScope

__all__ = ('Approval', 'approval')

T = TypeVar('T')

_DEFAULT_TIMEOUT = timedelta(days=7)


class Approval(Step[T, Review[T]]):
    """Waits for a person's decision on its input: pauses an ordinary run, or waits inside a durable one.

    An ordinary run returns a paused `RunResult` holding a resume token; `workflow.resume(token, decision)` runs
    the workflow again with every finished step's output replayed, and this step outputs the decision. A durable
    run waits for `podium approve`/`podium reject` (or `podium.durable.decide()`), also across restarts.
    """

    record_kind = 'approval'

    def __init__(
        self,
        *,
        name: str = 'approval',
        timeout: timedelta | float = _DEFAULT_TIMEOUT,
        summary: Callable[[T], str] | None = None,
        input_type: type[T] | None = None,
    ) -> None:
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        require_seconds(seconds, f'approval {name!r}: timeout')
        self.name = ensure_named(name, 'approval')
        self.timeout_s = seconds
        self.summary = summary
        self.input_class = runtime_class(input_type)
        self.output_class = Review

    def describe(self) -> StepInfo:
        return _PAUSES

    def summarize(self, input: T) -> str:
        """What the reviewer is shown for `input`."""
        return self.summary(input) if self.summary is not None else render_prompt(input)[:500]

    async def _run(self, input: T, scope: StepScope) -> Review[T]:
        gate = current_gate()
        if gate is None:
            raise ConfigurationError(
                f'approval step {self.name!r} ran outside a run of a workflow that contains it: run the workflow '
                '(workflow.run(...)) rather than calling the step from a tool or a custom step'
            )
        decision = await gate.decide(self, input, self.summarize(input), scope)
        review = self.review(input, decision)
        scope.route = review.outcome
        scope.reason = review.reason
        if review.reviewer is not None:
            scope.detail['reviewer'] = review.reviewer
        if review.edited:
            scope.detail['edited'] = True
        return review

    def review(self, input: T, decision: Decision | None) -> Review[T]:
        """The review a decision (or `None`, the timeout) makes of `input`."""
        if decision is None:
            return Review(outcome='timed_out', value=input, reason=f'no decision within {self.timeout_s:g} s')
        decision = check_decision(self, decision)
        if isinstance(decision, Edit):
            edited: T = decision.value
            return Review(
                outcome='approved', value=edited, reason=decision.reason, reviewer=decision.reviewer, edited=True
            )
        outcome: Outcome = 'approved' if isinstance(decision, Approve) else 'rejected'
        return Review(outcome=outcome, value=input, reason=decision.reason, reviewer=decision.reviewer)


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
        timeout: How long to wait (a `timedelta` or seconds) before the outcome is `timed_out`; a paused run
            resumed later than that takes the `timed_out` path whatever the decision. Seven days by default: every
            wait in podium is bounded.
        summary: What the reviewer is shown; the input's default prompt rendering by default.
        input_type: The input class, checked when chaining and on an `Edit`, when `summary` does not tell it.
    """
    return Approval(name=name, timeout=timeout, summary=summary, input_type=input_type)
