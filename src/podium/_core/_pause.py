"""Pausing an ordinary run at an approval step, and resuming it, with no database but the store you pass.

A workflow that contains an approval step runs with a `Journal` as its innermost run hook. The journal keys every
step invocation by its position (`_checkpoint.Position`) and keeps what each finished unit returned: agent calls,
function steps and the other steps a replay must not run twice (what `StepInfo.deterministic` and `kind` say),
and the model responses of LLM routers on the way. When an approval step finds no decision, the run stops
(`Paused`, caught by `Step.run`) and the journal becomes a `RunSnapshot` in the store.

`resume` runs the workflow again from its input with a journal that replays: a stored unit returns its stored
output, records and usage without running (as a durable run replays its checkpoints), an LLM router's agent gets its
recorded responses back, composite steps re-run as the glue they are, and the approval step returns the decision.
Nothing that finished before the pause is called again.
"""

from __future__ import annotations

import hashlib
import pickle
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

from pydantic_ai.messages import ModelMessage, ModelMessagesTypeAdapter, ModelResponse
from pydantic_ai.models import Model, ModelRequestParameters, infer_model
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings

from ._checkpoint import Checkpoint, Position, Positions, decode, encode, plan_steps
from ._decisions import ApprovalGate, Decision, Waiting, check_decision, use_gate
from ._errors import ConfigurationError, InvalidDecision, ReplayMismatch, WrongWorkflow
from ._flow import Flow, StepScope, copy_usage
from ._hooks import RunHook
from ._records import PausedRun, RunResult, StepRecord
from ._run_store import InMemoryRunStore, RunSnapshot, RunStore, StoredStep

if TYPE_CHECKING:
    from ._step import AnyStep
    from ._traits import StepInfo

__all__ = ('DEFAULT_STORE', 'Journal', 'Paused', 'journal_for', 'paused_result', 'resume_run')

Plan: TypeAlias = Literal['unit', 'router', 'approval', 'glue']

DEFAULT_STORE: RunStore = InMemoryRunStore()
"""Where runs pause when given no `store=`: this process's memory, so the same process must resume them."""

_position: ContextVar[Position | None] = ContextVar('podium_pause_position', default=None)
_inside_unit: ContextVar[bool] = ContextVar('podium_pause_inside_unit', default=False)


class Paused(BaseException):
    """An approval step found no decision: the run stops here. Control flow, caught by `Step.run`; never leaves it.

    A `BaseException`, as cancellation is, so that fallbacks and retries, which handle `Exception`, let it pass
    instead of taking it for a failure.
    """

    record_status: ClassVar[Literal['paused']] = 'paused'
    """How the records of the steps it stops read (see `StepScope.close`)."""

    def __init__(self, position: Position, step: Waiting, summary: str) -> None:
        super().__init__(position.sid)
        self.position = position
        self.step = step
        self.summary = summary


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a journal needs to know of a workflow, worked out once per workflow."""

    plans: dict[int, Plan]
    fingerprint: str
    approvals: dict[str, AnyStep]
    """The approval steps by position path."""


_SHAPES: weakref.WeakKeyDictionary[AnyStep, _Shape | None] = weakref.WeakKeyDictionary()
"""Each workflow's shape, or `None` for one without approval steps (which runs without a journal)."""


def _plan_for(step: AnyStep, info: StepInfo) -> Plan:
    if info.pauses:
        return 'approval'
    if info.decides_with is not None:
        return 'router'
    if not info.deterministic or info.kind == 'call':
        return 'unit'
    return 'glue'


def _shape_of(workflow: AnyStep) -> _Shape | None:
    if workflow in _SHAPES:
        return _SHAPES[workflow]
    approvals: dict[str, AnyStep] = {}
    digest = hashlib.sha256()

    def visit(step: AnyStep, path: str) -> None:
        info = step.describe()
        digest.update(f'{path}:{info.kind};'.encode())
        if info.pauses:
            approvals[path] = step
        for _, child in info.children:
            visit(child, f'{path}/{child.name}')

    visit(workflow, workflow.name)
    shape = None
    if approvals:
        shape = _Shape(plan_steps(workflow, _plan_for, lambda plan: plan == 'unit'), digest.hexdigest()[:16], approvals)
    _SHAPES[workflow] = shape
    return shape


@dataclass(eq=False)
class _Resume:
    """A resume in progress: the snapshot it started from, and the decision for the step that paused."""

    workflow: AnyStep
    snapshot: RunSnapshot
    decision: Decision
    consumed: bool = False


_resuming: ContextVar[_Resume | None] = ContextVar('podium_resuming', default=None)


class _Tape(WrapperModel):
    """An LLM router's model in a run that may pause: hands back recorded responses first, records new ones."""

    def __init__(self, wrapped: Model, recorded: Sequence[ModelResponse]) -> None:
        super().__init__(wrapped)
        self._replay = list(recorded)
        self.responses: list[ModelResponse] = []

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        if self._replay:
            response = self._replay.pop(0)
        else:
            response = await super().request(messages, model_settings, model_request_parameters)
        self.responses.append(response)
        return response


