"""The support desk, durable: a crashed run resumes where it stopped, and big refunds wait for a human.

The routes are those of `support_desk.py`, except billing: a refund above `REFUND_LIMIT` pauses at an approval
step until someone runs `podium approve <run-id>` or `podium reject <run-id> --reason ...`; each outcome (approved,
rejected, no decision within the timeout) takes a typed path of its own. Runs go to a SQLite file by default
(`$PODIUM_DB`, `sqlite:///desk.sqlite` by default); a Postgres URL works the same.

    python examples/durable_desk.py "please refund the 80 dollars"
    python examples/durable_desk.py --crash-at billing_resolve --run-id demo "my invoice 1234 looks wrong"
    python examples/durable_desk.py --run-id demo "my invoice 1234 looks wrong"    # resumes the crashed run

`--crash-at STEP` SIGKILLs the process while STEP's model call is in flight, to show a resume.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any, Literal

import anyio
from pydantic_ai import Agent
from pydantic_ai.models import Model

sys.path.insert(0, str(Path(__file__).parent))

from support_desk import DEMO_LABEL, BillingFacts, Reply, build_desk, demo_models

import podium
from podium import Route, Router, Step, branch
from podium.durable import DurableResult, DurableWorkflow, Review, approval, durable, show_run
from podium.testing import Answer, ScriptedModel

REFUND_LIMIT = 100.0
"""Refunds above this many dollars need a human's approval."""
DB = os.environ.get('PODIUM_DB', 'sqlite:///desk.sqlite')


def refund_models() -> dict[str, Model]:
    """Demo models for the refund steps, beside the support desk's own."""
    return {
        'refund_issue': ScriptedModel(
            default=Reply(team='billing', text='Your refund is on its way.', escalated=False),
            model_name='demo-refund',
        ),
    }


def _crashable(models: dict[str, Model]) -> dict[str, Model]:
    """The same demo models; the one of the step named by $DESK_CRASH_AT kills the process mid-request."""

    def model(name: str, demo: Model) -> Model:
        if not isinstance(demo, ScriptedModel):
            return demo

        def answer(prompt: str) -> Answer:
            if os.environ.get('DESK_CRASH_AT') == name:
                os.kill(os.getpid(), signal.SIGKILL)
            assert demo.default is not None
            return demo.default(prompt) if callable(demo.default) else demo.default

        return ScriptedModel(default=answer, model_name=demo.model_name)

    return {name: model(name, demo) for name, demo in models.items()}


def build_durable_desk(model: Model | str | None = None) -> Router[str, Reply]:
    """The support desk with refunds above `REFUND_LIMIT` held for approval."""
    models = _crashable({**demo_models(), **refund_models()})
    plain = build_desk(model)

    def reply(name: str, instructions: str) -> Step[BillingFacts, Reply]:
        return podium.agent(
            Agent(model or models[name], output_type=Reply, instructions=instructions, name=name),
            input_type=BillingFacts,
        )

    @podium.step
    def declined(review: Review[BillingFacts]) -> Reply:
        return Reply(team='billing', text=f'We cannot refund this: {review.reason}', escalated=False)

    @podium.step
    def no_decision(review: Review[BillingFacts]) -> Reply:
        return Reply(team='billing', text='A billing lead will look at your refund this week.', escalated=True)

    @podium.step
    def reviewed(review: Review[BillingFacts]) -> BillingFacts:
        return review.value

    def refund_summary(facts: BillingFacts) -> str:
        return f'refund of ${facts.amount or 0:.2f}: {facts.summary}'

    hold = approval(
        name='refund_approval',
        timeout=float(os.environ.get('DESK_APPROVAL_TIMEOUT', 7 * 24 * 3600)),
        summary=refund_summary,
    )
    issue = reply('refund_issue', 'Confirm the refund to the customer in one sentence.')
    review = hold >> branch(
        outcome, {'approved': reviewed >> issue, 'rejected': declined, 'timed_out': no_decision}, name='review'
    )
    resolve = reply('billing_resolve', 'Resolve the billing question yourself.')
    urgency = branch(
        lambda facts: facts.urgency,
        {
            'high': reply('billing_escalate', 'Tell the customer a specialist takes over.'),
            'normal': resolve,
            'low': resolve,
        },
        name='billing_urgency',
    )
    extract = podium.agent(
        Agent(
            model or models['billing_extract'],
            output_type=BillingFacts,
            name='billing_extract',
            instructions='Extract the billing facts. A duplicate charge or an angry customer is high urgency.',
        )
    )
    billing = (extract >> branch(big_refund, then=review, otherwise=urgency, name='refund_check')).named('billing')
    routes = {route: Route(step, plain.descriptions[route]) for route, step in plain.steps.items()}
    routes['billing'] = Route(billing, plain.descriptions['billing'])
    return Router(routes, fallback='out_of_scope', min_confidence=0.5, model=model or models['router'], name='desk')


