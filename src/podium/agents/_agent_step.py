"""`AgentStep`: a user's `pydantic_ai.Agent` as a typed step, without re-implementing the agent."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any, Generic, Literal, TypeAlias, cast, overload

from pydantic_ai.agent import AbstractAgent
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models import Model
from pydantic_ai.usage import RunUsage
from typing_extensions import TypeVar

from .._core._attempts import collect_attempts, notable
from .._core._errors import ConfigurationError, StepOutputError
from .._core._flow import Flow, StepScope, copy_usage
from .._core._function import input_annotation, runtime_class, takes_flow
from .._core._step import Step, ensure_named
from .._core._traits import StepInfo
from ._lean import LeanPlans, plan_for_call, run_lean
from ._prompt import Prompt, render_prompt
from ._safe_model import SafeModels
from ._streaming import StepStream, can_stream

__all__ = ('AgentCall', 'AgentStep', 'Lean', 'agent', 'call_agent')

InT = TypeVar('InT')
OutT = TypeVar('OutT')
DepsT = TypeVar('DepsT', default=None)
AgentDepsT = TypeVar('AgentDepsT')

PromptFn: TypeAlias = Callable[[InT], Prompt] | Callable[[InT, Flow[Any]], Prompt]
"""Renders a step's input (and, given a second parameter, the run's `Flow`) into the agent's user prompt."""

Lean: TypeAlias = Literal[False] | None
"""`None`: take the lean path whenever it is provably equivalent to `Agent.run`; `False`: always `Agent.run`."""


@dataclass(frozen=True, slots=True)
class AgentCall(Generic[OutT]):
    """What one agent call produced."""

    output: OutT
    usage: RunUsage
    model: str | None


async def call_agent(
    agent: AbstractAgent[Any, OutT],
    prompt: Prompt,
    flow: Flow,
    *,
    step: str,
    deps: object,
    lean: Lean = None,
    scope: StepScope | None = None,
    models: SafeModels | None = None,
    plans: LeanPlans | None = None,
    message_history: Sequence[ModelMessage] | None = None,
) -> AgentCall[OutT]:
    """Run `agent` once inside `flow`: the run's usage and limits apply, its usage is counted into the run.

    A tool-less agent takes the lean path (one direct model request, see `_lean`) unless `lean=False`; the output,
    usage, retries and errors are the agent's either way. `scope`, when given, gets the path as soon as it is
    known, so the record of a failed call says which path failed: `lean` when the model was called directly,
    `agent` when `Agent.run` produced the output (also after a lean call handed an invalid output to the agent).
    `infer_name=False` because name inference walks the caller's frames on every call; steps name agents instead.
    The model called is `models.for_agent(agent)` (see `_safe_model`): one retry loop with safe defaults; keep one
    `SafeModels` per step so that its runs share the retry budget, and one `LeanPlans` so the lean plan is captured
    once. A call given `message_history` takes the agent path: the lean plan is one request without a history.
    When the run streams, so does the call (see `_streaming`); a call that fails after streaming anything
    sends `OutputDiscarded` first, so what it streamed is never taken for its output.
    """
    model = (models or SafeModels()).for_agent(agent)
    limits = flow.usage_limits
    start = flow.usage_for_call()
    before = copy_usage(start) if limits is not None else None  # without limits, `start` is fresh: it is the delta
    streams = scope is not None and scope.streaming and can_stream(model)
    stream = StepStream(scope.emit, scope.tree_path) if streams and scope is not None else None
    with collect_attempts() as attempts:
        try:
            plan = None
            if lean is None and not message_history:
                plan = await plan_for_call(agent, prompt, deps, limits, plans or LeanPlans())
            if plan is not None:
                # Under podium's tracing, the step span stands in for the agent's run span unless asked otherwise.
                output, answered_by = await run_lean(
                    agent,
                    plan,
                    prompt,
                    deps=deps,
                    usage=start,
                    usage_limits=limits,
                    scope=scope,
                    run_span=flow.agent_run_spans,
                    model=model,
                    stream=stream,
                )
            else:
                if scope is not None:
                    scope.path = 'agent'
                result = await agent.run(
                    prompt,
                    model=model,
                    deps=deps,
                    usage=start,
                    usage_limits=limits,
                    infer_name=False,
                    event_stream_handler=None if stream is None else stream.agent_events,
                    message_history=list(message_history) if message_history else None,
                )
                output, answered_by = result.output, result.response.model_name
        except BaseException as exc:
            if stream is not None:  # what it streamed is not its output: whoever runs it again streams anew
                stream.discard(f'the step stopped with {type(exc).__name__}')
            if not isinstance(exc, Exception):
                raise
            # A call that failed (invalid output after the agent's retries, a provider error) was still billed for
            # the requests it made: they count in the record and the run, without a limit error hiding the cause. (A
            # cancelled call's usage is counted by whoever cancelled it: a hedge counts its losing leg.)
            usage = start - before if before is not None else start
            flow.add_usage(usage, step=step, check=False)
            if scope is not None:
                scope.usage = usage
            raise
        finally:
            # The requests a `RetryingModel` retried or a `FallbackModel` moved on from: when there was more than one
            # clean request, the record says why the call took the path it took, failed calls included.
            if scope is not None and notable(attempts):
                scope.attempts.extend(attempts)
    usage = start - before if before is not None else start
    flow.add_usage(usage, step=step)
    return AgentCall(output, usage, answered_by)


