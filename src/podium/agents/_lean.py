"""The lean path: one model request in place of `Agent.run`, for agents where the two are provably the same.

An `Agent.run` costs milliseconds of CPU in graph machinery; a tool-less agent without validators spends it to
send one request and validate one response. A lean call sends the request the agent would send (captured from
the agent once, see `_template`) through Pydantic-AI's innermost request helper, reads the output with the
agent's own processors (see `_final_output`), and counts usage, enforces limits and opens spans with Pydantic-AI's
own functions, in the agent's order. When the response is anything but a valid final output, the run is handed
to the agent, which replays that response instead of requesting it again and goes on exactly as it would have:
retry prompts, retry budget and errors are its own.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from opentelemetry.context import attach, detach
from pydantic import BaseModel
from pydantic_ai import RunContext
from pydantic_ai.agent import AbstractAgent, Agent
from pydantic_ai.capabilities import Instrumentation
from pydantic_ai.messages import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelResponse,
    OutputToolCallEvent,
    OutputToolResultEvent,
    ToolCallPart,
)
from pydantic_ai.models import (
    CompletedStreamedResponse,
    Model,
    ModelRequestContext,
    ModelRequestParameters,
    StreamedResponse,
)
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel
from pydantic_ai.models.instrumented import InstrumentedModel
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.run import AgentRunResult
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage, RunUsage, UsageLimits

from .._core._events import AgentEvent, RunEvent
from .._core._flow import StepScope
from . import _pydantic_ai_internals as internals
from ._eligibility import call_blocker, static_blocker
from ._final_output import UNREAD, OutputReader, StreamedOutput
from ._prompt import Prompt
from ._spans import SpanSource
from ._streaming import StepStream, ensure_finished
from ._template import RequestTemplate, TemplateError, capture_template

__all__ = ('LeanPlan', 'plan_for_call', 'run_lean')


class LeanPlans:
    """Where a step keeps the lean plan of its agent: built with the step, never stored on the user's agent."""

    __slots__ = ('entry',)

    def __init__(self) -> None:
        self.entry: _Entry | None = None


@dataclass(frozen=True, slots=True)
class LeanPlan:
    """Everything lean calls of one agent need, captured once."""

    model: Model
    template: RequestTemplate
    reader: OutputReader
    spans: SpanSource
    default_limits: UsageLimits
    """What a run enforces when given no limits."""


@dataclass(frozen=True, slots=True)
class _Entry:
    """An agent's plan, or why it has none, valid while the agent keeps the model and settings it was made with."""

    model: object
    settings: tuple[object, object]
    plan: LeanPlan | str

    def current(self, agent: Agent[Any, Any]) -> bool:
        model = internals.agent_model(agent)
        if model is not self.model:
            return False
        # Compared in place: copies are only needed when a plan is captured.
        agent_settings, model_settings = self.settings
        return agent.model_settings == agent_settings and (
            model.settings == model_settings if isinstance(model, Model) else model_settings is None
        )


def _settings(agent: Agent[Any, Any]) -> tuple[object, object]:
    """Copies of the agent's and its model's settings: either can be edited in place after a capture."""
    model = internals.agent_model(agent)
    return copy.copy(agent.model_settings), copy.copy(model.settings) if isinstance(model, Model) else None


async def plan_for_call(
    agent: AbstractAgent[Any, Any], prompt: Prompt, deps: object, usage_limits: UsageLimits | None, plans: LeanPlans
) -> LeanPlan | None:
    """The plan this call may take the lean path with, or `None` when it must take the agent path."""
    if not isinstance(agent, Agent) or call_blocker(agent, usage_limits) is not None:
        return None
    if not await internals.check(_self_test):
        return None
    entry = plans.entry
    if entry is None or not entry.current(agent):
        entry = await _new_entry(agent, prompt, deps, plans)
    return entry.plan if isinstance(entry.plan, LeanPlan) else None


async def _new_entry(agent: Agent[Any, Any], prompt: Prompt, deps: object, plans: LeanPlans) -> _Entry:
    """Capture the agent's plan from this call's prompt; concurrent calls take the agent path meanwhile."""
    model, settings = internals.agent_model(agent), _settings(agent)
    assert isinstance(model, Model)  # call_blocker checked it
    blocker = static_blocker(agent)
    if blocker is None and isinstance(model, InstrumentedModel):
        blocker = 'its model is an InstrumentedModel'
    if blocker is not None:
        return _remember(plans, _Entry(model, settings, blocker))
    _remember(plans, _Entry(model, settings, 'its first request is being captured'))
    spans = SpanSource()
    try:
        template = await capture_template(agent, model, prompt, deps, instrumented=spans.for_agent(agent) is not None)
    except TemplateError as exc:
        return _remember(plans, _Entry(model, settings, str(exc)))
    except BaseException:  # cancelled mid-capture: the next call captures again
        plans.entry = None
        raise
    reader = OutputReader(internals.output_schema(agent), template.parameters, model)
    return _remember(plans, _Entry(model, settings, LeanPlan(model, template, reader, spans, UsageLimits())))


