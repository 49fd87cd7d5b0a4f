"""No framework: pydantic validation of the same JSON, glued by plain Python. The limit any layer approaches.

Each model call is an awaited function returning the fixed JSON text; the step prompts are still built, as
every system must build them. There are no messages, run contexts, retries or tracing.
"""

from __future__ import annotations

from bench._w1.workload import (
    STEP_JSON,
    STEP_TYPES,
    Answer,
    RouteDecision,
    RunOne,
    fake_latency,
    main,
    router_json,
    step_prompt,
)


async def fake_model(prompt: str, answer: str) -> str:
    """Takes the prompt, as a real client would, so that building it stays part of the work."""
    await fake_latency()
    return answer


async def build() -> RunOne:
    async def run_one(text: str) -> Answer:
        decision = RouteDecision.model_validate_json(await fake_model(text, router_json(text)))
        out = decision
        for i, output_type in enumerate(STEP_TYPES):
            prompt = step_prompt(text, decision.route, i + 1, out)
            out = output_type.model_validate_json(await fake_model(prompt, STEP_JSON[decision.route][i]))
        return out

    return run_one


if __name__ == '__main__':
    main(build)
