"""What an agent step streams while its run streams: Pydantic-AI's own events, and its output as it grows.

Both paths feed one `StepStream`: the agent path hands it the streams `Agent.run` gives an `event_stream_handler`,
the lean path the one streamed request it sends. Its output deltas follow `Agent.run_stream`: nothing counts as
output before the response shows its final result (`FinalResultEvent`), and from then on the response so far is
validated with `allow_partial`, keeping what validates. A step whose streamed output stops counting (the agent asks
the model again, or the call fails) says so with one `OutputDiscarded`, so a consumer can drop what it showed.

A stream that ends cleanly but early (the connection closed before the provider said why it stopped) reads to
Pydantic-AI as a short, complete answer; `ensure_finished` turns it into the broken connection it is, so the step
fails (and a retry or fallback acts) instead of taking partial output for its output.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, Callable
from typing import Any, Final, cast

from pydantic import ValidationError
from pydantic_ai import RunContext
from pydantic_ai.exceptions import ModelConnectionError, ModelRetry
from pydantic_ai.messages import (
    AgentStreamEvent,
    FinalResultEvent,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
)
from pydantic_ai.models import Model
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.result import AgentStream

from .._core._events import AgentEvent, EventPath, OutputDelta, OutputDiscarded, RunEvent

__all__ = ('PartialOutput', 'StepStream', 'can_stream', 'ensure_finished')


class PartialOutput(ABC):
    """One model response's output so far, validated as `AgentStream` validates it: from its final result event on.

    `see` takes each event of the response in and says whether the output may have grown, `validate` reads it then.
    """

    __slots__ = ('final',)

    def __init__(self) -> None:
        self.final: FinalResultEvent | None = None

    def see(self, event: AgentStreamEvent) -> bool:
        """Take `event` in; whether the output is worth validating after it."""
        if type(event) is FinalResultEvent:
            self.final = event
            return True
        return self.final is not None and isinstance(event, PartStartEvent | PartDeltaEvent)

    @abstractmethod
    async def validate(self) -> Any:
        """The partial output after the events seen; raises `ValidationError` or `ModelRetry` while it is invalid."""


class _AgentStreamOutput(PartialOutput):
    """The output of the node an agent streams, validated by its `AgentStream`."""

    __slots__ = ('_stream',)

    def __init__(self, stream: AgentStream[Any, Any]) -> None:
        super().__init__()
        self._stream = stream

    async def validate(self) -> Any:
        return await self._stream.validate_response_output(self._stream.response, allow_partial=True)


_NOTHING: Final = object()

ASKED_AGAIN: Final = 'the agent asks the model again: the output streamed so far is not the output'
"""Why a step's output is discarded when another model response follows the one that streamed it."""


def can_stream(model: Model | None) -> bool:
    """Whether `model` answers streamed requests.

    A step whose model cannot still runs in a streaming run, without deltas, rather than fail a workflow that
    `run()` runs fine. A `FunctionModel` streams only with a `stream_function`, a model class that does not override
    `Model.request_stream` not at all, and a `FallbackModel` only when every model in it does.
    """
    while isinstance(model, WrapperModel):
        model = model.wrapped
    if model is None:
        return True  # the agent has no model: the call fails the way `run()` fails
    if isinstance(model, FunctionModel):
        return model.stream_function is not None
    if isinstance(model, FallbackModel):
        return all(can_stream(m) for m in model.models)
    return type(model).request_stream is not Model.request_stream


class StepStream:
    """Sends one agent step's stream events to its run, under the step's path."""

    __slots__ = ('_emit', '_partial', '_path', '_responses', '_text', 'streamed')

    def __init__(self, emit: Callable[[RunEvent], None], path: EventPath) -> None:
        """Send events to `emit` (a step's `StepScope.emit`), under `path` (its `tree_path`)."""
        self._emit = emit
        self._path = path
        self._responses = 0
        self._text = ''
        self._partial: object = _NOTHING
        self.streamed = False
        """Whether anything was sent since the output was last discarded."""

    async def relay(self, events: AsyncIterable[AgentStreamEvent], output: PartialOutput | None) -> None:
        """Send every event of one streamed node; with `output`, the node is a model response whose output counts."""
        if output is not None:
            self._new_response()
        emit, path = self._emit, self._path
        async for event in events:
            emit(AgentEvent(path=path, event=event))
            self.streamed = True
            if output is None or not output.see(event):
                continue
            try:
                partial = await output.validate()
            except (ValidationError, ModelRetry):  # not valid yet: `Agent.run_stream` skips it too
                continue
            self._output(partial)

    def send(self, event: AgentStreamEvent) -> None:
        """Send one event the step made itself, as the agent would have sent it."""
        self._emit(AgentEvent(path=self._path, event=event))
        self.streamed = True

    def replayed(self) -> None:
        """The next model response is one already streamed (the lean call's, handed to the agent): not a new one."""
        self._responses -= 1

    def discard(self, reason: str) -> None:
        """Tell the consumer to drop what the step streamed so far, if it streamed anything."""
        if self.streamed:
            self._emit(OutputDiscarded(path=self._path, reason=reason))
        self.streamed = False
        self._text, self._partial = '', _NOTHING

    def _new_response(self) -> None:
        self._responses += 1
        if self._responses > 1 and (self._text or self._partial is not _NOTHING):
            self.discard(ASKED_AGAIN)

    def _output(self, partial: object) -> None:
        if isinstance(partial, str) and partial.startswith(self._text):
            grown = partial[len(self._text) :]
            if grown:
                self._text = partial
                self._emit(OutputDelta(path=self._path, text=grown))
        elif partial != self._partial:
            self._partial = partial
            self._emit(OutputDelta(path=self._path, partial=partial))

    async def agent_events(self, context: RunContext[Any], events: AsyncIterable[AgentStreamEvent]) -> None:
        """An `event_stream_handler` for `Agent.run`: called once per node that streams."""
        del context
        if isinstance(events, AgentStream):
            stream = cast('AgentStream[Any, Any]', events)
            await self.relay(stream, _AgentStreamOutput(stream))
            ensure_finished(stream.response)
        else:
            await self.relay(events, None)


_SAYS_WHY_IT_STOPPED: Final = frozenset({'openai', 'anthropic'})
"""Providers whose streams end with a finish reason, which Pydantic-AI keeps in `provider_details`.

Pydantic-AI fills in `stop` for an OpenAI stream without one, because some OpenAI-compatible servers never send it;
podium takes such a stream for a cut one, so a server like that fails streamed runs (plain runs are unaffected)."""


def ensure_finished(response: ModelResponse) -> None:
    """Raise `ModelConnectionError` when a provider's stream ended without saying why it stopped: it was cut short."""
    if response.provider_name not in _SAYS_WHY_IT_STOPPED or response.state != 'complete':
        return
    if (response.provider_details or {}).get('finish_reason') is None:
        raise ModelConnectionError(
            response.model_name or 'model',
            'the streamed response ended before the provider said why it stopped (no finish reason): it was cut '
            'short, so its partial output is not an answer',
            phase='read',
            in_stream=True,
        )