def _remember(plans: LeanPlans, entry: _Entry) -> _Entry:
    plans.entry = entry
    return entry


async def run_lean(
    agent: AbstractAgent[Any, Any],
    plan: LeanPlan,
    prompt: Prompt,
    *,
    deps: object,
    usage: RunUsage,
    usage_limits: UsageLimits | None,
    scope: StepScope | None,
    run_span: bool = True,
    model: Model | None = None,
    stream: StepStream | None = None,
) -> tuple[Any, str | None]:
    """Do what `agent.run(prompt, usage=usage, usage_limits=usage_limits)` does, counting into `usage` in place.

    Returns the output and the name of the model that produced it; sets `scope.path` to the path that produced it.
    With `run_span=False`, an instrumented agent's `chat` spans nest directly in the current span (a podium step
    span standing in for the agent's run span) instead of in an `<agent> run` span of their own. With `stream`, the
    request is streamed and its events sent to the run as the agent path sends them.

    Raises:
        UsageLimitExceeded: where the agent would raise it; anything the model or the agent raises passes through.
    """
    assert isinstance(agent, Agent)  # plans are only made for plain agents
    if scope is not None:
        scope.path = 'lean'
    call = _LeanCall(agent, plan, prompt, deps, usage, usage_limits, scope, model or plan.model, stream)
    # A run credits usage to its own span only, never to a run it is nested in: `Agent.run` starts the same way.
    with internals.credit_to_own_span():
        instrumentation = plan.spans.for_agent(agent)
        if instrumentation is None:
            return await call.run(None)
        run_instrumentation = await instrumentation.for_run(call.context)
        if not run_span:
            return await call.run(run_instrumentation)
        # The agent's run span: the capability, bound to this run, wraps what the lean call does as a run.
        result = await run_instrumentation.wrap_run(call.context, handler=lambda: call.traced(run_instrumentation))
        return result.output, result.response.model_name


