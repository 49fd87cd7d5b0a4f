"""How a workflow's steps become durable without changing them: a run hook around every step.

`DurableSteps` is built once per durable workflow, before DBOS launches, from what each step says of itself
(`Step.describe()`); during a durable run it is the run's hook, and outside one no durable code runs at all. Per
step:

- steps that are not deterministic (agent calls, custom calls, `parallel`, `map_each`, `hedge`, `timeout`,
  circuit breakers, `checkpointed(step)`): the whole step is one DBOS step; its typed output, its records and its
  usage are checkpointed, and restored on replay without running it;
- LLM routers (`decides_with` an agent): the router agent's model requests are DBOS steps (Pydantic-AI's
  `DBOSModel`, bound with `agent.override`), so the decision replays from the recorded responses; the route taken
  is recorded as a choice;
- choices, loops and wrappers that are deterministic (branches, rule routers, loops, `fallback`, `retry`,
  `default`): every child they run is recorded as a choice (the branch taken, the iteration, the fallback used,
  the attempt) and checked on replay;
- sequences and deterministic calls (chains, function steps) only mark their position: they are glue over
  checkpointed values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from dbos import StepOptions
from pydantic_ai.durable_exec.dbos import DBOSModel, StepConfig
from pydantic_ai.models import Model, infer_model

from .._core._checkpoint import plan_steps
from .._core._decisions import use_gate
from .._core._errors import ConfigurationError, ReplayMismatch
from .._core._flow import StepScope, copy_usage
from .._core._hooks import RunHook
from .._core._step import AnyStep, Step
from .._core._traits import StepInfo
from ._approval import DBOS_GATE
from ._replay import Checkpoint, active_run, checkpoint_step, current_position, enter

__all__ = ('Checkpointed', 'DurableSteps', 'checkpointed')

Kind = Literal['checkpoint', 'router', 'choice', 'glue', 'approval']


class Checkpointed(Step[Any, Any, Any]):
    """A step run as one DBOS step in durable runs: for custom steps that call models or have side effects."""

    record_kind = 'checkpoint'
    _transparent = True

    def __init__(self, step: AnyStep) -> None:
        self.step = step
        self.name = step.name
        self.input_class = step.input_class
        self.output_class = step.output_class
        self._info = StepInfo(kind='wrapper', children=[('', step)], deterministic=False, transparent=True)

    def describe(self) -> StepInfo:
        return self._info

    async def _run(self, input: Any, scope: StepScope) -> Any:
        return await self.step.invoke(input, scope.flow)


def checkpointed(step: Step[Any, Any, Any]) -> Step[Any, Any, Any]:
    """Make `step` one checkpointed unit in durable runs (a plain pass-through elsewhere).

    Agent steps and routers are checkpointed already, and so is any custom step that does not declare itself
    deterministic; use this for a composite step whose whole course should run once.
    """
    return Checkpointed(step)


@dataclass(frozen=True, slots=True)
class _Plan:
    kind: Kind
    router_model: Model | None = None


class DurableSteps(RunHook):
    """The run hook of a durable workflow: replays or checkpoints each step as its description calls for."""

    wraps_steps = True
    gates_approvals = True

    def __init__(self, workflow: AnyStep, *, step_config: StepConfig) -> None:
        self._step_config = step_config
        self._options = cast(StepOptions, dict(step_config))
        self._schemas: dict[type[Any], str | None] = {}
        self._plans = plan_steps(workflow, self._plan_for, lambda plan: plan.kind == 'checkpoint')

    def _plan_for(self, step: AnyStep, info: StepInfo) -> _Plan:
        if info.pauses:
            return _Plan('approval')
        if info.decides_with is not None:
            return _Plan('router', _router_model(step.name, info.decides_with.model, self._step_config))
        if not info.deterministic:
            return _Plan('checkpoint')
        if info.kind in ('sequence', 'call'):
            return _Plan('glue')
        return _Plan('choice')

    async def around_step(
        self, step: AnyStep, input: Any, scope: StepScope, proceed: Callable[[], Awaitable[Any]]
    ) -> Any:
        run = active_run()
        if run is None:
            return await proceed()
        plan = self._plans.get(id(step))
        if plan is None:  # a step built while the run ran (none of podium's are): checkpointed, to be safe
            plan = _Plan('checkpoint')
        parent = current_position()
        position = run.position(parent, step.name, chooses=plan.kind in ('router', 'choice'))
        if parent is not None and parent.chooses:
            await run.choice(parent, position)
        with enter(position):
            if plan.kind == 'checkpoint':
                return await self._checkpoint(step, scope, proceed, position)
            if plan.kind == 'approval':
                with use_gate(DBOS_GATE):
                    return await proceed()
            decides_with = step.describe().decides_with
            if plan.router_model is not None and decides_with is not None:
                with decides_with.override(model=plan.router_model):
                    return await proceed()
            return await proceed()

    async def _checkpoint(
        self, step: AnyStep, scope: StepScope, proceed: Callable[[], Awaitable[Any]], position: Any
    ) -> Any:
        flow = scope.flow
        mark = flow.mark()
        before = copy_usage(flow.usage)

        async def body() -> Checkpoint:
            try:
                output = await proceed()
            except Exception as exc:
                own = scope.snapshot(exc)
                return Checkpoint(None, (own, *flow.records_since(mark)), flow.usage - before, exc)
            own = replace(scope.snapshot(), output=output)
            return Checkpoint(output, (own, *flow.records_since(mark)), flow.usage - before)

        run = active_run()
        assert run is not None
        checkpoint, replayed = await checkpoint_step(run, position, 'step', body, self._schemas, self._options)
        if replayed:
            output_class = step.output_class
            if (
                checkpoint.error is None
                and output_class is not None
                and not isinstance(checkpoint.output, output_class)
            ):
                raise ReplayMismatch(
                    f'the workflow changed since run {run.run_id} was recorded: step {position.sid!r} recorded a '
                    f'{type(checkpoint.output).__qualname__} but now outputs {output_class.__qualname__}. Finish or '
                    'cancel old runs before changing the output types of their steps.',
                    step=position.name,
                )
            # Put the replayed step's records and usage back, as if it had just run (the run-wide limits still
            # apply); its own record takes what the checkpoint says the step did.
            own, *inner = checkpoint.records
            scope.adopt(own)
            flow.add_records(tuple(inner))
            flow.add_usage(checkpoint.usage, step=position.name)
        if checkpoint.error is not None:
            raise checkpoint.error
        return checkpoint.output


def _router_model(router: str, model: Model | str | None, step_config: StepConfig) -> Model:
    """The router agent's model with each request a DBOS step, built once, before DBOS launches."""
    if model is None:
        raise ConfigurationError(f'router {router!r}: its agent has no model, so a durable run cannot record it')
    return DBOSModel(
        model if isinstance(model, Model) else infer_model(model),
        step_name_prefix=f'podium:router:{router}',
        step_config=step_config,
        get_event_stream_handler=lambda: None,
    )