class AgentStep(Step[InT, OutT, DepsT]):
    """A `pydantic_ai.Agent[Deps, OutT]` as a `Step[InT, OutT, Deps]`.

    The input is rendered into the prompt; the agent's own tools, retries and output validation run untouched.
    A tool-less agent runs on the lean path unless `lean=False` (see `call_agent`), or unless the step takes the
    conversation's history (`history=True`) and the run has one: then it runs `Agent.run` with it.
    """

    record_kind = 'agent'

    def __init__(
        self,
        agent: AbstractAgent[Any, OutT],
        *,
        name: str | None = None,
        prompt: PromptFn[InT] | None = None,
        input_type: type[InT] | None = None,
        deps: Callable[[Any], object] | None = None,
        lean: Lean = None,
        history: bool = False,
    ) -> None:
        self.agent = agent
        self.history = history
        """Whether the agent gets the run's `message_history` (a conversation's earlier turns)."""
        self.name = ensure_named(name, agent.name or 'agent')
        self.prompt = prompt
        self._prompt_takes_flow = prompt is not None and takes_flow(prompt)
        self.deps = deps
        self.lean: Lean = lean
        if input_type is None and prompt is not None:
            input_type = runtime_class(input_annotation(prompt))
        self.input_class = runtime_class(input_type)
        self.output_class = runtime_class(agent.output_type)
        self.models = SafeModels()
        """The model its runs call, with podium's retry loop; its retry budget is shared by every run of the step."""
        self.plans = LeanPlans()
        """The agent's lean plan, captured on the first call."""

    def describe(self) -> StepInfo:
        model = self.agent.model
        return StepInfo(kind='call', deterministic=False, model=model.model_name if isinstance(model, Model) else model)

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        prompt = self._prompt(input, flow)
        deps = flow.deps if self.deps is None else self.deps(flow.deps)
        call = await call_agent(
            self.agent,
            prompt,
            flow,
            step=self.name,
            deps=deps,
            lean=self.lean,
            scope=scope,
            models=self.models,
            plans=self.plans,
            message_history=flow.message_history if self.history else None,
        )
        return self._finish(scope, call)

    def _prompt(self, input: InT, flow: Flow[Any]) -> Prompt:
        if self.prompt is None:
            return render_prompt(input)
        if self._prompt_takes_flow:
            return cast(Callable[[InT, Flow[Any]], Prompt], self.prompt)(input, flow)
        return cast(Callable[[InT], Prompt], self.prompt)(input)

    def _finish(self, scope: StepScope, call: AgentCall[OutT]) -> OutT:
        scope.usage = call.usage
        scope.model = call.model
        cls = self.output_class
        if cls is not None and not isinstance(call.output, cls):
            raise StepOutputError(
                f'agent step {self.name!r} declares output {cls.__qualname__} but its agent returned '
                f'{type(call.output).__qualname__}',
                step=self.name,
            )
        return call.output


