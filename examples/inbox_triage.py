"""Inbox triage: every incoming email is routed, worked on and answered with one typed `Action`.

A router sends each email to one of four routes:

- `invoice`: extract the amount (retried, then a backup extractor as fallback), then branch on it: small amounts
  are approved by a rule, large ones go to an agent that drafts a review request;
- `sales`: two agents read the email in parallel (the lead, the sentiment), and a function joins them;
- `support`: an agent loop with tools, one of them a whole podium workflow (`podium.as_tool`) that searches the
  help centre;
- `spam`: archived by a plain function, no model call.

Offline by default on scripted models; `--model openai:gpt-4o-mini` (any Pydantic-AI model string) runs every agent
on a real one, and `--trace` prints the span tree. One `UsageLimits` bounds the whole run, tools included.

    python examples/inbox_triage.py "Invoice INV-7 for 1250.00 EUR is attached, please pay by Friday."
    podium eval examples/inbox_triage.py:workflow examples/inbox_triage_cases.yaml
"""

from __future__ import annotations

import argparse
import re
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, ToolCallPart, ToolReturnPart
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import UsageLimits

import podium
from podium import Route, RouteDecision, Router
from podium.fallbacks import fallback, retry
from podium.testing import ScriptedModel, latest_prompt

APPROVAL_LIMIT = 500.0
"""Invoices up to this amount are approved by rule; above it a person reviews them."""
LIMITS = UsageLimits(request_limit=12, tool_calls_limit=6)
"""The budget of one email, across every agent and tool of the run."""


# ---------------------------------------------------------------- the typed data between the steps
class Action(BaseModel):
    """What the inbox does with an email, whichever route it took."""

    route: Literal['invoice', 'sales', 'support', 'spam']
    action: Literal['approve', 'review', 'reply', 'archive']
    text: str


class Invoice(BaseModel):
    vendor: str
    amount: float = Field(description='The amount due, in EUR.')


class Lead(BaseModel):
    product: str
    seats: int | None = None


class Sentiment(BaseModel):
    tone: Literal['positive', 'neutral', 'negative']


class Article(BaseModel):
    title: str
    url: str


# ---------------------------------------------------------------- demo models: deterministic, no network
def _demo_route(prompt: str) -> RouteDecision[str]:
    text = prompt.lower()
    for route, words in (
        ('spam', ('winner', 'lottery', 'crypto')),
        ('invoice', ('invoice', 'payment due', 'amount due')),
        ('sales', ('seats', 'pricing', 'quote', 'buy')),
        ('support', ('error', 'cannot', 'help', 'broken', 'reset')),
    ):
        if any(word in text for word in words):
            return RouteDecision(route=route, confidence=0.9, reason=f'mentions {route} words')
    return RouteDecision(route='support', confidence=0.3, reason='no clear topic')


def _amount(prompt: str) -> float:
    found = re.search(r'(\d+(?:\.\d+)?)\s*eur', prompt.lower())
    return float(found.group(1)) if found else 0.0


def _demo_invoice(prompt: str) -> Invoice | str:
    # The primary extractor cannot read scans: it answers something that fails validation, so retry and fallback run.
    if 'scan' in prompt.lower():
        return '{"vendor": "?"}'
    return Invoice(vendor='Acme GmbH', amount=_amount(prompt))


def _demo_lead(prompt: str) -> Lead:
    seats = re.search(r'(\d+)\s+seats', prompt.lower())
    return Lead(product='team plan', seats=int(seats.group(1)) if seats else None)


def _demo_sentiment(prompt: str) -> Sentiment:
    text = prompt.lower()
    tone: Literal['positive', 'neutral', 'negative'] = (
        'negative' if 'disappointed' in text else 'positive' if any(w in text for w in ('love', 'great')) else 'neutral'
    )
    return Sentiment(tone=tone)