def big_refund(facts: BillingFacts) -> bool:
    return facts.kind == 'refund' and (facts.amount or 0) > REFUND_LIMIT


def outcome(review: Review[BillingFacts]) -> Literal['approved', 'rejected', 'timed_out']:
    return review.outcome


desk = durable(build_durable_desk(), name='desk', db=DB)
"""`podium run --durable examples/durable_desk.py:desk "..."` runs it; `podium worker` serves its queue."""


async def _watch(workflow: DurableWorkflow[str, Reply], run_id: str) -> None:
    """Say so when the run waits for a decision, and how to give it."""
    while True:
        await anyio.sleep(0.5)
        info = await anyio.to_thread.run_sync(show_run, run_id, workflow.store.url)
        if info.waiting is not None:
            db = f' --db {workflow.store.display}'
            print(f'waiting: {info.waiting["summary"]}')
            print(f'  podium approve {run_id}{db}   or   podium reject {run_id}{db} --reason "..."')
            return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('message', help='the customer message')
    parser.add_argument('--model', help='a Pydantic-AI model string, e.g. openai:gpt-4o-mini (default: demo models)')
    parser.add_argument('--run-id', help='the run id; the id of a crashed run resumes it')
    parser.add_argument('--crash-at', help='SIGKILL this process in the middle of this step')
    args = parser.parse_args(argv)
    if args.crash_at:
        os.environ['DESK_CRASH_AT'] = args.crash_at
    workflow = desk if args.model is None else durable(build_durable_desk(args.model), name=f'desk-{args.model}', db=DB)

    def show(result: DurableResult[Reply]) -> None:
        print(f'models: {args.model or DEMO_LABEL}')
        for record in result.steps:
            if record.kind == 'approval':
                print(f'  {record.name}: {record.route} ({record.reason or "no reason given"})')
            elif record.kind == 'agent':
                print(f'  {record.name}: {record.output!r}')
        print(f'reply:  {result.output.text}  (escalated: {result.output.escalated})')
        calls = [name for name, _ in _called_models(workflow.workflow)]
        print(f'model calls made by this process: {", ".join(calls) or "none"}')

    async def run() -> None:
        result: DurableResult[Reply] | None = None
        try:
            run_id = await workflow.start(args.message, run_id=args.run_id)
            print(f'run:    {run_id}  ({workflow.store.display})')
            async with anyio.create_task_group() as tg:
                tg.start_soon(_watch, workflow, run_id)
                result = await workflow.result(run_id)
                tg.cancel_scope.cancel()
        finally:
            workflow.shutdown()
        assert result is not None  # `result` returned, or the exception left the block
        show(result)

    anyio.run(run)


def _called_models(step: Step[Any, Any]) -> list[tuple[str, ScriptedModel]]:
    """The demo models this process called, to show that a resumed run skips the steps it had finished."""
    found: list[tuple[str, ScriptedModel]] = []
    agent = getattr(step, 'agent', None)
    model = getattr(agent, 'model', None)
    if isinstance(model, ScriptedModel) and model.prompts:
        found.append((step.name, model))
    for _, child in step.children():
        found.extend(m for m in _called_models(child) if m not in found)
    return found


if __name__ == '__main__':
    main()
