# pyright: reportPrivateUsage=false
"""Whether an agent call is provably one model request plus output validation, so the lean path may replace it.

Pydantic-AI has no public "what does this agent do besides call its model" query, so this reads the agent's own
fields, the ones `Agent.__init__` and its decorators fill. Anything unknown counts as a blocker: the agent path
is always correct, the lean path only when nothing here objects.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from pydantic_ai import Agent
from pydantic_ai._output import (
    AutoOutputSchema,
    BaseOutputProcessor,
    NativeOutputSchema,
    ObjectOutputProcessor,
    OutputSchema,
    PromptedOutputSchema,
    TextOutputProcessor,
    TextOutputSchema,
    ToolOutputSchema,
    UnionOutputProcessor,
)
from pydantic_ai.agent import AbstractAgent, _registered_capability_count
from pydantic_ai.models import Model
from pydantic_ai.usage import UsageLimits

__all__ = ('call_blocker', 'static_blocker')

_SCHEMAS = (AutoOutputSchema, NativeOutputSchema, PromptedOutputSchema, ToolOutputSchema, TextOutputSchema)


def static_blocker(agent: AbstractAgent[Any, Any]) -> str | None:
    """Why `agent` can never take the lean path, judged on what cannot change after it is built; `None` if it can."""
    if type(agent) is not Agent:
        return f'{type(agent).__name__} is not a plain pydantic_ai.Agent'
    if _registered_capability_count(agent._root_capability):
        return 'it has capabilities'
    if agent._concurrency_limiter is not None:
        return 'it has a concurrency limit'
    if agent._metadata is not None:
        return 'it has run metadata'
    if agent._validation_context is not None:
        return 'it has a validation context'
    if agent._event_stream_handler is not None:
        return 'it has an event stream handler'
    return _schema_blocker(agent._output_schema)


def call_blocker(agent: Agent[Any, Any], usage_limits: UsageLimits | None) -> str | None:
    """Why this call of an otherwise eligible agent must take the agent path; `None` if it may go lean.

    Checked on every call: decorators, `agent.override()` and the run's limits can change the answer at any time.
    """
    if any(var.get() is not None for var in _overrides(agent)):
        return 'agent.override() is active'
    if not isinstance(agent._model, Model):
        return 'its model is not a Model instance'
    if callable(agent.model_settings):
        return 'its model settings are dynamic'
    if agent._function_toolset.tools or agent._user_toolsets or agent._dynamic_toolsets or agent._cap_toolsets:
        return 'it has tools'
    if agent._output_validators:
        return 'it has output validators'
    if agent._system_prompt_functions or agent._system_prompt_dynamic_functions:
        return 'it has dynamic system prompts'
    if any(type(sourced.instruction) is not str for sourced in agent._instructions):
        return 'it has dynamic instructions'
    if agent._event_hooks.has_on_event:
        return 'it has event handlers'
    if usage_limits is not None and usage_limits.count_tokens_before_request:
        return 'the run counts tokens before each request'
    return None


def _overrides(agent: Agent[Any, Any]) -> tuple[ContextVar[Any], ...]:
    return (
        agent._override_name,
        agent._override_deps,
        agent._override_model,
        agent._override_toolsets,
        agent._override_tools,
        agent._override_native_tools,
        agent._override_instructions,
        agent._override_metadata,
        agent._override_model_settings,
        agent._override_output_retries,
        agent._override_tool_retries,
        agent._override_workspace,
        agent._override_root_capability,
    )


def _schema_blocker(schema: OutputSchema[Any]) -> str | None:
    if not isinstance(schema, _SCHEMAS):
        return f'its output schema is a {type(schema).__name__}'
    if schema.allows_image or schema.allows_deferred_tools or schema.allows_pending_model_response:
        return 'its output can be an image, deferred tool requests or a pending response'
    processors: list[BaseOutputProcessor[Any]] = list(schema.toolset.processors.values()) if schema.toolset else []
    if schema.text_processor is not None:
        processors.append(schema.text_processor)
    if not all(_is_pure(processor) for processor in processors):
        return 'it has output functions'
    return None


def _is_pure(processor: BaseOutputProcessor[Any]) -> bool:
    """Whether the processor only validates: no output function or choice action runs user code."""
    if type(processor) is TextOutputProcessor:
        return True
    if type(processor) is ObjectOutputProcessor:
        return processor._function_schema is None and processor._choice_values is None
    if type(processor) is UnionOutputProcessor:
        return all(_is_pure(inner) for inner in processor._processors.values())
    return False
