"""podium with every agent call on the agent path (`Agent.run`): what podium itself adds to Pydantic-AI.

The same workflow as ``podium_default``, with `lean=False` on every chain step. `Router` has no `lean` option,
so its agent is handed over inside a `WrapperAgent`, which podium cannot prove equivalent to one request and so
runs with `Agent.run` (the wrapper only forwards to the agent).
"""

from __future__ import annotations

from pydantic_ai.agent import WrapperAgent

from bench._w1.pai_raw import make_agents
from bench._w1.podium_default import build_workflow, checked_runner
from bench._w1.workload import RunOne, main


async def build() -> RunOne:
    router, chains = make_agents()
    return await checked_runner(build_workflow(WrapperAgent(router), chains, lean=False), 'agent')


if __name__ == '__main__':
    main(build, packages=['pydantic-ai-slim'])
