"""Where a durable run is: its replay state on DBOS, over the positions and checkpoint format of `_checkpoint`.

A step's id is derived from its position (see `podium._core._checkpoint`), not from the order DBOS happens to
number things. DBOS numbers each checkpoint in call order and checks the recorded name at each number, so the id
doubles as the replay check: a resumed run whose steps moved, were renamed or were inserted before the crash point
hits a name that does not match and stops with `ReplayMismatch` naming the step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from dbos import DBOS, StepOptions
from dbos._error import DBOSUnexpectedStepError

from .._core._checkpoint import Checkpoint, Position, Positions, decode, encode, plain
from .._core._errors import ReplayMismatch
from .._core._records import JSONValue

__all__ = (
    'Checkpoint',
    'Position',
    'RunState',
    'active_run',
    'checkpoint_step',
    'current_position',
    'enter',
    'plain',
)

T = TypeVar('T')

PREFIX = 'podium:'
"""Every DBOS step podium records starts with this, so listings can tell podium's checkpoints from DBOS's own."""

_run: ContextVar[RunState | None] = ContextVar('podium_durable_run', default=None)
_position: ContextVar[Position | None] = ContextVar('podium_durable_position', default=None)


@dataclass(eq=False)
class RunState(Positions):
    """What one durable run tracks while it runs or replays."""

    async def record(
        self,
        label: str,
        position: Position,
        fn: Callable[[], Coroutine[Any, Any, T]],
        options: StepOptions | None = None,
    ) -> T:
        """Run `fn` as a DBOS step named after `position`, or return what it recorded when replaying."""
        step_options: StepOptions = {**(options or {}), 'name': f'{PREFIX}{label}:{position.sid}'}
        try:
            return await DBOS.run_step_async(step_options, fn)
        except DBOSUnexpectedStepError as exc:
            recorded = str(exc.inputs[3])
            raise ReplayMismatch(
                f'the workflow changed since run {self.run_id} was recorded: step {position.sid!r} now runs where '
                f'the run recorded {_readable(recorded)!r}. Finish or cancel old runs before changing the order, '
                'names or paths of their steps.',
                step=position.name,
            ) from exc

    async def choice(self, parent: Position, child: Position) -> None:
        """Record which child a choosing step ran; on replay, check it is still the same one."""

        async def chosen() -> str:
            return child.sid

        recorded = await self.record('choice', parent, chosen)
        if recorded != child.sid:
            raise ReplayMismatch(
                f'the workflow changed since run {self.run_id} was recorded: step {parent.sid!r} chose '
                f'{recorded!r} then but chooses {child.sid!r} now, from the same checkpointed inputs.',
                step=parent.name,
            )


def active_run() -> RunState | None:
    """The durable run this code is part of, when it runs as workflow code (not inside a DBOS step)."""
    run = _run.get()
    if run is None or DBOS.workflow_id is None or DBOS.step_id is not None:
        return None
    return run


def current_position() -> Position | None:
    """The position of the innermost step running in this context."""
    return _position.get()


class enter:
    """Make `position` the current one (or, with `run`, start a run's state) for the duration of a `with`."""

    __slots__ = ('_run', '_run_token', '_token', 'position')

    def __init__(self, position: Position | None = None, *, run: RunState | None = None) -> None:
        self.position = position
        self._run = run

    def __enter__(self) -> None:
        self._token = _position.set(self.position)
        self._run_token = _run.set(self._run) if self._run is not None else None

    def __exit__(self, *exc: object) -> None:
        _position.reset(self._token)
        if self._run_token is not None:
            _run.reset(self._run_token)


async def checkpoint_step(
    run: RunState,
    position: Position,
    label: str,
    body: Callable[[], Awaitable[Checkpoint]],
    schemas: dict[type[Any], str | None],
    options: StepOptions,
) -> tuple[Checkpoint, bool]:
    """Run `body` as one DBOS step; return its checkpoint and whether it came from the store (a replay)."""
    live: list[Checkpoint] = []

    async def step() -> dict[str, JSONValue | bytes]:
        result = await body()
        live.append(result)
        return encode(result, schemas)

    stored = await run.record(label, position, step, options)
    if live:
        return live[0], False
    return decode(stored, position, run.run_id, schemas), True


def _readable(recorded: str) -> str:
    return recorded.removeprefix(PREFIX).partition(':')[2] or recorded
