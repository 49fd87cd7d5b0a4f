"""How a step's input becomes the user prompt of an agent call."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic_ai.messages import UserContent

from .._core._render import render_prompt

__all__ = ('Prompt', 'render_prompt')

Prompt = str | Sequence[UserContent]
"""What a prompt callable returns: text, or a sequence of Pydantic-AI user content (text, images, documents)."""
