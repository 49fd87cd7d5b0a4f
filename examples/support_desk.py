"""A support desk: a router agent sends each message to a billing, tech or sales specialist, or to a fallback.

Each specialist is a chain of typed agent steps with a branch on an intermediate output (urgent billing issues
and blocking tech issues escalate to a human). Guards surround the desk: secrets in a message are masked before
any model sees them, prompt injections get a safe answer instead, and a refund above the limit goes to a human
for approval. Offline by default on deterministic demo models; pass `--model openai:gpt-4o-mini` (any Pydantic-AI
model string) to run the same workflow on a real model.

    python examples/support_desk.py "my invoice shows a double charge"
    python examples/support_desk.py --stream "the app crashes on startup"
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Literal, TypeVar

from pydantic import BaseModel, Field
from pydantic_ai import Agent
from pydantic_ai.exceptions import UserError
from pydantic_ai.models import Model

import podium
from podium import Guarded, Route, RouteDecision, Router, Step, branch, guarded
from podium.events import RunEvent
from podium.guards import demo_injection_model, injection_guard, policy_guard, secrets_guard
from podium.testing import ScriptedModel

DEMO_LABEL = 'demo models (offline, deterministic): pass --model to use a real one'


# ---------------------------------------------------------------- the typed data between the steps
FactsT = TypeVar('FactsT', bound=BaseModel)


class Reply(BaseModel):
    """What the desk answers, whichever way the message went."""

    team: Literal['billing', 'tech', 'sales', 'front_desk']
    text: str
    escalated: bool = Field(description='True when a human takes over.')
    refund: float | None = Field(default=None, description='The amount refunded by this reply, if any.')


class BillingFacts(BaseModel):
    kind: Literal['double_charge', 'refund', 'invoice_question', 'other']
    summary: str = Field(description='The customer problem in one sentence.')
    amount: float | None = Field(default=None, description='The amount in dispute, if any.')
    urgency: Literal['low', 'normal', 'high']


class TechTriage(BaseModel):
    component: str = Field(description='The part of the product that fails.')
    summary: str
    severity: Literal['blocker', 'minor']


class Lead(BaseModel):
    intent: Literal['buy', 'inquire']
    product: str
    seats: int | None = None
    summary: str


# ---------------------------------------------------------------- demo models: deterministic, no network
def _demo_route(prompt: str) -> RouteDecision[str]:
    text = prompt.lower()
    for route, words in (
        ('billing', ('invoice', 'charge', 'refund', 'bill', 'payment')),
        ('tech', ('crash', 'error', 'bug', 'login', 'broken', 'slow')),
        ('sales', ('buy', 'seats', 'pricing', 'quote', 'upgrade', 'plan')),
    ):
        if any(w in text for w in words):
            return RouteDecision(route=route, confidence=0.92, reason=f'mentions {route} keywords')
    return RouteDecision(route='out_of_scope', confidence=0.88, reason='not about billing, tech or sales')


def _demo_billing_facts(prompt: str) -> BillingFacts:
    text = prompt.lower()
    amount = re.search(r'\$?(\d+(?:\.\d+)?)', text)
    kind: Literal['double_charge', 'refund', 'other'] = (
        'double_charge' if 'double' in text or 'twice' in text else 'refund' if 'refund' in text else 'other'
    )
    urgent = kind == 'double_charge' or 'urgent' in text
    return BillingFacts(
        kind=kind,
        summary=prompt.strip().splitlines()[-1][:120],
        amount=float(amount.group(1)) if amount else None,
        urgency='high' if urgent else 'normal',
    )


def _demo_triage(prompt: str) -> TechTriage:
    text = prompt.lower()
    blocker = any(w in text for w in ('crash', 'down', 'cannot', "can't", 'login'))
    component = 'startup' if 'startup' in text else 'login' if 'login' in text else 'app'
    return TechTriage(component=component, summary=prompt.strip()[:120], severity='blocker' if blocker else 'minor')


def _demo_lead(prompt: str) -> Lead:
    seats = re.search(r'(\d+)\s+(?:more\s+)?seats', prompt.lower())
    intent: Literal['buy', 'inquire'] = (
        'buy' if any(w in prompt.lower() for w in ('buy', 'upgrade', 'purchase')) else 'inquire'
    )
    return Lead(intent=intent, product='team plan', seats=int(seats.group(1)) if seats else None, summary=prompt[:120])


def _demo_resolve(prompt: str) -> Reply:
    facts = BillingFacts.model_validate(json.loads(prompt.partition('\n')[2]))
    if facts.kind == 'refund' and facts.amount is not None:
        return Reply(team='billing', text=f'I have refunded ${facts.amount:.2f}.', escalated=False, refund=facts.amount)
    return Reply(team='billing', text='Here is how to read and settle your invoice.', escalated=False)


def _demo_reply(team: Literal['billing', 'tech', 'sales'], escalated: bool, text: str) -> ScriptedModel:
    return ScriptedModel(default=Reply(team=team, text=text, escalated=escalated), model_name=f'demo-{team}')


def demo_models() -> dict[str, Model]:
    """One deterministic model per agent, keyed by agent name."""
    return {
        'router': ScriptedModel(default=_demo_route, model_name='demo-router'),
        'billing_extract': ScriptedModel(default=_demo_billing_facts, model_name='demo-billing'),
        'billing_escalate': _demo_reply(
            'billing', True, 'A billing specialist will reverse the duplicate charge today.'
        ),
        'billing_resolve': ScriptedModel(default=_demo_resolve, model_name='demo-billing'),
        'tech_triage': ScriptedModel(default=_demo_triage, model_name='demo-tech'),
        'tech_escalate': _demo_reply(
            'tech', True, 'An engineer is looking at the crash; we will update you within the hour.'
        ),
        'tech_troubleshoot': _demo_reply('tech', False, 'Please update to the latest version and restart the app.'),
        'sales_qualify': ScriptedModel(default=_demo_lead, model_name='demo-sales'),
        'sales_quote': _demo_reply('sales', False, 'Here is a quote for the extra seats; reply to accept it.'),
        'sales_inform': _demo_reply(
            'sales', False, 'Our plans and prices are on the pricing page; happy to help choose.'
        ),
    }


# ---------------------------------------------------------------- the guards' policy and safe answers
REFUND_LIMIT = 200.0
"""Refunds above this need a manager's approval."""


