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
from pydantic_ai.messages import ModelResponse, TextPart, ThinkingPart, ToolCallPart
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.usage import RunUsage

from . import _pydantic_ai_internals as internals

if TYPE_CHECKING:
    from ._pydantic_ai_internals import OutputSchema

__all__ = ('UNREAD', 'OutputReader')

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
            processor = self._tools[tool_name]
            args = call.args if call.args is not None else {}
            return await internals.read_with(
                processor, args, self._context, wrap_validation_errors=False, allow_partial=True
            )
        text = ''.join(part.content for part in response.parts if type(part) is TextPart)
        assert self._text is not None  # a FinalResultEvent without a tool name means the agent takes text
        return await internals.read_with(
            self._text, text, self._context, wrap_validation_errors=False, allow_partial=True
        )

    async def _read_call(self, call: ToolCallPart) -> Any:
        processor = self._tools.get(call.tool_name)
        if processor is None:
            return UNREAD
        args = call.args if call.args is not None else {}
        return await internals.read_with(processor, args, self._context, wrap_validation_errors=False)
