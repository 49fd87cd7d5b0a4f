"""A run as one turn of a conversation: the history it is given, and the turn it adds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart

from ._errors import ConfigurationError
from ._render import render_prompt

__all__ = ('check_history', 'turn_of')


def check_history(history: Sequence[ModelMessage] | None) -> tuple[ModelMessage, ...] | None:
    """`history` as a tuple, checked to be Pydantic-AI messages; `None` when the run is not a conversation turn."""
    if history is None:
        return None
    given = cast(object, history)  # checked at run time: the call may come from untyped code
    if isinstance(given, str | bytes) or not isinstance(given, Sequence):
        raise ConfigurationError(
            f'message_history must be a list of Pydantic-AI ModelMessages, got {type(history).__qualname__}: pass '
            'the previous result.all_messages(), or ModelMessagesTypeAdapter.validate_json(...) of stored ones'
        )
    items: Sequence[object] = cast('Sequence[object]', given)
    for i, message in enumerate(items):
        if not isinstance(message, ModelRequest | ModelResponse):
            raise ConfigurationError(
                f'message_history[{i}] is a {type(message).__qualname__}, not a Pydantic-AI ModelRequest or '
                'ModelResponse: load stored messages with pydantic_ai.messages.ModelMessagesTypeAdapter'
            )
    return tuple(history)


def turn_of(input: object, output: object) -> tuple[ModelMessage, ...]:
    """The turn a run adds: its input as the user's request, its output as the response (text, or rendered)."""
    return (
        ModelRequest.user_text_prompt(render_prompt(input)),
        ModelResponse(parts=[TextPart(render_prompt(output))]),
    )
