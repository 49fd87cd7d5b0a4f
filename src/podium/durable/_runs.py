"""Looking at durable runs and deciding on paused ones, from any process, without the workflows' code.

Everything here reads the run store through a DBOS client: checkpoints keep a plain summary beside their pickled
values, so listing and showing runs never needs to import the classes a workflow outputs.
"""

from __future__ import annotations

import base64
import io
import pickle
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias, cast

from dbos import DBOSClient, StepInfo, WorkflowStatus
from pydantic_ai.messages import ModelResponse

from .._core._decisions import Approve, Decision, Edit, Reject
from .._core._errors import InvalidDecision, NotWaiting, RunNotFound, StoreUnavailable
from .._core._records import JSONValue
from .._core._redact import describe
from ._approval import WAITING_EVENT, message_for, topic_for
from ._replay import PREFIX, plain
from ._store import Store
from ._workflow import SUMMARY_EVENT, WORKFLOW_NAME

__all__ = ('DurableState', 'RunInfo', 'StepCheckpoint', 'approve', 'decide', 'list_runs', 'reject', 'show_run')

DurableState: TypeAlias = Literal['queued', 'running', 'waiting', 'ok', 'degraded', 'failed', 'cancelled']

_STATES: dict[str, DurableState] = {
    'ENQUEUED': 'queued',
    'DELAYED': 'queued',
    'PENDING': 'running',
    'SUCCESS': 'ok',
    'ERROR': 'failed',
    'MAX_RECOVERY_ATTEMPTS_EXCEEDED': 'failed',
    'CANCELLED': 'cancelled',
}


@dataclass(frozen=True, kw_only=True, slots=True)
class StepCheckpoint:
    """One thing a durable run recorded, in the order it recorded them."""

    number: int
    """DBOS's step number within the run."""
    kind: Literal['step', 'choice', 'model', 'decision']
    """A checkpointed step, a recorded choice, a router's model request, or an approval decision."""
    step: str
    """The step's position id (`workflow/chain/step#n`), or the router for a model request."""
    records: tuple[dict[str, JSONValue], ...] = ()
    """The step records of a checkpointed step (summaries), in start order."""
    output: JSONValue = None
    """The chosen child of a choice, the decision of an approval."""
    usage: dict[str, int] = field(default_factory=dict[str, int])
    """Requests and tokens this checkpoint cost."""
    error: str | None = None
    """What the step raised, when it failed."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RunInfo:
    """A durable run as `podium runs` lists it."""

    run_id: str
    workflow: str
    """The name the workflow was made durable under."""
    state: DurableState
    step: str | None
    """Where the run is: the approval it waits at, or the last step it finished."""
    usage: dict[str, int]
    """Requests and tokens so far."""
    created_at: datetime | None
    error: str | None = None
    waiting: dict[str, JSONValue] | None = None
    """What a waiting run waits for: the approval step's id, name and summary."""
    checkpoints: tuple[StepCheckpoint, ...] = ()
    summary: dict[str, JSONValue] | None = None
    """`RunResult.summary()` of a finished run: every step record and the output."""


def list_runs(db: str | None = None, *, limit: int = 50) -> list[RunInfo]:
    """The most recent durable runs in the store, newest first."""
    with _client(db) as client:
        statuses = client.list_workflows(
            name=WORKFLOW_NAME, limit=limit, sort_desc=True, load_input=False, load_output=False
        )
        return [_info(client, status, detail=False) for status in statuses]


def show_run(run_id: str, db: str | None = None) -> RunInfo:
    """One run with every checkpoint it recorded and, once finished, its full summary."""
    with _client(db) as client:
        return _info(client, _status(client, run_id), detail=True)


def approve(run_id: str, *, db: str | None = None, reviewer: str | None = None, reason: str | None = None) -> None:
    """Approve the run waiting at an approval step; it resumes in whichever process runs it (now or later)."""
    decide(run_id, Approve(reviewer=reviewer, reason=reason), db=db)


def reject(run_id: str, *, reason: str, db: str | None = None, reviewer: str | None = None) -> None:
    """Reject the run waiting at an approval step; the approval's `Review.outcome` is `rejected`."""
    decide(run_id, Reject(reason=reason, reviewer=reviewer), db=db)


def decide(run_id: str, decision: Decision, *, db: str | None = None) -> None:
    """Send `decision` (`Approve`, `Reject` or `Edit`, as `workflow.resume` takes) to the run waiting at an approval.

    Raises:
        InvalidDecision: when it is no decision, or an edit of another type than the approval reviews.
        NotWaiting: when the run waits for no decision.
    """
    with _client(db) as client:
        status = _status(client, run_id)
        waiting = _waiting(client, status)
        if waiting is None:
            state = _STATES.get(status.status, 'running')
            raise NotWaiting(
                f'run {run_id} is not waiting for a decision (it is {state}); only a run paused at an approval '
                'step can be approved or rejected'
            )
        _check_edit(decision, waiting)
        client.send(run_id, message_for(decision), topic_for(str(waiting['step'])))


