"""An agent loop that calls tools until it is done, one tool being a whole podium workflow.

A concierge agent looks up the customer's account, hands the message to the support desk workflow through
`podium.as_tool`, and finishes with a typed report. The whole loop, desk included, is bounded by one
workflow-wide `UsageLimits`. Offline on demo models by default; `--model` runs it on a real one.

    python examples/agent_loop.py "my invoice shows a double charge"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import UsageLimits

import podium

sys.path.insert(0, str(Path(__file__).parent))
from support_desk import Reply, build_desk


class Report(BaseModel):
    customer: str
    plan: str
    reply: str
    escalated: bool


ACCOUNTS = {'acme': 'enterprise', 'globex': 'team'}


def lookup_account(customer: str) -> str:
    """The customer's plan, from the account database."""
    return ACCOUNTS.get(customer.lower(), 'free')


def _demo_concierge(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Plays the concierge: look up the account, ask the desk, then report; each step once."""
    returns = {
        part.tool_name: part.content
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    }
    first = messages[0]
    prompt = (
        next((str(p.content) for p in first.parts if isinstance(p, UserPromptPart)), '')
        if isinstance(first, ModelRequest)
        else ''
    )
    if 'lookup_account' not in returns:
        return ModelResponse(parts=[ToolCallPart('lookup_account', {'customer': 'acme'})])
    if 'support_desk' not in returns:
        return ModelResponse(parts=[ToolCallPart('support_desk', {'input': prompt})])
    reply = returns['support_desk']
    assert isinstance(reply, Reply)
    report = {'customer': 'acme', 'plan': returns['lookup_account'], 'reply': reply.text, 'escalated': reply.escalated}
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, report)])


def build_concierge(model: Model | str | None = None) -> podium.Step[str, Report]:
    """The concierge loop as a step: an agent with two tools, one of them the support desk workflow."""
    concierge = Agent(
        model or FunctionModel(_demo_concierge, model_name='demo-concierge'),
        output_type=Report,
        name='concierge',
        instructions='Look up the customer account, ask the support desk, then report back.',
        tools=[lookup_account, podium.as_tool(build_desk(model), name='support_desk')],
    )
    return podium.agent(concierge)


workflow = build_concierge()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('message')
    parser.add_argument('--model', help='a Pydantic-AI model string (default: demo models)')
    args = parser.parse_args(argv)
    loop = build_concierge(args.model) if args.model else workflow
    result = loop.run_sync(args.message, usage_limits=UsageLimits(request_limit=12, tool_calls_limit=6))
    print(f'models: {args.model or "demo models (offline, deterministic)"}')
    for record in result.steps:
        print(f'  {record.name} [{record.kind}]' + (f' -> {record.route}' if record.route else ''))
    print(result.output.model_dump_json(indent=2))
    print(f'usage: {result.usage.requests} requests, {result.usage.tool_calls} tool calls (whole loop, desk included)')


if __name__ == '__main__':
    main()