class Journal(RunHook, ApprovalGate):
    """The innermost hook of a run of a workflow with approval steps: records (or replays) each finished unit."""

    wraps_steps = True

    def __init__(self, workflow: AnyStep, shape: _Shape, store: RunStore, resume: _Resume | None) -> None:
        self.workflow = workflow
        self.shape = shape
        self.store = store
        self.resume = resume
        snapshot = None if resume is None else resume.snapshot
        self.positions = Positions(run_id='new' if snapshot is None else snapshot.token)
        self.stored: dict[str, StoredStep] = {} if snapshot is None else dict(snapshot.steps)
        self.recorded_tapes: dict[str, bytes] = {} if snapshot is None else dict(snapshot.tapes)
        self.finished: dict[str, Checkpoint] = {}
        self.tapes: dict[str, list[ModelResponse]] = {}
        self.schemas: dict[type[Any], str | None] = {}
        self.interrupted: set[int] = set()
        """The records of steps the pause stopped (the approval and the steps around it): not results of the run."""

    def step_finished(self, scope: StepScope, record: StepRecord, error: BaseException | None) -> None:
        if isinstance(error, Paused):
            self.interrupted.add(id(record))

    async def around_step(
        self, step: AnyStep, input: Any, scope: StepScope, proceed: Callable[[], Awaitable[Any]]
    ) -> Any:
        if _inside_unit.get():
            return await proceed()
        plan = self.shape.plans.get(id(step), 'unit')  # a step built while the run ran: one unit, to be safe
        position = self.positions.position(_position.get(), step.name, chooses=False)
        reset = _position.set(position)
        try:
            if plan == 'glue':
                return await proceed()
            if plan == 'router':
                return await self._router(step, position, proceed)
            return await self._unit(step, scope, position, proceed, gate=plan == 'approval')
        finally:
            _position.reset(reset)

    async def _router(self, step: AnyStep, position: Position, proceed: Callable[[], Awaitable[Any]]) -> Any:
        agent = step.describe().decides_with
        source = None if agent is None else agent.model
        if agent is None or source is None:
            return await proceed()
        recorded = self.recorded_tapes.get(position.sid)
        replay = [] if recorded is None else ModelMessagesTypeAdapter.validate_json(recorded)
        tape = _Tape(
            source if isinstance(source, Model) else infer_model(source),
            [m for m in replay if isinstance(m, ModelResponse)],
        )
        self.tapes[position.sid] = tape.responses
        with agent.override(model=tape):
            return await proceed()

    async def _unit(
        self,
        step: AnyStep,
        scope: StepScope,
        position: Position,
        proceed: Callable[[], Awaitable[Any]],
        *,
        gate: bool,
    ) -> Any:
        flow = scope.flow
        own_record = not step.describe().transparent
        stored = self.stored.get(position.sid)
        if stored is not None:
            return self._replay(step, scope, position, stored, own_record)
        mark = flow.mark()
        before = copy_usage(flow.usage)
        inside = _inside_unit.set(True)
        try:
            if gate:
                with use_gate(self):
                    output = await proceed()
            else:
                output = await proceed()
        except Exception as exc:
            own = (scope.snapshot(exc),) if own_record else ()
            self.finished[position.sid] = Checkpoint(None, (*own, *flow.records_since(mark)), flow.usage - before, exc)
            raise
        finally:
            _inside_unit.reset(inside)
        own = (replace(scope.snapshot(), output=output),) if own_record else ()
        self.finished[position.sid] = Checkpoint(output, (*own, *flow.records_since(mark)), flow.usage - before)
        return output

    def _replay(self, step: AnyStep, scope: StepScope, position: Position, stored: StoredStep, own: bool) -> Any:
        run_id = self.positions.run_id
        checkpoint = decode(
            {'value': stored.value, 'schema': stored.fingerprint, 'error': stored.error}, position, run_id, self.schemas
        )
        cls = step.output_class
        if checkpoint.error is None and cls is not None and not isinstance(checkpoint.output, cls):
            raise ReplayMismatch(
                f'the workflow changed since run {run_id} paused: step {position.sid!r} returned a '
                f'{type(checkpoint.output).__qualname__} but now outputs {cls.__qualname__}',
                step=position.name,
            )
        # The replayed step's records and usage go back into the run as if it had just run (the run-wide limits
        # still apply); its own record takes what the stored one says the step did.
        records = checkpoint.records
        if own and records:
            scope.adopt(records[0])
            records = records[1:]
        scope.flow.add_records(records)
        scope.flow.add_usage(checkpoint.usage, step=position.name)
        self.finished[position.sid] = checkpoint
        if checkpoint.error is not None:
            raise checkpoint.error
        return checkpoint.output

    async def decide(self, step: Waiting, input: Any, summary: str, scope: StepScope) -> Decision | None:
        position = _position.get()
        assert position is not None  # the journal set it around this step
        resume = self.resume
        if resume is not None and position.sid == resume.snapshot.paused.position:
            resume.consumed = True
            if time.time() > resume.snapshot.paused.expires_at:
                return None  # decided after the approval's timeout: the run takes the timed-out path
            return resume.decision
        raise Paused(position, step, summary)

    def snapshot(self, pause: Paused, flow: Flow[Any], history: tuple[ModelMessage, ...] | None) -> RunSnapshot:
        """The paused run as the store keeps it."""
        now = time.time()
        paused = PausedRun(
            token=_new_token(),
            workflow=self.workflow.name,
            step=pause.step.name,
            position=pause.position.sid,
            summary=pause.summary,
            since=now,
            expires_at=now + pause.step.timeout_s,
        )
        steps: dict[str, StoredStep] = {}
        for sid, checkpoint in self.finished.items():
            try:
                encoded = encode(checkpoint, self.schemas)
            except (pickle.PicklingError, AttributeError, TypeError) as exc:
                raise ConfigurationError(
                    f'the run of {self.workflow.name!r} paused at {pause.position.sid!r}, but the output of step '
                    f'{sid!r} cannot be stored ({exc}): outputs of a workflow that can pause must pickle, so define '
                    'their classes at the top level of an importable module'
                ) from exc
            steps[sid] = StoredStep.model_validate({**encoded, 'fingerprint': encoded['schema']})
        return RunSnapshot(
            paused=paused,
            shape=self.shape.fingerprint,
            input=pickle.dumps(flow.run_input),
            message_history=None if history is None else ModelMessagesTypeAdapter.dump_json(list(history)),
            steps=steps,
            tapes={sid: ModelMessagesTypeAdapter.dump_json(list(tape)) for sid, tape in self.tapes.items()},
        )


