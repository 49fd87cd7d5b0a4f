"""What a run says while it happens: typed events, one pydantic discriminated union that serialises to JSON.

Events reach whoever listens through the run's hooks (`RunHook.on_event`), so a step never knows whether anyone
streams: the dispatch point emits `StepStarted`/`StepFinished` for every step, and steps emit what only they know
(a route, a failed attempt, a fallback, an agent's deltas) through `StepScope.emit`, which does nothing unless the
run has a listener. What happens inside an agent reuses Pydantic-AI's own `AgentStreamEvent` types.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Final, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidatorFunctionWrapHandler,
    field_serializer,
    field_validator,
)
from pydantic_ai.messages import (
    AgentStreamEvent,
    FinalResultEvent,
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    OutputToolCallEvent,
    OutputToolResultEvent,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    TextPartDelta,
    ToolCallPart,
    ToolCallPartDelta,
)
from pydantic_ai.usage import RunUsage
from typing_extensions import TypedDict

from ._classify import status_code
from ._records import PausedRun, RunResult, RunStatus, StepRecord
from ._redact import describe
from ._traits import StepKind

__all__ = (
    'AgentEvent',
    'AttemptFailed',
    'EventPath',
    'FallbackTaken',
    'OutputDelta',
    'OutputDiscarded',
    'RouteDecided',
    'RunEvent',
    'RunFailed',
    'RunFinished',
    'RunStarted',
    'StepFinished',
    'StepReplayed',
    'StepStarted',
    'attempt_failed',
    'run_event_adapter',
)

EventPath: TypeAlias = tuple[str, ...]
"""Names of the steps from the workflow down to the one an event is about (unnamed chains add no name)."""


class _ResultFields(TypedDict):
    workflow: str
    status: RunStatus
    output: Any
    paused: PausedRun | None
    steps: tuple[StepRecord, ...]
    usage: RunUsage
    duration_s: float


_RESULT_FIELDS = TypeAdapter(_ResultFields)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: EventPath = ()
    """Where in the step tree the event happened; empty for the run itself."""

    def summary(self) -> str:
        """One line saying what happened, without timings or ids: for logs, terminals and snapshot tests."""
        where = '/'.join(self.path) or '-'
        kind = type(self).model_fields['type'].default  # each event class declares its own `type` literal
        return f'{kind} {where} {self._detail()}'.rstrip()

    def _detail(self) -> str:
        return ''


class RunStarted(_Event):
    """The run began."""

    type: Literal['run_started'] = 'run_started'
    workflow: str
    """Name of the step that was run."""
    input: Any = None
    """The run's input."""

    def _detail(self) -> str:
        return self.workflow


class StepStarted(_Event):
    """A step began (steps that leave no record, such as unnamed chains, send none)."""

    type: Literal['step_started'] = 'step_started'
    step: str
    """The step's name (also the last element of `path`)."""
    kind: str
    """Its records' kind: `agent`, `function`, `router`, `branch`, `loop`, ..."""
    shape: StepKind
    """Its shape in the tree: `call`, `sequence`, `choice`, `fan-out`, `loop` or `wrapper`."""

    def _detail(self) -> str:
        return self.kind


class RouteDecided(_Event):
    """A router or branch chose where the input goes."""

    type: Literal['route_decided'] = 'route_decided'
    route: str
    confidence: float | None = None
    reason: str | None = None
    """The decision's stated reason, redacted."""
    escalated: bool = False
    """Whether a cheaper router was unsure and this decision came from the one it escalated to."""

    def _detail(self) -> str:
        confidence = '' if self.confidence is None else f' ({self.confidence:g})'
        return f'{self.route}{confidence}' + (' escalated' if self.escalated else '')


class AttemptFailed(_Event):
    """One try at a step failed; `retry_in_s` says when the next one starts, `None` when none will."""

    type: Literal['attempt_failed'] = 'attempt_failed'
    attempt: int
    """1 for the first try."""
    error: str
    """The error's class name."""
    message: str = ''
    """What went wrong, redacted."""
    status_code: int | None = None
    retry_in_s: float | None = None

    def _detail(self) -> str:
        retry = 'no retry' if self.retry_in_s is None else f'retry in {self.retry_in_s:g}s'
        return f'#{self.attempt} {self.error}, {retry}'


class FallbackTaken(_Event):
    """A wrapper gave up on its step's first way and took another (a backup step or model, a default)."""

    type: Literal['fallback_taken'] = 'fallback_taken'
    reason: str
    to: str | None = None
    """The name of what runs instead, when there is one."""

    def _detail(self) -> str:
        return f'{self.reason} -> {self.to}' if self.to else self.reason


class OutputDiscarded(_Event):
    """The step at `path` starts over (a retry or fallback after partial output): drop what it streamed so far."""

    type: Literal['output_discarded'] = 'output_discarded'
    reason: str

    def _detail(self) -> str:
        return self.reason


class OutputDelta(_Event):
    """New output of an agent step while it streams.

    `text` is what the text output grew by; `partial` is the validated partial structured output so far.
    """

    type: Literal['output_delta'] = 'output_delta'
    text: str | None = None
    partial: Any = None

    def _detail(self) -> str:
        return f'text={_short(self.text)}' if self.text is not None else f'partial={_short(self.partial)}'


def _members(union: object) -> frozenset[type]:
    """The classes of a (nested, annotated) union."""
    origin = typing.get_origin(union)
    if origin is Annotated:
        return _members(typing.get_args(union)[0])
    if origin is typing.Union or origin is types.UnionType:
        return frozenset(cls for arg in typing.get_args(union) for cls in _members(arg))
    assert isinstance(union, type)
    return frozenset({union})


