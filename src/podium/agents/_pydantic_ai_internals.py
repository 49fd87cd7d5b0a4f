# pyright: reportPrivateUsage=false
"""Every Pydantic-AI internal the lean path reads, and the once-per-process check that they still mean the same.

Pydantic-AI has no public API for "send exactly the request this agent would send, and account for it as a run
would", so the lean path reads these internals. Nothing else in podium touches a name with a leading underscore
of Pydantic-AI's; every read goes through a function here.

Private modules (imported here only, and only as modules, so a missing name cannot break `import podium`):
- `_agent_graph`: `model_request`, the innermost request helper a run's `ModelRequestNode` calls;
  `_billed_by_request` and `_record_billed_usage`, how a run counts a response into its usage;
  `_interrupted_stream_response`, how it records a stream that stopped midway; `GraphAgentState`,
  the state an `AgentRunResult` reads its messages and usage from.
- `_context_size.context_input_tokens`: the input tokens a run checks `UsageLimits.input_tokens_limit` against.
- `_genai_prices.fill_response_cost`: the cost a run puts on a response before counting it.
- `_instrumentation`: the baggage keys an agent's run span sets, and the helpers that put the request and response
  on a `chat` span.
- `_run_context.set_current_run_context` and `models._request_timeout` (`start_request_deadline`,
  `stream_under_deadline`): how a streamed request is opened, with the run's context and under `request_timeout`.
- `_tool_execution._FINAL_RESULT_PROCESSED`: the text of the answer a run gives an output tool call.
- `_usage_attribution`: `accumulate` and `record_request`, how a run credits usage to its span.
- `_utils`: `now_utc` (every timestamp of a run) and `fill_run_metadata` (ids on a response).
- `_uuid.uuid7`: run and conversation ids.
- `_output`: the output schemas and processors, which read a response into the agent's output; the lean path
  only runs the processors that validate (no output functions), and reads `_function_schema`, `_choice_values`
  and `_processors` on them to know which those are.
- `agent._registered_capability_count`: whether the user gave the agent capabilities.

Private attributes:
- `Agent`: `_model`, `_output_schema`, `_root_capability`, `_concurrency_limiter`, `_metadata`,
  `_validation_context`, `_event_stream_handler`, `_function_toolset`, `_user_toolsets`, `_dynamic_toolsets`,
  `_cap_toolsets`, `_output_validators`, `_system_prompt_functions`, `_system_prompt_dynamic_functions`,
  `_instructions`, `_event_hooks`, `_instrument`, `_instrument_default`, `_resolve_instrumentation_settings` and
  the thirteen `_override_*` context variables: what decides whether the agent does anything besides one request.
- `Model._refresh_http_client`, called before every request of a run.
- `ModelRequestContext._usage_response_ledger`: the responses a request has billed.
- `Instrumentation._agent_name`: the agent name on a run span's baggage.
- `AgentRunResult._state`: a finished run's messages and usage.

`check` runs once per process, on the first lean call: it looks every name above up, then sends one request to a
tiny agent both ways and compares what its model received and what came out, as the differential tests do. If
anything differs or raises, every call takes `Agent.run` and one `LeanPathUnavailable` warning says why.
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
import warnings
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import anyio
from opentelemetry.baggage import set_baggage
from opentelemetry.context import Context
from pydantic import BaseModel
from pydantic_ai import Agent, RunContext
from pydantic_ai.capabilities import Instrumentation
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart, ToolReturnPart
from pydantic_ai.models import Model, ModelRequestContext, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.test import TestModel
from pydantic_ai.output import NativeOutput
from pydantic_ai.run import AgentRunResult
from pydantic_ai.usage import RunUsage

from .._core._redact import describe

_import_error: ImportError | None = None
try:
    from pydantic_ai import (
        _agent_graph,
        _context_size,
        _genai_prices,
        _instrumentation,
        _output,
        _run_context,
        _tool_execution,
        _usage_attribution,
        _utils,
        _uuid,
    )
    from pydantic_ai import agent as _agent_module
    from pydantic_ai.models import _request_timeout
except ImportError as exc:  # `check` reports it: the lean path stays off and says why
    if TYPE_CHECKING:  # to the type checkers the modules are there, so every function here is checked
        raise
    _import_error = exc


def _takes_stream_flag() -> bool:
    try:
        return 'stream' in inspect.signature(_request_timeout.start_request_deadline).parameters
    except (NameError, AttributeError, TypeError, ValueError):  # not importable: the lean path is off anyway
        return False


_DEADLINE_TAKES_STREAM: Final = _takes_stream_flag()

if TYPE_CHECKING:
    from datetime import datetime

    from pydantic_ai.models.instrumented import InstrumentationSettings

    OutputSchema: TypeAlias = _output.OutputSchema[Any]
    OutputProcessor: TypeAlias = _output.BaseOutputProcessor[Any]

__all__ = (
    'LeanPathUnavailable',
    'agent_model',
    'check',
    'count_interrupted',
    'count_response',
    'credit_to_own_span',
    'dynamic_features',
    'finished_run',
    'input_tokens',
    'instrumentation_key',
    'instrumentation_settings',
    'missing_internals',
    'new_id',
    'now_utc',
    'output_processors',
    'output_schema',
    'output_tool_answer',
    'override_active',
    'read_with',
    'record_request',
    'refresh_http_client',
    'run_baggage',
    'schema_blocker',
    'send_request',
    'span_request',
    'span_response',
    'static_features',
    'stream_request',
)


class LeanPathUnavailable(UserWarning):
    """Warned once per process when the installed Pydantic-AI does not match what the lean path relies on.

    Every agent step then runs `Agent.run`: outputs are the same, each call costs the agent loop's CPU.
    """


# Agent: the model, the output schema, and every field that can make a run do more than one request.


def agent_model(agent: Agent[Any, Any]) -> Model | str | None:
    """The model the agent was built with (a `Model`, a name, or `None`)."""
    return agent._model


def output_schema(agent: Agent[Any, Any]) -> OutputSchema:
    """How the agent reads its output from a response."""
    return agent._output_schema


def static_features(agent: Agent[Any, Any]) -> list[str]:
    """What the agent was built with beyond instructions and an output type: fixed once it is built."""
    found: list[str] = []
    if _agent_module._registered_capability_count(agent._root_capability):
        found.append('it has capabilities')
    if agent._concurrency_limiter is not None:
        found.append('it has a concurrency limit')
    if agent._metadata is not None:
        found.append('it has run metadata')
    if agent._validation_context is not None:
        found.append('it has a validation context')
    if agent._event_stream_handler is not None:
        found.append('it has an event stream handler')
    return found


def override_active(agent: Agent[Any, Any]) -> bool:
    """Whether `agent.override()` is active in this context."""
    for name in _OVERRIDES:  # noqa: SIM110 (asked on every lean call: a plain loop, not a generator)
        if getattr(agent, name).get() is not None:
            return True
    return False


def dynamic_features(agent: Agent[Any, Any]) -> list[str]:
    """What the agent has now that `Agent.run` would act on: decorators can add these at any time."""
    found: list[str] = []
    if agent._function_toolset.tools or agent._user_toolsets or agent._dynamic_toolsets or agent._cap_toolsets:
        found.append('it has tools')
    if agent._output_validators:
        found.append('it has output validators')
    if agent._system_prompt_functions or agent._system_prompt_dynamic_functions:
        found.append('it has dynamic system prompts')
    if any(type(sourced.instruction) is not str for sourced in agent._instructions):
        found.append('it has dynamic instructions')
    if agent._event_hooks.has_on_event:
        found.append('it has event handlers')
    return found


_OVERRIDES: Final = (
    '_override_name',
    '_override_deps',
    '_override_model',
    '_override_toolsets',
    '_override_tools',
    '_override_native_tools',
    '_override_instructions',
    '_override_metadata',
    '_override_model_settings',
    '_override_output_retries',
    '_override_tool_retries',
    '_override_workspace',
    '_override_root_capability',
)


def instrumentation_key(agent: Agent[Any, Any]) -> object:
    """What the agent's instrumentation is decided by: changes when `instrument` or `instrument_all` does."""
    return agent._instrument if agent._instrument is not None else Agent._instrument_default


