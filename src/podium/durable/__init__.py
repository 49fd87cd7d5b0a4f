"""Durable runs on DBOS: a crashed run resumes from its last finished step, and runs can wait for a human.

`durable(workflow, db='sqlite:///runs.sqlite').run(input)`, or `await podium.durable.run(workflow, input)`.
"""

try:
    import dbos  # noqa: F401  # pyright: ignore[reportUnusedImport]
except ImportError as _missing:
    raise ImportError("podium.durable needs DBOS: pip install 'podium[durable]'") from _missing

from .._core._errors import DurableError, NotWaiting, ReplayMismatch, RunNotFound, StoreUnavailable
from ._approval import Approval, Outcome, Review, approval
from ._hook import checkpointed
from ._runs import RunInfo, StepCheckpoint, approve, list_runs, reject, show_run
from ._store import DEFAULT_DB
from ._workflow import DurableResult, DurableWorkflow, durable, run

__all__ = (
    'DEFAULT_DB',
    'Approval',
    'DurableError',
    'DurableResult',
    'DurableWorkflow',
    'NotWaiting',
    'Outcome',
    'ReplayMismatch',
    'Review',
    'RunInfo',
    'RunNotFound',
    'StepCheckpoint',
    'StoreUnavailable',
    'approval',
    'approve',
    'checkpointed',
    'durable',
    'list_runs',
    'reject',
    'run',
    'show_run',
)
