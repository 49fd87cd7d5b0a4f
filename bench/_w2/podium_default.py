"""podium as shipped over the wire: W1's `Router` of `agent >> agent >> agent` chains on ``pai_raw``'s agents."""

from __future__ import annotations

from bench._w1.podium_default import build_workflow, checked_runner
from bench._w1.workload import RunOne
from bench._w2.harness import main
from bench._w2.pai_raw import make_agents, make_model


async def build(provider: str, base_url: str) -> RunOne:
    router, chains = make_agents(make_model(provider, base_url))
    return await checked_runner(build_workflow(router, chains), 'lean')


if __name__ == '__main__':
    main(build, packages=['pydantic-ai-slim', 'openai', 'anthropic'])
