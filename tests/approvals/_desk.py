"""A refund desk for the approval tests: an LLM router, an agent drafting the refund, an approval, then payment.

Every model request appends `<model> <prompt>` to the file named by $APPROVAL_LOG (when set) and counts into
`CALLS`, so a test can tell which models a resume called. Run as a script, it pauses or resumes a run in a
`SQLiteRunStore`, so a test can resume in another process than the one that paused:

    python _desk.py pause STORE MESSAGE          prints the resume token
    python _desk.py resume STORE TOKEN DECISION  DECISION: approve | reject | edit:AMOUNT | recorded
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

import anyio
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

import podium
from podium import Approve, Decision, Edit, Reject, Review, Route, Router, SQLiteRunStore, branch
from podium.testing import latest_prompt

CALLS: Counter[str] = Counter()


class Refund(BaseModel):
    amount: float
    reason: str


def _model(name: str, answer: dict[str, object] | None = None) -> FunctionModel:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = latest_prompt(messages)
        CALLS[name] += 1
        log = os.environ.get('APPROVAL_LOG')
        if log:
            with Path(log).open('a') as file:
                file.write(f'{name}\n')
        args = answer
        if args is None:  # the refund drafter reads the amount from the message
            found = re.search(r'(\d+)', prompt)
            args = {'amount': float(found.group(1)) if found else 0.0, 'reason': prompt[:40]}
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])

    return FunctionModel(respond, model_name=name)


draft = podium.agent(Agent(_model('drafter'), output_type=Refund, name='draft'))
hold = podium.approval(name='refund_ok', input_type=Refund, summary=lambda r: f'refund of {r.amount:g}')


@podium.step
def pay(review: Review[Refund]) -> str:
    return f'paid {review.value.amount:g}' + (' (edited)' if review.edited else '')


@podium.step
def decline(review: Review[Refund]) -> str:
    return f'declined: {review.reason}'


@podium.step
def other(message: str) -> str:
    return 'not a refund'


refunds = (
    draft
    >> hold
    >> branch(lambda r: r.outcome, {'approved': pay, 'rejected': decline, 'timed_out': decline}, name='refund_outcome')
).named('refunds')
desk = Router(
    {'refund': Route(refunds, 'Refund requests.'), 'other': Route(other, 'Anything else.')},
    fallback='other',
    model=_model('router', {'route': 'refund', 'confidence': 0.9, 'reason': 'asks for money back'}),
    name='desk',
)


def decision_of(text: str) -> Decision | None:
    if text == 'approve':
        return Approve(reviewer='ana')
    if text == 'reject':
        return Reject(reason='over the limit')
    if text.startswith('edit:'):
        return Edit(value=Refund(amount=float(text[5:]), reason='edited'))
    return None


async def _main(argv: list[str]) -> None:
    command, store = argv[0], SQLiteRunStore(argv[1])
    if command == 'pause':
        result = await desk.run(argv[2], store=store)
        assert result.paused is not None
        print(result.paused.token)
    else:
        result = await desk.resume(argv[2], decision_of(argv[3]), store=store)
        print(json.dumps({'output': result.output, 'calls': dict(CALLS), 'steps': [r.name for r in result.steps]}))


if __name__ == '__main__':
    anyio.run(_main, sys.argv[1:])
