"""The workflow in plain Pydantic-AI: three agents and the glue between them in Python."""

from __future__ import annotations

from pydantic_ai import Agent
from pydantic_ai.usage import RunUsage

from podium.testing import ScriptedModel

from .common import ANSWER_JSON, ESCALATE_JSON, Reply, Ticket, classify_json

classify = Agent(ScriptedModel(default=classify_json), output_type=Ticket, name='classify')
escalate = Agent(ScriptedModel(default=ESCALATE_JSON), output_type=Reply, name='escalate')
answer = Agent(ScriptedModel(default=ANSWER_JSON), output_type=Reply, name='answer')


async def run(message: str) -> Reply:
    usage = RunUsage()  # shared by hand, so one limit could hold across the agents
    ticket = (await classify.run(message, usage=usage)).output
    next_agent = escalate if ticket.urgent else answer
    return (await next_agent.run(ticket.model_dump_json(), usage=usage)).output
