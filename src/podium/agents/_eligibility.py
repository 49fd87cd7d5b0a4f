"""Whether an agent call is provably one model request plus output validation, so the lean path may replace it.

Pydantic-AI has no public "what does this agent do besides call its model" query, so this asks
`_pydantic_ai_internals` for the agent's own fields, the ones `Agent.__init__` and its decorators fill. Anything
unknown counts as a blocker: the agent path is always correct, the lean path only when nothing here objects.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai import Agent
from pydantic_ai.agent import AbstractAgent
from pydantic_ai.models import Model
from pydantic_ai.usage import UsageLimits

from . import _pydantic_ai_internals as internals

__all__ = ('call_blocker', 'static_blocker')


def static_blocker(agent: AbstractAgent[Any, Any]) -> str | None:
    """Why `agent` can never take the lean path, judged on what cannot change after it is built; `None` if it can."""
    if type(agent) is not Agent:
        return f'{type(agent).__name__} is not a plain pydantic_ai.Agent'
    found = internals.static_features(agent)
    if found:
        return found[0]
    return internals.schema_blocker(internals.output_schema(agent))


def call_blocker(agent: Agent[Any, Any], usage_limits: UsageLimits | None) -> str | None:
    """Why this call of an otherwise eligible agent must take the agent path; `None` if it may go lean.

    Checked on every call: decorators, `agent.override()` and the run's limits can change the answer at any time.
    """
    if internals.override_active(agent):
        return 'agent.override() is active'
    if not isinstance(internals.agent_model(agent), Model):
        return 'its model is not a Model instance'
    if callable(agent.model_settings):
        return 'its model settings are dynamic'
    found = internals.dynamic_features(agent)
    if found:
        return found[0]
    if usage_limits is not None and usage_limits.count_tokens_before_request:
        return 'the run counts tokens before each request'
    return None