def instrumentation_settings(agent: Agent[Any, Any]) -> InstrumentationSettings | None:
    """The settings an `agent.run` started now is instrumented with, or `None`."""
    return agent._resolve_instrumentation_settings()


# Output schemas and processors.


def schema_blocker(schema: OutputSchema) -> str | None:
    """Why the schema reads output in a way the lean path does not reproduce; `None` if it only validates."""
    if not isinstance(schema, _schemas()):
        return f'its output schema is a {type(schema).__name__}'
    if schema.allows_image or schema.allows_deferred_tools or schema.allows_pending_model_response:
        return 'its output can be an image, deferred tool requests or a pending response'
    processors: list[OutputProcessor] = list(schema.toolset.processors.values()) if schema.toolset else []
    if schema.text_processor is not None:
        processors.append(schema.text_processor)
    if not all(_is_pure(processor) for processor in processors):
        return 'it has output functions'
    return None


def _schemas() -> tuple[type[OutputSchema], ...]:
    o = _output
    return (o.AutoOutputSchema, o.NativeOutputSchema, o.PromptedOutputSchema, o.ToolOutputSchema, o.TextOutputSchema)


def _is_pure(processor: OutputProcessor) -> bool:
    """Whether the processor only validates: no output function or choice action runs user code."""
    if type(processor) is _output.TextOutputProcessor:
        return True
    if type(processor) is _output.ObjectOutputProcessor:
        return processor._function_schema is None and processor._choice_values is None
    if type(processor) is _output.UnionOutputProcessor:
        return all(_is_pure(inner) for inner in processor._processors.values())
    return False


