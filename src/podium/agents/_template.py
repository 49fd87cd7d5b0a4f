"""The request an agent sends first, captured from the agent itself and replayed with a new user prompt.

Pydantic-AI assembles that request (system prompts, instructions, output tools or schema, settings, request
parameters) across dozens of graph steps and hooks. Rather than rebuild any of it, the agent runs once against a
model that records what it is sent and stops the run; for an agent whose request depends on nothing but the user
prompt (see `_eligibility`), every later request is that one with the prompt swapped and ids and times renewed.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic_ai.agent import Agent
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelRequestPart, ModelResponse, UserPromptPart
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings

from .._core._redact import describe
from . import _pydantic_ai_internals as internals
from ._prompt import Prompt
from ._spans import silent_instrumentation

__all__ = ('RequestTemplate', 'TemplateError', 'capture_template')


# Control flow inside the lean path, caught where it is raised (the agent path is taken instead); it never leaves
# podium, so it is not a `PodiumError` and does not live in `_core._errors`.
class TemplateError(Exception):
    """The agent's first request could not be captured as a template; the agent path is taken instead."""


@dataclass(frozen=True, slots=True)
class RequestTemplate:
    """What `Model.request` receives on an agent's first request, with the user prompt as the one hole."""

    requests: tuple[ModelRequest, ...]
    prompt_at: tuple[int, int]
    """Index of the request, and of the part in it, that holds the user prompt."""
    model_settings: ModelSettings | None
    parameters: ModelRequestParameters

    def messages(self, prompt: Prompt, *, run_id: str, conversation_id: str) -> list[ModelMessage]:
        """The messages of a first request for `prompt`: new prompt, timestamps and ids, the rest as captured.

        Shallow copies with a few fields set: `dataclasses.replace` would rebuild every field through `__init__`.
        """
        now = internals.now_utc()
        at_request, at_part = self.prompt_at
        messages: list[ModelMessage] = []
        for index, captured in enumerate(self.requests):
            if index == at_request:
                parts = [
                    UserPromptPart(prompt, timestamp=now) if i == at_part else _renewed(part, now)
                    for i, part in enumerate(captured.parts)
                ]
            else:
                parts = [_renewed(part, now) for part in captured.parts]
            request = _shallow_copy(captured)
            request.parts = parts
            request.timestamp = now
            request.run_id = run_id
            request.conversation_id = conversation_id
            if captured.metadata is not None:
                request.metadata = copy.deepcopy(captured.metadata)
            messages.append(request)
        return messages

    def settings(self) -> ModelSettings | None:
        """A copy of the captured settings: a run hands each request its own dict."""
        return None if self.model_settings is None else self.model_settings.copy()


def _renewed(part: ModelRequestPart, now: datetime) -> ModelRequestPart:
    if not hasattr(part, 'timestamp'):
        return part
    renewed = _shallow_copy(part)
    renewed.timestamp = now  # pyright: ignore[reportAttributeAccessIssue]
    return renewed


_PLAIN: dict[type, bool] = {}
"""Per class: whether `copy.copy` of an instance is a new instance with the same `__dict__`."""

T = TypeVar('T')


def _shallow_copy(obj: T) -> T:
    """`copy.copy(obj)`, without the copy protocol's detour for the plain dataclasses messages are made of."""
    cls = type(obj)
    plain = _PLAIN.get(cls)
    if plain is None:
        plain = _PLAIN[cls] = (
            cls.__reduce_ex__ is object.__reduce_ex__
            and not hasattr(cls, '__copy__')
            and not hasattr(cls, '__setstate__')
            and not hasattr(cls, '__slots__')
            and hasattr(obj, '__dict__')
        )
    if not plain:
        return copy.copy(obj)
    new = object.__new__(cls)
    new.__dict__.update(obj.__dict__)
    return new


async def capture_template(
    agent: Agent[Any, Any], model: Model, prompt: Prompt, deps: object, *, instrumented: bool
) -> RequestTemplate:
    """Run `agent` on `prompt` until it calls its model, and keep what the model would have been sent.

    An `instrumented` agent's capturing run gets a silent `Instrumentation`, so the aborted run leaves no spans;
    instrumentation never changes a request.

    Raises:
        TemplateError: when the run never reaches the model or the request does not have the expected shape.
    """
    recorder = _Recorder(model)
    capabilities = [silent_instrumentation()] if instrumented else None
    try:
        await agent.run(prompt, model=recorder, deps=deps, capabilities=capabilities, infer_name=False)
    except _Recorded:
        pass
    except Exception as exc:
        raise TemplateError(f'the agent failed before its first request: {describe(exc)}') from exc
    if recorder.sent is None:
        raise TemplateError('the agent finished without calling its model')
    messages, settings, parameters = recorder.sent
    requests = tuple(m for m in messages if isinstance(m, ModelRequest))
    if len(requests) != len(messages):
        raise TemplateError('the first request carries model responses')
    return RequestTemplate(requests, _prompt_position(requests, prompt), settings, parameters)


def _prompt_position(requests: Sequence[ModelRequest], prompt: Prompt) -> tuple[int, int]:
    found = [
        (i, j)
        for i, request in enumerate(requests)
        for j, part in enumerate(request.parts)
        if isinstance(part, UserPromptPart)
    ]
    if len(found) != 1:
        raise TemplateError(f'the first request has {len(found)} user prompt parts, expected 1')
    i, j = found[0]
    part = requests[i].parts[j]
    assert isinstance(part, UserPromptPart)
    if not _same_prompt(part.content, prompt):
        raise TemplateError('the user prompt part does not hold the prompt as given')
    return found[0]


def _same_prompt(content: Prompt, prompt: Prompt) -> bool:
    if isinstance(content, str) or isinstance(prompt, str):
        return content == prompt
    return list(content) == list(prompt)


# Control flow: stops the capturing run and is caught by `capture_template`; it never leaves podium.
class _Recorded(Exception):
    """Stops the capturing run at its first model request."""


class _Recorder(WrapperModel):
    """Forwards everything to the agent's model but `request`, which it records instead of sending."""

    def __init__(self, wrapped: Model) -> None:
        super().__init__(wrapped)
        self.sent: tuple[list[ModelMessage], ModelSettings | None, ModelRequestParameters] | None = None

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        self.sent = (messages, model_settings, model_request_parameters)
        raise _Recorded
