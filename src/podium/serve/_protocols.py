"""A run as chat frontends' protocols stream it: AG-UI and the Vercel AI data stream, by Pydantic-AI's own encoders.

`pydantic_ai.ui`'s event streams turn Pydantic-AI's native events into their protocol's events and encode them. A
run's events become native events here: what happens inside an agent step is Pydantic-AI's own `AgentStreamEvent`
already; every other event of the run (steps, routes, attempts, fallbacks) is one `CustomEvent` carrying the
event's JSON, which the protocols forward as their custom or data events; and the workflow's output ends the stream
as a text message, so a chat frontend shows the answer. A failed run raises its error into the stream, which sends
the protocol's error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from ag_ui.core import BaseEvent, StepFinishedEvent, StepStartedEvent
from pydantic_ai import CustomEvent
from pydantic_ai.messages import ModelMessage, ModelRequest, PartEndEvent, PartStartEvent, TextPart, UserPromptPart
from pydantic_ai.ui import NativeEvent
from pydantic_ai.ui.ag_ui import AGUIEventStream

from .._core._errors import WorkflowError
from .._core._events import AgentEvent, RunFinished, run_event_adapter
from .._core._redact import describe, redact
from .._core._stream import RunStream
from ._input import WorkflowTypes

__all__ = ('PodiumEvent', 'StepAwareAGUIStream', 'latest_user_text', 'native_events')


@dataclass(kw_only=True)
class PodiumEvent(CustomEvent, name='podium.event'):
    """A run event in a protocol's stream, its value the event's JSON as `/stream` sends it.

    AG-UI sends it as a `CUSTOM` event named `podium.event`, the Vercel AI data stream as a `data-podium.event` part.
    """

    event: dict[str, Any]

    def to_payload(self) -> Any:
        """The event's JSON, as `run_event_adapter` writes it."""
        return self.event


async def native_events(run: RunStream[Any], types: WorkflowTypes) -> AsyncIterator[NativeEvent]:
    """The run's events as Pydantic-AI's native events, ending with the output as a text part.

    Raises:
        WorkflowError: after the events, when the run failed; the protocol stream turns it into its error event.
    """
    async with run as events:
        async for event in events:
            if isinstance(event, AgentEvent):
                yield event.event
                continue
            yield PodiumEvent(event=run_event_adapter.dump_python(event, mode='json'))
            if isinstance(event, RunFinished):
                part = TextPart(content=types.output_text(event.result.output))
                yield PartStartEvent(index=0, part=part)
                yield PartEndEvent(index=0, part=part)
    try:
        run.result  # noqa: B018  # raises the run's error, if it failed
    except WorkflowError:
        raise
    except Exception as exc:  # not a run's failure (a hook raised, say): the protocol's error event still says why
        raise WorkflowError(redact(describe(exc))) from exc


@dataclass
class StepAwareAGUIStream(AGUIEventStream[Any, Any]):
    """AG-UI's stream, with a `STEP_STARTED`/`STEP_FINISHED` pair around each step of the run.

    The step's name is its path in the workflow, `support_desk/billing/billing_extract`, so nested steps and two
    steps of one name stay apart.
    """

    async def handle_custom_event(self, event: CustomEvent) -> AsyncIterator[BaseEvent]:
        if isinstance(event, PodiumEvent):
            kind = event.event.get('type')
            name = '/'.join(event.event.get('path', ()))
            if kind == 'step_started':
                yield StepStartedEvent(step_name=name)
            elif kind == 'step_finished':
                yield StepFinishedEvent(step_name=name)
        async for protocol_event in super().handle_custom_event(event):
            yield protocol_event


def latest_user_text(messages: Sequence[ModelMessage]) -> str | None:
    """The text of the conversation's last user message: what the workflow runs on."""
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in reversed(message.parts):
                if isinstance(part, UserPromptPart):
                    content = part.content
                    if isinstance(content, str):
                        return content
                    return '\n'.join(item for item in content if isinstance(item, str))
    return None
