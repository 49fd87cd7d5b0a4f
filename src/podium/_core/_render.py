"""How a value becomes text for a model: a step's input as a user prompt, a workflow's turn in a conversation."""

from __future__ import annotations

from pydantic import BaseModel
from pydantic_core import to_json

__all__ = ('render_prompt',)


def render_prompt(value: object) -> str:
    """The default rendering: a string as it is, anything else as its class name over its JSON.

    The class name tells the model what the JSON is, which a bare JSON blob does not.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return f'{type(value).__name__}:\n{value.model_dump_json()}'
    return f'{type(value).__name__}:\n{to_json(value, fallback=repr).decode()}'
