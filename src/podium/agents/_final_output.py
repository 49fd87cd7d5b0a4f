"""Reads the output an agent's run ends with straight from one model response, with the agent's own processors.

Only the shapes after which the agent would end its run without another request are read: one output tool call
whose arguments validate, or text (with no tool call) that its text processor accepts. Those are the branches
`CallToolsNode` takes for a tool-less agent with no output validators or functions, and the same processor
methods run in the same order. Everything else (invalid output, several or unknown tool calls, empty or
thinking-only responses, any other part) is left to the agent, which alone knows how to re-prompt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from pydantic_ai import RunContext
from pydantic_ai.messages import (
    AgentStreamEvent,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ThinkingPart,
    ToolCallPart,
    ToolCallPartDelta,
)
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.usage import RunUsage

from . import _pydantic_ai_internals as internals
from ._streaming import PartialOutput

if TYPE_CHECKING:
    from ._pydantic_ai_internals import OutputSchema

__all__ = ('UNREAD', 'OutputReader', 'StreamedOutput')

UNREAD: Final = object()
"""Returned when the agent would do more with the response than end its run; the caller hands it to the agent."""


class OutputReader:
    """Validates one response into the agent's output, or says it cannot."""

    __slots__ = ('_context', '_text', '_tools')

    def __init__(self, schema: OutputSchema, parameters: ModelRequestParameters, model: Model) -> None:
        self._tools, self._text = internals.output_processors(schema, parameters)
        # Pure processors read only `validation_context` (None for eligible agents) from the run context.
        self._context = RunContext[Any](deps=None, model=model, usage=RunUsage())

    async def read(self, response: ModelResponse) -> Any:
        """The output the agent would end its run with after `response`, or `UNREAD`."""
        if response.state != 'complete':
            return UNREAD
        text = ''
        call: ToolCallPart | None = None
        for part in response.parts:
            if type(part) is TextPart:
                text += part.content
            elif type(part) is ToolCallPart and call is None:
                call = part
            elif type(part) is not ThinkingPart:
                return UNREAD
        try:
            if call is not None:
                return await self._read_call(call)
            if text and self._text is not None:
                return await internals.read_with(self._text, text, self._context, wrap_validation_errors=True)
        except Exception:  # invalid output: the agent re-prompts, or raises what it raises
            return UNREAD
        return UNREAD

    async def read_partial(self, response: ModelResponse, tool_name: str | None) -> Any:
        """The output so far of a response still streaming, as `AgentStream` validates it once the final result shows.

        `tool_name` is the output tool the `FinalResultEvent` named, `None` for text. Raises `ValidationError` while
        what arrived does not validate yet.
        """
        if tool_name is not None:
            call = next(part for part in response.tool_calls if part.tool_name == tool_name)
            return await self.read_partial_value(call.args if call.args is not None else {}, tool_name)
        return await self.read_partial_value(
            ''.join(part.content for part in response.parts if type(part) is TextPart), None
        )

    async def read_partial_value(self, value: str | dict[str, Any], tool_name: str | None) -> Any:
        """`read_partial` given what it reads: the output tool call's arguments, or the response's text."""
        if tool_name is not None:
            processor = self._tools[tool_name]
        else:
            assert self._text is not None  # a FinalResultEvent without a tool name means the agent takes text
            processor = self._text
        return await internals.read_with(
            processor, value, self._context, wrap_validation_errors=False, allow_partial=True
        )

    async def _read_call(self, call: ToolCallPart) -> Any:
        processor = self._tools.get(call.tool_name)
        if processor is None:
            return UNREAD
        args = call.args if call.args is not None else {}
        return await internals.read_with(processor, args, self._context, wrap_validation_errors=False)


class _Followed:
    """A text part (`tool` is `None`) or tool call part of a response, as its events built it so far."""

    __slots__ = ('chunks', 'no_args', 'tool')

    def __init__(self, tool: str | None, chunks: list[str], *, no_args: bool = False) -> None:
        self.tool, self.chunks, self.no_args = tool, chunks, no_args


class StreamedOutput(PartialOutput):
    """The output so far of a response the lean call streams, read as `OutputReader.read_partial` reads it.

    `StreamedResponse.get()` copies every part of the response, and partial output is read after every delta; the
    events say how the text and tool call parts grow, so this keeps their text and joins only what it reads. Events
    it does not follow plainly (arguments sent as a dict, a tool name that grows) send it back to `get()`.
    """

    __slots__ = ('_following', '_parts', '_reader', '_streamed')

    def __init__(self, reader: OutputReader, streamed: StreamedResponse) -> None:
        super().__init__()
        self._reader, self._streamed = reader, streamed
        self._parts: dict[int, _Followed] = {}
        self._following = True

    def see(self, event: AgentStreamEvent) -> bool:
        if self._following:
            self._following = self._follow(event)
        return super().see(event)

    def _follow(self, event: AgentStreamEvent) -> bool:
        """Take `event` into the parts; whether they still match the response's."""
        if type(event) is PartDeltaEvent:
            delta, followed = event.delta, self._parts.get(event.index)
            if type(delta) is TextPartDelta:
                if followed is None or followed.tool is not None:
                    return False
                followed.chunks.append(delta.content_delta)
            elif type(delta) is ToolCallPartDelta:
                if followed is None or followed.tool is None or delta.tool_name_delta is not None:
                    return False
                if isinstance(delta.args_delta, dict):
                    return False
                if delta.args_delta is not None:
                    followed.chunks.append(delta.args_delta)
                    followed.no_args = False
            elif followed is not None:  # another kind of delta to a text or tool call part
                return False
        elif type(event) is PartStartEvent:
            part = event.part
            if type(part) is TextPart:
                self._parts[event.index] = _Followed(None, [part.content])
            elif isinstance(part, ToolCallPart):
                if isinstance(part.args, dict):
                    return False
                self._parts[event.index] = _Followed(part.tool_name, [part.args or ''], no_args=part.args is None)
            else:
                self._parts.pop(event.index, None)
        return True

    async def validate(self) -> Any:
        assert self.final is not None  # `see` asks for validation only from the final result event on
        tool_name = self.final.tool_name
        if self._following:
            parts = [self._parts[index] for index in sorted(self._parts)]
            if tool_name is None:
                text = ''.join(chunk for part in parts if part.tool is None for chunk in part.chunks)
                return await self._reader.read_partial_value(text, None)
            call = next((part for part in parts if part.tool == tool_name), None)
            if call is not None:
                return await self._reader.read_partial_value({} if call.no_args else ''.join(call.chunks), tool_name)
        return await self._reader.read_partial(self._streamed.get(), tool_name)