def refund_policy(reply: Reply) -> str | None:
    """No refund above the limit without a human: what the output guard holds every reply to."""
    if reply.refund is not None and reply.refund > REFUND_LIMIT and not reply.escalated:
        return f"a refund of ${reply.refund:.2f} is above the ${REFUND_LIMIT:.0f} limit and needs a manager's approval"
    return None


@podium.step
def needs_approval(reply: Reply) -> Reply:
    """What the customer hears instead of a refund above the limit."""
    return Reply(
        team=reply.team,
        text="A refund of this size needs a manager's approval; a billing specialist will confirm it within a day.",
        escalated=True,
    )


@podium.step
def refuse(message: str) -> Reply:
    """What the customer hears instead when a message tries to instruct the desk."""
    return Reply(
        team='front_desk',
        text='I can help with billing, technical problems and purchases, but I cannot follow instructions to change '
        'how I work.',
        escalated=False,
    )


# ---------------------------------------------------------------- the workflow
def build_desk(model: Model | str | None = None) -> Router[str, Reply]:
    """The support desk on `model`, or on the demo models when `model` is None, without its guards."""
    demo = demo_models()

    def reply_step(name: str, instructions: str, input_type: type[FactsT]) -> Step[FactsT, Reply, object]:
        agent = Agent(model or demo[name], output_type=Reply, instructions=instructions, name=name)
        return podium.agent(agent, input_type=input_type)

    billing_extract = podium.agent(
        Agent(
            model or demo['billing_extract'],
            output_type=BillingFacts,
            name='billing_extract',
            instructions='Extract the billing facts. A duplicate charge or an angry customer is high urgency.',
        )
    )
    billing_resolve = reply_step('billing_resolve', 'Resolve the billing question yourself.', BillingFacts)
    billing = (
        billing_extract
        >> branch(
            lambda facts: facts.urgency,
            {
                'high': reply_step('billing_escalate', 'Tell the customer a specialist takes over.', BillingFacts),
                'normal': billing_resolve,
                'low': billing_resolve,
            },
            name='billing_urgency',
        )
    ).named('billing')

    tech_triage = podium.agent(
        Agent(
            model or demo['tech_triage'],
            output_type=TechTriage,
            name='tech_triage',
            instructions='Triage the technical problem. Crashes and lockouts are blockers.',
        )
    )
    tech = (
        tech_triage
        >> branch(
            lambda triage: triage.severity,
            {
                'blocker': reply_step(
                    'tech_escalate', 'Escalate to on-call engineering; tell the customer.', TechTriage
                ),
                'minor': reply_step('tech_troubleshoot', 'Give concise troubleshooting steps.', TechTriage),
            },
            name='tech_severity',
        )
    ).named('tech')

    sales_qualify = podium.agent(
        Agent(
            model or demo['sales_qualify'],
            output_type=Lead,
            name='sales_qualify',
            instructions='Qualify the sales lead: what they want and how many seats.',
        )
    )
    sales = (
        sales_qualify
        >> branch(
            lambda lead: lead.intent,
            {
                'buy': reply_step('sales_quote', 'Write a short quote for the request.', Lead),
                'inquire': reply_step('sales_inform', 'Answer the product question briefly.', Lead),
            },
            name='sales_intent',
        )
    ).named('sales')

    @podium.step
    def out_of_scope(message: str) -> Reply:
        return Reply(
            team='front_desk',
            text='I can help with billing, technical problems and purchases. Could you tell me more?',
            escalated=False,
        )

    return Router(
        {
            'billing': Route(billing, 'Invoices, charges, refunds and payments.'),
            'tech': Route(tech, 'Crashes, errors, bugs, login and performance problems.'),
            'sales': Route(sales, 'Buying, upgrading, seats, plans and pricing.'),
            'out_of_scope': Route(out_of_scope, 'Anything else.'),
        },
        fallback='out_of_scope',
        min_confidence=0.5,
        model=model or demo['router'],
        name='support_desk',
    )


