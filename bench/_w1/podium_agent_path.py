"""podium with every agent call on the agent path (`Agent.run`): what podium itself adds to Pydantic-AI.

The same workflow as ``podium_default``, with `lean=False` on the router and every chain step.
"""

from __future__ import annotations

from bench._w1.pai_raw import make_agents
from bench._w1.podium_default import build_workflow, checked_runner
from bench._w1.workload import RunOne, main


async def build() -> RunOne:
    router, chains = make_agents()
    return await checked_runner(build_workflow(router, chains, lean=False), 'agent')


if __name__ == '__main__':
    main(build, packages=['pydantic-ai-slim'])