def output_processors(
    schema: OutputSchema, parameters: ModelRequestParameters
) -> tuple[dict[str, OutputProcessor], OutputProcessor | None]:
    """The processors of the output tools the request offers, by tool name, and the text processor."""
    offered = {tool.name for tool in parameters.output_tools}
    processors = schema.toolset.processors if schema.toolset is not None else {}
    return {name: p for name, p in processors.items() if name in offered}, schema.text_processor


async def read_with(
    processor: OutputProcessor,
    data: str | dict[str, Any],
    context: RunContext[Any],
    *,
    wrap_validation_errors: bool,
    allow_partial: bool = False,
) -> Any:
    """The output `processor` makes of `data`, as a run's `CallToolsNode` calls it; raises on invalid output.

    With `allow_partial`, incomplete data validates as far as it goes, as `AgentStream` validates a streamed output.
    """
    semantic, state = processor.hook_validate(data, run_context=context, allow_partial=allow_partial)
    return await processor.hook_execute(
        semantic, state, run_context=context, wrap_validation_errors=wrap_validation_errors
    )


# A request and its accounting, in a run's order.


def now_utc() -> datetime:
    """The time a run stamps its messages with."""
    return _utils.now_utc()


def new_id() -> str:
    """A run or conversation id, as a run makes them."""
    return str(_uuid.uuid7())


def credit_to_own_span() -> AbstractContextManager[object]:
    """Usage counted inside is credited to this run's span only, never to a run it is nested in."""
    return _usage_attribution.accumulate(None)


def run_baggage(instrumentation: Instrumentation, context: RunContext[Any]) -> Context:
    """The baggage an agent's run span sets, which its `chat` spans read their agent name and ids from."""
    baggage = set_baggage(_instrumentation.AGENT_NAME_BAGGAGE_KEY, instrumentation._agent_name)
    baggage = set_baggage(_instrumentation.RUN_ID_BAGGAGE_KEY, context.run_id or '', context=baggage)
    return set_baggage(_instrumentation.CONVERSATION_ID_BAGGAGE_KEY, context.conversation_id or '', context=baggage)


def span_request(request: ModelRequestContext) -> None:
    """Put the request on the current `chat` span, if any."""
    _instrumentation.capture_model_request_span_context(request)


def span_response(request: ModelRequestContext, response: ModelResponse) -> None:
    """Put the response on the current `chat` span, if any."""
    _instrumentation.capture_model_response_span_context(request, response)


def refresh_http_client(model: Model) -> None:
    """Replace a kept HTTP client made on another event loop, as every run starts by doing."""
    model._refresh_http_client()


async def send_request(request: ModelRequestContext, context: RunContext[Any]) -> ModelResponse:
    """Send `request` as a run's `ModelRequestNode` does."""
    # `on_progress` lets a run count the usage of a continued response that fails midway; a failed call adds
    # nothing to a podium run, so there is nothing to count.
    return await _agent_graph.model_request(
        request.model, request_context=request, run_context=context, on_progress=_ignore
    )


def _ignore(response: ModelResponse) -> None:
    pass


@asynccontextmanager
async def stream_request(request: ModelRequestContext, context: RunContext[Any]) -> AsyncGenerator[StreamedResponse]:
    """Open `request` as a streamed request, under its `request_timeout` deadline, as a streaming run opens each one.

    A run opens it through `model_request_stream`, whose stitching of suspended responses costs a lock and a cancel
    scope per event; a lean call has no use for it, since a response that is not complete goes to the agent anyway.
    """
    model = request.model
    with _run_context.set_current_run_context(context):
        stream = model.request_stream(
            request.messages, request.model_settings, request.model_request_parameters, context
        )
        deadline = _start_stream_deadline(model, request.model_settings)
        async with _request_timeout.stream_under_deadline(deadline, stream) as streamed:
            yield streamed


