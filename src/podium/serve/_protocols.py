"""A run as chat frontends' protocols stream it: AG-UI and the Vercel AI data stream, by Pydantic-AI's own encoders.

`pydantic_ai.ui`'s event streams turn Pydantic-AI's native events into their protocol's events and encode them. A
run's events become native events here: what happens inside an agent step is Pydantic-AI's own `AgentStreamEvent`
already; every other event of the run (steps, routes, attempts, fallbacks) is one `CustomEvent` carrying the
event's JSON, which the protocols forward as their custom or data events; and the workflow's output ends the stream
as a text message, so a chat frontend shows the answer. A failed run raises its error into the stream, which sends
the protocol's error.

The protocols stream one assistant message at a time, while agent steps in parallel branches stream at once: their
events are sent one agent step after another (`_AgentsInTurn`), the first live, the others as soon as it ends.
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
from .._core._events import AgentEvent, EventPath, RunEvent, RunFinished, StepFinished, run_event_adapter
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
    in_turn = _AgentsInTurn()
    async with run as events:
        async for received in events:
            for event in in_turn.take(received):
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


class _AgentsInTurn:
    """Orders a run's events so that one agent step's events all come before the next agent step's.

    The first agent step to send an event streams live until it finishes. Another agent step's events meanwhile (a
    parallel branch's) are held, with every later event under its path, and sent when the live one finishes; held
    steps go in the order they started streaming. Events under the live step's path (a workflow its tool runs) and
    events of steps that are not streaming pass at once.
    """

    __slots__ = ('_held', '_live')

    def __init__(self) -> None:
        self._live: EventPath | None = None
        self._held: dict[EventPath, list[RunEvent]] = {}

    def take(self, event: RunEvent) -> list[RunEvent]:
        """The events to send now that `event` arrived, in order."""
        path = event.path
        if not path:  # the run's own event: at its end, nothing is held back
            return [*self._release_all(), event]
        live = self._live
        if live is not None and path[: len(live)] == live:
            if isinstance(event, StepFinished) and path == live:
                self._live = None
                return [event, *self._release()]
            return [event]
        owner = next((held for held in self._held if path[: len(held)] == held), None)
        if owner is not None:
            self._held[owner].append(event)
            return []
        if isinstance(event, AgentEvent):
            if live is None:
                self._live = path
                return [event]
            self._held[path] = [event]
            return []
        return [event]

    def _release(self) -> list[RunEvent]:
        """Held steps' events, up to and including the first held step that has not finished, which goes live."""
        released: list[RunEvent] = []
        while self._held and self._live is None:
            path = next(iter(self._held))
            events = self._held.pop(path)
            released += events
            if not any(isinstance(e, StepFinished) and e.path == path for e in events):
                self._live = path
        return released

    def _release_all(self) -> list[RunEvent]:
        released = [event for events in self._held.values() for event in events]
        self._held.clear()
        self._live = None
        return released


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
