"""OpenAI Agents SDK over the wire: W1's router then three chained agents, on `OpenAIChatCompletionsModel`.

One `AsyncOpenAI` client (``pai_raw.openai_client``) for every agent; tracing disabled, as in W1. The SDK asks
for structured output with a JSON-schema response format, which the server answers with the fixed JSON as text.
"""

from __future__ import annotations

from typing import Any

from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled

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
from bench._w2.pai_raw import openai_client


async def build(provider: str, base_url: str) -> RunOne:
    set_tracing_disabled(True)
    model = OpenAIChatCompletionsModel(model=MODEL['openai'], openai_client=openai_client(base_url))
    router = Agent(name='router', instructions=ROUTER_INSTRUCTIONS, output_type=RouteDecision, model=model)
    chains = {
        route: [
            Agent(
                name=f'{route}_step{i + 1}',
                instructions=step_instructions(route, i + 1),
                output_type=output_type,
                model=model,
            )
            for i, output_type in enumerate(STEP_TYPES)
        ]
        for route in ROUTES
    }

    async def run_one(text: str) -> Answer:
        decision = (await Runner.run(router, text)).final_output
        out: Any = decision
        for step, agent in enumerate(chains[decision.route], 1):
            out = (await Runner.run(agent, step_prompt(text, decision.route, step, out))).final_output
        return out

    return run_one


if __name__ == '__main__':
    main(build, packages=['openai-agents', 'openai'])