def _start_stream_deadline(model: Model, settings: Any) -> Any:
    """`start_request_deadline` for a streamed request: newer Pydantic-AI releases ask which kind of request it is."""
    start: Callable[..., Any] = _request_timeout.start_request_deadline  # its signature differs across releases
    if _DEADLINE_TAKES_STREAM:
        return start(model, settings, stream=True)
    return start(model, settings)


def count_response(usage: RunUsage, request: ModelRequestContext, response: ModelResponse) -> None:
    """Price the response and count what it billed into `usage`, as a run does with a response it keeps."""
    _genai_prices.fill_response_cost(response)
    billed = _agent_graph._billed_by_request(response, request.messages)
    request._usage_response_ledger.responses.append(billed)
    _agent_graph._record_billed_usage(usage, billed)


def count_interrupted(
    usage: RunUsage, request: ModelRequestContext, partial: ModelResponse, error: BaseException
) -> None:
    """Count what a stream that stopped with `error` billed, as a run commits the partial response of such a stream."""
    recorded = _agent_graph._interrupted_stream_response(error, partial)
    billed = _agent_graph._billed_by_request(recorded, request.messages)
    request._usage_response_ledger.responses.append(billed)
    _agent_graph._record_billed_usage(usage, billed)
    if recorded.parts:  # the run acted on what was streamed, so the request counts
        _usage_attribution.record_request(usage)


def record_request(usage: RunUsage, response: ModelResponse, *, run_id: str, conversation_id: str) -> None:
    """Stamp the response with the run's ids and count the request, as a run does once a response is kept."""
    _utils.fill_run_metadata(response, run_id=run_id, conversation_id=conversation_id)
    _usage_attribution.record_request(usage)


def input_tokens(response: ModelResponse) -> int:
    """The input tokens a run holds `UsageLimits.input_tokens_limit` against."""
    return _context_size.context_input_tokens(response)


def output_tool_answer(call: ToolCallPart) -> ToolReturnPart:
    """The part a run answers its output tool call with, the one `_ToolCallProcessor._status_part` makes."""
    return ToolReturnPart(call.tool_name, _tool_execution._FINAL_RESULT_PROCESSED, tool_call_id=call.tool_call_id)


def finished_run(
    output: Any, messages: list[ModelMessage], usage: RunUsage, *, run_id: str, conversation_id: str
) -> AgentRunResult[Any]:
    """The result of a run that ended with `output` after `messages`, as `Agent.run` returns it."""
    state = _agent_graph.GraphAgentState(
        message_history=messages, usage=usage, run_id=run_id, conversation_id=conversation_id
    )
    return AgentRunResult(output, _state=state)


# The check.

SelfTest: TypeAlias = Callable[[], Awaitable[str | None]]
"""Sends one request both ways and says what differed, or `None`."""

_MODULE_NAMES: Final = {
    '_agent_graph': (
        'GraphAgentState',
        '_billed_by_request',
        '_interrupted_stream_response',
        '_record_billed_usage',
        'model_request',
    ),
    '_context_size': ('context_input_tokens',),
    '_genai_prices': ('fill_response_cost',),
    '_instrumentation': (
        'AGENT_NAME_BAGGAGE_KEY',
        'CONVERSATION_ID_BAGGAGE_KEY',
        'RUN_ID_BAGGAGE_KEY',
        'capture_model_request_span_context',
        'capture_model_response_span_context',
    ),
    '_output': (
        'AutoOutputSchema',
        'NativeOutputSchema',
        'PromptedOutputSchema',
        'ToolOutputSchema',
        'TextOutputSchema',
        'TextOutputProcessor',
        'ObjectOutputProcessor',
        'UnionOutputProcessor',
    ),
    '_run_context': ('set_current_run_context',),
    '_request_timeout': ('start_request_deadline', 'stream_under_deadline'),
    '_tool_execution': ('_FINAL_RESULT_PROCESSED',),
    '_usage_attribution': ('accumulate', 'record_request'),
    '_utils': ('fill_run_metadata', 'now_utc'),
    '_uuid': ('uuid7',),
    'agent': ('_registered_capability_count',),
}
_AGENT_ATTRIBUTES: Final = (
    '_model',
    '_output_schema',
    '_root_capability',
    '_concurrency_limiter',
    '_metadata',
    '_validation_context',
    '_event_stream_handler',
    '_function_toolset',
    '_user_toolsets',
    '_dynamic_toolsets',
    '_cap_toolsets',
    '_output_validators',
    '_system_prompt_functions',
    '_system_prompt_dynamic_functions',
    '_instructions',
    '_event_hooks',
    '_instrument',
    '_instrument_default',
    '_resolve_instrumentation_settings',
    *_OVERRIDES,
)


class _Probe(BaseModel):
    answer: str


