"""Pydantic-AI agents as typed steps."""

from ._agent_step import AgentCall, AgentStep, agent, call_agent
from ._prompt import Prompt, render_prompt

__all__ = ('AgentCall', 'AgentStep', 'Prompt', 'agent', 'call_agent', 'render_prompt')