def build_workflow(model: Model | str | None = None) -> Guarded[str, Reply, object]:
    """The support desk with its guards, on `model` or on the demo models when `model` is None."""
    # Secrets are masked before the desk starts; the injection check runs alongside the desk and cancels it when it
    # trips, and the refuse step answers instead. A reply breaking the refund policy goes to a human.
    return guarded(
        build_desk(model),
        input=[secrets_guard(), injection_guard(model or demo_injection_model())],
        output=[policy_guard(refund_policy, name='refund_policy', safe_response=needs_approval)],
        safe_response=refuse,
    )


workflow = build_workflow()
"""The guarded support desk on demo models: `podium run examples/support_desk.py:workflow "..."` runs it."""


def print_event(event: RunEvent) -> None:
    """One line per event: steps starting and finishing, the output as it grows, Pydantic-AI's own events."""
    print(event.summary(), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('message', help='the customer message')
    parser.add_argument('--model', help='a Pydantic-AI model string, e.g. openai:gpt-4o-mini (default: demo models)')
    parser.add_argument('--stream', action='store_true', help="print the run's events as they happen")
    args = parser.parse_args(argv)
    try:
        desk = build_workflow(args.model) if args.model else workflow
        result = desk.run_sync(args.message, on_event=print_event if args.stream else None)
    except (UserError, podium.WorkflowError) as exc:
        raise SystemExit(f'error: {exc}') from None
    print(f'models: {args.model or DEMO_LABEL}')
    router = next((r for r in result.steps if r.name == 'support_desk' and r.status != 'failed'), None)
    print(f'route:  {router.route if router is not None else "none (a guard answered instead)"}')
    for record in result.steps:
        if record.kind in ('agent', 'function'):
            print(f'  {record.name}: {record.output!r}')
        elif record.kind == 'guard' and record.route != 'pass':
            print(f'  guard {record.name}: {record.route} ({record.reason})')
    print(f'reply:  {result.output.text}  (escalated: {result.output.escalated})')
    usage = result.usage
    print(f'usage:  {usage.requests} requests, {usage.input_tokens} input + {usage.output_tokens} output tokens')


if __name__ == '__main__':
    main()
