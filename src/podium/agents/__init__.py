"""Pydantic-AI agents as typed steps."""

from ._agent_step import AgentStep, agent
from ._prompt import Prompt, render_prompt

__all__ = ('AgentStep', 'Prompt', 'agent', 'render_prompt')
