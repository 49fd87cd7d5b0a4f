"""The spans of an instrumented agent's lean calls, from the agent's own `Instrumentation` capability.

An instrumented `Agent.run` gets its `<agent> run` and `chat <model>` spans from an `Instrumentation` capability
built from the agent's instrumentation settings. A lean call drives the same capability's `wrap_run` and
`wrap_model_request` hooks, so its spans are built by the same code from the same facts.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import NoOpTracerProvider
from pydantic_ai import Agent
from pydantic_ai.capabilities import Instrumentation
from pydantic_ai.models.instrumented import InstrumentationSettings

from . import _pydantic_ai_internals as internals

__all__ = ('SpanSource', 'silent_instrumentation')


class SpanSource:
    """The `Instrumentation` capability for an agent's lean calls, rebuilt only when its instrumentation changes.

    `Agent.instrument_all()` and `agent.instrument` can change at any time, so this is asked on every call.
    """

    __slots__ = ('_capability', '_key')

    def __init__(self) -> None:
        self._key: object = None
        self._capability: Instrumentation | None = None

    def for_agent(self, agent: Agent[Any, Any]) -> Instrumentation | None:
        """The capability an `agent.run` started now would be instrumented with, or `None` when it is not."""
        key = internals.instrumentation_key(agent)
        if key is not self._key:
            settings = internals.instrumentation_settings(agent)
            self._capability = Instrumentation(settings=settings) if settings is not None else None
            self._key = key
        return self._capability


def silent_instrumentation() -> Instrumentation:
    """An `Instrumentation` that records nothing: given to a run, it replaces the agent's own instrumentation."""
    return Instrumentation(
        settings=InstrumentationSettings(tracer_provider=NoOpTracerProvider(), meter_provider=NoOpMeterProvider())
    )