@overload
def agent(
    agent: AbstractAgent[AgentDepsT, OutT],
    /,
    *,
    prompt: PromptFn[InT],
    input_type: type[InT] | None = None,
    name: str | None = None,
    lean: Lean = None,
    history: bool = False,
) -> AgentStep[InT, OutT, AgentDepsT]: ...
@overload
def agent(
    agent: AbstractAgent[AgentDepsT, OutT],
    /,
    *,
    prompt: PromptFn[InT],
    deps: Callable[[DepsT], AgentDepsT],
    input_type: type[InT] | None = None,
    name: str | None = None,
    lean: Lean = None,
    history: bool = False,
) -> AgentStep[InT, OutT, DepsT]: ...
@overload
def agent(
    agent: AbstractAgent[AgentDepsT, OutT],
    /,
    *,
    input_type: type[InT],
    name: str | None = None,
    lean: Lean = None,
    history: bool = False,
) -> AgentStep[InT, OutT, AgentDepsT]: ...
@overload
def agent(
    agent: AbstractAgent[AgentDepsT, OutT],
    /,
    *,
    input_type: type[InT],
    deps: Callable[[DepsT], AgentDepsT],
    name: str | None = None,
    lean: Lean = None,
    history: bool = False,
) -> AgentStep[InT, OutT, DepsT]: ...
@overload
def agent(
    agent: AbstractAgent[AgentDepsT, OutT],
    /,
    *,
    name: str | None = None,
    lean: Lean = None,
    history: bool = False,
) -> AgentStep[str, OutT, AgentDepsT]: ...
@overload
def agent(
    agent: AbstractAgent[AgentDepsT, OutT],
    /,
    *,
    deps: Callable[[DepsT], AgentDepsT],
    name: str | None = None,
    lean: Lean = None,
    history: bool = False,
) -> AgentStep[str, OutT, DepsT]: ...
def agent(
    agent: AbstractAgent[Any, Any],
    /,
    *,
    prompt: PromptFn[Any] | None = None,
    input_type: type[Any] | None = None,
    name: str | None = None,
    deps: Callable[[Any], object] | None = None,
    lean: Lean = None,
    history: bool = False,
) -> AgentStep[Any, Any, Any]:
    """Make a `pydantic_ai.Agent` a step.

    The step's input type comes from `prompt`'s first parameter, or `input_type`, or is `str`; its output type is
    the agent's; the deps it needs are the agent's (or what `deps=` maps from), so running it with other deps is a
    type error.

    Args:
        agent: Any Pydantic-AI agent, used as it is. Build it once and give it a `name=`.
        prompt: Renders the input into the user prompt; a second parameter, when it takes one, gets the run's
            `Flow` (the run's input, earlier steps' outputs, deps). By default a `str` is sent as it is and
            anything else as its class name over its JSON.
        input_type: The input class, when there is no `prompt` to infer it from; checked at run time.
        name: The step's name; by default the agent's name or, for an agent without one, the name of the variable
            the caller holds it in (as `Agent.run` infers it), else `agent`.
        deps: Maps the run's deps to the deps this agent takes; the run's deps are passed as they are by default.
        lean: `False` always calls `Agent.run`. By default a tool-less agent with static instructions and no output
            validators or functions calls its model directly with the request the agent would send, which saves
            the agent loop's milliseconds of CPU per call; outputs, usage, retries and errors are the same.
        history: `True` passes the conversation's earlier turns (`run(..., message_history=...)`) to the agent as
            Pydantic-AI's `message_history`, on the `Agent.run` path. Give such agents `instructions=`: Pydantic-AI
            sends a `system_prompt` only when the history is empty.
    """
    if not isinstance(agent, AbstractAgent):  # pyright: ignore[reportUnnecessaryIsInstance]  # untyped callers
        fix = f'build one: Agent({agent!r}, ...)' if isinstance(agent, str) else 'build one with pydantic_ai.Agent(...)'
        raise ConfigurationError(f'podium.agent takes a Pydantic-AI agent, got {type(agent).__qualname__}: {fix}')
    if prompt is not None and not callable(prompt):
        raise ConfigurationError(f'prompt= must be a function of the input, got {type(prompt).__qualname__}')
    if input_type is not None and not _is_type(input_type):
        raise ConfigurationError(f'input_type= must be a type such as str or a model class, got {input_type!r}')
    if input_type is None and prompt is None:
        input_type = str
    if name is None and agent.name is None:
        name = _name_in_caller(agent, inspect.currentframe())
    return AgentStep(agent, name=name, prompt=prompt, input_type=input_type, deps=deps, lean=lean, history=history)


def _is_type(value: object) -> bool:
    """A class or a typing form (`list[str]`, `A | B`): typed so, but an untyped caller may pass anything."""
    return isinstance(value, type) or typing.get_origin(value) is not None


def _name_in_caller(agent: object, frame: FrameType | None) -> str | None:
    """The name the caller of the frame's function holds `agent` under: its locals first, then its module's globals.

    Pydantic-AI's `Agent.run` names a nameless agent the same way; a step names its agent once, when it is built.
    Inside podium the variable names say nothing about the agent, so podium's own calls get no name from them.
    """
    caller = frame.f_back if frame is not None else None
    if caller is None or caller.f_globals.get('__name__', '').partition('.')[0] == 'podium':
        return None
    for names in (caller.f_locals, caller.f_globals):
        for name, value in names.items():
            if value is agent and name.isidentifier():  # not a temporary of a tool that rewrites code (pytest)
                return name
    return None
