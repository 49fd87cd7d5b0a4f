"""The workflow in podium: typed steps composed with `>>` and `branch`; records, usage and status come with the run."""

from __future__ import annotations

from pydantic_ai import Agent

import podium
from podium.testing import ScriptedModel

from .common import ANSWER_JSON, ESCALATE_JSON, Reply, Ticket, classify_json

classify = podium.agent(Agent(ScriptedModel(default=classify_json), output_type=Ticket, name='classify'))
escalate = podium.agent(
    Agent(ScriptedModel(default=ESCALATE_JSON), output_type=Reply, name='escalate'), input_type=Ticket
)
answer = podium.agent(Agent(ScriptedModel(default=ANSWER_JSON), output_type=Reply, name='answer'), input_type=Ticket)

desk = (classify >> podium.branch(lambda t: t.urgent, then=escalate, otherwise=answer, name='urgent?')).named('desk')


async def run(message: str) -> Reply:
    return (await desk.run(message)).output
