"""How a workflow's steps become durable without changing them.

`install` walks the step tree once and gives every step an instance-level `invoke` that, inside a durable run,
does the durable part around the step's own `invoke`; outside one it calls straight through (one context-variable
read). The step classes, and every run that is not durable, stay as they are. Per kind:

- agent steps, `checkpointed(step)`, and the steps whose course depends on timing or process state rather than on
  checkpointed values (`parallel`, `map_each`, `hedge`, `timeout`, circuit breakers): the whole step is one DBOS
  step; its typed output, its records and its usage are checkpointed, and restored on replay without running it;
- LLM routers: the router agent's model requests are DBOS steps (Pydantic-AI's `DBOSModel`, bound with
  `agent.override`), so the decision replays from the recorded responses; the route taken is recorded as a choice;
- branches, rule routers, loops, `fallback`, `retry`, `default` and any other step with children choose what runs
  next: every child they run is recorded as a choice (the branch taken, the loop iteration, the fallback used, the
  attempt) and checked on replay;
- chains and function steps only mark their position: they are deterministic glue over checkpointed values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, cast

from dbos import StepOptions
from pydantic_ai.durable_exec.dbos import DBOSModel, StepConfig
from pydantic_ai.models import Model, infer_model
from pydantic_ai.usage import RunUsage

from .._core._errors import ConfigurationError
from .._core._flow import Flow, copy_usage
from .._core._function import FunctionStep
from .._core._records import StepRecord
from .._core._step import AnyStep, Chain, Step
from ..agents._agent_step import AgentStep
from ..chains._parallel import MapEach, Parallel
from ..fallbacks import CircuitStep, HedgeStep, TimeoutStep
from ..routers._router import Router
from ._approval import Approval
from ._errors import ReplayMismatch
from ._replay import Checkpoint, Position, RunState, active_run, checkpoint_step, current_position, enter

__all__ = ('Checkpointed', 'checkpointed', 'install')

Kind = Literal['checkpoint', 'router', 'choice', 'glue']
Invoke = Callable[[Any, Flow], Awaitable[Any]]

_INSTALLED = '_podium_durable_kind'
_INVOKE = 'invoke'


class Checkpointed(Step[Any, Any]):
    """A step run as one DBOS step in durable runs: for custom steps that call models or have side effects."""

    def __init__(self, step: AnyStep) -> None:
        self.step = step
        self.name = step.name
        self.input_class = step.input_class
        self.output_class = step.output_class

    def children(self) -> list[tuple[str, AnyStep]]:
        return [('', self.step)]

    async def invoke(self, input: Any, flow: Flow) -> Any:
        return await self.step.invoke(input, flow)


def checkpointed(step: Step[Any, Any]) -> Step[Any, Any]:
    """Make `step` one checkpointed unit in durable runs (a plain pass-through elsewhere).

    Agent steps and routers are checkpointed already; use this for a custom step that calls a model or the outside
    world, so a resumed run does not call it again.
    """
    return Checkpointed(step)


def install(workflow: AnyStep, *, step_config: StepConfig) -> None:
    """Make every step under `workflow` durable-aware; idempotent, and shared steps are handled once."""
    _install(workflow, step_config, unit=None)


def _install(step: AnyStep, step_config: StepConfig, *, unit: str | None) -> None:
    kind = _kind_of(step)
    if isinstance(step, Approval) and unit is not None:
        raise ConfigurationError(
            f'approval step {step.name!r} sits inside {unit!r}, which a durable run records as one unit (a parallel, '
            'map_each, hedge, timeout, circuit breaker or checkpointed step) and cannot pause inside; move the '
            'approval before or after it'
        )
    if getattr(step, _INSTALLED, None) is None:
        setattr(step, _INVOKE, _wrap(step, kind, step_config))  # an instance attribute: the class stays as it is
        setattr(step, _INSTALLED, kind)
    for _, child in step.children():
        _install(child, step_config, unit=unit or (step.name if kind == 'checkpoint' else None))


def _kind_of(step: AnyStep) -> Kind:
    if isinstance(step, AgentStep | Checkpointed | Parallel | MapEach | HedgeStep | TimeoutStep | CircuitStep):
        return 'checkpoint'
    if isinstance(step, Router):
        return 'router'
    if isinstance(step, Chain | FunctionStep) or not step.children():
        return 'glue'
    return 'choice'


def _wrap(step: AnyStep, kind: Kind, step_config: StepConfig) -> Invoke:
    original: Invoke = step.invoke
    schemas: dict[type[Any], str | None] = {}
    options = cast(StepOptions, dict(step_config))
    model = _router_model(step, step_config) if isinstance(step, Router) else None

    async def invoke(input: Any, flow: Flow) -> Any:
        run = active_run()
        if run is None:
            return await original(input, flow)
        parent = current_position()
        position = run.position(parent, step.name, chooses=kind in ('router', 'choice'))
        if parent is not None and parent.chooses:
            await run.choice(parent, position)
        with enter(position):
            if kind == 'checkpoint':
                return await _checkpoint(run, position, original, input, flow, schemas, options, step.output_class)
            if isinstance(step, Router) and model is not None:
                with step.agent.override(model=model):
                    return await original(input, flow)
            return await original(input, flow)

    return invoke


async def _checkpoint(
    run: RunState,
    position: Position,
    original: Invoke,
    input: Any,
    flow: Flow,
    schemas: dict[type[Any], str | None],
    options: StepOptions,
    output_class: type[Any] | None,
) -> Any:
    start = len(flow.records)
    before = copy_usage(flow.usage)

    async def body() -> Checkpoint:
        try:
            output = await original(input, flow)
        except Exception as exc:
            return Checkpoint(None, _records_since(flow, start), flow.usage - before, exc)
        return Checkpoint(output, _records_since(flow, start), flow.usage - before)

    checkpoint, replayed = await checkpoint_step(run, position, 'step', body, schemas, options)
    if replayed:
        if checkpoint.error is None and output_class is not None and not isinstance(checkpoint.output, output_class):
            raise ReplayMismatch(
                f'the workflow changed since run {run.run_id} was recorded: step {position.sid!r} recorded a '
                f'{type(checkpoint.output).__qualname__} but now outputs {output_class.__qualname__}. Finish or cancel '
                'old runs before changing the output types of their steps.',
                step=position.name,
            )
        _restore(flow, checkpoint.records, checkpoint.usage, position.name)
    if checkpoint.error is not None:
        raise checkpoint.error
    return checkpoint.output


def _records_since(flow: Flow, start: int) -> tuple[StepRecord, ...]:
    return tuple(r for r in flow.records[start:] if r is not None)


def _restore(flow: Flow, records: tuple[StepRecord, ...], usage: RunUsage, step: str) -> None:
    """Put a replayed step's records and usage back, as if it had just run (the run-wide limits still apply)."""
    flow.records.extend(records)
    flow.add_usage(usage, step=step)


def _router_model(router: Router[Any, Any], step_config: StepConfig) -> Model:
    """The router agent's model with each request a DBOS step, built once, before DBOS launches."""
    model = router.agent.model
    if model is None:
        raise ConfigurationError(f'router {router.name!r}: its agent has no model, so a durable run cannot record it')
    return DBOSModel(
        model if isinstance(model, Model) else infer_model(model),
        step_name_prefix=f'podium:router:{router.name}',
        step_config=step_config,
        get_event_stream_handler=lambda: None,
    )
