"""The model podium calls for an agent: one retry loop with safe defaults, whatever model the agent was given.

The plainest setup, `podium.agent(Agent('openai:gpt-4o'))`, must already protect the provider: the SDK's own retries
off, one retry loop with a retry budget, a deadline per request, and every failure typed so a fallback acts on it.
So every model podium calls for an agent (agent steps on either path, routers, model-router tiers) goes through
`SafeModels.for_agent`, built once per step and kept on it: the budget inside is shared by every run of the step.

An agent given a model name (`Agent('openai:gpt-4o')`) gets its model built here, with the provider (and so the SDK
client and its connection pool) that every other agent naming the same provider gets: Pydantic-AI builds a provider,
with an HTTP client of its own, for each model it infers.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic_ai.agent import AbstractAgent
from pydantic_ai.models import Model, infer_model
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.providers import Provider, infer_provider

from ..fallbacks._retrying_model import RetryingModel

__all__ = ('SafeModels', 'safe_model', 'shared_provider')

_providers: dict[str, Provider[Any]] = {}


def _is_safe(model: Model) -> bool:
    """Whether every request through `model` already goes through a `RetryingModel` the caller configured."""
    if isinstance(model, RetryingModel):
        return True
    if isinstance(model, FallbackModel):
        return all(_is_safe(member) for member in model.models)
    return False


def safe_model(model: Model) -> Model:
    """`model` with podium's retry loop around each model that serves it, unless the caller already put one there.

    A `FallbackModel` keeps its order and `fallback_on`, with each member wrapped on its own: the loop must sit
    inside it, or it would retry the whole fallback and the `FallbackModel` would never see the typed failure it
    moves on from. Any other model, wrappers included, gets a `RetryingModel` with its defaults.
    """
    if _is_safe(model):
        return model
    if isinstance(model, FallbackModel):
        clone = copy.copy(model)
        clone.models = [safe_model(member) for member in model.models]
        return clone
    return RetryingModel(model)


class SafeModels:
    """The safe model for one step's agent, built on first use and rebuilt only when the agent's model changes."""

    __slots__ = ('_safe', '_source')

    def __init__(self) -> None:
        self._source: object = None
        self._safe: Model | None = None

    def for_agent(self, agent: AbstractAgent[Any, Any]) -> Model | None:
        """The model to call for `agent`, or `None` when it has none (the run then says so, as the agent would)."""
        source = agent.model
        if source is None:
            return None
        if source is not self._source or self._safe is None:
            model = source if isinstance(source, Model) else infer_model(source, provider_factory=shared_provider)
            self._safe = safe_model(model)
            self._source = source
        return self._safe


def shared_provider(name: str) -> Provider[Any]:
    """The provider for models named `<name>:...`, made once per process and shared by all of them.

    One provider holds one SDK client and one connection pool for every agent that names a model of it, instead of
    one each; it reads its API key and base URL from the environment when first made. Pydantic-AI's provider
    replaces its HTTP client itself when it is next used on another event loop.
    """
    provider = _providers.get(name)
    if provider is None:
        provider = _providers[name] = infer_provider(name)
    return provider