_AGENT_STREAM_EVENTS: Final = _members(AgentStreamEvent)


class AgentEvent(_Event):
    """Something that happened inside an agent step, as Pydantic-AI streams it.

    Part starts and deltas, tool calls and tool results: Pydantic-AI's own `AgentStreamEvent`s.
    """

    type: Literal['agent_event'] = 'agent_event'
    event: AgentStreamEvent

    @field_validator('event', mode='wrap')
    @classmethod
    def _as_built(cls, value: object, handler: ValidatorFunctionWrapHandler) -> object:
        # Pydantic-AI built the event already: walking its union again would cost more than the rest of the event.
        return value if type(value) in _AGENT_STREAM_EVENTS else handler(value)

    def _detail(self) -> str:
        return _agent_event(self.event)


class StepReplayed(_Event):
    """A resumed run took the step's output from its checkpoint instead of running it."""

    type: Literal['step_replayed'] = 'step_replayed'
    step: str

    def _detail(self) -> str:
        return self.step


class StepFinished(_Event):
    """A step ended; its record says how."""

    type: Literal['step_finished'] = 'step_finished'
    record: StepRecord

    def _detail(self) -> str:
        record = self.record
        route = f' route={record.route}' if record.route else ''
        return f'{record.status}{route}'


class RunFinished(_Event):
    """The run produced its output (or paused at an approval step): the last event of a run that did not fail.

    In JSON the result is its public fields: the output (absent while paused), the status, where it paused, the
    records, the usage and the duration.
    """

    type: Literal['run_finished'] = 'run_finished'
    result: RunResult[Any]

    @field_serializer('result')
    def _public_fields(self, result: RunResult[Any]) -> dict[str, Any]:
        return {
            'workflow': result.workflow,
            'status': result.status,
            'output': None if result.paused is not None else result.output,
            'paused': result.paused,
            'steps': result.steps,
            'usage': result.usage,
            'duration_s': result.duration_s,
        }

    @field_validator('result', mode='before')
    @classmethod
    def _from_public_fields(cls, value: object) -> object:
        if isinstance(value, dict):
            fields = _RESULT_FIELDS.validate_python(value)
            return RunResult[Any](**fields)
        return value

    def _detail(self) -> str:
        paused = self.result.paused
        if paused is not None:
            return f'paused at {paused.step}'
        return f'output={_short(self.result.output)}'


class RunFailed(_Event):
    """The run could not produce its output: the last event of a failed or cancelled run."""

    type: Literal['run_failed'] = 'run_failed'
    error: str
    """The error's class name (`WorkflowTimeout`, `RunCancelled`, ...)."""
    message: str
    """What went wrong, redacted."""
    step: str | None = None
    """The step the error names, when it names one."""
    records: tuple[StepRecord, ...] = ()
    """The records of every step that finished."""

    def _detail(self) -> str:
        return f'{self.error}: {_short(self.message)}'


def _short(value: object, limit: int = 100) -> str:
    text = repr(value.model_dump(mode='json') if isinstance(value, BaseModel) else value)
    return text if len(text) <= limit else text[: limit - 1] + '…'


def _agent_event(event: AgentStreamEvent) -> str:
    """What a Pydantic-AI event says, in its kind's own words (no ids, no timestamps)."""
    kind = event.event_kind
    if isinstance(event, PartStartEvent | PartEndEvent):
        part = event.part
        name = f' {part.tool_name}' if isinstance(part, ToolCallPart) else ''
        return f'{kind} {part.part_kind}{name}'
    if isinstance(event, PartDeltaEvent):
        delta = event.delta
        if isinstance(delta, TextPartDelta):
            return f'{kind} {_short(delta.content_delta)}'
        if isinstance(delta, ToolCallPartDelta):
            return f'{kind} {_short(delta.args_delta)}'
        return f'{kind} {delta.part_delta_kind}'
    if isinstance(event, FinalResultEvent):
        return f'{kind} {event.tool_name}' if event.tool_name else kind
    if isinstance(event, FunctionToolCallEvent | OutputToolCallEvent):
        return f'{kind} {event.part.tool_name} {_short(event.part.args)}'
    if isinstance(event, FunctionToolResultEvent | OutputToolResultEvent):
        return f'{kind} {event.part.tool_name} {_short(event.part.content)}'
    return kind


RunEvent: TypeAlias = Annotated[
    RunStarted
    | StepStarted
    | RouteDecided
    | AttemptFailed
    | FallbackTaken
    | OutputDiscarded
    | OutputDelta
    | AgentEvent
    | StepReplayed
    | StepFinished
    | RunFinished
    | RunFailed,
    Field(discriminator='type'),
]
"""Every event a run sends, told apart by `type`."""


def attempt_failed(path: EventPath, number: int, error: BaseException, retry_in_s: float | None) -> AttemptFailed:
    """The event for try `number` failing with `error`; `retry_in_s` is `None` when no retry follows."""
    return AttemptFailed(
        path=path,
        attempt=number,
        error=type(error).__name__,
        message=describe(error),
        status_code=status_code(error),
        retry_in_s=retry_in_s,
    )


run_event_adapter: TypeAdapter[RunEvent] = TypeAdapter(RunEvent)
"""Validates and serialises events: `run_event_adapter.validate_json(line)` reads one back."""