def _demo_support(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Plays the support agent: search the help centre once, then answer with the first article."""
    returns = [
        part.content
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    ]
    if not returns:
        return ModelResponse(parts=[ToolCallPart('search_help', {'input': latest_prompt(messages)})])
    articles = returns[-1]
    assert isinstance(articles, list)
    assert articles
    assert isinstance(articles[0], Article)
    answer = {'route': 'support', 'action': 'reply', 'text': f'This should help: {articles[0].url}'}
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, answer)])


HELP_CENTRE = {
    'password': Article(title='Reset your password', url='https://help.example.com/password'),
    'export': Article(title='Export your data', url='https://help.example.com/export'),
    'billing': Article(title='Update billing details', url='https://help.example.com/billing'),
}


def demo_models() -> dict[str, Model]:
    """One deterministic model per agent, keyed by agent name."""
    return {
        'inbox_router': ScriptedModel(default=_demo_route, model_name='demo-router'),
        'invoice_extract': ScriptedModel(default=_demo_invoice, model_name='demo-extract'),
        'invoice_extract_backup': ScriptedModel(
            default=lambda prompt: Invoice(vendor='unknown vendor', amount=_amount(prompt)), model_name='demo-backup'
        ),
        'invoice_review': ScriptedModel(
            default=lambda prompt: Action(route='invoice', action='review', text=f'Please review: {prompt}'),
            model_name='demo-review',
        ),
        'sales_lead': ScriptedModel(default=_demo_lead, model_name='demo-lead'),
        'sales_sentiment': ScriptedModel(default=_demo_sentiment, model_name='demo-sentiment'),
        'help_query': ScriptedModel(default=lambda prompt: prompt.lower(), model_name='demo-query'),
        'support_agent': FunctionModel(_demo_support, model_name='demo-support'),
    }


# ---------------------------------------------------------------- the workflow
def build_workflow(model: Model | str | None = None) -> Router[str, Action]:
    """The inbox on `model`, or on the demo models when `model` is None."""
    demo = demo_models()

    def pick(name: str) -> Model | str:
        return model or demo[name]

    # invoice: extract (retried, then a backup model), then branch on the extracted amount
    extract = podium.agent(
        Agent(pick('invoice_extract'), output_type=Invoice, name='invoice_extract', instructions='Extract the invoice.')
    )
    backup = podium.agent(Agent(pick('invoice_extract_backup'), output_type=Invoice, name='invoice_extract_backup'))

    @podium.step
    def approve(invoice: Invoice) -> Action:
        return Action(route='invoice', action='approve', text=f'Approved {invoice.amount:.2f} EUR to {invoice.vendor}.')

    review = podium.agent(
        Agent(
            pick('invoice_review'),
            output_type=Action,
            name='invoice_review',
            instructions='Draft a review request for finance.',
        ),
        prompt=lambda invoice, flow: f'{invoice.vendor} asks {invoice.amount:.2f} EUR. Email: {flow.run_input}',
        input_type=Invoice,
    )
    invoice = (
        fallback(retry(extract, attempts=2), backup)
        >> podium.branch(lambda inv: inv.amount <= APPROVAL_LIMIT, then=approve, otherwise=review, name='amount')
    ).named('invoice')

    # sales: the lead and the sentiment in parallel, joined by a function
    lead = podium.agent(Agent(pick('sales_lead'), output_type=Lead, name='sales_lead', instructions='Read the lead.'))
    sentiment = podium.agent(
        Agent(pick('sales_sentiment'), output_type=Sentiment, name='sales_sentiment', instructions='Rate the tone.')
    )

    @podium.step
    def quote(pair: tuple[Lead, Sentiment]) -> Action:
        found, mood = pair
        seats = f'{found.seats} seats of the ' if found.seats else 'the '
        opener = 'Sorry to hear that. ' if mood.tone == 'negative' else ''
        return Action(route='sales', action='reply', text=f'{opener}Here is a quote for {seats}{found.product}.')

    sales = (podium.parallel(lead, sentiment, name='read_lead') >> quote).named('sales')

    # support: an agent loop whose tool is a podium workflow (query rewrite, then a help-centre search)
    query = podium.agent(
        Agent(pick('help_query'), output_type=str, name='help_query', instructions='Rewrite as a search query.')
    )

    @podium.step
    def search(text: str) -> list[Article]:
        return [article for key, article in HELP_CENTRE.items() if key in text] or [HELP_CENTRE['billing']]

    search_help = (query >> search).named('search_help')
    support = podium.agent(
        Agent(
            pick('support_agent'),
            output_type=Action,
            name='support_agent',
            instructions='Answer the customer; search the help centre first.',
            tools=[podium.as_tool(search_help, name='search_help', description='Search the help centre.')],
        )
    )

    @podium.step
    def archive(email: str) -> Action:
        return Action(route='spam', action='archive', text='Archived as spam.')

    return Router(
        {
            'invoice': Route(invoice, 'Invoices and payment requests from vendors.'),
            'sales': Route(sales, 'Prospects asking about prices, plans or seats.'),
            'support': Route(support, 'Customers who need help with the product.'),
            'spam': Route(archive, 'Unsolicited mail, scams, newsletters.'),
        },
        fallback='support',
        model=pick('inbox_router'),
        min_confidence=0.5,
        name='inbox',
    )


workflow = build_workflow()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description='Triage one email.')
    parser.add_argument('email')
    parser.add_argument('--model', help='a Pydantic-AI model string (default: scripted demo models, offline)')
    parser.add_argument('--trace', action='store_true', help='print the span tree of the run')
    args = parser.parse_args(argv)
    inbox = build_workflow(args.model) if args.model else workflow
    if args.trace:
        from podium.testing import capture_trace

        with capture_trace() as trace:
            result = inbox.run_sync(args.email, usage_limits=LIMITS, timeout=60)
        print(trace.tree())
    else:
        result = inbox.run_sync(args.email, usage_limits=LIMITS, timeout=60)
    for record in result.steps:
        extra = f' -> {record.route}' if record.route else ''
        extra += f' ({record.fallback_reason})' if record.fallback_reason else ''
        print(f'  {record.name} [{record.kind}] {record.status}{extra}')
    print(result.output.model_dump_json(indent=2))
    print(f'status: {result.status}, {result.usage.requests} model requests')


if __name__ == '__main__':
    main()
