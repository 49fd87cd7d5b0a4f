"""Run hooks: how tracing, durability, events and guards reach every step without any step knowing them.

A hook object is called at fixed points of `Step.invoke`, the one place a step runs (as Starlette's middleware
wraps one ASGI callable and Pydantic-AI's capabilities hook into one agent loop). Hooks belong to a run: they are
passed to `Step.run(hooks=...)`, or installed process-wide by `podium.instrument()` through `default_hooks`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._events import RunEvent
    from ._flow import Flow, StepScope
    from ._records import StepRecord
    from ._step import AnyStep

__all__ = ('RunHook', 'default_hooks', 'set_default_hooks')

Proceed = Callable[[], Awaitable[Any]]


class RunHook:
    """Override what you need; every method does nothing by default.

    The order of hooks is the order they were given: `step_started` and `around_step` run outermost first,
    `step_finished` in reverse, as a stack of context managers would.
    """

    wraps_steps: bool = False
    """Set to `True` when `around_step` is overridden, so runs without such a hook skip the extra call per step."""
    listens: bool = False
    """Set to `True` when `on_event` is overridden: steps build events only when some hook of the run listens."""
    gates_approvals: bool = False
    """Set to `True` by a hook that makes approval steps wait itself (a durable run's): the run then never pauses."""

    def run_started(self, flow: Flow[Any]) -> None:
        """A run is about to invoke its workflow."""

    def run_finished(self, flow: Flow[Any], error: BaseException | None) -> None:
        """A run ended, with its output (`error` is `None`) or with `error`."""

    def step_started(self, scope: StepScope) -> None:
        """A step's record has opened (steps that leave no record, such as unnamed chains, do not call this)."""

    def step_finished(self, scope: StepScope, record: StepRecord, error: BaseException | None) -> None:
        """A step's record is complete; `error` is what the step raised, if anything."""

    def on_event(self, event: RunEvent) -> None:
        """A step said what happened (a step started or finished, a route, an attempt, a delta, ...)."""

    async def around_step(self, step: AnyStep, input: Any, scope: StepScope, proceed: Proceed) -> Any:
        """Run the step by awaiting `proceed()`, or return its output without running it (a replay)."""
        return await proceed()


_defaults: list[RunHook] = []
"""The hooks every run gets before its own, set by `podium.instrument()`: the one process-wide switch podium has,
as Logfire's own `instrument_*` calls are; a run can still pass its own hooks."""


def default_hooks() -> tuple[RunHook, ...]:
    """The hooks installed for every run of this process."""
    return tuple(_defaults)


def set_default_hooks(hooks: tuple[RunHook, ...]) -> None:
    """Replace the hooks every run gets (used by `podium.instrument()` and `podium.uninstrument()`)."""
    _defaults[:] = hooks
