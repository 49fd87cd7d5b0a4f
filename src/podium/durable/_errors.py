"""Errors of durable runs.

They hang off podium's two roots, so `except WorkflowError` and `except PodiumError` keep working::

    PodiumError
    ├── DurableError                      the run store cannot do what was asked
    │   ├── StoreUnavailable              the database URL cannot be reached or opened
    │   ├── RunNotFound (LookupError)     no run has that id
    │   └── NotWaiting                    approve/reject on a run that is not waiting for a decision
    └── WorkflowError
        └── ReplayMismatch                a resumed run no longer matches the workflow that recorded it
"""

from __future__ import annotations

from .._core._errors import PodiumError, WorkflowError

__all__ = ('DurableError', 'NotWaiting', 'ReplayMismatch', 'RunNotFound', 'StoreUnavailable')


class DurableError(PodiumError):
    """Raised when the run store cannot do what was asked; the message says what to check."""


class StoreUnavailable(DurableError):
    """Raised when the database URL cannot be reached, or the SQLite file is not a run store."""


class RunNotFound(DurableError, LookupError):
    """Raised when no durable run has the given id."""


class NotWaiting(DurableError):
    """Raised when a run is approved or rejected while it is not waiting at an approval step."""


class ReplayMismatch(WorkflowError):
    """Raised when a resumed run reaches a step that no longer matches what the run recorded.

    The workflow changed between the crash and the restart in a way that replay cannot paper over: a step was
    renamed, moved, added before the crash point, took another path, or now outputs another type. `step` names
    the step; the run stops rather than mix old checkpoints with new code.
    """