def journal_for(workflow: AnyStep, store: RunStore | None, hooks: Sequence[RunHook]) -> tuple[RunHook, ...]:
    """The journal a run of `workflow` needs, replaying when the run is a resume.

    None when the workflow has no approval step, or when another hook makes approvals wait (a durable run's).
    """
    if any(hook.gates_approvals for hook in hooks):
        return ()
    resume = _resuming.get()
    if resume is not None and resume.workflow is workflow:
        _resuming.set(None)  # the resumed run's own steps may run other workflows: those start afresh
    else:
        resume = None
    shape = _shape_of(workflow)
    if shape is None:
        return ()
    return (Journal(workflow, shape, store or DEFAULT_STORE, resume),)


def paused_result(
    flow: Flow[Any], pause: Paused, history: tuple[ModelMessage, ...] | None, duration_s: float
) -> RunResult[Any]:
    """Store the paused run and return the result that says where it waits."""
    journal = next(hook for hook in flow.hooks if isinstance(hook, Journal))
    snapshot = journal.snapshot(pause, flow, history)
    journal.store.save(snapshot)
    return RunResult[Any](
        workflow=flow.workflow,
        output=None,
        status='paused',
        steps=tuple(r for r in flow.records if id(r) not in journal.interrupted),
        usage=flow.usage,
        duration_s=duration_s,
        paused=snapshot.paused,
        message_history=history,
    )


async def resume_run(
    workflow: AnyStep,
    token: str,
    decision: Decision | None,
    store: RunStore | None,
    run: Callable[[Any, Sequence[ModelMessage] | None], Awaitable[RunResult[Any]]],
) -> RunResult[Any]:
    """Check the token and the decision against `workflow`, then `run` it again with a replaying journal."""
    store = store or DEFAULT_STORE
    snapshot = store.load(token)
    shape = _shape_of(workflow)
    paused = snapshot.paused
    if paused.workflow != workflow.name or shape is None or shape.fingerprint != snapshot.shape:
        what = 'a workflow of that name with other steps' if paused.workflow == workflow.name else repr(paused.workflow)
        raise WrongWorkflow(
            f'resume token {token!r} belongs to a run of {what}, not of {workflow.name!r}: resume it with the '
            'workflow that paused'
        )
    step = shape.approvals.get(paused.position.partition('#')[0])
    if step is None:  # the fingerprint matched, so this cannot happen short of a corrupt store
        raise WrongWorkflow(f'resume token {token!r} waits at {paused.position!r}, which {workflow.name!r} lacks')
    chosen = decision if decision is not None else snapshot.decided()
    if chosen is None:
        raise InvalidDecision(
            f'run {token!r} waits at approval {paused.step!r} and no decision was recorded for it: pass one, '
            'e.g. workflow.resume(token, podium.Approve())'
        )
    checked = check_decision(step, chosen)
    state = _Resume(workflow, store.claim(token), checked)
    history = None
    if state.snapshot.message_history is not None:
        history = ModelMessagesTypeAdapter.validate_json(state.snapshot.message_history)
    reset = _resuming.set(state)
    try:
        result = await run(pickle.loads(state.snapshot.input), history)
    finally:
        _resuming.reset(reset)
    if not state.consumed:
        raise ReplayMismatch(
            f'the workflow changed since run {token!r} paused: it no longer reaches approval {paused.position!r}; '
            'finish paused runs before changing the steps before their approvals',
            step=paused.step,
        )
    return result


def _new_token() -> str:
    """A resume token: 128 random bits, URL-safe, never starting with `-`, which a command line reads as an option."""
    token = secrets.token_urlsafe(16)
    return '_' + token[1:] if token.startswith('-') else token
