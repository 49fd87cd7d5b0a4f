"""Test doubles: scripted models and span-tree rendering. The `podium_trace` fixture comes with the pytest plugin."""

from ._scripted import Answer, ScriptedModel, ScriptError, latest_prompt
from ._spans import render_span_tree

__all__ = ('Answer', 'ScriptError', 'ScriptedModel', 'latest_prompt', 'render_span_tree')
