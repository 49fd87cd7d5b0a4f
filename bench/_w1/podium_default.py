"""podium as shipped: a `Router` whose routes are `agent >> agent >> agent` chains, lean path where eligible.

The agents and their fake models are ``pai_raw``'s (`make_agents`): each FunctionModel answers one call of the
output tool with the fixed JSON text, after the workload's fake latency, reporting the workload's fixed usage.
Every agent is tool-less, so podium calls each model directly with the request the agent would send (lean path).

Every chain step's prompt repeats the run's text, which it reads from the run's `Flow` (`flow.run_input`); and a
route's chain knows its route, so step 1 puts the decision it was routed by (the router's fixed answer for that
route) in its prompt, where ``pai_raw`` puts the router's output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic_ai import Agent
from pydantic_ai.agent import AbstractAgent

import podium
from bench._w1.pai_raw import make_agents
from bench._w1.workload import INPUTS, ROUTER_JSON, ROUTES, Answer, Route, RouteDecision, RunOne, main, step_prompt

Lean = Literal[False] | None
"""`podium.agent`'s `lean=`: `False` sends every call through `Agent.run`, `None` lets podium choose."""


def chain(route: Route, agents: Sequence[Agent[None, Any]], *, lean: Lean) -> podium.Step[str, Answer]:
    """The route's three agent steps; step i's prompt holds the text and step i - 1's output as JSON."""
    decision = RouteDecision.model_validate_json(ROUTER_JSON[route])

    def step(i: int, agent: Agent[None, Any]) -> podium.AgentStep[Any, Any]:
        def prompt(previous: Any, flow: podium.Flow[None]) -> str:  # step 1: the text; later: the output before
            return step_prompt(str(flow.run_input), route, i, decision if i == 1 else previous)

        return podium.agent(agent, prompt=prompt, lean=lean)

    first, second, third = (step(i, agent) for i, agent in enumerate(agents, 1))
    return first >> second >> third


def build_workflow(
    router: AbstractAgent[None, RouteDecision], chains: Mapping[Route, Sequence[Agent[None, Any]]], *, lean: Lean = None
) -> podium.Step[str, Answer]:
    """W1 on podium over ``pai_raw``'s agents: the router agent's decision picks the route's chain."""
    routes = {route: chain(route, chains[route], lean=lean) for route in ROUTES}
    return podium.Router(routes, fallback='tech', agent=router, name='router', lean=lean)  # type: ignore[arg-type]


async def run(workflow: podium.Step[str, Answer], text: str) -> podium.RunResult[Answer]:
    return await workflow.run(text)


async def checked_runner(workflow: podium.Step[str, Answer], path: str) -> RunOne:
    """`run_one` for the harness, once a run of every input showed each chain step taking `path`.

    The first call of a lean-eligible agent captures its request, so the check runs after one pass.
    """
    for text in INPUTS:
        await run(workflow, text)
    for text in INPUTS:
        taken = {r.path for r in (await run(workflow, text)).steps if r.kind in ('agent', 'router')}
        if taken != {path}:
            got = sorted(map(str, taken))
            raise RuntimeError(f'expected the router and every chain step on the {path} path, got {got}')

    async def run_one(text: str) -> Answer:
        return (await run(workflow, text)).output

    return run_one


async def build() -> RunOne:
    router, chains = make_agents()
    return await checked_runner(build_workflow(router, chains), 'lean')


if __name__ == '__main__':
    main(build, packages=['pydantic-ai-slim'])
