"""Pydantic-AI with no extras over the wire: W1's four ``Agent.run`` calls, every agent on a real provider model.

The agents are W1's; their model is an `OpenAIChatModel` (or `AnthropicModel`) whose provider wraps one SDK client
shared by every agent of the workflow, as an application would write it, so all runs share one connection pool.
Its pool keeps up to 1,000 connections alive however long a loaded client leaves them idle (the SDKs keep 100,
for 5 s), so 500 runs in flight reuse theirs instead of reconnecting; it never retries (a retry would hide a
failure) and waits up to 600 s for anything. Every system here gets the same client settings.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai import Agent
from pydantic_ai.models import Model

from bench._w1.workload import (
    ROUTER_INSTRUCTIONS,
    ROUTES,
    STEP_TYPES,
    Answer,
    RouteDecision,
    RunOne,
    step_instructions,
    step_prompt,
)
from bench._w2.harness import MODEL, main

POOL_SIZE = 1000
TIMEOUT = 600.0
"""For connecting too: with 500 runs in flight a CPU-bound client takes seconds to get back to a connect it started,
and the SDKs' 5 s connect timeout would fail runs over the client's own load, not the server's."""


def openai_client(base_url: str) -> Any:
    """The one `AsyncOpenAI` client of a workflow, pointed at the W2 server."""
    import httpx2
    from openai import AsyncOpenAI, DefaultAsyncHttpxClient

    limits = httpx2.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE, keepalive_expiry=TIMEOUT)
    http_client = DefaultAsyncHttpxClient(limits=limits)
    return AsyncOpenAI(base_url=f'{base_url}/v1', api_key='w2', http_client=http_client, timeout=TIMEOUT, max_retries=0)


def anthropic_client(base_url: str) -> Any:
    """The one `AsyncAnthropic` client of a workflow, pointed at the W2 server."""
    import httpx2
    from anthropic import AsyncAnthropic, DefaultAsyncHttpxClient

    limits = httpx2.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE, keepalive_expiry=TIMEOUT)
    http_client = DefaultAsyncHttpxClient(limits=limits)
    return AsyncAnthropic(base_url=base_url, api_key='w2', http_client=http_client, timeout=TIMEOUT, max_retries=0)


def make_model(provider: str, base_url: str) -> Model:
    """One model for every agent of the workflow: one provider, one client, one pool."""
    if provider == 'anthropic':
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        # A set `max_tokens` keeps the request a plain one: above the SDK's non-streaming limit it is streamed.
        provider_ = AnthropicProvider(anthropic_client=anthropic_client(base_url))
        return AnthropicModel(MODEL[provider], provider=provider_, settings={'max_tokens': 1024})
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    return OpenAIChatModel(MODEL[provider], provider=OpenAIProvider(openai_client=openai_client(base_url)))


def make_agents(model: Model) -> tuple[Agent[None, RouteDecision], dict[str, list[Agent[None, Any]]]]:
    """W1's router and, per route, its three chain agents, all on `model`; built once, as an application would."""
    router = Agent(model, output_type=RouteDecision, instructions=ROUTER_INSTRUCTIONS, name='router')
    chains = {
        route: [
            Agent(
                model,
                output_type=output_type,
                instructions=step_instructions(route, i + 1),
                name=f'{route}_step{i + 1}',
            )
            for i, output_type in enumerate(STEP_TYPES)
        ]
        for route in ROUTES
    }
    return router, chains


async def build(provider: str, base_url: str) -> RunOne:
    router, chains = make_agents(make_model(provider, base_url))

    async def run_one(text: str) -> Answer:
        decision = (await router.run(text)).output
        out: Any = decision
        for step, agent in enumerate(chains[decision.route], 1):
            out = (await agent.run(step_prompt(text, decision.route, step, out))).output
        return out

    return run_one


if __name__ == '__main__':
    main(build, packages=['pydantic-ai-slim', 'openai', 'anthropic'])
