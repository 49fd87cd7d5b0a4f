"""OpenAI Agents SDK: a router agent, then plain-Python dispatch to three chained agents; tracing disabled.

Four ``Runner.run`` calls, the same shape as ``pai_raw``. The fake Model answers one assistant message whose
text is the fixed JSON, which the SDK validates into the agent's ``output_type`` as it would a real model's
answer. It wraps its work in ``response_span`` as the SDK's own OpenAI models do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from agents import Agent, ModelResponse, Runner, Usage, set_tracing_disabled
from agents.models.interface import Model, ModelTracing
from agents.tracing import response_span
from openai.types.responses import ResponseOutputMessage, ResponseOutputText

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


def last_user_text(items: str | list[Any]) -> str:
    if isinstance(items, str):
        return items
    return next((item['content'] for item in reversed(items) if item.get('role') == 'user'), '')


class FakeModel(Model):
    def __init__(self, answer: Callable[[str], str]) -> None:
        self.answer = answer  # prompt -> fixed JSON text

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[Any],
        model_settings: Any,
        tools: list[Any],
        output_schema: Any,
        handoffs: list[Any],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: Any = None,
    ) -> ModelResponse:
        with response_span(disabled=tracing.is_disabled()):
            await fake_latency()
            text = ResponseOutputText(text=self.answer(last_user_text(input)), type='output_text', annotations=[])
            message = ResponseOutputMessage(
                id='msg_1', type='message', role='assistant', status='completed', content=[text]
            )
            usage = Usage(requests=1, **FAKE_USAGE, total_tokens=sum(FAKE_USAGE.values()))
            return ModelResponse(output=[message], usage=usage, response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError('W1 does not stream')


async def build() -> RunOne:
    set_tracing_disabled(True)
    router = Agent(
        name='router', instructions=ROUTER_INSTRUCTIONS, output_type=RouteDecision, model=FakeModel(router_json)
    )
    chains = {
        route: [
            Agent(
                name=f'{route}_step{i + 1}',
                instructions=step_instructions(route, i + 1),
                output_type=output_type,
                model=FakeModel(step_answer(route, i + 1)),
            )
            for i, output_type in enumerate(STEP_TYPES)
        ]
        for route in ROUTES
    }

    async def run_one(text: str) -> Answer:
        decision = (await Runner.run(router, text)).final_output
        out = decision
        for step, agent in enumerate(chains[decision.route], 1):
            out = (await Runner.run(agent, step_prompt(text, decision.route, step, out))).final_output
        return out

    return run_one


if __name__ == '__main__':
    main(build, packages=['openai-agents', 'openai'])
