"""`durable(workflow)`: a podium workflow run as a DBOS workflow, resumable after a crash."""

from __future__ import annotations

import dataclasses
import uuid
import weakref
from typing import Any, Generic, cast

import anyio
from dbos import DBOS, DBOSClient, DBOSConfiguredInstance, EnqueueOptions, SetWorkflowID, WorkflowHandleAsync
from dbos._error import DBOSUnexpectedStepError
from pydantic_ai.durable_exec.dbos import StepConfig
from pydantic_ai.usage import UsageLimits
from typing_extensions import TypeVar

from .._core._errors import ConfigurationError, ReplayMismatch, RunNotFound
from .._core._hooks import RunHook
from .._core._records import RunResult
from .._core._step import Step, ensure_named
from .._core._stream import DEFAULT_BUFFER, RunStream
from ._hook import DurableSteps
from ._replay import PREFIX, RunState, enter
from ._store import Store

__all__ = ('CLASS_NAME', 'SUMMARY_EVENT', 'WORKFLOW_NAME', 'DurableResult', 'DurableWorkflow', 'durable', 'run')

InT = TypeVar('InT')
OutT = TypeVar('OutT')
OutT_co = TypeVar('OutT_co', covariant=True)

CLASS_NAME = 'podium.DurableWorkflow'
"""DBOS's name for the class of durable workflows; each instance is registered under the workflow's name."""
WORKFLOW_NAME = 'podium.run'
"""DBOS's name for the workflow function every podium run executes."""
SUMMARY_EVENT = 'podium.summary'
"""The DBOS event holding a finished run's `RunResult.summary()`, readable without the workflow's code."""
_MADE: weakref.WeakKeyDictionary[Step[Any, Any, Any], dict[tuple[str, Store], DurableWorkflow[Any, Any]]] = (
    weakref.WeakKeyDictionary()
)
"""The durable forms made of each workflow, so asking twice registers it once: DBOS keeps one registry of
workflows per process, and this mirrors it (nothing is stored on the user's workflow)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class DurableResult(RunResult[OutT_co]):
    """A `RunResult` of a durable run, with the id to find the run again by."""

    run_id: str
    """The DBOS workflow id: `podium runs show <run_id>`."""


@DBOS.dbos_class(CLASS_NAME)
class DurableWorkflow(DBOSConfiguredInstance, Generic[InT, OutT]):
    """A workflow whose runs survive crashes: each finished step is checkpointed, and a restart resumes the run.

    Build it before the first durable run of the process (DBOS must know every workflow before it starts, to
    recover their runs), once per workflow. Steps already finished when a process died are not called again; a
    step in flight at the crash runs again (at-least-once).
    """

    def __init__(
        self,
        workflow: Step[InT, OutT],
        *,
        name: str | None = None,
        db: str | None = None,
        deps: object = None,
        concurrency: int | None = None,
        step_config: StepConfig | None = None,
    ) -> None:
        self.name = ensure_named(name, workflow.name)
        self.workflow = workflow
        self.store = Store.resolve(db)
        self.deps = deps
        self.concurrency = concurrency
        self._client: DBOSClient | None = None
        self._hook = DurableSteps(workflow, step_config=step_config or StepConfig())
        self._listeners: dict[str, tuple[RunHook, ...]] = {}
        """The listeners of runs streamed from this process, by run id (hooks cannot travel as DBOS arguments)."""
        try:
            super().__init__(self.name)
        except Exception as exc:  # DBOS raises a bare Exception for a name it already has
            raise ConfigurationError(
                f'a durable workflow named {self.name!r} already exists in this process: DBOS recovers runs by '
                'name, so give this one another name='
            ) from exc

    @property
    def queue_name(self) -> str:
        """The DBOS queue `enqueue` puts runs on and `serve` takes them from."""
        return f'podium:{self.name}'

    async def run(
        self, input: InT, *, run_id: str | None = None, usage_limits: UsageLimits | None = None
    ) -> DurableResult[OutT]:
        """Run the workflow durably in this process and wait for its result.

        Args:
            input: The workflow's input; it is stored with the run, so it must pickle.
            run_id: The run's id; a fresh UUID by default. Running an id that already ran returns its result.
            usage_limits: Limits for the whole run, as in `Step.run`.
        """
        handle = await self._start(input, run_id, usage_limits)
        if handle is None:
            assert run_id is not None
            return await self.result(run_id)
        return _durable_result(await handle.get_result(), handle.get_workflow_id())

    def stream(
        self,
        input: InT,
        *,
        run_id: str | None = None,
        usage_limits: UsageLimits | None = None,
        buffer: int = DEFAULT_BUFFER,
    ) -> RunStream[OutT]:
        """Run the workflow durably in this process and see its events as they happen, as `Step.stream` does.

        A step a resumed run takes from its checkpoint sends `StepReplayed` instead of running. The stream's
        `result` is a `DurableResult`.
        """
        chosen = run_id if run_id is not None else str(uuid.uuid4())

        async def runner(listeners: tuple[RunHook, ...]) -> RunResult[OutT]:
            self._listeners[chosen] = listeners
            try:
                return await self.run(input, run_id=chosen, usage_limits=usage_limits)
            finally:
                del self._listeners[chosen]

        return RunStream[OutT](self.name, runner, buffer=buffer)

    def run_sync(
        self, input: InT, *, run_id: str | None = None, usage_limits: UsageLimits | None = None
    ) -> DurableResult[OutT]:
        """`run` for scripts: starts an event loop, so never call it from async code."""

        async def main() -> DurableResult[OutT]:
            return await self.run(input, run_id=run_id, usage_limits=usage_limits)

        return anyio.run(main)

    async def start(self, input: InT, *, run_id: str | None = None, usage_limits: UsageLimits | None = None) -> str:
        """Start a run in this process and return its id at once; `result(run_id)` waits for it.

        An id that already ran is not started again: a finished run keeps its result, and a run of this process
        left unfinished by a crash resumes on its own once DBOS starts.
        """
        handle = await self._start(input, run_id, usage_limits)
        return handle.get_workflow_id() if handle is not None else cast(str, run_id)

    async def _start(
        self, input: InT, run_id: str | None, usage_limits: UsageLimits | None
    ) -> WorkflowHandleAsync[RunResult[OutT]] | None:
        self.launch()
        if run_id is None:
            return await DBOS.start_workflow_async(self._execute, input, usage_limits)
        if await DBOS.get_workflow_status_async(run_id) is not None:
            return None
        with SetWorkflowID(run_id):
            return await DBOS.start_workflow_async(self._execute, input, usage_limits)

    async def result(self, run_id: str) -> DurableResult[OutT]:
        """Wait for run `run_id` and return its result; a run left pending by a crash is resumed here first.

        Raises:
            RunNotFound: when no run has that id.
            WorkflowError: what the run failed with (`ReplayMismatch` when the workflow changed since it ran).
        """
        self.launch()
        if await DBOS.get_workflow_status_async(run_id) is None:
            raise RunNotFound(f'no durable run {run_id!r} in {self.store.display}')
        handle: WorkflowHandleAsync[RunResult[OutT]] = await DBOS.retrieve_workflow_async(run_id)
        return _durable_result(await handle.get_result(), run_id)

    async def enqueue(self, input: InT, *, run_id: str | None = None, usage_limits: UsageLimits | None = None) -> str:
        """Queue a run for the workers that `serve` this workflow, and return its id; runs nothing here."""
        options = EnqueueOptions(
            workflow_name=WORKFLOW_NAME, queue_name=self.queue_name, class_name=CLASS_NAME, instance_name=self.name
        )
        if run_id is not None:
            options['workflow_id'] = run_id
        if self._client is None:
            self._client = await anyio.to_thread.run_sync(self.store.client, True)
        handle: WorkflowHandleAsync[RunResult[OutT]] = await self._client.enqueue_async(options, input, usage_limits)
        return handle.get_workflow_id()

    async def serve(self, *, worker_id: str | None = None, polling_interval: float = 0.2) -> None:
        """Work as one of the processes that run this workflow's queued runs, until cancelled.

        At most `concurrency` runs (given to `durable`) at a time in this process. A worker restarted with the same
        `worker_id` resumes the runs it had in flight when it died.
        """
        self.launch(worker_id=worker_id, queues=[self.queue_name])
        await DBOS.register_queue_async(
            self.queue_name,
            worker_concurrency=self.concurrency,
            polling_interval_sec=polling_interval,
            on_conflict='always_update',
        )
        await anyio.sleep_forever()

    def launch(self, *, worker_id: str | None = None, queues: list[str] | None = None) -> None:
        """Start DBOS for this workflow's store (once per process); pending runs of this process resume."""
        self.store.launch(worker_id=worker_id, queues=queues or ())

    def shutdown(self) -> None:
        """Stop DBOS in this process; runs still in flight resume when a process starts it again."""
        if self._client is not None:
            self._client.destroy()
            self._client = None
        DBOS.destroy()

    @DBOS.workflow(name=WORKFLOW_NAME)
    async def _execute(self, input: InT, usage_limits: UsageLimits | None) -> RunResult[OutT]:
        run_id = DBOS.workflow_id
        assert run_id is not None
        state = RunState(run_id)
        with enter(None, run=state):
            run = cast(Any, self.workflow.run)  # the deps were given to `durable()`, untyped
            hooks = (self._hook, *self._listeners.get(run_id, ()))
            result: RunResult[OutT] = await run(input, deps=self.deps, usage_limits=usage_limits, hooks=hooks)
        try:
            await DBOS.set_event_async(SUMMARY_EVENT, result.summary())
        except DBOSUnexpectedStepError as exc:
            raise _lost_steps(run_id, exc) from exc
        return result

    def __repr__(self) -> str:
        return f'DurableWorkflow({self.name!r}, db={self.store.display!r})'