def missing_internals() -> list[str]:
    """The internals above that the installed Pydantic-AI lacks, as `owner.name`."""
    if _import_error is not None:
        return [f'pydantic_ai.{_import_error.name or "?"} ({_import_error})']
    modules = {
        '_agent_graph': _agent_graph,
        '_context_size': _context_size,
        '_genai_prices': _genai_prices,
        '_instrumentation': _instrumentation,
        '_output': _output,
        '_run_context': _run_context,
        '_request_timeout': _request_timeout,
        '_tool_execution': _tool_execution,
        '_usage_attribution': _usage_attribution,
        '_utils': _utils,
        '_uuid': _uuid,
        'agent': _agent_module,
    }
    missing = [
        f'pydantic_ai.{module}.{name}'
        for module, names in _MODULE_NAMES.items()
        for name in names
        if not hasattr(modules[module], name)
    ]
    if missing:
        return missing
    agent = Agent(TestModel(), output_type=NativeOutput[object]([_Probe, int]))
    missing += [f'Agent.{name}' for name in _AGENT_ATTRIBUTES if not hasattr(agent, name)]
    missing += [f'Model.{name}' for name in ('_refresh_http_client',) if not hasattr(Model, name)]
    missing += [
        f'ModelRequestContext.{name}' for name in ('_usage_response_ledger',) if not _field(ModelRequestContext, name)
    ]
    missing += [f'Instrumentation.{name}' for name in ('_agent_name',) if not _field(Instrumentation, name)]
    missing += [f'AgentRunResult.{name}' for name in ('_state',) if not _field(AgentRunResult, name)]
    if not missing:
        union = output_schema(agent).text_processor
        inner = list(union._processors.values()) if isinstance(union, _output.UnionOutputProcessor) else []
        if not inner:
            missing.append('UnionOutputProcessor._processors')
        for name in ('_function_schema', '_choice_values'):
            if not all(hasattr(processor, name) for processor in inner):
                missing.append(f'ObjectOutputProcessor.{name}')
    return missing


def _field(cls: type[Any], name: str) -> bool:
    return hasattr(cls, name) or (dataclasses.is_dataclass(cls) and name in {f.name for f in dataclasses.fields(cls)})


_State: TypeAlias = Literal['unchecked', 'checking', 'passed', 'failed']


class _Check:
    """The verdict on the installed Pydantic-AI: reached once, then read on every call."""

    __slots__ = ('_lock', 'problem', 'state')

    def __init__(self) -> None:
        self._lock = threading.Lock()  # held for a compare-and-set only, never across an await
        self.state: _State = 'unchecked'
        self.problem: str | None = None

    def passed(self) -> bool:
        """Whether the check has run and found the lean path sound."""
        return self.state == 'passed'

    def claim(self) -> bool:
        """Whether this caller runs the check: exactly one caller, across threads and tasks, gets `True`."""
        with self._lock:
            if self.state != 'unchecked':
                return False
            self.state = 'checking'
            return True


_CHECK = _Check()
"""The one per-process fact podium keeps: whether the installed Pydantic-AI is the one the lean path was proven on.
It is a property of the process (one Pydantic-AI per process), not of any run or step."""


async def check(self_test: SelfTest) -> bool:
    """Whether the lean path may run: checked on the first call, then a cached answer.

    While the first caller runs the check, concurrent callers wait for its verdict, so which path a step takes never
    depends on how the first calls of a process interleave. A failed check warns once.
    """
    verdict = _CHECK
    if verdict.state == 'passed':
        return True
    if not verdict.claim():
        # Polled rather than awaited on an event: the checking caller may run on another thread's event loop.
        while verdict.state == 'checking':  # noqa: ASYNC110  # see the comment above
            await anyio.sleep(0.001)
        return verdict.passed()
    try:
        missing = missing_internals()
        problem = f'missing {", ".join(missing)}' if missing else await self_test()
    except Exception as exc:  # whatever went wrong, the agent path is always correct
        problem = f'the self-test raised {describe(exc)}'
    except BaseException:  # cancelled: the next call checks again
        verdict.state = 'unchecked'
        raise
    if problem is None:
        verdict.state = 'passed'
        return True
    verdict.state, verdict.problem = 'failed', problem
    warnings.warn(
        LeanPathUnavailable(
            f'podium runs every agent step through Agent.run: its lean path does not match pydantic-ai-slim '
            f'{_installed_version()} ({problem}); outputs are unchanged, each call costs the agent loop'
        ),
        stacklevel=2,
    )
    return False


def _installed_version() -> str:
    try:
        return version('pydantic-ai-slim')
    except PackageNotFoundError:
        return 'unknown'
