"""Helpers for the streaming tests: collect a run's events and compare them without the values each run makes."""

from __future__ import annotations

import json
from typing import Any

from podium import Step
from podium.events import RunEvent, run_event_adapter

VOLATILE = frozenset({'timestamp', 'tool_call_id', 'duration_s', 'run_id', 'conversation_id', 'provider_response_id'})


async def collect(step: Step[Any, Any, Any], input: Any, **options: Any) -> list[RunEvent]:
    """Every event of one streamed run of `step`."""
    async with step.stream(input, **options) as events:
        return [event async for event in events]


def comparable(events: list[RunEvent], *, types: frozenset[str] | None = None) -> list[Any]:
    """The events as JSON without timestamps, ids and durations; only those of `types` when given."""
    kept = [e for e in events if types is None or e.type in types]
    return [json.loads(run_event_adapter.dump_json(e), object_hook=_without_volatile) for e in kept]


def _without_volatile(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if key not in VOLATILE}


def kinds(events: list[RunEvent]) -> list[str]:
    """Each event's type, and for an agent event the kind of Pydantic-AI event it carries."""
    return [e.event.event_kind if e.type == 'agent_event' else e.type for e in events]