def _durable_result(result: RunResult[OutT], run_id: str) -> DurableResult[OutT]:
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(RunResult)}
    return DurableResult(**fields, run_id=run_id)


def _lost_steps(run_id: str, exc: DBOSUnexpectedStepError) -> ReplayMismatch:
    """The run recorded more than the current workflow does: the end of the run lands on a recorded step."""
    recorded = str(exc.inputs[3])
    step = recorded.removeprefix(PREFIX).partition(':')[2] or recorded
    return ReplayMismatch(
        f'the workflow changed since run {run_id} was recorded: it finished without reaching step {step!r}, which '
        'the run had already completed. Finish or cancel old runs before removing steps.',
        step=step.rpartition('/')[2].partition('#')[0],
    )


def durable(
    workflow: Step[InT, OutT],
    *,
    name: str | None = None,
    db: str | None = None,
    deps: object = None,
    concurrency: int | None = None,
    step_config: StepConfig | None = None,
) -> DurableWorkflow[InT, OutT]:
    """Make `workflow` durable: its runs are DBOS workflows, its model-calling steps DBOS steps.

    Args:
        workflow: Any podium step; its agent steps, routers, branches, loops and fallbacks become durable.
        name: The name runs are filed under and recovered by; the workflow's name by default. Keep it stable.
        db: `sqlite:///file.sqlite` (the default is `$PODIUM_DB` or `sqlite:///podium_runs.sqlite`) or a
            `postgresql://` URL to share runs between processes.
        deps: Dependencies handed to the workflow's agents, as in `Step.run`; they belong to the process, not to a
            run, so a resumed run gets the resuming process's deps.
        concurrency: Most queued runs one worker process runs at a time (see `serve`); unlimited by default.
        step_config: DBOS retry settings for checkpointed steps; none by default, as podium's fallbacks retry.

    Asking again for the same workflow, name and store returns the same durable workflow, with the settings of
    the first call: DBOS registers each name once per process.
    """
    made = _MADE.setdefault(workflow, {})
    key = (ensure_named(name, workflow.name), Store.resolve(db))
    wrapped = made.get(key)
    if wrapped is None:
        wrapped = DurableWorkflow(
            workflow, name=name, db=db, deps=deps, concurrency=concurrency, step_config=step_config
        )
        made[key] = wrapped
    return cast('DurableWorkflow[InT, OutT]', wrapped)


async def run(
    workflow: Step[InT, OutT],
    input: InT,
    *,
    db: str | None = None,
    run_id: str | None = None,
    usage_limits: UsageLimits | None = None,
) -> DurableResult[OutT]:
    """Run `workflow` durably once: the one-line switch from `workflow.run(input)`.

    The durable form of a workflow is made once and kept on the workflow, so calling this again is cheap.
    """
    return await durable(workflow, db=db).run(input, run_id=run_id, usage_limits=usage_limits)
