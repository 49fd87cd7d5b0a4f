"""How a step's input becomes the user prompt of an agent call."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel
from pydantic_ai.messages import UserContent
from pydantic_core import to_json

__all__ = ('Prompt', 'render_prompt')

Prompt = str | Sequence[UserContent]
"""What a prompt callable returns: text, or a sequence of Pydantic-AI user content (text, images, documents)."""


def render_prompt(value: object) -> str:
    """The default rendering: a string as it is, anything else as its class name over its JSON.

    The class name tells the model what the JSON is, which a bare JSON blob does not.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return f'{type(value).__name__}:\n{value.model_dump_json()}'
    return f'{type(value).__name__}:\n{to_json(value, fallback=repr).decode()}'