class _LeanCall:
    """One lean call: the request, the response's output, usage and limits, or the hand-off to the agent."""

    __slots__ = (
        '_agent',
        '_conversation_id',
        '_deps',
        '_given_limits',
        '_model',
        '_plan',
        '_prompt',
        '_run_id',
        '_scope',
        '_stream',
        '_usage',
        'context',
    )

    def __init__(
        self,
        agent: Agent[Any, Any],
        plan: LeanPlan,
        prompt: Prompt,
        deps: object,
        usage: RunUsage,
        usage_limits: UsageLimits | None,
        scope: StepScope | None,
        model: Model,
        stream: StepStream | None,
    ) -> None:
        self._agent, self._plan, self._prompt, self._deps, self._usage = agent, plan, prompt, deps, usage
        self._model = model
        self._scope = scope
        self._stream = stream
        self._run_id, self._conversation_id = internals.new_id(), internals.new_id()
        self.context: RunContext[Any] = RunContext(
            deps=deps,
            model=model,
            usage=usage,
            usage_limits=usage_limits or plan.default_limits,
            agent=agent,
            prompt=prompt,
            messages=[],
            run_id=self._run_id,
            conversation_id=self._conversation_id,
        )
        self._given_limits = usage_limits

    async def run(self, instrumentation: Instrumentation | None) -> tuple[Any, str | None]:
        """The output and model name, from the lean request or from the agent it was handed to.

        With `instrumentation`, the request gets its `chat` span in the current span, with the baggage the agent's
        run span would have set, so the chat span's attributes are the ones it has under a run span.
        """
        token = None
        if instrumentation is not None:
            self._trace_with(instrumentation)
            token = attach(internals.run_baggage(instrumentation, self.context))
        try:
            response, output = await self._request(instrumentation)
        finally:
            if token is not None:
                detach(token)
        if output is UNREAD:
            result = await self._hand_off(response)
            return result.output, result.response.model_name
        return output, response.model_name

    async def traced(self, instrumentation: Instrumentation) -> AgentRunResult[Any]:
        """`run` as a traced agent run: the run span reads the run's messages and output from the result."""
        self._trace_with(instrumentation)
        response, output = await self._request(instrumentation)
        if output is UNREAD:
            return await self._hand_off(response)
        return internals.finished_run(
            output,
            self._closed_history(response),
            self._usage,
            run_id=self._run_id,
            conversation_id=self._conversation_id,
        )

    def _trace_with(self, instrumentation: Instrumentation) -> None:
        """Give the run's context the tracer a traced `Agent.run` gives it."""
        context = self.context
        settings = instrumentation.settings
        context.tracer = settings.tracer
        context.trace_include_content = settings.include_content
        context.instrumentation_version = settings.version

    async def _request(self, instrumentation: Instrumentation | None) -> tuple[ModelResponse, Any]:
        """Send the request as `ModelRequestNode` does; count the response only when the lean call keeps it."""
        plan, context, usage = self._plan, self.context, self._usage
        limits = context.usage_limits
        assert limits is not None
        context.run_step = 1
        limits.check_before_request(usage)
        template = plan.template
        messages = template.messages(self._prompt, run_id=self._run_id, conversation_id=self._conversation_id)
        context.messages.extend(messages)
        request = ModelRequestContext(
            model=self._model,
            messages=list(messages),
            model_settings=template.settings(),
            model_request_parameters=template.parameters,
        )
        output: Any = UNREAD
        internals.refresh_http_client(self._model)

        async def send(request: ModelRequestContext) -> ModelResponse:
            nonlocal output
            internals.span_request(request)
            if self._stream is None:
                response = await internals.send_request(request, context)
            else:
                response = await self._streamed(request, self._stream)
            output = await plan.reader.read(response)
            if output is not UNREAD:
                internals.count_response(usage, request, response)
            internals.span_response(request, response)
            return response

        if instrumentation is None:
            response = await send(request)
        else:
            response = await instrumentation.wrap_model_request(context, request_context=request, handler=send)
        if output is not UNREAD:
            internals.record_request(usage, response, run_id=self._run_id, conversation_id=self._conversation_id)
            limits.check_tokens(usage)
            limits.check_cost(usage, warn_if_cost_unavailable=False)
            limits.check_per_request_input_tokens(internals.input_tokens(response))
            limits.check_cost(usage)
            if self._stream is not None:
                self._answer_output_call(response, self._stream)
        return response, output

    async def _streamed(self, request: ModelRequestContext, stream: StepStream) -> ModelResponse:
        """Send `request` as a streamed request, relaying its events; the response it streamed."""
        reader = self._plan.reader
        async with internals.stream_request(request, self.context) as streamed:
            try:
                await stream.relay(streamed, StreamedOutput(reader, streamed))
                response = streamed.get()
                ensure_finished(response)
            except BaseException as exc:  # the provider billed what it streamed: the run counts it, as the agent's
                internals.count_interrupted(self._usage, request, streamed.get(), exc)
                raise
        return response

    @staticmethod
    def _answer_output_call(response: ModelResponse, stream: StepStream) -> None:
        """Send the events the agent's tool-call processing sends when an output tool call ends the run."""
        call = next((part for part in response.parts if type(part) is ToolCallPart), None)
        if call is not None:
            stream.send(OutputToolCallEvent(part=call, args_valid=True))
            stream.send(OutputToolResultEvent(part=internals.output_tool_answer(call)))

    async def _hand_off(self, response: ModelResponse) -> AgentRunResult[Any]:
        """Let the agent finish the run from `response`, which it gets instead of making its first request."""
        if self._scope is not None:
            self._scope.path = 'agent'
        stream = self._stream
        if stream is not None:
            stream.replayed()
        return await self._agent.run(
            self._prompt,
            model=_Replay(self._model, response),
            deps=self._deps,
            usage=self._usage,
            usage_limits=self._given_limits,
            infer_name=False,
            event_stream_handler=None if stream is None else stream.agent_events,
        )

    def _closed_history(self, response: ModelResponse) -> list[ModelMessage]:
        """The run's messages as the agent leaves them: the output tool call, if any, is answered.

        Built here because Pydantic-AI builds that answer inside its tool-call processor, which needs a graph run.
        """
        history = self.context.messages
        history.append(response)
        calls = [part for part in response.parts if type(part) is ToolCallPart]
        if calls:
            answer = internals.output_tool_answer(calls[0])
            history.append(
                ModelRequest(
                    parts=[answer],
                    run_id=self._run_id,
                    conversation_id=self._conversation_id,
                    timestamp=internals.now_utc(),
                )
            )
        return history


