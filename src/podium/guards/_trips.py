"""Which guards tripped in a run, read from its records: the same for a finished run and a blocked one."""

from __future__ import annotations

from typing import Any

from .._core._errors import WorkflowError
from .._core._records import RunResult, StepRecord
from ._guard import TRIPPING_ACTIONS

__all__ = ('tripped', 'tripped_guards')


def tripped(run: RunResult[Any] | WorkflowError) -> tuple[StepRecord, ...]:
    """The records of the guards that acted in `run` (blocked, sent to a safe response, or redacted), in run order.

    Pass a `RunResult`, or the `WorkflowError` a run raised (a `GuardTripped` carries the records too).
    """
    records = run.steps if isinstance(run, RunResult) else run.records
    return tuple(r for r in records if r.kind == 'guard' and r.route in TRIPPING_ACTIONS)


def tripped_guards(run: RunResult[Any] | WorkflowError) -> tuple[str, ...]:
    """The names of the guards that acted in `run`, in run order, each once."""
    return tuple(dict.fromkeys(r.name for r in tripped(run)))
