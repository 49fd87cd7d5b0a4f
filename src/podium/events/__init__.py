"""Watch a run while it happens: `step.stream(...)` yields these events, `run(on_event=...)` hands them over.

Every event is a pydantic model with a `type` tag and the `path` of the step it concerns; `RunEvent` is their
discriminated union, so `run_event_adapter.validate_json(...)` reads a serialised event back.
"""

from .._core._events import (
    AgentEvent,
    AttemptFailed,
    EventPath,
    FallbackTaken,
    OutputDelta,
    OutputDiscarded,
    RouteDecided,
    RunEvent,
    RunFailed,
    RunFinished,
    RunStarted,
    StepFinished,
    StepReplayed,
    StepStarted,
    run_event_adapter,
)
from .._core._stream import DEFAULT_BUFFER, EventCallback, RunStream

__all__ = (
    'DEFAULT_BUFFER',
    'AgentEvent',
    'AttemptFailed',
    'EventCallback',
    'EventPath',
    'FallbackTaken',
    'OutputDelta',
    'OutputDiscarded',
    'RouteDecided',
    'RunEvent',
    'RunFailed',
    'RunFinished',
    'RunStarted',
    'RunStream',
    'StepFinished',
    'StepReplayed',
    'StepStarted',
    'run_event_adapter',
)