class _Replay(WrapperModel):
    """The agent's model, except that the first request is answered with the response the lean call already got."""

    def __init__(self, wrapped: Model, response: ModelResponse) -> None:
        super().__init__(wrapped)
        self._response: ModelResponse | None = response

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        response, self._response = self._response, None
        if response is not None:
            return response
        return await self.wrapped.request(messages, model_settings, model_request_parameters)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        """The first response as a finished stream with no events (the lean call streamed them), then the model's."""
        response, self._response = self._response, None
        if response is not None:
            yield CompletedStreamedResponse(response, model_request_parameters=model_request_parameters)
            return
        async with self.wrapped.request_stream(
            messages, model_settings, model_request_parameters, run_context
        ) as streamed:
            yield streamed


class _SelfTestAnswer(BaseModel):
    answer: str
    score: int


_VOLATILE: Final = frozenset({'timestamp', 'run_id', 'conversation_id'})


async def _self_test() -> str | None:
    """One request through both paths on a tiny agent, plain and streamed: what differed between them, or `None`.

    Compared as the differential tests compare: what the model received (messages without timestamps and ids,
    tools, settings, request parameters, instructions), the output and the usage; streamed, also the events the
    step sends (Pydantic-AI's, in order, and the partial outputs).
    """
    seen: list[tuple[list[ModelMessage], AgentInfo]] = []
    args = '{"answer": "yes", "score": 3}'

    async def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append((messages, info))
        call = ToolCallPart(info.output_tools[0].name, args, tool_call_id='self-test')
        return ModelResponse(parts=[call], usage=RequestUsage(input_tokens=11, output_tokens=5), model_name='self-test')

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[DeltaToolCalls]:
        seen.append((messages, info))
        for i, piece in enumerate((args[:12], args[12:])):
            name = info.output_tools[0].name if i == 0 else None
            yield {0: DeltaToolCall(name=name, json_args=piece, tool_call_id='self-test')}

    agent = Agent(
        FunctionModel(answer, stream_function=stream),
        output_type=_SelfTestAnswer,
        name='podium-self-test',
        instructions='Answer.',
        system_prompt='Be brief.',
        model_settings={'temperature': 0.0},
    )
    agent.instrument = False  # no spans, whatever `Agent.instrument_all()` says
    plan = call_blocker(agent, None) or (await _new_entry(agent, 'ping', None, LeanPlans())).plan
    if not isinstance(plan, LeanPlan):
        return f'a tool-less agent was not eligible: {plan}'
    differing: list[str] = []
    for streamed in (False, True):
        lean_usage, agent_usage = RunUsage(), RunUsage()
        lean_events: list[RunEvent] = []
        agent_events: list[RunEvent] = []
        lean_stream = StepStream(lean_events.append, ('self-test',)) if streamed else None
        agent_stream = StepStream(agent_events.append, ('self-test',))
        lean_output, _ = await run_lean(
            agent, plan, 'ping', deps=None, usage=lean_usage, usage_limits=None, scope=None, stream=lean_stream
        )
        handler = agent_stream.agent_events if streamed else None
        result = await agent.run('ping', usage=agent_usage, infer_name=False, event_stream_handler=handler)
        if len(seen) != 2:
            return f'the model got {len(seen)} requests where it should get 2'
        lean_sent, agent_sent = (_comparable(*sent) for sent in seen)
        seen.clear()
        kind = 'streamed ' if streamed else ''
        differing += [f'{kind}{key}' for key, value in agent_sent.items() if lean_sent[key] != value]
        differing += [f'{kind}output'] if lean_output != result.output else []
        differing += [f'{kind}usage'] if lean_usage != agent_usage else []
        differing += ['streamed events'] if streamed and _told(lean_events) != _told(agent_events) else []
    return f"the lean request differs from the agent's in {', '.join(differing)}" if differing else None


def _told(events: list[RunEvent]) -> list[object]:
    """What a step's events say, without the ids and timestamps each run makes afresh."""
    return [
        event.event.event_kind if isinstance(event, AgentEvent) else (event.type, getattr(event, 'partial', None))
        for event in events
    ]


def _comparable(messages: list[ModelMessage], info: AgentInfo) -> dict[str, object]:
    """What a model received, without the values every run makes afresh."""
    return {
        'messages': json.loads(ModelMessagesTypeAdapter.dump_json(messages), object_hook=_without_volatile),
        'function_tools': info.function_tools,
        'output_tools': info.output_tools,
        'allow_text_output': info.allow_text_output,
        'model_settings': info.model_settings,
        'model_request_parameters': info.model_request_parameters,
        'instructions': info.instructions,
    }


def _without_volatile(fields: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in fields.items() if key not in _VOLATILE}
