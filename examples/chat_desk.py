"""A chat over the support desk: each turn is one run, routed with the conversation so far in view.

The routes and specialists are those of `support_desk.py`; the router here gets the history
(`Router(history=True)`), so a follow-up that names no topic ("can you send it to my accountant too?") goes where
its conversation is. Each turn passes the stored messages as `message_history` and stores
`result.all_messages()` for the next. Offline by default on deterministic demo models; `--model` runs the same
chat on a real model (any Pydantic-AI model string).

    python examples/chat_desk.py            # then type messages; an empty line or Ctrl-D ends the chat
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic_ai.exceptions import UserError
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, ToolCallPart, UserPromptPart
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

sys.path.insert(0, str(Path(__file__).parent))

from support_desk import DEMO_LABEL, Reply, build_desk

import podium
from podium import Route, Router

TOPICS = {
    'billing': ('invoice', 'charge', 'refund', 'bill', 'payment'),
    'tech': ('crash', 'error', 'bug', 'login', 'broken', 'slow'),
    'sales': ('buy', 'seats', 'pricing', 'quote', 'upgrade', 'plan'),
}
"""The demo router's keywords per route."""


def user_messages(messages: list[ModelMessage]) -> list[str]:
    """The customer's messages in the conversation, oldest first (the last one is this turn's)."""
    return [
        part.content
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, UserPromptPart) and isinstance(part.content, str)
    ]


def demo_route(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """The demo router: the latest message's topic, or, for a follow-up that names none, the conversation's."""
    said = user_messages(messages)
    decision = {'route': 'out_of_scope', 'confidence': 0.88, 'reason': 'not about billing, tech or sales'}
    for age, text in enumerate(reversed(said)):
        route = next((r for r, words in TOPICS.items() if any(w in text.lower() for w in words)), None)
        if route is not None:
            reason = f'mentions {route} keywords' if age == 0 else f'follows up on a {route} message'
            decision = {'route': route, 'confidence': 0.92 if age == 0 else 0.8, 'reason': reason}
            break
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, decision)])


def build_chat_desk(model: Model | str | None = None) -> Router[str, Reply]:
    """The support desk's routes behind a router that reads the conversation."""
    desk = build_desk(model)
    return Router(
        {route: Route(step, desk.descriptions[route]) for route, step in desk.steps.items()},
        fallback=desk.fallback,
        min_confidence=0.5,
        model=model or FunctionModel(demo_route, model_name='demo-chat-router'),
        name='chat_desk',
        history=True,
    )


def chat(desk: Router[str, Reply], lines: list[str] | None = None) -> list[ModelMessage]:
    """Run one turn per message (from `lines`, or typed at the terminal) and return the conversation."""
    history: list[ModelMessage] = []
    typed = iter(lines) if lines is not None else None
    while True:
        try:
            message = next(typed) if typed is not None else input('you> ' if sys.stdin.isatty() else '')
        except (EOFError, StopIteration):
            break
        if not message.strip():
            break
        result = desk.run_sync(message, message_history=history)
        print(f'desk [{result.record("chat_desk").route}]: {result.output.text}', flush=True)
        history = result.all_messages()
    return history


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('--model', help='a Pydantic-AI model string, e.g. openai:gpt-4o-mini (default: demo models)')
    args = parser.parse_args(argv)
    print(f'models: {args.model or DEMO_LABEL}', file=sys.stderr)
    try:
        chat(build_chat_desk(args.model))
    except (UserError, podium.WorkflowError) as exc:
        raise SystemExit(f'error: {exc}') from None


if __name__ == '__main__':
    main()
