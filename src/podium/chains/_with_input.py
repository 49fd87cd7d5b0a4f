"""`with_input`: pass a step's input on beside its output, so a later step gets both, typed."""

from __future__ import annotations

from typing_extensions import TypeVar

from .._core._flow import StepScope
from .._core._step import Step, require_step
from .._core._traits import StepInfo

__all__ = ('WithInput', 'with_input')

InT = TypeVar('InT')
OutT = TypeVar('OutT')
DepsT = TypeVar('DepsT', default=None)


class WithInput(Step[InT, tuple[InT, OutT], DepsT]):
    """Runs `step` and outputs `(input, output)`; it leaves no record of its own, `step`'s record says it all.

    The typed answer to LangChain's `RunnablePassthrough.assign`: instead of merging keys into an untyped dict, the
    next step takes a tuple whose parts the type checker knows.
    """

    record_kind = 'with_input'
    _transparent = True

    def __init__(self, step: Step[InT, OutT, DepsT]) -> None:
        self.step = require_step(step, 'with_input(step)')
        self.name = f'with_input({step.name})'
        self.input_class = step.input_class
        self._info = StepInfo(kind='wrapper', children=[('', step)], transparent=True)

    def describe(self) -> StepInfo:
        return self._info

    async def _run(self, input: InT, scope: StepScope) -> tuple[InT, OutT]:
        return input, await self.step.invoke(input, scope.flow)


def with_input(step: Step[InT, OutT, DepsT]) -> Step[InT, tuple[InT, OutT], DepsT]:
    """Run `step`, and pass its input on with its output, so the next step gets both, typed.

    In `extract >> with_input(plan) >> answer`, `answer` takes `tuple[Facts, Plan]`. For outputs of steps further
    back, or the run's own input, read `flow.output_of(step)` and `flow.run_input` in a function step or a prompt
    callable that takes the `Flow`.
    """
    return WithInput(step)