def _check_edit(decision: object, waiting: dict[str, JSONValue]) -> None:
    """Check the decision here, as the waiting run's classes may not be importable in this process: by name."""
    if not isinstance(decision, Approve | Reject | Edit):
        raise InvalidDecision(
            f'a decision is podium.Approve(), podium.Reject(reason=...) or podium.Edit(value=...), got '
            f'{type(decision).__qualname__}'
        )
    wanted = waiting.get('input_type')
    if isinstance(decision, Edit) and isinstance(wanted, str):
        value = cast('Edit[object]', decision).value
        if wanted not in {f'{c.__module__}:{c.__qualname__}' for c in type(value).__mro__}:
            raise InvalidDecision(
                f'approval {waiting["name"]!r} reviews a {wanted.partition(":")[2]}, but the edit is a '
                f'{type(value).__qualname__}'
            )


@contextmanager
def _client(db: str | None) -> Generator[DBOSClient]:
    store = Store.resolve(db)
    client = store.client()
    try:
        yield client
    except (RunNotFound, NotWaiting, InvalidDecision):
        raise
    except Exception as exc:
        if type(exc).__module__.startswith(('sqlalchemy', 'psycopg', 'sqlite3')):
            raise StoreUnavailable(f'cannot read the run store at {store.display}: {exc}') from exc
        raise
    finally:
        client.destroy()


def _status(client: DBOSClient, run_id: str) -> WorkflowStatus:
    found = client.list_workflows(workflow_ids=[run_id], load_input=False, load_output=False)
    if not found or found[0].name != WORKFLOW_NAME:
        raise RunNotFound(f'no durable run {run_id!r}: `podium runs` lists the runs there are')
    return found[0]


def _waiting(client: DBOSClient, status: WorkflowStatus) -> dict[str, JSONValue] | None:
    if status.status not in ('PENDING', 'ENQUEUED'):
        return None
    waiting: dict[str, JSONValue] | None = client.get_event(status.workflow_id, WAITING_EVENT, timeout_seconds=0)
    return waiting


def _info(client: DBOSClient, status: WorkflowStatus, *, detail: bool) -> RunInfo:
    checkpoints = tuple(c for c in map(_checkpoint, client.list_workflow_steps(status.workflow_id)) if c is not None)
    waiting = _waiting(client, status)
    state = 'waiting' if waiting is not None else _STATES.get(status.status, 'running')
    summary: dict[str, JSONValue] | None = None
    if state == 'ok':
        summary = client.get_event(status.workflow_id, SUMMARY_EVENT, timeout_seconds=0)
        if summary is not None and summary.get('status') == 'degraded':
            state = 'degraded'
    usage: dict[str, int] = {'requests': 0, 'input_tokens': 0, 'output_tokens': 0}
    for checkpoint in checkpoints:
        for key in usage:
            usage[key] += checkpoint.usage.get(key, 0)
    step = str(waiting['name']) if waiting is not None else next((c.step for c in reversed(checkpoints)), None)
    created = datetime.fromtimestamp(status.created_at / 1000, UTC) if status.created_at else None
    return RunInfo(
        run_id=status.workflow_id,
        workflow=status.config_name or '?',
        state=state,
        step=step,
        usage=usage,
        created_at=created,
        error=_error(client, status),
        waiting=waiting,
        checkpoints=checkpoints if detail else (),
        summary=summary if detail else None,
    )


def _error(client: DBOSClient, status: WorkflowStatus) -> str | None:
    """What a failed run raised; read apart, as a failed run has no output whose classes would need importing."""
    if status.status not in ('ERROR', 'MAX_RECOVERY_ATTEMPTS_EXCEEDED'):
        return None
    (failed,) = client.list_workflows(workflow_ids=[status.workflow_id], load_input=False, load_output=True)
    error: object = failed.error
    if isinstance(error, str):  # DBOS could not unpickle it: it carries records of classes this process lacks
        error = _unpickle_leniently(error)
    return None if error is None else describe(error)


class _Absent:
    """Stands in for a class this process cannot import, so an error that mentions one still reads."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        del args, kwargs

    def __setstate__(self, state: object) -> None:
        del state


class _LenientUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return _Absent


def _unpickle_leniently(encoded: str) -> object:
    try:
        return _LenientUnpickler(io.BytesIO(base64.b64decode(encoded))).load()
    except Exception:  # not a pickle after all: show it as it is
        return encoded


def _checkpoint(info: StepInfo) -> StepCheckpoint | None:
    name = info['function_name']
    error = None if info['error'] is None else describe(info['error'])
    output: Any = info['output']
    if name.startswith(f'{PREFIX}step:'):
        stored: dict[str, Any] = output or {}
        return StepCheckpoint(
            number=info['function_id'],
            kind='step',
            step=name.removeprefix(f'{PREFIX}step:'),
            records=tuple(stored.get('records', ())),
            usage=dict(stored.get('usage', {})),
            error=error or stored.get('failure'),
        )
    if name.startswith(f'{PREFIX}choice:'):
        return StepCheckpoint(
            number=info['function_id'], kind='choice', step=name.removeprefix(f'{PREFIX}choice:'), output=output
        )
    if name.startswith(f'{PREFIX}router:'):
        usage = {'requests': 1}
        if isinstance(output, ModelResponse):
            usage |= {'input_tokens': output.usage.input_tokens, 'output_tokens': output.usage.output_tokens}
        router = name.removeprefix(f'{PREFIX}router:').partition('__')[0]
        return StepCheckpoint(number=info['function_id'], kind='model', step=router, usage=usage, error=error)
    if name == 'DBOS.recv':
        return StepCheckpoint(number=info['function_id'], kind='decision', step='approval', output=plain(output))
    return None
