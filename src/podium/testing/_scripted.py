"""`ScriptedModel`: a `FunctionModel` that answers by prompt, for deterministic tests and offline demos."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TypeAlias

from pydantic import BaseModel
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel
from pydantic_core import from_json, to_json, to_jsonable_python

from .._core._errors import ScriptError

__all__ = ('Answer', 'ScriptedModel', 'latest_prompt')

Answer: TypeAlias = 'BaseModel | Mapping[str, object] | str | ModelResponse | Callable[[str], Answer]'
"""What a script answers: an output value (model or dict), raw text, a full `ModelResponse`, or a function of the
prompt returning one of those."""


def latest_prompt(messages: Sequence[ModelMessage]) -> str:
    """The text of the most recent user prompt in `messages` (empty when there is none)."""
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in reversed(message.parts):
                if isinstance(part, UserPromptPart):
                    content = part.content
                    return content if isinstance(content, str) else ' '.join(c for c in content if isinstance(c, str))
    return ''


class ScriptedModel(FunctionModel):
    """Answers each request from a script, with no network.

    Answers come first from `responses`, in order, one per request; then from the first `rules` entry whose key
    appears in the latest user prompt; then from `default`. An output value becomes a call of the agent's output
    tool, or JSON text when the agent asks for native or prompted output. `prompts` and `instructions` keep what each
    request carried, for asserting what the model saw. A streamed request gets the same answer in pieces of
    `piece` characters, so streamed runs see output grow.
    """

    def __init__(
        self,
        rules: Mapping[str, Answer] | None = None,
        *,
        default: Answer | None = None,
        responses: Sequence[Answer] = (),
        model_name: str = 'scripted',
        piece: int = 16,
    ) -> None:
        self.rules = dict(rules or {})
        self.piece = piece
        self.default = default
        self.queue: list[Answer] = list(responses)
        self.prompts: list[str] = []
        self.instructions: list[str | None] = []
        super().__init__(self._respond_async, stream_function=self._stream, model_name=model_name)

    async def _respond_async(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        # A coroutine, so FunctionModel calls it in the run's own task: a sync function would be sent to a worker
        # thread per request, which costs more than the scripted answer itself.
        return self._respond(messages, info)

    def _respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = latest_prompt(messages)
        self.prompts.append(prompt)
        self.instructions.append(info.instructions)
        return to_response(self._answer_for(prompt), info, prompt)

    async def _stream(self, messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str | DeltaToolCalls]:
        """The scripted response as a stream: its text, then each tool call's arguments, a piece at a time."""
        response = self._respond(messages, info)
        for index, part in enumerate(response.parts):
            if isinstance(part, TextPart):
                for piece in _pieces(part.content, self.piece):
                    yield piece
            elif isinstance(part, ToolCallPart):
                for i, piece in enumerate(_pieces(part.args_as_json_str(), self.piece)):
                    yield {index: DeltaToolCall(name=part.tool_name if i == 0 else None, json_args=piece)}

    def _answer_for(self, prompt: str) -> Answer:
        if self.queue:
            return self.queue.pop(0)
        lowered = prompt.lower()
        for key, answer in self.rules.items():
            if key.lower() in lowered:
                return answer
        if self.default is not None:
            return self.default
        raise ScriptError(f'{self.model_name}: no scripted answer for prompt {prompt[:80]!r}; add a rule or a default=')


def to_response(answer: Answer, info: AgentInfo, prompt: str) -> ModelResponse:
    """Turn a scripted answer into the response the agent's output mode expects."""
    if callable(answer):
        return to_response(answer(prompt), info, prompt)
    if isinstance(answer, ModelResponse):
        return answer
    if isinstance(answer, str):
        if info.output_tools and _is_json_object(answer):
            return ModelResponse(parts=[ToolCallPart(_output_tool(info, None), answer)])
        return ModelResponse(parts=[TextPart(answer)])
    args = to_jsonable_python(answer)
    if info.output_tools:
        class_name = type(answer).__name__ if isinstance(answer, BaseModel) else None
        return ModelResponse(parts=[ToolCallPart(_output_tool(info, class_name), args)])
    return ModelResponse(parts=[TextPart(to_json(args).decode())])


def _output_tool(info: AgentInfo, class_name: str | None) -> str:
    names = [t.name for t in info.output_tools]
    if class_name is not None:
        for name in names:
            if name.endswith(f'_{class_name}'):
                return name
    return names[0]


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(from_json(text), dict)
    except ValueError:
        return False


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or ['']
