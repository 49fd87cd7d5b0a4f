"""Durable runs on DBOS: a crashed run resumes from its last finished step, and runs can wait for a human.

`durable(workflow, db='sqlite:///runs.sqlite').run(input)`, or `await podium.durable.run(workflow, input)`.
"""

try:
    import dbos  # noqa: F401  # pyright: ignore[reportUnusedImport]
except ImportError as _missing:
    raise ImportError("podium.durable needs DBOS: pip install 'podium[durable]'") from _missing

from .._core._approval import Approval, approval
from .._core._decisions import Approve, Edit, Outcome, Reject, Review
from .._core._errors import DurableError, NotWaiting, ReplayMismatch, RunNotFound, StoreUnavailable
from ._hook import checkpointed
from ._runs import RunInfo, StepCheckpoint, approve, decide, list_runs, reject, show_run
from ._store import DEFAULT_DB
from ._workflow import DurableResult, DurableWorkflow, durable, run

__all__ = (
    'DEFAULT_DB',
    'Approval',
    'Approve',
    'DurableError',
    'DurableResult',
    'DurableWorkflow',
    'Edit',
    'NotWaiting',
    'Outcome',
    'Reject',
    'ReplayMismatch',
    'Review',
    'RunInfo',
    'RunNotFound',
    'StepCheckpoint',
    'StoreUnavailable',
    'approval',
    'approve',
    'checkpointed',
    'decide',
    'durable',
    'list_runs',
    'reject',
    'run',
    'show_run',
)
