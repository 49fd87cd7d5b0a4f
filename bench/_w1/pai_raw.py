"""Pydantic-AI with no extras: four ``Agent.run`` calls glued by plain Python, the baseline for every ratio.

Each agent's FunctionModel answers with one call of the agent's output tool whose arguments are the fixed
JSON text, so Pydantic-AI validates JSON into the output model exactly as it does with a real provider.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

from bench._w1.workload import (
    FAKE_USAGE,
    ROUTER_INSTRUCTIONS,
    ROUTES,
    STEP_TYPES,
    Answer,
    RouteDecision,
    RunOne,
    fake_latency,
    main,
    router_json,
    step_answer,
    step_instructions,
    step_prompt,
)


def fake_model(answer: Callable[[str], str]) -> FunctionModel:
    """A model that calls the output tool with ``answer(prompt)``, where prompt is the run's user prompt."""

    async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        await fake_latency()
        prompt = messages[-1].parts[-1].content
        return ModelResponse(
            parts=[ToolCallPart(info.output_tools[0].name, answer(prompt))],
            usage=RequestUsage(**FAKE_USAGE),
        )

    return FunctionModel(respond)


def make_agents() -> tuple[Agent[None, RouteDecision], dict[str, list[Agent[None, object]]]]:
    """The router and, per route, the three chain agents; built once, as an application would."""
    router = Agent(fake_model(router_json), output_type=RouteDecision, instructions=ROUTER_INSTRUCTIONS, name='router')
    chains = {
        route: [
            Agent(
                fake_model(step_answer(route, i + 1)),
                output_type=output_type,
                instructions=step_instructions(route, i + 1),
                name=f'{route}_step{i + 1}',
            )
            for i, output_type in enumerate(STEP_TYPES)
        ]
        for route in ROUTES
    }
    return router, chains


async def build() -> RunOne:
    router, chains = make_agents()

    async def run_one(text: str) -> Answer:
        decision = (await router.run(text)).output
        out = decision
        for step, agent in enumerate(chains[decision.route], 1):
            out = (await agent.run(step_prompt(text, decision.route, step, out))).output
        return out

    return run_one


if __name__ == '__main__':
    main(build, packages=['pydantic-ai-slim'])
